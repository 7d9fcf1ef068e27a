"""ACTION-Request-With-List in pblocks both ways, client and server paired in memory."""

from __future__ import annotations

import pytest
from test_association_pair import Pair

from dlmskit.apdu import (
    ActionRequestWithList,
    ActionRequestWithListAndFirstPblock,
    ActionRequestWithPblock,
    ActionResponseNormal,
    ActionResponseWithList,
    ActionResponseWithPblock,
    ActionResult,
    Conformance,
    CosemMethodDescriptor,
    ExceptionResponse,
    InvokeIdAndPriority,
    ServiceErrorKind,
    decode_apdu,
)
from dlmskit.association import (
    DEFAULT_CONFORMANCE,
    ActionWithListCompleted,
    AssociationAccepted,
    AssociationPolicy,
    ClientSettings,
    ExceptionReceived,
    MemoryObjectTree,
    RequestContext,
)
from dlmskit.axdr import Data, OctetString, Unsigned
from dlmskit.errors import LocalProtocolError
from obis import ObisCode

SCRIPTS = ObisCode(0, 0, 10, 0, 0, 255)
ECHO = CosemMethodDescriptor(class_id=9, instance_id=SCRIPTS, method_id=1)
SIZE = CosemMethodDescriptor(class_id=9, instance_id=SCRIPTS, method_id=2)
MISSING = CosemMethodDescriptor(class_id=9, instance_id=SCRIPTS, method_id=3)
BLOB = OctetString(bytes(range(256)) * 2)


def _echo(ctx: RequestContext, params: Data | None) -> tuple[ActionResult, Data | None]:
    return ActionResult.SUCCESS, params


def _size(ctx: RequestContext, params: Data | None) -> tuple[ActionResult, Data | None]:
    assert isinstance(params, OctetString)
    return ActionResult.SUCCESS, Unsigned(len(params) % 256)


def _pair(
    *, client_pdu: int = 0xFFFF, server_pdu: int = 0xFFFF, conformance: Conformance | None = None
) -> Pair:
    conformance = DEFAULT_CONFORMANCE if conformance is None else conformance
    pair = Pair(
        ClientSettings(max_receive_pdu_size=client_pdu, conformance=conformance),
        AssociationPolicy(
            max_receive_pdu_size=server_pdu, min_client_pdu_size=12, conformance=conformance
        ),
        MemoryObjectTree(methods={(9, SCRIPTS, 1): _echo, (9, SCRIPTS, 2): _size}),
    )
    assert isinstance(pair.associate(), AssociationAccepted)
    return pair


def _run(pair: Pair, items: list[tuple[CosemMethodDescriptor, Data]]) -> ActionWithListCompleted:
    pair.client.action_with_list(items)
    pair.pump()
    event = pair.one_event()
    assert isinstance(event, ActionWithListCompleted)
    return event


def _exchanged(pair: Pair, direction: str) -> list[bytes]:
    return [apdu for d, apdu in pair.wire[2:] if d == direction]


def test_long_parameters_go_out_in_pblocks() -> None:
    pair = _pair(server_pdu=64)
    items: list[tuple[CosemMethodDescriptor, Data]] = [(SIZE, BLOB), (SIZE, BLOB), (MISSING, None)]
    event = _run(pair, items)
    assert event.results == (
        (ActionResult.SUCCESS, Unsigned(0)),
        (ActionResult.SUCCESS, Unsigned(0)),
        (ActionResult.OBJECT_UNDEFINED, None),
    )
    requests = _exchanged(pair, "c2s")
    assert all(len(apdu) <= 64 for apdu in requests)
    first = decode_apdu(requests[0])
    assert isinstance(first, ActionRequestWithListAndFirstPblock)
    assert first.method_descriptors == (SIZE, SIZE, MISSING)
    rest = [decode_apdu(apdu) for apdu in requests[1:]]
    assert all(isinstance(apdu, ActionRequestWithPblock) for apdu in rest)
    # the pblocks carry the SEQUENCE OF Data that follows the descriptors unblocked
    raw = first.raw_data + b"".join(apdu.raw_data for apdu in rest)  # type: ignore[union-attr]
    unblocked = ActionRequestWithList(
        invoke_id_and_priority=first.invoke_id_and_priority,
        method_descriptors=first.method_descriptors,
        parameters=(BLOB, BLOB, None),
    ).to_bytes()
    assert unblocked.endswith(raw) and len(unblocked) - len(raw) == 3 + 1 + 3 * 9
    answers = _exchanged(pair, "s2c")
    assert [apdu[:2] for apdu in answers[:-1]] == [b"\xc7\x04"] * (len(answers) - 1)
    assert answers[-1][:2] == b"\xc7\x03"


def test_long_results_come_back_in_pblocks() -> None:
    pair = _pair(client_pdu=64)
    event = _run(pair, [(ECHO, BLOB), (ECHO, Unsigned(7)), (MISSING, None)])
    assert event.results == (
        (ActionResult.SUCCESS, BLOB),
        (ActionResult.SUCCESS, Unsigned(7)),
        (ActionResult.OBJECT_UNDEFINED, None),
    )
    answers = _exchanged(pair, "s2c")
    assert all(len(apdu) <= 64 for apdu in answers)
    blocks = [decode_apdu(apdu) for apdu in answers]
    assert all(isinstance(apdu, ActionResponseWithPblock) for apdu in blocks)
    raw = b"".join(apdu.raw_data for apdu in blocks)  # type: ignore[union-attr]
    # the pblocks carry what follows "C7 03 iip" in the unblocked ACTION-Response-With-List
    unblocked = ActionResponseWithList.from_bytes(bytes.fromhex("C703C1") + raw)
    assert [(r.result, r.return_parameters) for r in unblocked.responses][:2] == [
        (ActionResult.SUCCESS, BLOB),
        (ActionResult.SUCCESS, Unsigned(7)),
    ]
    assert [apdu[:2] for apdu in _exchanged(pair, "c2s")[1:]] == [b"\xc3\x02"] * (len(blocks) - 1)


@pytest.mark.parametrize("pdu", [40, 64, 300])
def test_pblocks_both_ways_at_once(pdu: int) -> None:
    pair = _pair(client_pdu=pdu, server_pdu=pdu)
    items: list[tuple[CosemMethodDescriptor, Data]] = [(ECHO, BLOB), (SIZE, BLOB), (ECHO, BLOB)]
    event = _run(pair, items)
    assert event.results == (
        (ActionResult.SUCCESS, BLOB),
        (ActionResult.SUCCESS, Unsigned(0)),
        (ActionResult.SUCCESS, BLOB),
    )
    assert all(len(apdu) <= pdu for _, apdu in pair.wire[2:])


def test_without_block_transfer_with_action_long_lists_are_refused() -> None:
    no_blocks = Conformance(DEFAULT_CONFORMANCE & ~Conformance.BLOCK_TRANSFER_WITH_ACTION)
    pair = _pair(server_pdu=64, conformance=no_blocks)
    with pytest.raises(LocalProtocolError, match="BLOCK_TRANSFER_WITH_ACTION"):
        pair.client.action_with_list([(ECHO, BLOB)])
    pair = _pair(client_pdu=64, conformance=no_blocks)
    pair.client.action_with_list([(ECHO, BLOB)])
    pair.pump()
    event = pair.one_event()
    assert isinstance(event, ExceptionReceived)
    assert event.exception.service_error == ServiceErrorKind.PDU_TOO_LONG


def test_a_pblock_out_of_sequence_ends_the_list_with_an_error() -> None:
    pair = _pair(server_pdu=64)
    pair.client.action_with_list([(ECHO, BLOB)])
    first = pair.client.data_to_send()[0]
    pair.server.receive_apdu(first)
    pair.server.data_to_send()
    iip = InvokeIdAndPriority(invoke_id=1)
    wrong = ActionRequestWithPblock(
        invoke_id_and_priority=iip, last_block=False, block_number=5, raw_data=b"x"
    )
    pair.server.receive_apdu(wrong.to_bytes())
    (answer,) = pair.server.data_to_send()
    assert decode_apdu(answer) == ActionResponseNormal(
        invoke_id_and_priority=iip, result=ActionResult.DATA_BLOCK_UNAVAILABLE
    )
    pair.client.receive_apdu(answer)
    assert pair.one_event() == ActionWithListCompleted(
        invoke_id=1, results=((ActionResult.DATA_BLOCK_UNAVAILABLE, None),)
    )


def test_an_empty_list_in_pblocks_is_refused_by_the_server() -> None:
    pair = _pair()
    pair.server.receive_apdu(
        ActionRequestWithListAndFirstPblock(
            method_descriptors=(), last_block=True, block_number=1, raw_data=b"\x00"
        ).to_bytes()
    )
    assert isinstance(decode_apdu(pair.server.data_to_send()[0]), ExceptionResponse)
