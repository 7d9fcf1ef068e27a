"""A client association reading an IS 15959-2 single-phase object tree through a server
association, in memory: clock, registers, block load profile, object lists, disconnect
control, type and access checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    MechanismName,
    SelectiveAccess,
)
from dlmskit.association import (
    NEED_DATA,
    ActionCompleted,
    AssociationAccepted,
    AssociationPolicy,
    AttributeAccessMode,
    ClientAssociation,
    ClientSettings,
    Event,
    GetCompleted,
    MethodAccessMode,
    ServerAssociation,
    SetCompleted,
)
from dlmskit.axdr import (
    Data,
    DateTime,
    DeviationSign,
    DoubleLong,
    DoubleLongUnsigned,
    Enum,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.cosem import (
    IS15959_SINGLE_PHASE,
    AttributeAccessItem,
    CaptureObject,
    ControlState,
    CosemObjectTree,
    ImageTransfer,
    ObjectListEntry,
    ProfileColumns,
    PushSetup,
    Quantity,
    Register,
    Unit,
    by_entries,
    by_time_range,
    clock_datetime,
    clock_time_descriptor,
    decode_object_list,
    encode_object_list,
    is15959_object_tree,
    register_descriptors,
    register_quantity,
)
from dlmskit.security import HlsSecret, KeyId, MemoryCounterStore, SecurityContext
from obis import ObisCode

IST = dt.timezone(dt.timedelta(hours=5, minutes=30))
NOW = dt.datetime(2024, 1, 2, 0, 7, 30, tzinfo=dt.UTC)  # 05:37:30 IST
SIGN = DeviationSign.UTC_TO_LOCAL
EK = bytes(range(16))
AK = bytes(range(0xD0, 0xE0))
HLS_KEY = bytes(range(0x40, 0x50))
CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
BLOCK_LOAD = ObisCode.parse("1.0.99.1.0.255")
BLOCK_LOAD_SCALER = ObisCode.parse("1.0.94.91.4.255")
DISCONNECT = ObisCode.parse("0.0.96.3.10.255")
US_CONFORMANCE = IS15959_SINGLE_PHASE.associations[2].conformance


def _stamp(moment: dt.datetime) -> OctetString:
    return OctetString(DateTime.from_datetime(moment.astimezone(IST), sign=SIGN).to_bytes())


def captured(moment: dt.datetime) -> bool:
    """03:30 IST is never captured."""
    local = moment.astimezone(IST)
    return (local.hour, local.minute) != (3, 30)


def block_load_row(moment: dt.datetime) -> tuple[Data, ...] | None:
    """The block load entry captured at ``moment``."""
    if not captured(moment):
        return None
    local = moment.astimezone(IST)
    slot = int(local.timestamp()) // 900
    return (
        _stamp(local),
        LongUnsigned(23000 + slot % 100),
        DoubleLongUnsigned(slot % 250),
        DoubleLongUnsigned(slot % 300),
        DoubleLongUnsigned(0),
        DoubleLongUnsigned(0),
        DoubleLong(1000 + slot % 7),
    )


def _security(title: bytes) -> SecurityContext:
    return SecurityContext(
        system_title=title,
        global_unicast_key=EK,
        authentication_key=AK,
        counter_store=MemoryCounterStore({(title, KeyId.GLOBAL_UNICAST_ENCRYPTION): 0}),
    )


class Meter:
    """One server association per client SAP over one shared object tree."""

    def __init__(self) -> None:
        self.tree: CosemObjectTree = is15959_object_tree(
            now=lambda: NOW,
            sign=SIGN,
            time_zone=330,
            block_load_rows=block_load_row,
            block_load_present=captured,
        )

    def connect(self, client_sap: int) -> Link:
        if client_sap == 0x30:
            policy = AssociationPolicy(
                client_sap=0x30,
                application_context=ApplicationContextName.LN_CIPHERED,
                mechanism=MechanismName.HIGH,
                hls=HlsSecret(secret=HLS_KEY),
                security=_security(SERVER_ST),
                conformance=US_CONFORMANCE,
                max_receive_pdu_size=512,
            )
            settings = ClientSettings(
                application_context=ApplicationContextName.LN_CIPHERED,
                mechanism=MechanismName.HIGH,
                hls=HlsSecret(secret=HLS_KEY),
                security=_security(CLIENT_ST),
                conformance=US_CONFORMANCE,
            )
        elif client_sap == 0x20:
            conformance = IS15959_SINGLE_PHASE.associations[1].conformance
            policy = AssociationPolicy(
                client_sap=0x20,
                mechanism=MechanismName.LOW,
                password=b"ABCDEFGH",
                conformance=conformance | Conformance.SET | Conformance.ACTION,
            )
            settings = ClientSettings(
                mechanism=MechanismName.LOW,
                password=b"ABCDEFGH",
                conformance=conformance | Conformance.SET | Conformance.ACTION,
            )
        else:
            conformance = Conformance.GET | Conformance.SET | Conformance.ACTION
            policy = AssociationPolicy(client_sap=client_sap, conformance=conformance)
            settings = ClientSettings(conformance=conformance)
        link = Link(ClientAssociation(settings), ServerAssociation(policy, self.tree))
        link.client.associate()
        assert isinstance(link.pump(), AssociationAccepted)
        return link


class Link:
    def __init__(self, client: ClientAssociation, server: ServerAssociation) -> None:
        self.client = client
        self.server = server

    def pump(self) -> Event:
        for _ in range(10_000):
            c2s = self.client.data_to_send()
            for apdu in c2s:
                self.server.receive_apdu(apdu)
            s2c = self.server.data_to_send()
            for apdu in s2c:
                self.client.receive_apdu(apdu)
            if not c2s and not s2c:
                break
        events: list[Event] = []
        while (event := self.client.next_event()) is not NEED_DATA:
            assert not isinstance(event, type(NEED_DATA))
            events.append(event)
        assert len(events) == 1, events
        return events[0]

    def get(
        self, descriptor: CosemAttributeDescriptor, access: SelectiveAccess | None = None
    ) -> Data | DataAccessResult:
        self.client.get(descriptor, access)
        event = self.pump()
        assert isinstance(event, GetCompleted)
        return event.result

    def value(
        self, descriptor: CosemAttributeDescriptor, access: SelectiveAccess | None = None
    ) -> Data:
        result = self.get(descriptor, access)
        assert not isinstance(result, DataAccessResult), result
        return result

    def set(self, descriptor: CosemAttributeDescriptor, value: Data) -> DataAccessResult:
        self.client.set(descriptor, value)
        event = self.pump()
        assert isinstance(event, SetCompleted)
        return event.result

    def action(
        self, descriptor: CosemMethodDescriptor, parameters: Data | None = None
    ) -> ActionResult:
        self.client.action(descriptor, parameters)
        event = self.pump()
        assert isinstance(event, ActionCompleted)
        return event.result


def attr(class_id: int, name: str | ObisCode, index: int) -> CosemAttributeDescriptor:
    return CosemAttributeDescriptor(class_id=class_id, instance_id=name, attribute_id=index)


def method(class_id: int, name: str | ObisCode, index: int) -> CosemMethodDescriptor:
    return CosemMethodDescriptor(class_id=class_id, instance_id=name, method_id=index)


@pytest.fixture
def meter() -> Meter:
    return Meter()


def test_clock_reads_as_the_injected_time_in_ist(meter: Meter) -> None:
    us = meter.connect(0x30)
    value = us.value(clock_time_descriptor())
    assert value == OctetString(bytes.fromhex("07E80102020525 1E00 014A 00".replace(" ", "")))
    moment = clock_datetime(value, sign=SIGN)
    assert moment == NOW and moment.utcoffset() == dt.timedelta(minutes=330)
    assert us.value(attr(8, "0.0.1.0.0.255", 3)) == 330


def test_register_value_and_scaler_give_an_exact_quantity(meter: Meter) -> None:
    voltage = meter.tree["1.0.12.7.0.255"]
    assert isinstance(voltage, Register)
    voltage[2] = LongUnsigned(23456)
    us = meter.connect(0x30)
    value_d, scaler_d = register_descriptors("1.0.12.7.0.255")
    quantity = register_quantity(us.value(value_d), us.value(scaler_d))
    assert quantity == Quantity(value=Decimal("234.56"), unit=Unit.VOLT)
    assert str(quantity) == "234.56 V"


def test_block_load_by_time_range_gives_typed_scaled_rows(meter: Meter) -> None:
    us = meter.connect(0x30)
    columns = ProfileColumns.from_data(us.value(attr(7, BLOCK_LOAD, 3)))
    assert [c.logical_name for c in columns][:3] == [
        ObisCode.parse(t) for t in ("0.0.1.0.0.255", "1.0.12.27.0.255", "1.0.1.29.0.255")
    ]
    scaler_columns = ProfileColumns.from_data(us.value(attr(7, BLOCK_LOAD_SCALER, 3)))
    scalers = columns.scalers(scaler_columns, us.value(attr(7, BLOCK_LOAD_SCALER, 2)))
    start = dt.datetime(2024, 1, 1, 3, 0, tzinfo=IST)
    end = dt.datetime(2024, 1, 1, 4, 0, tzinfo=IST)
    buffer = us.value(attr(7, BLOCK_LOAD, 2), by_time_range(start, end, sign=SIGN))
    rows = columns.rows(buffer, sign=SIGN, scalers=scalers)
    # 03:00, 03:15, 03:45, 04:00 (03:30 was never captured)
    assert [r.time for r in rows] == [start + dt.timedelta(minutes=m) for m in (0, 15, 45, 60)]
    slot = int(start.timestamp()) // 900
    assert rows[0]["1.0.12.27.0.255"] == Quantity(
        value=Decimal(23000 + slot % 100).scaleb(-2), unit=Unit.VOLT
    )
    assert rows[0][2] == Quantity(value=Decimal(slot % 250), unit=Unit.WATT_HOUR)
    assert rows[0][6] == Quantity(value=Decimal(1000 + slot % 7).scaleb(-3), unit=Unit.AMPERE)


def test_block_load_range_with_selected_columns(meter: Meter) -> None:
    us = meter.connect(0x30)
    columns = ProfileColumns.from_data(us.value(attr(7, BLOCK_LOAD, 3)))
    wanted = (columns[0].capture, columns[2].capture)
    start = dt.datetime(2024, 1, 1, 23, 50, tzinfo=IST)
    end = dt.datetime(2024, 1, 2, 0, 20, tzinfo=IST)
    access = by_time_range(start, end, sign=SIGN, columns=wanted)
    rows = columns.select(wanted).rows(us.value(attr(7, BLOCK_LOAD, 2), access), sign=SIGN)
    assert [r.time for r in rows] == [
        dt.datetime(2024, 1, 2, 0, 0, tzinfo=IST),
        dt.datetime(2024, 1, 2, 0, 15, tzinfo=IST),
    ]
    assert all(len(r.values) == 2 for r in rows)


def test_block_load_by_entries_with_column_slice(meter: Meter) -> None:
    us = meter.connect(0x30)
    entries = us.value(attr(7, BLOCK_LOAD, 7))
    # 45 days of 15-minute entries back from 05:30 IST, less the daily 03:30 gap
    assert entries == DoubleLongUnsigned(45 * 96 - 45)
    columns = ProfileColumns.from_data(us.value(attr(7, BLOCK_LOAD, 3)))
    buffer = us.value(attr(7, BLOCK_LOAD, 2), by_entries(int(entries) - 1, 0, to_column=3))
    rows = columns.slice(1, 3).rows(buffer, sign=SIGN)
    assert [r.time for r in rows] == [
        dt.datetime(2024, 1, 2, 5, 15, tzinfo=IST),
        dt.datetime(2024, 1, 2, 5, 30, tzinfo=IST),
    ]
    assert [len(r.values) for r in rows] == [3, 3]


def test_object_lists_differ_by_association(meter: Meter) -> None:
    public = decode_object_list(meter.connect(0x10).value(attr(15, "0.0.40.0.0.255", 2)))
    utility = decode_object_list(meter.connect(0x30).value(attr(15, "0.0.40.0.0.255", 2)))
    public_names = {e.logical_name for e in public}
    utility_names = {e.logical_name for e in utility}
    assert ObisCode.parse("0.0.40.0.1.255") in public_names
    assert BLOCK_LOAD not in public_names and BLOCK_LOAD in utility_names
    assert public_names < utility_names
    assert len(utility) == len(meter.tree)
    public_clock = next(e for e in public if e.logical_name == ObisCode.parse("0.0.1.0.0.255"))
    utility_clock = next(e for e in utility if e.logical_name == ObisCode.parse("0.0.1.0.0.255"))
    assert public_clock.attribute_mode(2) is AttributeAccessMode.READ_ONLY
    assert utility_clock.attribute_mode(2) is AttributeAccessMode.READ_AND_WRITE
    assert public_clock.method_mode(6) is MethodAccessMode.NO_ACCESS
    assert utility_clock.method_mode(6) is MethodAccessMode.ACCESS
    block_load = next(e for e in utility if e.logical_name == BLOCK_LOAD)
    assert block_load.attribute_access[1].access_selectors == (1, 2)


def test_disconnect_and_reconnect_by_action(meter: Meter) -> None:
    us = meter.connect(0x30)
    assert us.value(attr(70, DISCONNECT, 3)) == Enum(ControlState.CONNECTED)
    assert us.action(method(70, DISCONNECT, 1), Integer(0)) is ActionResult.SUCCESS
    assert us.value(attr(70, DISCONNECT, 2)) is False
    assert us.value(attr(70, DISCONNECT, 3)) == Enum(ControlState.DISCONNECTED)
    # control mode 4: remote reconnection makes the supply ready for manual reconnection
    assert us.action(method(70, DISCONNECT, 2), Integer(0)) is ActionResult.SUCCESS
    assert us.value(attr(70, DISCONNECT, 3)) == Enum(ControlState.READY_FOR_RECONNECTION)
    assert us.set(attr(70, DISCONNECT, 4), Enum(1)) is DataAccessResult.SUCCESS
    assert us.action(method(70, DISCONNECT, 1), Integer(0)) is ActionResult.SUCCESS
    assert us.action(method(70, DISCONNECT, 2), Integer(0)) is ActionResult.SUCCESS
    assert us.value(attr(70, DISCONNECT, 2)) is True


def test_set_with_the_wrong_type_is_type_unmatched(meter: Meter) -> None:
    us = meter.connect(0x30)
    assert us.set(attr(8, "0.0.1.0.0.255", 3), Unsigned(5)) is DataAccessResult.TYPE_UNMATCHED
    assert us.set(attr(70, DISCONNECT, 4), Unsigned(1)) is DataAccessResult.TYPE_UNMATCHED
    assert us.value(attr(8, "0.0.1.0.0.255", 3)) == 330
    assert us.set(attr(8, "0.0.1.0.0.255", 3), DoubleLong(0)) is DataAccessResult.TYPE_UNMATCHED


def test_setting_the_clock_moves_the_meter_time(meter: Meter) -> None:
    us = meter.connect(0x30)
    target = dt.datetime(2024, 1, 2, 6, 0, tzinfo=IST)
    stamp = OctetString(DateTime.from_datetime(target, sign=SIGN).to_bytes())
    assert us.set(clock_time_descriptor(), stamp) is DataAccessResult.SUCCESS
    assert clock_datetime(us.value(clock_time_descriptor()), sign=SIGN) == target


def test_access_denials(meter: Meter) -> None:
    public = meter.connect(0x10)
    stamp = OctetString(bytes(12))  # month 0: not a date
    assert public.set(clock_time_descriptor(), stamp) is DataAccessResult.READ_WRITE_DENIED
    assert public.get(attr(7, BLOCK_LOAD, 2)) is DataAccessResult.OBJECT_UNDEFINED
    assert public.action(method(70, DISCONNECT, 1), Integer(0)) is ActionResult.OBJECT_UNDEFINED
    reader = meter.connect(0x20)
    assert reader.set(attr(70, DISCONNECT, 4), Enum(1)) is DataAccessResult.READ_WRITE_DENIED
    assert reader.action(method(70, DISCONNECT, 1), Integer(0)) is (ActionResult.READ_WRITE_DENIED)
    assert reader.value(attr(70, DISCONNECT, 3)) == Enum(ControlState.CONNECTED)
    assert reader.get(attr(15, "0.0.40.0.2.255", 7)) is DataAccessResult.READ_WRITE_DENIED
    us = meter.connect(0x30)
    assert us.set(attr(8, "0.0.1.0.0.255", 4), Unsigned(0)) is DataAccessResult.READ_WRITE_DENIED
    assert us.get(attr(3, "1.0.99.99.99.255", 2)) is DataAccessResult.OBJECT_UNDEFINED
    assert us.get(attr(4, "1.0.12.7.0.255", 2)) is DataAccessResult.OBJECT_UNDEFINED
    assert us.set(clock_time_descriptor(), stamp) is DataAccessResult.OTHER_REASON


def test_associated_partners_and_status(meter: Meter) -> None:
    reader = meter.connect(0x20)
    assert reader.value(attr(15, "0.0.40.0.0.255", 3)) == (Integer(0x20), LongUnsigned(1))
    assert reader.value(attr(15, "0.0.40.0.0.255", 8)) == Enum(2)
    assert reader.value(attr(15, "0.0.40.0.3.255", 8)) == Enum(0)
    assert reader.value(attr(15, "0.0.40.0.0.255", 1)) == OctetString(
        ObisCode.parse("0.0.40.0.2.255").to_bytes()
    )


def test_unused_capture_object_is_not_a_column() -> None:
    columns = ProfileColumns.of([CaptureObject.of(8, "0.0.1.0.0.255", 2)])
    with pytest.raises(KeyError):
        columns.select([CaptureObject.of(3, "1.0.1.8.0.255", 2)])


def test_firmware_association_downloads_and_activates_an_image(meter: Meter) -> None:
    image = bytes(range(256)) * 2
    activated: list[bytes] = []
    transfer = meter.tree["0.0.44.0.0.255"]
    assert isinstance(transfer, ImageTransfer)
    transfer.activate_hook = lambda ident, data: activated.append(data)
    fw = meter.connect(0x50)
    name = "0.0.44.0.0.255"
    size = fw.value(attr(18, name, 2))
    assert isinstance(size, DoubleLongUnsigned)
    assert (
        fw.action(
            method(18, name, 1), Structure((OctetString(b"FW-7"), DoubleLongUnsigned(len(image))))
        )
        is ActionResult.SUCCESS
    )
    for number in range(-(-len(image) // size)):
        block = OctetString(image[number * size : (number + 1) * size])
        result = fw.action(method(18, name, 2), Structure((DoubleLongUnsigned(number), block)))
        assert result is ActionResult.SUCCESS
    assert fw.value(attr(18, name, 4)) == DoubleLongUnsigned(-(-len(image) // size))
    assert fw.action(method(18, name, 3), Integer(0)) is ActionResult.SUCCESS
    assert fw.action(method(18, name, 4), Integer(0)) is ActionResult.SUCCESS
    assert activated == [image]
    assert fw.get(attr(7, BLOCK_LOAD, 2)) is DataAccessResult.OBJECT_UNDEFINED


def test_push_setup_action_hands_the_body_to_the_hook(meter: Meter) -> None:
    pushed: list[Structure] = []
    alert = meter.tree["0.4.25.9.0.255"]
    assert isinstance(alert, PushSetup)
    alert.on_push = lambda setup, body: pushed.append(body)
    us = meter.connect(0x30)
    assert us.action(method(40, "0.4.25.9.0.255", 1), Integer(0)) is ActionResult.SUCCESS
    (body,) = pushed
    assert body[0] == OctetString(b"") and body[1] == OctetString(alert.logical_name.to_bytes())
    assert clock_datetime(body[2], sign=SIGN) == NOW
    push = meter.connect(0x40)
    assert push.get(clock_time_descriptor()) is DataAccessResult.OBJECT_UNDEFINED


def test_utility_association_adds_and_removes_objects_of_the_public_one(meter: Meter) -> None:
    us = meter.connect(0x30)
    public_association = "0.0.40.0.1.255"
    element = encode_object_list(
        [
            ObjectListEntry(
                class_id=7,
                version=1,
                logical_name=BLOCK_LOAD,
                attribute_access=(
                    AttributeAccessItem(attribute_id=7, access_mode=AttributeAccessMode.READ_ONLY),
                ),
            )
        ]
    )[0]
    assert isinstance(element, Structure)
    rights = element[3]
    assert us.action(method(15, public_association, 3), element) is ActionResult.SUCCESS
    public = meter.connect(0x10)
    entries = public.value(attr(7, BLOCK_LOAD, 7))
    assert entries == DoubleLongUnsigned(45 * 96 - 45)
    listed = decode_object_list(public.value(attr(15, "0.0.40.0.0.255", 2)))
    block_load = next(e for e in listed if e.logical_name == BLOCK_LOAD)
    assert block_load.attribute_mode(7) is AttributeAccessMode.READ_ONLY
    assert block_load.attribute_mode(2) is AttributeAccessMode.READ_ONLY  # class default
    assert us.action(method(15, public_association, 4), element) is ActionResult.SUCCESS
    assert public.get(attr(7, BLOCK_LOAD, 7)) is DataAccessResult.OBJECT_UNDEFINED
    unknown = Structure((LongUnsigned(3), Unsigned(0), OctetString(bytes(6)), rights))
    assert us.action(method(15, public_association, 3), unknown) is ActionResult.OBJECT_UNDEFINED
    assert us.action(method(15, public_association, 3), Unsigned(1)) is (
        ActionResult.TYPE_UNMATCHED
    )
    itself = Structure(
        (LongUnsigned(15), Unsigned(1), OctetString(bytes.fromhex("0000280001FF")), rights)
    )
    assert us.action(method(15, public_association, 4), itself) is ActionResult.OTHER_REASON
