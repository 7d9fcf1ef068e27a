"""Our IS 15959-2 object tree read by gurux-dlms (GPL-2.0, a test-only oracle): the gurux
client parses our object list into its own objects and every attribute value we serve
into them, and reads back the same clock, scalers, columns, rows and association data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from dlmskit.apdu import DataAccessResult
from dlmskit.axdr import (
    Data,
    DateTime,
    DeviationSign,
    DoubleLong,
    DoubleLongUnsigned,
    LongUnsigned,
    OctetString,
    encode,
)
from dlmskit.cosem import (
    CosemObjectTree,
    encode_object_list,
    is15959_object_tree,
    local_context,
    object_list_entries,
)

gurux_dlms = pytest.importorskip("gurux_dlms")

from gurux_dlms import GXByteBuffer, GXDLMSClient  # noqa: E402
from gurux_dlms.internal._GXCommon import _GXCommon  # noqa: E402
from gurux_dlms.internal._GXDataInfo import _GXDataInfo  # noqa: E402

NOW = dt.datetime(2024, 1, 2, 0, 7, 30, tzinfo=dt.UTC)
IST = dt.timezone(dt.timedelta(minutes=330))


def _row(moment: dt.datetime) -> tuple[Data, ...]:
    local = moment.astimezone(IST)
    stamp = DateTime.from_datetime(local, sign=DeviationSign.BLUE_BOOK).to_bytes()
    return (
        OctetString(stamp),
        LongUnsigned(23000 + local.minute),
        DoubleLongUnsigned(local.hour),
        DoubleLongUnsigned(0),
        DoubleLongUnsigned(0),
        DoubleLongUnsigned(0),
        DoubleLong(1500),
    )


@pytest.fixture(scope="module")
def tree() -> CosemObjectTree:
    return is15959_object_tree(
        now=lambda: NOW,
        sign=DeviationSign.BLUE_BOOK,
        time_zone=-330,
        block_load_rows=_row,
        block_load_depth=8,
        block_load_complete=True,
    )


def _gurux_value(client: Any, value: Data) -> Any:
    return _GXCommon.getData(client.settings, GXByteBuffer(encode(value)), _GXDataInfo())


@pytest.fixture(scope="module")
def gurux(tree: CosemObjectTree) -> dict[str, Any]:
    """gurux objects for what the utility settings association sees, filled with our values."""
    client = GXDLMSClient(True)
    raw = encode(encode_object_list(object_list_entries(tree, 48), association_version=1))
    objects = client.parseObjects(GXByteBuffer(raw), False)
    by_name: dict[str, Any] = {}
    updated = 0
    for gx in objects:
        ours = tree[str(gx.logicalName)]
        # a profile's columns before its buffer (gurux types the rows by them)
        order = sorted(ours.attribute_ids(), key=lambda i: (i == 2 and ours.class_id == 7, i))
        for index in order:
            value = ours.get_attribute(local_context(), index, None)
            if isinstance(value, DataAccessResult):
                continue
            client.updateValue(gx, index, _gurux_value(client, value))
            updated += 1
        by_name[str(gx.logicalName)] = gx
    by_name["updated"] = updated
    return by_name


def test_gurux_parses_the_whole_object_list(tree: CosemObjectTree, gurux: dict[str, Any]) -> None:
    assert len(gurux) - 1 == len(tree)
    assert gurux["updated"] > 450
    clock = gurux["0.0.1.0.0.255"]
    assert type(clock).__name__ == "GXDLMSClock"
    assert [int(clock.getAccess(i)) for i in range(1, 10)] == [1, 3, 3, 1, 3, 3, 3, 3, 1]
    assert [int(clock.getMethodAccess(i)) for i in range(1, 7)] == [1] * 6
    assert type(gurux["0.0.96.3.10.255"]).__name__ == "GXDLMSDisconnectControl"
    assert type(gurux["0.0.44.0.0.255"]).__name__ == "GXDLMSImageTransfer"


def test_gurux_reads_our_clock_and_registers(gurux: dict[str, Any]) -> None:
    clock = gurux["0.0.1.0.0.255"]
    assert clock.time.value == NOW
    assert clock.timeZone == -330
    voltage = gurux["1.0.12.7.0.255"]
    assert (voltage.scaler, int(voltage.unit)) == (0.01, 35)
    energy = gurux["1.0.1.8.0.255"]
    assert (energy.scaler, int(energy.unit)) == (1, 30)


def test_gurux_reads_our_block_load_profile(gurux: dict[str, Any]) -> None:
    profile = gurux["1.0.99.1.0.255"]
    columns = [(str(obj.logicalName), co.attributeIndex) for obj, co in profile.captureObjects]
    assert columns == [
        ("0.0.1.0.0.255", 2),
        ("1.0.12.27.0.255", 2),
        ("1.0.1.29.0.255", 2),
        ("1.0.9.29.0.255", 2),
        ("1.0.2.29.0.255", 2),
        ("1.0.10.29.0.255", 2),
        ("1.0.11.27.0.255", 2),
    ]
    assert (profile.capturePeriod, profile.profileEntries, profile.entriesInUse) == (900, 8, 8)
    assert len(profile.buffer) == 8
    newest = profile.buffer[-1]
    assert newest[0].value == dt.datetime(2024, 1, 2, 5, 30, tzinfo=IST)
    # gurux scales each register column by the scaler_unit we served for it
    assert newest[1:3] == [230.3, 5]


def test_gurux_reads_our_associations_and_controls(gurux: dict[str, Any]) -> None:
    utility = gurux["0.0.40.0.3.255"]
    assert (utility.clientSAP, utility.serverSAP) == (48, 1)
    assert utility.applicationContextName.contextId == 3
    assert int(utility.authenticationMechanismName.mechanismId) == 2
    assert utility.xDLMSContextInfo.maxReceivePduSize == 1024
    relay = gurux["0.0.96.3.10.255"]
    assert (relay.outputState, int(relay.controlState), int(relay.controlMode)) == (True, 1, 4)
    alert = gurux["0.4.25.9.0.255"]
    assert [(str(o.logicalName), c.attributeIndex) for o, c in alert.pushObjectList] == [
        ("0.0.96.1.2.255", 2),
        ("0.4.25.9.0.255", 1),
        ("0.0.1.0.0.255", 2),
        ("0.0.94.91.18.255", 2),
    ]
    assert gurux["0.0.44.0.0.255"].imageBlockSize == 192
