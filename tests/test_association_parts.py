"""The byte-level parts of the association machines: state table, blocks, GBT windows."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.association._blocks import (
    BlockReassembler,
    BlockSegmenter,
    length_prefix_size,
    payload_size,
)
from dlmskit.association._gbt import GbtBlock, GbtReceiver, GbtSender
from dlmskit.association._state import (
    TRANSITIONS,
    AssociationState,
    AssociationStateMachine,
    Trigger,
)
from dlmskit.errors import LocalProtocolError, RemoteProtocolError


def test_every_state_has_a_row_and_error_is_terminal() -> None:
    assert set(TRANSITIONS) == set(AssociationState)
    assert TRANSITIONS[AssociationState.ERROR] == {}
    for state, row in TRANSITIONS.items():
        if state is not AssociationState.ERROR:
            assert row[Trigger.PROTOCOL_ERROR] is AssociationState.ERROR
            assert row[Trigger.ABORT] is AssociationState.IDLE


def test_full_life_cycle_with_hls() -> None:
    m = AssociationStateMachine()
    for trigger, state in [
        (Trigger.AARQ, AssociationState.ASSOCIATION_PENDING),
        (Trigger.AARE_AUTHENTICATION_REQUIRED, AssociationState.AUTHENTICATING),
        (Trigger.HLS_VERIFIED, AssociationState.ASSOCIATED),
        (Trigger.RLRQ, AssociationState.RELEASE_PENDING),
        (Trigger.RLRE, AssociationState.IDLE),
    ]:
        assert m.process(trigger) is state


def test_disallowed_trigger_is_a_local_error_and_keeps_state() -> None:
    m = AssociationStateMachine()
    with pytest.raises(LocalProtocolError, match="rlrq is not allowed in state IDLE"):
        m.process(Trigger.RLRQ)
    assert m.state is AssociationState.IDLE
    m.process(Trigger.PROTOCOL_ERROR)
    assert not m.can(Trigger.ABORT)
    with pytest.raises(LocalProtocolError):
        m.process(Trigger.AARQ)


@pytest.mark.parametrize(
    ("n", "size"), [(0, 1), (127, 1), (128, 2), (255, 2), (256, 3), (65535, 3), (65536, 5)]
)
def test_length_prefix_size(n: int, size: int) -> None:
    assert length_prefix_size(n) == size


def test_payload_size_fills_the_pdu_exactly() -> None:
    # 64-byte PDU, 9 bytes of GET-Response-With-Datablock header: 54 + 1 length byte.
    assert payload_size(64, 9) == 54
    # 200 bytes left: 128..255 needs a 2-byte prefix.
    assert payload_size(209, 9) == 198
    # 130 left: 129 would need 2 bytes (131 total), 128 needs 2 as well, 127 fits with 1.
    assert payload_size(139, 9) == 128
    with pytest.raises(LocalProtocolError):
        payload_size(10, 9)


@settings(max_examples=100)
@given(data=st.binary(max_size=2000), size=st.integers(1, 300))
def test_segment_and_reassemble_round_trip(data: bytes, size: int) -> None:
    seg = BlockSegmenter(data, size)
    re = BlockReassembler(max_size=len(data), max_blocks=seg.count)
    out = None
    while not seg.done:
        number, last, chunk = seg.next_block()
        assert len(chunk) <= size
        out = re.add(number, chunk, last=last)
        assert (out is not None) == last
    assert out == data


def test_reassembler_refuses_gaps_and_oversize() -> None:
    re = BlockReassembler(max_size=10, max_blocks=3)
    with pytest.raises(RemoteProtocolError, match="block 2 received, block 1 expected"):
        re.add(2, b"x", last=False)
    re.add(1, b"123456", last=False)
    with pytest.raises(RemoteProtocolError, match="limit of 10 bytes"):
        re.add(2, b"12345", last=False)
    re = BlockReassembler(max_size=100, max_blocks=2)
    re.add(1, b"a", last=False)
    re.add(2, b"a", last=False)
    with pytest.raises(RemoteProtocolError, match="more than 2 blocks"):
        re.add(3, b"a", last=True)


def _transfer(apdu: bytes, *, block: int, window: int, lose: set[int]) -> tuple[bytes, int]:
    """Send ``apdu`` through GBT dropping the first transmission of blocks in ``lose``."""
    sender = GbtSender(apdu, block_size=block, own_window=1)
    receiver = GbtReceiver(max_size=len(apdu), max_blocks=sender.count)
    dropped: set[int] = set()
    exchanges = 0
    while True:
        burst = sender.burst(peer_window=window, ack=0)
        exchanges += 1
        assert burst, "sender stalled"
        need_ack = False
        for b in burst:
            if b.number in lose and b.number not in dropped:
                dropped.add(b.number)
                if b.last or not b.streaming:
                    need_ack = True  # the receiver's timer fires: it re-acks
                continue
            whole, ack_now = receiver.on_block(b)
            if whole is not None:
                return whole, exchanges
            need_ack = need_ack or ack_now
        assert need_ack
        ack = receiver.ack_block(number=1, window=window)
        assert ack.is_ack_only and ack.ack == receiver.last_good
        sender.on_ack(ack.ack)


@pytest.mark.parametrize("window", [1, 4, 63])
def test_gbt_windows_without_loss(window: int) -> None:
    apdu = bytes(range(256)) * 40
    whole, exchanges = _transfer(apdu, block=57, window=window, lose=set())
    assert whole == apdu
    blocks = -(-len(apdu) // 57)
    assert exchanges == -(-blocks // window)


@pytest.mark.parametrize("window", [1, 4])
@pytest.mark.parametrize("lost", [1, 3, 4, 180])
def test_gbt_recovers_a_lost_block(window: int, lost: int) -> None:
    apdu = bytes(range(256)) * 40
    whole, _ = _transfer(apdu, block=57, window=window, lose={lost})
    assert whole == apdu


def test_gbt_streaming_flags_and_window_field() -> None:
    sender = GbtSender(b"x" * 10, block_size=3, own_window=5)
    burst = sender.burst(peer_window=3, ack=7)
    assert [(b.number, b.streaming, b.last) for b in burst] == [
        (1, True, False),
        (2, True, False),
        (3, False, False),
    ]
    assert {(b.window, b.ack) for b in burst} == {(5, 7)}
    assert [(b.number, b.last) for b in sender.burst(peer_window=3, ack=7)] == [(4, True)]


def test_gbt_receiver_limits_and_bad_acks() -> None:
    receiver = GbtReceiver(max_size=4, max_blocks=10)
    block = GbtBlock(last=False, streaming=True, window=1, number=1, ack=0, data=b"12345")
    with pytest.raises(RemoteProtocolError, match="limit of 4 bytes"):
        receiver.on_block(block)
    sender = GbtSender(b"abc", block_size=1, own_window=1)
    with pytest.raises(RemoteProtocolError):
        sender.on_ack(9)
    sender.on_ack(2)
    with pytest.raises(RemoteProtocolError, match="went back"):
        sender.on_ack(1)
