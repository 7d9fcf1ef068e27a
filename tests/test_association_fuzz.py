"""Garbage, truncation and random event sequences against both association machines.

Whatever arrives, the client raises nothing but DlmsError subclasses and the server
raises nothing at all; both stay in a defined state.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from test_association_pair import Pair

from dlmskit.apdu import (
    AccessRequestAction,
    AccessRequestGet,
    AccessRequestSet,
    ActionResult,
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    MechanismName,
)
from dlmskit.association import (
    AssociationPolicy,
    AssociationState,
    ClientAssociation,
    ClientSettings,
    MemoryObjectTree,
    ServerAssociation,
)
from dlmskit.axdr import Array, DoubleLongUnsigned, OctetString, Structure, Unsigned
from dlmskit.errors import DlmsError
from dlmskit.security import HlsSecret, SecurityContext
from obis import ObisCode

ENERGY = CosemAttributeDescriptor(
    class_id=3, instance_id=ObisCode(1, 0, 1, 8, 0, 255), attribute_id=2
)
PROFILE = CosemAttributeDescriptor(
    class_id=7, instance_id=ObisCode(1, 0, 99, 1, 0, 255), attribute_id=2
)
ECHO = CosemMethodDescriptor(class_id=1, instance_id=ObisCode(0, 0, 96, 1, 0, 255), method_id=1)
WITH_GBT = Conformance(0x001E1D | Conformance.GENERAL_BLOCK_TRANSFER | Conformance.ACCESS)

ROWS = Array(
    [Structure([OctetString(bytes(12)), DoubleLongUnsigned(i), Unsigned(1)]) for i in range(96)]
)


def _objects() -> MemoryObjectTree:
    return MemoryObjectTree(
        {(3, ENERGY.instance_id, 2): DoubleLongUnsigned(5), (7, PROFILE.instance_id, 2): ROWS},
        methods={(1, ECHO.instance_id, 1): lambda ctx, p: (ActionResult.SUCCESS, p)},
    )


def _ciphered(title: bytes) -> dict[str, Any]:
    return {
        "application_context": ApplicationContextName.LN_CIPHERED,
        "security": SecurityContext(
            system_title=title, global_unicast_key=bytes(16), authentication_key=bytes(16)
        ),
    }


def _hls() -> dict[str, Any]:
    return {"mechanism": MechanismName.HIGH, "hls": HlsSecret(secret=bytes(range(16)))}


def _pair(gbt: bool = False, ciphered: bool = False, hls: bool = False) -> Pair:
    client_extra = _ciphered(b"CLIENT01") if ciphered else {}
    server_extra = _ciphered(b"SERVER01") if ciphered else {}
    if hls:
        client_extra |= _hls()
        server_extra |= _hls()
    return Pair(
        ClientSettings(
            max_receive_pdu_size=96,
            conformance=WITH_GBT,
            use_general_block_transfer=gbt,
            gbt_window=2,
            **client_extra,
        ),
        AssociationPolicy(
            max_receive_pdu_size=96, conformance=WITH_GBT, gbt_window=3, **server_extra
        ),
        _objects(),
        max_reassembled_size=1 << 16,
        max_blocks=2000,
    )


def _client_in(state: str, gbt: bool = False) -> Pair:
    p = _pair(gbt)
    if state == "idle":
        return p
    p.client.associate()
    if state == "pending":
        p.client.data_to_send()
        return p
    p.pump()
    p.client_events()
    if state == "awaiting-get":
        p.client.get(PROFILE)
        p.server.receive_apdu(p.client.data_to_send()[0])
        # hand over the first block so the client is mid-transfer
        p.client.receive_apdu(p.server.data_to_send()[0])
    return p


STATES = ["idle", "pending", "associated", "awaiting-get"]


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("gbt", [False, True])
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(garbage=st.binary(max_size=80))
def test_client_garbage_raises_only_dlms_errors(state: str, gbt: bool, garbage: bytes) -> None:
    p = _client_in(state, gbt)
    try:
        p.client.receive_apdu(garbage)
    except DlmsError:
        assert p.client.state in AssociationState
    assert p.client.state in AssociationState
    for _ in range(5):
        p.client.next_event()


@pytest.mark.parametrize("state", ["idle", "associated"])
@settings(max_examples=150, deadline=None)
@given(
    garbage=st.one_of(
        st.binary(max_size=80),
        st.sampled_from([0x60, 0x62, 0xC0, 0xC1, 0xC3, 0xE0, 0xDB, 0xC8]).flatmap(
            lambda tag: st.binary(max_size=60).map(lambda rest: bytes([tag]) + rest)
        ),
    )
)
def test_server_never_raises_on_garbage(state: str, garbage: bytes) -> None:
    p = _client_in(state)
    p.server.receive_apdu(garbage)
    for out in p.server.data_to_send():
        assert isinstance(out, bytes) and out
    assert p.server.state in AssociationState


def _real_exchanges() -> list[tuple[str, bytes]]:
    p = _pair()
    p.associate()
    p.client.get(PROFILE)
    p.pump()
    p.client.set(ENERGY, ROWS)
    p.pump()
    p.client.action(ECHO, ROWS)
    p.pump()
    p.client.release()
    p.pump()
    return p.wire


def test_truncation_at_every_byte_position() -> None:
    wire = _real_exchanges()
    assert len(wire) > 20
    for direction, apdu in wire:
        for cut in range(len(apdu)):
            if direction == "c2s":
                server = ServerAssociation(AssociationPolicy(conformance=WITH_GBT), _objects())
                server.receive_apdu(apdu[:cut])
                assert all(server.data_to_send())
            else:
                for state in ("pending", "awaiting-get"):
                    p = _client_in(state)
                    try:
                        p.client.receive_apdu(apdu[:cut])
                    except DlmsError:
                        assert p.client.state is AssociationState.ERROR


def test_reassembly_limits_hold() -> None:
    p = Pair(
        ClientSettings(max_receive_pdu_size=64),
        AssociationPolicy(),
        _objects(),
        max_reassembled_size=1000,
    )
    p.associate()
    p.client.get(PROFILE)
    with pytest.raises(DlmsError, match="limit of 1000 bytes"):
        p.pump()
    assert p.client.state is AssociationState.ERROR


class AssociationSequences(RuleBasedStateMachine):
    """Random calls, deliveries, losses and corruptions on a client/server pair."""

    def __init__(self) -> None:
        super().__init__()
        self.pair = _pair(gbt=False)
        self.c2s: list[bytes] = []
        self.s2c: list[bytes] = []

    def _call(self, fn: Any, *args: Any) -> None:
        with contextlib.suppress(DlmsError):
            fn(*args)
        self.c2s += self.pair.client.data_to_send()

    @initialize(start_associated=st.booleans())
    def start(self, start_associated: bool) -> None:
        if start_associated:
            self.pair.associate()

    @rule()
    def associate(self) -> None:
        self._call(self.pair.client.associate)

    @rule()
    def get(self) -> None:
        self._call(self.pair.client.get, ENERGY)

    @rule()
    def get_profile(self) -> None:
        self._call(self.pair.client.get, PROFILE)

    @rule()
    def get_with_list(self) -> None:
        self._call(self.pair.client.get_with_list, [ENERGY, PROFILE])

    @rule()
    def set_big(self) -> None:
        self._call(self.pair.client.set, ENERGY, ROWS)

    @rule()
    def action(self) -> None:
        self._call(self.pair.client.action, ECHO, Unsigned(1))

    @rule()
    def action_list_big(self) -> None:
        self._call(self.pair.client.action_with_list, [(ECHO, ROWS), (ECHO, Unsigned(2))])

    @rule()
    def access(self) -> None:
        items = [
            (AccessRequestGet(attribute_descriptor=PROFILE), None),
            (AccessRequestSet(attribute_descriptor=ENERGY), DoubleLongUnsigned(6)),
            (AccessRequestAction(method_descriptor=ECHO), Unsigned(3)),
        ]
        self._call(self.pair.client.access, items)

    @rule()
    def release(self) -> None:
        self._call(self.pair.client.release)

    @rule()
    def abort(self) -> None:
        self.pair.client.abort()
        self.pair.server.abort()
        self.c2s.clear()
        self.s2c.clear()

    @precondition(lambda self: self.c2s or self.s2c)
    @rule()
    def converse(self) -> None:
        """Deliver everything in flight, both ways, until the link is quiet."""
        for _ in range(10_000):
            if not (self.c2s or self.s2c):
                return
            while self.c2s:
                self.pair.server.receive_apdu(self.c2s.pop(0))
                self.s2c += self.pair.server.data_to_send()
            while self.s2c:
                self._call(self.pair.client.receive_apdu, self.s2c.pop(0))

    @precondition(lambda self: self.pair.client.state is AssociationState.ERROR)
    @rule()
    def start_over(self) -> None:
        self.pair.client = ClientAssociation(
            self.pair.client.settings, max_reassembled_size=1 << 16, max_blocks=2000
        )
        self.pair.server.abort()
        self.c2s.clear()
        self.s2c.clear()

    @rule()
    def retransmit(self) -> None:
        self._call(self.pair.client.request_retransmission)

    @precondition(lambda self: self.c2s)
    @rule(corrupt=st.none() | st.tuples(st.integers(0, 200), st.integers(1, 255)))
    def deliver_to_server(self, corrupt: tuple[int, int] | None) -> None:
        apdu = bytearray(self.c2s.pop(0))
        if corrupt is not None:
            apdu[corrupt[0] % len(apdu)] ^= corrupt[1]
        self.pair.server.receive_apdu(bytes(apdu))
        self.s2c += self.pair.server.data_to_send()

    @precondition(lambda self: self.s2c)
    @rule(corrupt=st.none() | st.tuples(st.integers(0, 200), st.integers(1, 255)))
    def deliver_to_client(self, corrupt: tuple[int, int] | None) -> None:
        apdu = bytearray(self.s2c.pop(0))
        if corrupt is not None:
            apdu[corrupt[0] % len(apdu)] ^= corrupt[1]
        self._call(self.pair.client.receive_apdu, bytes(apdu))

    @precondition(lambda self: self.c2s or self.s2c)
    @rule(to_server=st.booleans())
    def lose(self, to_server: bool) -> None:
        queue = self.c2s if to_server and self.c2s else self.s2c or self.c2s
        queue.pop(0)

    @rule(garbage=st.binary(max_size=40), to_server=st.booleans())
    def inject(self, garbage: bytes, to_server: bool) -> None:
        if to_server:
            self.pair.server.receive_apdu(garbage)
            self.s2c += self.pair.server.data_to_send()
        else:
            self._call(self.pair.client.receive_apdu, garbage)

    @invariant()
    def states_are_defined(self) -> None:
        assert self.pair.client.state in AssociationState
        assert self.pair.server.state in AssociationState
        assert self.pair.server.state is not AssociationState.ERROR
        self.pair.client_events()
        self.pair.server_events()


AssociationSequences.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
test_association_sequences = AssociationSequences.TestCase


class GbtSequences(AssociationSequences):
    """The same with every request and response through general block transfer."""

    def __init__(self) -> None:
        super().__init__()
        self.pair = _pair(gbt=True)


GbtSequences.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_gbt_sequences = GbtSequences.TestCase


class CipheredSequences(AssociationSequences):
    """The same in a ciphered context: corruption now also fails tag checks."""

    def __init__(self) -> None:
        super().__init__()
        self.pair = _pair(ciphered=True)


CipheredSequences.TestCase.settings = settings(
    max_examples=60, stateful_step_count=30, deadline=None
)
test_ciphered_sequences = CipheredSequences.TestCase


class HlsSequences(AssociationSequences):
    """The same with HLS (mechanism 2): garbage and losses during passes 3 and 4 too."""

    def __init__(self) -> None:
        super().__init__()
        self.pair = _pair(hls=True)


HlsSequences.TestCase.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)
test_hls_sequences = HlsSequences.TestCase


_VALUES = st.recursive(
    st.one_of(
        st.binary(max_size=300).map(OctetString),
        st.integers(0, 255).map(Unsigned),
        st.integers(0, 2**32 - 1).map(DoubleLongUnsigned),
    ),
    lambda inner: (
        st.lists(inner, max_size=12).map(Array)
        | st.lists(inner, min_size=1, max_size=6).map(Structure)
    ),
    max_leaves=60,
)


@settings(max_examples=80, deadline=None)
@given(
    value=_VALUES,
    client_pdu=st.integers(64, 700),
    server_pdu=st.integers(64, 700),
    gbt=st.booleans(),
    window=st.integers(1, 8),
)
def test_any_value_survives_get_and_set_at_any_pdu_size(
    value: Array | Structure | OctetString | Unsigned | DoubleLongUnsigned,
    client_pdu: int,
    server_pdu: int,
    gbt: bool,
    window: int,
) -> None:
    p = Pair(
        ClientSettings(
            max_receive_pdu_size=client_pdu,
            conformance=WITH_GBT,
            use_general_block_transfer=gbt,
            gbt_window=window,
        ),
        AssociationPolicy(max_receive_pdu_size=server_pdu, conformance=WITH_GBT, gbt_window=window),
        _objects(),
    )
    p.associate()
    p.client.set(ENERGY, value)
    p.pump()
    p.client.get(ENERGY)
    p.pump()
    events = p.client_events()
    assert [type(e).__name__ for e in events] == ["SetCompleted", "GetCompleted"]
    assert events[1].results == (value,)  # type: ignore[union-attr]
    for direction, apdu in p.wire:
        assert len(apdu) <= (client_pdu if direction == "s2c" else server_pdu)
