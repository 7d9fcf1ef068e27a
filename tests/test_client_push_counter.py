"""The invocation counter a push carries, read by the listener from general-glo envelopes
with every length form of the ciphered content (short, 0x81, 0x82), checked against the
envelope decoded in full; and profile rows that follow a changed scalers mapping."""

from __future__ import annotations

from decimal import Decimal

import pytest

from dlmskit.apdu import DataNotification, GeneralGloCiphering, LongInvokeIdAndPriority
from dlmskit.axdr import Array, DeviationSign, DoubleLongUnsigned, OctetString, Structure
from dlmskit.client import GREEN_BOOK_AK, GREEN_BOOK_EK, MeterKeys, PushListener
from dlmskit.cosem import CaptureObject, ProfileColumns, Quantity, ScalerUnit
from dlmskit.security import CipheringForm, KeyId, MemoryCounterStore, SecurityContext
from obis import ObisCode
from transports import LinkAddress

METER = bytes.fromhex("4D4D4D0000BC614E")
LISTENER = bytes.fromhex("4845530000000001")
PEER = LinkAddress(host="192.0.2.1", port=4059)


def _push(padding: int, invoke_id: int) -> bytes:
    return DataNotification(
        long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=invoke_id),
        notification_body=Structure((OctetString(bytes(padding)), DoubleLongUnsigned(7))),
    ).to_bytes()


@pytest.mark.parametrize(("padding", "length_octet"), [(10, None), (150, 0x81), (400, 0x82)])
@pytest.mark.parametrize("start", [0, 0x01020304, 0xFFFFFFF0])
def test_push_counter_matches_the_envelope(
    padding: int, length_octet: int | None, start: int
) -> None:
    store = MemoryCounterStore({(METER, int(KeyId.GLOBAL_UNICAST_ENCRYPTION)): start})
    meter = SecurityContext(
        system_title=METER,
        global_unicast_key=GREEN_BOOK_EK,
        authentication_key=GREEN_BOOK_AK,
        counter_store=store,
    )
    keys = {
        METER: MeterKeys(name="m", encryption_key=GREEN_BOOK_EK, authentication_key=GREEN_BOOK_AK)
    }
    listener = PushListener(keys, system_title=LISTENER, allow_plain=False, buffer=1)
    seen = []
    for n in range(3):
        apdu = meter.protect(_push(padding, n), form=CipheringForm.GENERAL_GLO)
        size = apdu[2 + len(METER)]
        if length_octet is None:
            assert size < 0x80
        else:
            assert size == length_octet
        push = listener.check(apdu, PEER, "tcp")
        assert push is not None, listener.rejected
        expected = GeneralGloCiphering.from_bytes(apdu).invocation_counter
        assert push.invocation_counter == expected
        seen.append(expected)
    assert seen == sorted(seen) and len(set(seen)) == 3
    assert listener.last_counter(METER) == seen[-1]


def test_profile_rows_follow_a_changed_scalers_mapping() -> None:
    energy = ObisCode(1, 0, 1, 29, 0, 255)
    columns = ProfileColumns.of(
        (CaptureObject.of(8, "0.0.1.0.0.255", 2), CaptureObject.of(3, energy, 2))
    )
    fresh = ProfileColumns.of(columns.capture_objects)
    entry = Structure((OctetString(bytes(12)), DoubleLongUnsigned(1234)))
    scalers = {energy: ScalerUnit(scaler=-1, unit=30)}
    sign = DeviationSign.UTC_TO_LOCAL

    def value(mapping: dict[ObisCode, ScalerUnit] | None) -> object:
        return columns.row(entry, sign=sign, scalers=mapping).values[1]

    assert value(scalers) == Quantity(value=Decimal("123.4"), unit=30)
    scalers[energy] = ScalerUnit(scaler=2, unit=30)  # same mapping object, changed
    assert value(scalers) == Quantity(value=Decimal("1.234E+5"), unit=30)
    assert value({energy: ScalerUnit(scaler=0, unit=32)}) == Quantity(value=Decimal(1234), unit=32)
    del scalers[energy]
    assert value(scalers) == DoubleLongUnsigned(1234)
    assert value(None) == DoubleLongUnsigned(1234)
    scalers[energy] = ScalerUnit(scaler=-3, unit=30)
    rows = columns.rows(Array((entry, entry)), sign=sign, scalers=scalers)
    assert [r.values[1] for r in rows] == [Quantity(value=Decimal("1.234"), unit=30)] * 2
    # the plans kept inside take no part in equality or hashing
    assert columns == fresh and hash(columns) == hash(fresh)
