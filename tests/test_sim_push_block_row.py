"""The block load push carries the block load buffer's last row, exactly as the buffer
read gives it, also when the latest intervals are missing (a power failure)."""

from __future__ import annotations

import datetime as dt

from dlmskit.apdu import DataNotification, decode_apdu
from dlmskit.axdr import Structure
from dlmskit.security import SecurityContext
from obis import ObisCode
from simulators import BLOCK_LOAD_PUSH, DEFAULT_AK, DEFAULT_EK, FaultPlan, Fleet, FleetLayout
from simulators import notification as push_notification
from simulators._load import interval_index

BLOCK_LOAD = ObisCode(1, 0, 99, 1, 0, 255)
START = dt.datetime(2026, 6, 10, 0, 7, tzinfo=dt.UTC)
PLAN = FaultPlan.from_mapping(
    {"seed": 3, "interval": [{"kind": "missing", "meters": 1.0, "per_day": 1.0, "length": 8}]}
)


def _body(apdu: bytes) -> Structure:
    opener = SecurityContext(
        system_title=b"HES\x00\x00\x00\x00\x01",
        global_unicast_key=DEFAULT_EK,
        authentication_key=DEFAULT_AK,
    )
    sent = decode_apdu(opener.unprotect(apdu))
    assert isinstance(sent, DataNotification)
    assert isinstance(sent.notification_body, Structure)
    return sent.notification_body


def test_block_load_push_row_is_the_buffers_last_row() -> None:
    now = [START]
    fleet = Fleet(FleetLayout(seed=4, meters=4), plan=PLAN, clock=lambda: now[0], max_active=4)
    missing = present = 0
    step = dt.timedelta(minutes=15)
    for number in range(4):
        meter = fleet.meter(number)
        profile = meter.profile.profile(BLOCK_LOAD)
        assert profile is not None
        # one time with the last interval recorded, one inside a missing stretch
        wanted = {True: 1, False: 1}
        for k in range(96 * 4):
            now[0] = START + k * step
            last = interval_index(meter.state.now()) - 1
            gap = meter.state.point.interval(last).reported is None
            if not wanted[gap]:
                continue
            wanted[gap] -= 1
            missing += gap
            present += not gap
            rows = meter.objects.rows(profile)
            body = _body(push_notification(meter, BLOCK_LOAD_PUSH))
            assert tuple(body[2:]) == tuple(rows[-1])
            assert len(body) == 2 + len(profile.capture_objects)
            if not any(wanted.values()):
                break
    assert present == 4
    assert missing >= 2
