"""Short name referencing under garbage and truncation: value or error APDU, never a crash."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.stateful import precondition, rule
from test_association_fuzz import AssociationSequences
from test_association_pair import Pair
from test_association_sn import ALL_SN, BIG_NAME, ENERGY, NAME, PROFILE, RESET, TABLE, _objects

from dlmskit.apdu import ApplicationContextName, Conformance, ParameterizedAccess
from dlmskit.association import (
    AssociationAccepted,
    AssociationPolicy,
    AssociationState,
    ClientSettings,
    ConfirmedServiceErrorReceived,
    ExceptionReceived,
    ReadCompleted,
)
from dlmskit.axdr import DoubleLongUnsigned, Integer, OctetString
from dlmskit.errors import DlmsError, RemoteProtocolError


def _pair(pdu: int = 0xFFFF, conformance: Conformance = ALL_SN) -> Pair:
    pair = Pair(
        ClientSettings(
            application_context=ApplicationContextName.SN,
            conformance=conformance,
            max_receive_pdu_size=pdu,
        ),
        AssociationPolicy(
            application_context=ApplicationContextName.SN,
            conformance=conformance,
            max_receive_pdu_size=pdu,
            min_client_pdu_size=12,
        ),
        _objects(),
        short_names=TABLE,
    )
    assert isinstance(pair.associate(), AssociationAccepted)
    return pair


#: SN request heads: Read, Write, UnconfirmedWrite with a count, then anything.
_SN_HEADS = st.sampled_from([b"\x05", b"\x05\x01", b"\x06\x01", b"\x16\x01", b"\x05\x01\x05"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head=_SN_HEADS, tail=st.binary(max_size=60))
def test_sn_server_answers_garbage_and_stays_usable(head: bytes, tail: bytes) -> None:
    pair = _pair(pdu=64)
    pair.server.receive_apdu(head + tail)
    for apdu in pair.server.data_to_send():
        assert apdu[:1] in (b"\x0c", b"\x0d", b"\x0e", b"\xd8")
    assert pair.server.state is AssociationState.ASSOCIATED
    pair.client.read([ENERGY])
    pair.pump()
    assert pair.client_events() != []


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(head=st.sampled_from([b"\x0c", b"\x0c\x01", b"\x0d\x01", b"\x18"]), tail=st.binary())
def test_sn_client_given_garbage_raises_only_dlms_errors(head: bytes, tail: bytes) -> None:
    pair = _pair()
    pair.client.read([ENERGY, NAME])
    pair.client.data_to_send()
    try:
        pair.client.receive_apdu(head + tail)
    except DlmsError:
        assert pair.client.state is AssociationState.ERROR


def test_truncated_sn_blocks_at_every_position() -> None:
    pair = _pair(pdu=64)
    pair.client.write([(BIG_NAME, OctetString(bytes(300)))])
    first = pair.client.data_to_send()[0]
    for cut in range(len(first)):
        fresh = _pair(pdu=64)
        fresh.server.receive_apdu(first[:cut])
        assert len(fresh.server.data_to_send()) == 1
    reader = _pair(pdu=64)
    reader.client.read([BIG_NAME])
    reader.server.receive_apdu(reader.client.data_to_send()[0])
    block = reader.server.data_to_send()[0]
    for cut in range(1, len(block)):
        client = _pair(pdu=64)
        client.client.read([BIG_NAME])
        client.client.data_to_send()
        try:
            client.client.receive_apdu(block[:cut])
        except RemoteProtocolError:
            assert client.client.state is AssociationState.ERROR
        else:
            raise AssertionError(f"a block cut at {cut} was accepted")


def test_reassembly_limit_holds_for_sn_reads() -> None:
    pair = Pair(
        ClientSettings(
            application_context=ApplicationContextName.SN,
            conformance=ALL_SN,
            max_receive_pdu_size=64,
        ),
        AssociationPolicy(application_context=ApplicationContextName.SN, conformance=ALL_SN),
        _objects(),
        short_names=TABLE,
        max_reassembled_size=1000,
    )
    pair.associate()
    pair.client.read([BIG_NAME])
    try:
        pair.pump()
    except RemoteProtocolError as exc:
        assert "limit" in str(exc)
    else:
        raise AssertionError("a 50 KB read passed a 1000-byte reassembly limit")
    assert pair.client.state is AssociationState.ERROR


class ShortNameSequences(AssociationSequences):
    """Random SN calls, deliveries, losses and corruptions on a client/server pair."""

    def __init__(self) -> None:
        super().__init__()
        self.pair = _pair(pdu=64)
        self.pair.client.abort()
        self.pair.server.abort()

    @rule()
    def read(self) -> None:
        self._call(self.pair.client.read, [ENERGY, NAME])

    @precondition(
        lambda self: (
            not (self.c2s or self.s2c)
            and self.pair.client.state is AssociationState.ASSOCIATED
            and self.pair.client.awaiting is None
        )
    )
    @rule(big=st.booleans())
    def read_round_trip(self, big: bool) -> None:
        """Whatever came before, a Read delivered both ways ends: never a hang."""
        self.pair.client_events()
        self._call(self.pair.client.read, [BIG_NAME] if big else [ENERGY, NAME])
        self.converse()
        events = self.pair.client_events()
        assert self.pair.client.awaiting is None
        if self.pair.client.state is not AssociationState.ERROR:
            assert isinstance(
                events[-1], ReadCompleted | ExceptionReceived | ConfirmedServiceErrorReceived
            ), events

    @rule()
    def read_big(self) -> None:
        self._call(self.pair.client.read, [BIG_NAME])

    @rule()
    def read_parameterized(self) -> None:
        access = ParameterizedAccess(variable_name=PROFILE, selector=2, parameter=None)
        self._call(self.pair.client.read, [access])

    @rule()
    def write_big(self) -> None:
        self._call(self.pair.client.write, [(BIG_NAME, OctetString(bytes(400)))])

    @rule()
    def invoke(self) -> None:
        self._call(self.pair.client.write, [(RESET, Integer(0))])

    @rule()
    def unconfirmed_write(self) -> None:
        self._call(self.pair.client.unconfirmed_write, [(ENERGY, DoubleLongUnsigned(1))])

    @rule()
    def report(self) -> None:
        try:
            self.pair.server.information_report([(ENERGY, DoubleLongUnsigned(2))])
        except DlmsError:
            return
        self.s2c += self.pair.server.data_to_send()


ShortNameSequences.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_short_name_sequences = ShortNameSequences.TestCase
