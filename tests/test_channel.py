"""Channel models: determinism, statistics, outages, presets (dlms-facts §5)."""

from __future__ import annotations

import math
import os
import statistics
import subprocess
import sys

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.errors import LocalProtocolError
from transports import (
    GPRS_2G,
    LTE_4G,
    NB_IOT,
    RF_MESH_DEFAULT,
    WISUN_DEFAULT,
    ChannelModel,
    Direction,
    LossCause,
    OutageWindow,
)


def _fates(model: ChannelModel, link: str, count: int = 300) -> list[tuple[bool, float | None]]:
    return [
        (t.delivered, t.arrival)
        for t in model.transmissions(link=link, size=400, interval=7.0, count=count)
    ]


def test_same_seed_same_decisions() -> None:
    a = WISUN_DEFAULT.with_seed(42)
    b = WISUN_DEFAULT.with_seed(42)
    assert _fates(a, "meter-1") == _fates(b, "meter-1")
    assert [a.hops_for(f"m{i}") for i in range(50)] == [b.hops_for(f"m{i}") for i in range(50)]


def test_decisions_do_not_depend_on_call_order() -> None:
    model = RF_MESH_DEFAULT.with_seed(7)
    forward = [model.transmit(link="m", seq=s, at=s * 3.0, size=200) for s in range(100)]
    backward = [model.transmit(link="m", seq=s, at=s * 3.0, size=200) for s in reversed(range(100))]
    assert forward == list(reversed(backward))


def test_other_seed_other_decisions() -> None:
    assert _fates(WISUN_DEFAULT.with_seed(1), "m") != _fates(WISUN_DEFAULT.with_seed(2), "m")


def test_directions_draw_independent_streams() -> None:
    model = RF_MESH_DEFAULT.with_seed(3)
    down = [model.transmit(link="m", seq=s, at=0.0, size=100).arrival for s in range(50)]
    up = [
        model.transmit(link="m", seq=s, at=0.0, size=100, direction=Direction.UPLINK).arrival
        for s in range(50)
    ]
    assert down != up


def test_hop_distribution_matches_weights() -> None:
    hops = [WISUN_DEFAULT.with_seed(5).hops_for(f"meter-{i}") for i in range(4000)]
    assert min(hops) == 1
    assert max(hops) == 8
    assert statistics.median(hops) == 3
    share_one = hops.count(1) / len(hops)
    assert abs(share_one - 0.15) < 0.03


def test_loss_rate_within_bounds() -> None:
    model = ChannelModel(name="lossy", seed=9, hop_loss=0.05, hop_latency=0.1)
    lost = sum(
        not t.delivered for t in model.transmissions(link="x", size=50, interval=1, count=4000)
    )
    # p = 0.05, n = 4000: sd = 0.0034; allow 4 sd.
    assert abs(lost / 4000 - 0.05) < 0.014


def test_loss_compounds_over_hops_and_fragments() -> None:
    model = ChannelModel(
        name="frag",
        seed=4,
        hop_loss=0.02,
        hop_latency=0.1,
        hop_weights=(0.0, 0.0, 1.0),
        frame_payload=127,
    )
    sample = list(model.transmissions(link="x", size=1000, interval=1, count=3000))
    assert {t.hops for t in sample} == {3}
    frames = sample[0].fragments
    assert frames == len(model.frame_sizes(1000)) == 9
    expected = 1 - 0.98 ** (3 * frames)
    rate = sum(not t.delivered for t in sample) / len(sample)
    sd = math.sqrt(expected * (1 - expected) / len(sample))
    assert abs(rate - expected) < 4 * sd
    for t in sample:
        if not t.delivered:
            assert t.cause is LossCause.LOSS
            assert None in t.frame_arrivals


def test_wisun_latency_matches_measured_rtts() -> None:
    # TI SWRA714A: RTT 373 ms at 1 hop, 899 ms at 5 hops (dlms-facts §5).
    model = attrs.evolve(WISUN_DEFAULT, hop_loss=0.0, outage_probability=0.0)
    for hops, rtt in ((1, 0.373), (5, 0.899)):
        fixed = attrs.evolve(model, hop_weights=(0.0,) * (hops - 1) + (1.0,))
        one_way = [
            t.latency for t in fixed.transmissions(link="m", size=50, interval=5, count=2000)
        ]
        mean = statistics.mean(x for x in one_way if x is not None)
        assert abs(2 * mean - rtt) < 0.01, (hops, 2 * mean)
        assert min(x for x in one_way if x is not None) >= 0.121 + hops * 0.036


def test_bandwidth_adds_serialisation_delay() -> None:
    slow = ChannelModel(name="slow", hop_latency=0.1, bandwidth=1000.0, hop_weights=(0, 1.0))
    t = slow.transmit(link="a", seq=0, at=10.0, size=500)
    # 2 hops x 0.1 s + 0.5 s on the first hop + 0.5 s store-and-forward on the second.
    assert t.latency == pytest.approx(1.2)


def test_mtu_drops_too_big() -> None:
    # IPv6 minimum MTU 1280 less 40 bytes of IPv6 and 8 of UDP header.
    t = WISUN_DEFAULT.transmit(link="m", seq=0, at=0.0, size=1233)
    assert not t.delivered
    assert t.cause is LossCause.TOO_BIG
    fits = attrs.evolve(WISUN_DEFAULT, hop_loss=0.0, outage_probability=0.0)
    assert fits.transmit(link="m", seq=0, at=0.0, size=1232).delivered


def test_scheduled_outage_for_one_link_and_for_all() -> None:
    model = ChannelModel(
        name="out",
        hop_latency=0.1,
        outages=(
            OutageWindow(start=100.0, end=160.0, link="a"),
            OutageWindow(start=500.0, end=530.0),
        ),
    )
    assert model.transmit(link="a", seq=0, at=99.9, size=10).delivered
    t = model.transmit(link="a", seq=1, at=100.0, size=10)
    assert (t.delivered, t.cause) == (False, LossCause.OUTAGE)
    assert model.transmit(link="b", seq=1, at=100.0, size=10).delivered
    assert model.transmit(link="a", seq=2, at=160.0, size=10).delivered
    assert not model.transmit(link="b", seq=2, at=510.0, size=10).delivered
    assert model.outage_end("a", 120.0) == 160.0
    assert model.outage_end("a", 170.0) == 170.0


def test_stochastic_outages_are_deterministic_and_bounded() -> None:
    model = ChannelModel(
        name="flaky",
        seed=11,
        hop_latency=0.1,
        outage_slot=600.0,
        outage_probability=0.5,
        outage_duration=(30.0, 120.0),
    )
    day = 86400.0
    windows = model.outage_windows("m", 0.0, day)
    assert windows == model.with_seed(11).outage_windows("m", 0.0, day)
    assert windows != model.with_seed(12).outage_windows("m", 0.0, day)
    # 144 slots x p 0.5: about 72 outages (sd 6).
    assert 45 < len(windows) < 100
    assert all(30.0 <= w.end - w.start <= 120.0 for w in windows)
    # Queries over sub-ranges agree with the whole-day answer.
    for w in windows[:10]:
        middle = (w.start + w.end) / 2
        assert model.in_outage("m", middle)
        assert not model.transmit(link="m", seq=0, at=middle, size=10).delivered
        assert model.outage_end("m", middle) >= w.end


def test_outage_share_close_to_expected() -> None:
    model = ChannelModel(
        name="share", seed=2, outage_slot=600.0, outage_probability=0.25, outage_duration=(60, 60)
    )
    # Expected share of time down: 0.25 * 60 / 600 = 2.5 %.
    probes = 20000
    down = sum(model.in_outage("m", i * 50.0 + 0.5) for i in range(probes))
    assert abs(down / probes - 0.025) < 0.008


def test_idle_timeout_per_link() -> None:
    timeouts = {GPRS_2G.idle_timeout_for(f"m{i}") for i in range(50)}
    assert all(t is not None and 120.0 <= t <= 300.0 for t in timeouts)
    assert len(timeouts) > 40
    assert WISUN_DEFAULT.idle_timeout_for("m") is None


@pytest.mark.parametrize(
    ("model", "low", "high"),
    [(GPRS_2G, 0.3, 1.5), (LTE_4G, 0.06, 0.2), (NB_IOT, 1.0, 10.0)],
)
def test_cellular_presets_rtt_range(model: ChannelModel, low: float, high: float) -> None:
    rtts = []
    for seq in range(500):
        down = model.transmit(link="m", seq=seq, at=seq * 20.0, size=20)
        up = model.transmit(link="m", seq=seq, at=seq * 20.0, size=20, direction=Direction.UPLINK)
        if down.latency is not None and up.latency is not None:
            rtts.append(down.latency + up.latency)
    assert len(rtts) > 400
    assert low <= min(rtts) and max(rtts) <= high + 0.05


@pytest.mark.parametrize(
    "kwargs",
    [
        {"hop_loss": 1.5},
        {"hop_latency": 0.1, "hop_jitter": 0.2},
        {"hop_weights": ()},
        {"hop_weights": (0.0, 0.0)},
        {"bandwidth": 0.0},
        {"frame_payload": 8},
        {"outage_duration": (50.0, 10.0)},
        {"base_latency": -1.0},
        {"ip_overhead": -1},
    ],
)
def test_invalid_parameters_rejected(kwargs: dict[str, object]) -> None:
    with pytest.raises(LocalProtocolError):
        ChannelModel(**kwargs)  # type: ignore[arg-type]


def test_outage_window_must_have_positive_length() -> None:
    with pytest.raises(LocalProtocolError):
        OutageWindow(start=5.0, end=5.0)


@settings(max_examples=100, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    seq=st.integers(0, 10**6),
    at=st.floats(0, 1e6),
    size=st.integers(1, 1280),
)
def test_transmit_is_consistent(seed: int, seq: int, at: float, size: int) -> None:
    model = WISUN_DEFAULT.with_seed(seed)
    t = model.transmit(link="m", seq=seq, at=at, size=size)
    assert t == model.transmit(link="m", seq=seq, at=at, size=size)
    assert 1 <= t.hops <= 8
    if t.delivered:
        assert t.arrival is not None
        assert t.arrival >= at + 0.121 + t.hops * 0.036 - 1e-9
        assert t.frame_arrivals and all(a is not None for a in t.frame_arrivals)
        assert t.fragments == len(model.frame_sizes(size))
    else:
        assert t.arrival is None
        assert t.cause is not LossCause.NONE


def test_decisions_are_the_same_in_another_process() -> None:
    """Simulators and tests run in different processes, with different hash seeds."""
    script = (
        "from transports import WISUN_DEFAULT as m\n"
        "m = m.with_seed(77)\n"
        "print([m.hops_for(f'meter-{i}') for i in range(20)])\n"
        "print([m.transmit(link='meter-3', seq=s, at=s * 60.0, size=900).arrival"
        " for s in range(20)])\n"
        "print(m.outage_windows('meter-3', 0.0, 86400.0 * 30))\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": str(hash_seed)},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for hash_seed in (12345,)
    }
    model = WISUN_DEFAULT.with_seed(77)
    here = "\n".join(
        [
            str([model.hops_for(f"meter-{i}") for i in range(20)]),
            str(
                [
                    model.transmit(link="meter-3", seq=s, at=s * 60.0, size=900).arrival
                    for s in range(20)
                ]
            ),
            str(model.outage_windows("meter-3", 0.0, 86400.0 * 30)),
        ]
    )
    assert outputs == {here + "\n"}
    assert "OutageWindow" in here


def test_outage_end_stops_at_the_limit_on_a_channel_always_down() -> None:
    model = ChannelModel(
        name="down", outage_slot=60.0, outage_probability=1.0, outage_duration=(200.0, 200.0)
    )
    assert model.in_outage("m", 1000.0)
    assert 5000.0 <= model.outage_end("m", 1000.0, limit=5000.0) <= 5200.0
    assert model.outage_end("m", 1000.0) >= 1000.0 + 86400.0
    scheduled = ChannelModel(
        name="chained",
        outages=(OutageWindow(start=0.0, end=10.0), OutageWindow(start=10.0, end=25.0)),
    )
    assert scheduled.outage_end("m", 5.0) == 25.0
    assert scheduled.outage_end("m", 5.0, limit=12.0) == 25.0


def test_reliable_transmission_turns_loss_into_delay() -> None:
    model = ChannelModel(name="tcp", seed=3, hop_latency=0.2, hop_loss=0.3)
    sample = [
        model.transmit_reliably(link="m", seq=s, at=s * 100.0, size=100, rto=1.0)
        for s in range(500)
    ]
    assert sample == [
        model.transmit_reliably(link="m", seq=s, at=s * 100.0, size=100, rto=1.0)
        for s in range(500)
    ]
    for s, t in enumerate(sample):
        first = model.transmit(link="m", seq=s, at=s * 100.0, size=100)
        assert (t.attempts == 1) == first.delivered
        if t.attempts == 1:
            assert t == first
    delivered = [t for t in sample if t.delivered]
    assert len(delivered) >= 495
    for t in delivered:
        # attempt k leaves after 1 + 2 + ... + 2^(k-2) seconds of timeouts.
        assert t.latency == pytest.approx(0.2 + (2 ** (t.attempts - 1) - 1), abs=1e-9)
    retried = [t for t in delivered if t.attempts > 1]
    assert abs(len(retried) / len(sample) - 0.3) < 0.07
    assert max(t.attempts for t in sample) <= 8


def test_reliable_transmission_waits_out_an_outage() -> None:
    model = ChannelModel(
        name="tcp-out", hop_latency=0.1, outages=(OutageWindow(start=10.0, end=15.0),)
    )
    t = model.transmit_reliably(link="m", seq=0, at=10.0, size=10, rto=1.0)
    # Attempts at 10, 11, 13 fall in the outage; the one at 17 gets through.
    assert (t.delivered, t.attempts, t.sent_at) == (True, 4, 10.0)
    assert t.arrival == pytest.approx(17.1)
    gone = model.transmit_reliably(link="m", seq=1, at=10.0, size=10, rto=1.0, max_attempts=2)
    assert (gone.delivered, gone.cause, gone.attempts) == (False, LossCause.OUTAGE, 2)
    with pytest.raises(LocalProtocolError):
        model.transmit_reliably(link="m", seq=0, at=0.0, size=10, rto=0.0)


@settings(max_examples=150, deadline=None)
@given(
    seed=st.integers(0, 1000),
    base=st.floats(0, 1),
    latency=st.floats(0, 2),
    jitter_share=st.floats(0, 1),
    loss=st.floats(0, 0.5),
    weights=st.lists(st.floats(0, 1), min_size=1, max_size=10).filter(lambda w: sum(w) > 0),
    frame_payload=st.one_of(st.none(), st.integers(13, 2047)),
    bandwidth=st.one_of(st.none(), st.floats(100, 1e6)),
    size=st.integers(1, 2047),
    at=st.floats(0, 1e6),
)
def test_arrival_stays_within_the_model_bounds(
    seed: int,
    base: float,
    latency: float,
    jitter_share: float,
    loss: float,
    weights: list[float],
    frame_payload: int | None,
    bandwidth: float | None,
    size: int,
    at: float,
) -> None:
    model = ChannelModel(
        name="any",
        seed=seed,
        base_latency=base,
        hop_latency=latency,
        hop_jitter=latency * jitter_share,
        hop_loss=loss,
        hop_weights=tuple(weights),
        frame_payload=frame_payload,
        bandwidth=bandwidth,
    )
    t = model.transmit(link="m", seq=seed, at=at, size=size)
    hops = t.hops
    assert 1 <= hops <= len(weights) and weights[hops - 1] > 0
    wires = model.frame_sizes(size)
    assert t.fragments == len(wires)
    serial_max = 0.0 if bandwidth is None else (sum(wires) + (hops - 1) * max(wires)) / bandwidth
    low = at + base + hops * (latency - latency * jitter_share)
    high = at + base + hops * (latency + latency * jitter_share) + serial_max
    for arrival in t.frame_arrivals:
        if arrival is not None:
            assert low - 1e-6 <= arrival <= high + 1e-6
    assert t.delivered == all(a is not None for a in t.frame_arrivals)
