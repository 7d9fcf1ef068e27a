"""Server-side interface class objects: clock, registers, disconnect control, image
transfer, push and security setup, Association LN, and the tree's refusal rules."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    MechanismName,
)
from dlmskit.association import AttributeAccessMode, MethodAccessMode, RequestContext
from dlmskit.axdr import (
    Array,
    BitString,
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
    VisibleString,
)
from dlmskit.cosem import (
    ActivityCalendar,
    AssociationLN,
    AssociationRights,
    CaptureObject,
    Clock,
    ControlMode,
    ControlState,
    CosemObject,
    CosemObjectTree,
    DataObject,
    DemandRegister,
    DisconnectControl,
    ExtendedRegister,
    GprsModemSetup,
    IecHdlcSetup,
    ImageTransfer,
    ImageTransferStatus,
    Ipv4Setup,
    Ipv6Setup,
    Limiter,
    PushSetup,
    Register,
    RegisterMonitor,
    SapAssignment,
    ScalerUnit,
    ScriptTable,
    SecuritySetup,
    SingleActionSchedule,
    SpecialDaysTable,
    TcpUdpSetup,
    Unit,
    is15959_object_tree,
    method_failed,
)
from obis import ObisCode

IST = dt.timezone(dt.timedelta(minutes=330))
CTX = RequestContext(
    client_sap=48,
    application_context=ApplicationContextName.LN,
    mechanism=MechanismName.LOWEST,
    conformance=Conformance.GET | Conformance.SET | Conformance.ACTION,
)


class VirtualTime:
    def __init__(self, start: dt.datetime) -> None:
        self.now = start

    def __call__(self) -> dt.datetime:
        return self.now


def clock_at(text: str, sign: DeviationSign = DeviationSign.BLUE_BOOK, tz: int = -330) -> Clock:
    return Clock(now=VirtualTime(dt.datetime.fromisoformat(text)), sign=sign, time_zone=tz)


def local(clock: Clock) -> str:
    return clock.local_now().strftime("%H:%M:%S")


# -- registers -------------------------------------------------------------------------------


def test_register_reset_keeps_the_value_type() -> None:
    register = Register("1.0.1.8.0.255", DoubleLongUnsigned(1234), ScalerUnit(scaler=1, unit=30))
    assert register.scaler_unit == ScalerUnit(scaler=1, unit=Unit.WATT_HOUR)
    assert register.invoke(CTX, 1, Integer(0)) == (ActionResult.SUCCESS, None)
    assert register[2] == DoubleLongUnsigned(0) and type(register[2]) is DoubleLongUnsigned
    assert register.set_attribute(CTX, 3, Unsigned(1)) is DataAccessResult.TYPE_UNMATCHED
    computed = Register("1.0.1.7.0.255", DoubleLong(0), ScalerUnit(scaler=0, unit=27))
    computed.bind(2, lambda ctx, access: DoubleLong(500))
    assert computed.get_attribute(CTX, 2, None) == DoubleLong(500)
    assert computed.invoke(CTX, 1, Integer(0)) == (ActionResult.READ_WRITE_DENIED, None)
    assert computed.set_attribute(CTX, 2, DoubleLong(1)) is DataAccessResult.READ_WRITE_DENIED


def test_extended_and_demand_registers_stamp_times_from_the_clock() -> None:
    clock = clock_at("2024-01-01T00:00:00+00:00")
    md = ExtendedRegister(
        "1.0.1.6.0.255", DoubleLong(0), ScalerUnit(scaler=0, unit=27), now=clock.date_time
    )
    md.capture(DoubleLong(4200))
    assert md[2] == DoubleLong(4200)
    assert md[5] == OctetString(clock.date_time().to_bytes())
    demand = DemandRegister(
        "1.0.1.4.0.255",
        ScalerUnit(scaler=0, unit=27),
        current_average_value=DoubleLong(10),
        now=clock.date_time,
    )
    demand.update(DoubleLong(77))
    assert demand.invoke(CTX, 2, Integer(0)) == (ActionResult.SUCCESS, None)
    assert (demand[2], demand[3]) == (DoubleLong(0), DoubleLong(77))
    assert demand[9] == LongUnsigned(1)
    assert demand.invoke(CTX, 1, Integer(0)) == (ActionResult.SUCCESS, None)
    assert demand[3] == DoubleLong(0)


# -- disconnect control ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "after_reconnect"),
    [
        (ControlMode.MODE_1, ControlState.CONNECTED),
        (ControlMode.MODE_2, ControlState.READY_FOR_RECONNECTION),
        (ControlMode.MODE_3, ControlState.CONNECTED),
        (ControlMode.MODE_4, ControlState.READY_FOR_RECONNECTION),
        (ControlMode.MODE_5, ControlState.CONNECTED),
        (ControlMode.MODE_6, ControlState.CONNECTED),
    ],
)
def test_remote_reconnect_goes_where_the_mode_says(
    mode: ControlMode, after_reconnect: ControlState
) -> None:
    changes: list[tuple[ControlState, ControlState]] = []
    relay = DisconnectControl(control_mode=mode, on_change=lambda a, b: changes.append((a, b)))
    assert relay.invoke(CTX, 1, Integer(0)) == (ActionResult.SUCCESS, None)
    assert relay.get_attribute(CTX, 2, None) is False
    assert relay.invoke(CTX, 2, Integer(0)) == (ActionResult.SUCCESS, None)
    assert relay.state is after_reconnect
    assert changes[0] == (ControlState.CONNECTED, ControlState.DISCONNECTED)
    if after_reconnect is ControlState.READY_FOR_RECONNECTION:
        assert relay.manual_reconnect() and relay.output_state


def test_mode_0_refuses_remote_control_and_manual_disconnect_follows_the_mode() -> None:
    relay = DisconnectControl(control_mode=ControlMode.NONE)
    assert relay.invoke(CTX, 1, Integer(0)) == (ActionResult.OTHER_REASON, None)
    assert relay.state is ControlState.CONNECTED
    strict = DisconnectControl(control_mode=ControlMode.MODE_3)
    assert not strict.manual_disconnect()
    assert strict.local_disconnect() and strict.state is ControlState.READY_FOR_RECONNECTION
    assert not strict.local_reconnect()
    assert strict.set_attribute(CTX, 4, Enum(9)) is DataAccessResult.OTHER_REASON


# -- image transfer --------------------------------------------------------------------------


def test_image_transfer_flow_with_gaps_verify_and_activate() -> None:
    image = bytes(range(256)) * 3 + b"tail"
    digest = hashlib.sha256(image).digest()
    activated: list[bytes] = []
    transfer = ImageTransfer(
        block_size=100,
        verify=lambda ident, data: hashlib.sha256(data).digest() == digest,
        activate=lambda ident, data: activated.append(ident),
    )
    assert transfer.get_attribute(CTX, 2, None) == DoubleLongUnsigned(100)
    initiate = Structure((OctetString(b"FW-2"), DoubleLongUnsigned(len(image))))
    assert transfer.invoke(CTX, 1, initiate) == (ActionResult.SUCCESS, None)
    blocks = [image[i : i + 100] for i in range(0, len(image), 100)]
    for number in (0, 1, 3, 5, 6, 7):
        block = Structure((DoubleLongUnsigned(number), OctetString(blocks[number])))
        assert transfer.invoke(CTX, 2, block)[0] is ActionResult.SUCCESS
    assert transfer.get_attribute(CTX, 4, None) == DoubleLongUnsigned(2)
    assert transfer.get_attribute(CTX, 3, None) == BitString.from_text("11010111")
    assert transfer.invoke(CTX, 3, Integer(0)) == (ActionResult.OTHER_REASON, None)
    assert transfer.status is ImageTransferStatus.VERIFICATION_FAILED
    short = Structure((DoubleLongUnsigned(2), OctetString(blocks[2][:-1])))
    assert transfer.invoke(CTX, 2, short)[0] is ActionResult.TEMPORARY_FAILURE
    assert transfer.invoke(CTX, 1, initiate)[0] is ActionResult.SUCCESS  # restart
    for number, block_value in enumerate(blocks):
        assert transfer.invoke(
            CTX, 2, Structure((DoubleLongUnsigned(number), OctetString(block_value)))
        ) == (ActionResult.SUCCESS, None)
    assert transfer.invoke(CTX, 3, Integer(0)) == (ActionResult.SUCCESS, None)
    info = transfer.get_attribute(CTX, 7, None)
    assert info == Array(
        (Structure((DoubleLongUnsigned(len(image)), OctetString(b"FW-2"), OctetString(b""))),)
    )
    assert transfer.invoke(CTX, 4, Integer(0)) == (ActionResult.SUCCESS, None)
    assert activated == [b"FW-2"]
    assert transfer.get_attribute(CTX, 6, None) == Enum(ImageTransferStatus.ACTIVATION_SUCCESSFUL)


def test_image_transfer_refusals() -> None:
    def broken(ident: bytes, data: bytes) -> None:
        raise RuntimeError("flash write failed")

    transfer = ImageTransfer(block_size=4, max_image_size=16, activate=broken)
    assert transfer.invoke(CTX, 4, Integer(0))[0] is ActionResult.TEMPORARY_FAILURE
    too_big = Structure((OctetString(b"x"), DoubleLongUnsigned(17)))
    assert transfer.invoke(CTX, 1, too_big)[0] is ActionResult.OTHER_REASON
    assert transfer.invoke(CTX, 1, Structure((OctetString(b"x"),)))[0] is (
        ActionResult.TYPE_UNMATCHED
    )
    assert transfer.invoke(CTX, 1, Structure((OctetString(b"x"), DoubleLongUnsigned(6))))[0] is (
        ActionResult.SUCCESS
    )
    out_of_range = Structure((DoubleLongUnsigned(2), OctetString(b"ab")))
    assert transfer.invoke(CTX, 2, out_of_range)[0] is ActionResult.OTHER_REASON
    for number, value in ((0, b"abcd"), (1, b"ef")):
        block = Structure((DoubleLongUnsigned(number), OctetString(value)))
        assert transfer.invoke(CTX, 2, block)[0] is ActionResult.SUCCESS
    assert transfer.image == bytearray(b"abcdef")
    assert transfer.invoke(CTX, 4, Integer(0))[0] is ActionResult.OTHER_REASON
    assert transfer.status is ImageTransferStatus.ACTIVATION_FAILED
    assert transfer.set_attribute(CTX, 5, False) is DataAccessResult.SUCCESS
    restart = Structure((OctetString(b"y"), DoubleLongUnsigned(4)))
    assert transfer.invoke(CTX, 1, restart)[0] is ActionResult.TEMPORARY_FAILURE


# -- push and security setup ---------------------------------------------------------------------


def test_push_builds_the_body_from_the_push_object_list() -> None:
    clock = clock_at("2024-01-01T00:00:00+00:00")
    device = DataObject("0.0.96.1.2.255", OctetString(b"METER-1"))
    pushed: list[Structure] = []
    push = PushSetup(
        "0.4.25.9.0.255",
        push_object_list=(
            CaptureObject.of(1, "0.0.96.1.2.255", 2),
            CaptureObject.of(40, "0.4.25.9.0.255", 1),
            CaptureObject.of(8, "0.0.1.0.0.255", 2),
            CaptureObject.of(1, "0.0.94.91.18.255", 2),
        ),
        destination=b"10.0.0.1:4059",
        on_push=lambda setup, body: pushed.append(body),
    )
    CosemObjectTree([clock, device, push])
    assert push.invoke(CTX, 1, Integer(0)) == (ActionResult.SUCCESS, None)
    assert pushed == [
        Structure(
            (
                OctetString(b"METER-1"),
                OctetString(ObisCode.parse("0.4.25.9.0.255").to_bytes()),
                OctetString(clock.date_time().to_bytes()),
                None,
            )
        )
    ]
    assert push.destination == b"10.0.0.1:4059"
    silent = PushSetup("0.0.25.9.0.255", push_object_list=())
    assert silent.invoke(CTX, 1, Integer(0)) == (ActionResult.TEMPORARY_FAILURE, None)


def test_security_setup_policy_only_rises_and_key_transfer_reaches_the_hook() -> None:
    received: list[tuple[tuple[int, bytes], ...]] = []
    setup = SecuritySetup(
        "0.0.43.0.3.255",
        security_policy=1,
        version=1,
        server_system_title=b"MMM\x00\x00\x00\x00\x01",
        key_transfer=received.append,
    )
    assert setup.invoke(CTX, 1, Enum(0)) == (ActionResult.OTHER_REASON, None)
    assert setup.invoke(CTX, 1, Enum(3)) == (ActionResult.SUCCESS, None)
    assert setup.get_attribute(CTX, 2, None) == Enum(3)
    keys = Array((Structure((Enum(0), OctetString(bytes(24)))),))
    assert setup.invoke(CTX, 2, keys) == (ActionResult.SUCCESS, None)
    assert received == [((0, bytes(24)),)]
    assert setup.invoke(CTX, 2, Array((Unsigned(1),))) == (ActionResult.TYPE_UNMATCHED, None)
    assert setup.invoke(CTX, 3, Array()) == (ActionResult.OBJECT_UNDEFINED, None)
    assert setup.get_attribute(CTX, 6, None) == Array()


def test_association_secret_is_write_only_and_change_hls_secret_calls_the_hook() -> None:
    secrets: list[bytes] = []
    association = AssociationLN(
        "0.0.40.0.3.255", client_sap=48, change_hls_secret=secrets.append, version=0
    )
    assert association.invoke(CTX, 2, OctetString(b"0123456789abcdef"))[0] is ActionResult.SUCCESS
    assert association.set_attribute(CTX, 7, OctetString(b"new")) is DataAccessResult.SUCCESS
    assert secrets == [b"0123456789abcdef", b"new"] and association.secret == b"new"
    assert association.get_attribute(CTX, 7, None) is DataAccessResult.READ_WRITE_DENIED
    assert association.invoke(CTX, 1, OctetString(b"x"))[0] is ActionResult.OBJECT_UNDEFINED
    assert association.get_attribute(CTX, 2, None) == Array()
    assert not association.has_attribute(9)
    assert association.get_attribute(CTX, 4, None) == Structure(
        (
            Unsigned(2),
            Unsigned(16),
            LongUnsigned(756),
            Unsigned(5),
            Unsigned(8),
            Unsigned(1),
            Unsigned(1),
        )
    )


# -- the tree never raises -------------------------------------------------------------------


def _failing_tree() -> CosemObjectTree:
    data = DataObject("0.0.96.50.0.255", Unsigned(1))

    def explode(ctx: RequestContext, access: object) -> Data:
        raise RuntimeError("sensor unplugged")

    def refuse(ctx: RequestContext, parameters: Data | None) -> Data | None:
        raise method_failed(ActionResult.TEMPORARY_FAILURE)

    broken = DataObject("0.0.96.51.0.255")
    broken.bind(2, explode)
    scripts = ScriptTable(
        "0.0.10.0.1.255",
        scripts=Array((Structure((LongUnsigned(1), Array())),)),
        execute=lambda script: (_ for _ in ()).throw(OSError("relay stuck")),
    )
    busy = CosemObject("0.0.96.52.0.255", class_id=9999)
    busy.implement(1, refuse)
    return CosemObjectTree(
        [data, broken, scripts, busy],
        associations=[AssociationRights(client_sap=48, association="0.0.40.0.3.255")],
    )


def test_failures_become_results() -> None:
    tree = _failing_tree()

    def attribute(class_id: int, name: str, index: int) -> CosemAttributeDescriptor:
        return CosemAttributeDescriptor(class_id=class_id, instance_id=name, attribute_id=index)

    def method(class_id: int, name: str, index: int) -> CosemMethodDescriptor:
        return CosemMethodDescriptor(class_id=class_id, instance_id=name, method_id=index)

    assert tree.get(CTX, attribute(1, "0.0.96.51.0.255", 2), None) is (
        DataAccessResult.HARDWARE_FAULT
    )
    assert tree.action(CTX, method(9, "0.0.10.0.1.255", 1), LongUnsigned(1)) == (
        ActionResult.HARDWARE_FAULT,
        None,
    )
    assert tree.action(CTX, method(9, "0.0.10.0.1.255", 1), LongUnsigned(2)) == (
        ActionResult.OTHER_REASON,
        None,
    )
    assert tree.action(CTX, method(9999, "0.0.96.52.0.255", 1), None) == (
        ActionResult.TEMPORARY_FAILURE,
        None,
    )
    assert tree.set(CTX, attribute(1, "0.0.96.50.0.255", 1), None, OctetString(bytes(6))) is (
        DataAccessResult.READ_WRITE_DENIED
    )
    assert tree.set(CTX, attribute(1, "0.0.96.50.0.255", 2), None, VisibleString("any")) is (
        DataAccessResult.SUCCESS
    )
    assert tree.get(CTX, attribute(1, "0.0.96.50.0.255", 3), None) is (
        DataAccessResult.OBJECT_UNDEFINED
    )
    assert tree.attribute_access(CTX, attribute(1, "0.0.96.50.0.255", 3)) is None
    assert tree.attribute_access(CTX, attribute(3, "0.0.96.50.0.255", 2)) is None
    assert tree.method_access(CTX, method(1, "0.0.96.50.0.255", 1)) is None
    assert tree.method_access(CTX, method(9, "0.0.10.0.1.255", 1)) is MethodAccessMode.ACCESS
    assert tree.attribute_access(CTX, attribute(1, "0.0.96.50.0.255", 2)) is (
        AttributeAccessMode.READ_AND_WRITE
    )
    stranger = RequestContext(
        client_sap=99,
        application_context=ApplicationContextName.LN,
        mechanism=MechanismName.LOWEST,
        conformance=Conformance.GET,
    )
    assert tree.get(stranger, attribute(1, "0.0.96.50.0.255", 2), None) is (
        DataAccessResult.OBJECT_UNDEFINED
    )
    assert tree.action(stranger, method(9, "0.0.10.0.1.255", 1), LongUnsigned(1)) == (
        ActionResult.OBJECT_UNDEFINED,
        None,
    )


def test_tree_bookkeeping() -> None:
    tree = _failing_tree()
    assert len(tree) == 4 and "0.0.96.50.0.255" in tree and 5 not in tree
    with pytest.raises(ValueError, match="already"):
        tree.add(DataObject("0.0.96.50.0.255"))
    assert tree.get_object("1.2.3.4.5.6") is None
    assert tree.read(CaptureObject.of(1, "0.0.96.50.0.255", 2)) == Unsigned(1)
    assert tree.read(CaptureObject.of(1, "0.0.96.51.0.255", 2)) is None
    assert tree.read(CaptureObject.of(3, "0.0.96.50.0.255", 2)) is None
    with pytest.raises(ValueError, match="not described"):
        CosemObject("0.0.1.0.0.255", class_id=8, version=5)
    obj = DataObject("0.0.96.53.0.255", Unsigned(3))
    assert obj["value"] == Unsigned(3)
    with pytest.raises(KeyError):
        obj["nothing"] = Unsigned(1)
    with pytest.raises(KeyError):
        obj[1] = OctetString(bytes(6))
    assert repr(obj) == "DataObject(0.0.96.53.0.255)"
    old = tree["0.0.96.50.0.255"]
    new = DataObject("0.0.96.50.0.255", Unsigned(9))
    assert tree.replace(new) is old and old.tree is None and new.tree is tree
    assert tree.read(CaptureObject.of(1, "0.0.96.50.0.255", 2)) == Unsigned(9)
    assert tree.replace(DataObject("0.0.96.54.0.255")) is None and len(tree) == 5


# -- every attribute has its class's type --------------------------------------------------------


def _standalone_objects() -> list[CosemObject]:
    return [
        SpecialDaysTable(),
        RegisterMonitor(
            "0.0.16.1.0.255",
            thresholds=Array((DoubleLong(100),)),
            monitored_value=Structure(
                (
                    LongUnsigned(3),
                    OctetString(ObisCode.parse("1.0.1.7.0.255").to_bytes()),
                    Integer(2),
                )
            ),
            actions=Array(),
        ),
        SingleActionSchedule("0.0.15.0.0.255", script="0.0.10.0.1.255"),
        ActivityCalendar(calendar_name=b"TOD-1"),
        Limiter(
            monitored_value=Structure(
                (
                    LongUnsigned(3),
                    OctetString(ObisCode.parse("1.0.1.7.0.255").to_bytes()),
                    Integer(2),
                )
            ),
            threshold_active=DoubleLong(5000),
            threshold_normal=DoubleLong(5000),
            threshold_emergency=DoubleLong(3000),
        ),
        TcpUdpSetup(),
        Ipv4Setup(ip_address="10.1.2.3", use_dhcp=False),
        Ipv6Setup(unicast_addresses=("2001:db8::1",)),
        GprsModemSetup(apn=b"iot.example"),
        IecHdlcSetup(),
        SapAssignment(devices={1: b"DLM0000000000001"}),
        SecuritySetup("0.0.43.0.2.255"),
        PushSetup("0.0.25.9.0.255", push_object_list=()),
        ImageTransfer(),
        DisconnectControl(),
        AssociationLN("0.0.40.0.1.255", client_sap=16, version=2),
    ]


def test_every_attribute_value_has_the_type_of_its_class_definition() -> None:
    tree = is15959_object_tree(now=lambda: dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    objects = [*tree, *_standalone_objects()]
    checked = 0
    for obj in objects:
        assert obj.definition.known, obj
        for index in obj.attribute_ids():
            definition = obj.definition.attribute(index)
            assert definition is not None, (obj, index)
            value = obj.get_attribute(CTX, index, None)
            if value is DataAccessResult.READ_WRITE_DENIED:  # secret: write-only
                continue
            assert definition.accepts(value), (obj, definition.name, value)
            checked += 1
    assert checked > 600


def test_ipv4_and_activity_calendar_values() -> None:
    ipv4 = Ipv4Setup(ip_address="10.1.2.3", use_dhcp=False)
    assert ipv4[3] == DoubleLongUnsigned(0x0A010203) and ipv4[8] is False
    calendar = ActivityCalendar(calendar_name=b"TOD-1")
    calendar[6] = OctetString(b"TOD-2")
    assert calendar.invoke(CTX, 1, Integer(0)) == (ActionResult.SUCCESS, None)
    assert calendar[2] == OctetString(b"TOD-2")
    v6 = Ipv6Setup(unicast_addresses=("2001:db8::1",))
    assert v6[4] == Array((OctetString(bytes.fromhex("20010db8" + "00" * 11 + "01")),))


def test_structured_sets_are_checked_element_by_element() -> None:
    push = PushSetup("0.0.25.9.0.255", push_object_list=())
    good = Array((CaptureObject.of(8, "0.0.1.0.0.255", 2).to_data(),))
    assert push.set_attribute(CTX, 2, good) is DataAccessResult.SUCCESS
    assert push.push_object_list == (CaptureObject.of(8, "0.0.1.0.0.255", 2),)
    assert push.set_attribute(CTX, 2, Array((Unsigned(1),))) is DataAccessResult.TYPE_UNMATCHED
    destination = Structure((Enum(0), OctetString(b"10.0.0.9:4059"), Enum(0)))
    assert push.set_attribute(CTX, 3, destination) is DataAccessResult.SUCCESS
    assert push.destination == b"10.0.0.9:4059"
    assert push.set_attribute(CTX, 3, Structure((Enum(0),))) is DataAccessResult.TYPE_UNMATCHED
    window = Structure((OctetString(bytes(12)), OctetString(bytes(12))))
    assert push.set_attribute(CTX, 4, Array((window,))) is DataAccessResult.SUCCESS
    assert push.set_attribute(CTX, 4, Array((Structure(),))) is DataAccessResult.TYPE_UNMATCHED
    clock = clock_at("2024-01-01T00:00:00+00:00")
    begin = DateTime(month=3, day=0xFE, day_of_week=7, hour=2, minute=0, second=0, hundredths=0)
    assert clock.set_attribute(CTX, 5, OctetString(begin.to_bytes())) is DataAccessResult.SUCCESS
    assert clock.set_attribute(CTX, 6, begin) is DataAccessResult.SUCCESS
    assert clock[6] == OctetString(begin.to_bytes())
    assert clock.set_attribute(CTX, 5, OctetString(bytes(5))) is DataAccessResult.TYPE_UNMATCHED
    bad_month = OctetString(bytes.fromhex("07E80D01FF000000008000FF"))
    assert clock.set_attribute(CTX, 5, bad_month) is DataAccessResult.OTHER_REASON


@pytest.mark.parametrize("version", [0, 1, 2])
def test_push_setup_versions_carry_their_attributes(version: int) -> None:
    push = PushSetup("0.0.25.9.0.255", push_object_list=(), version=version, repetition_delay=30)
    assert push.version == version
    expected = {0: 7, 1: 10, 2: 13}[version]
    assert push.attribute_ids() == tuple(range(1, expected + 1))
    for index in push.attribute_ids():
        definition = push.definition.attribute(index)
        assert definition is not None and definition.accepts(push[index])
    if version >= 1:
        assert push[9] == Integer(0x40)
    if version == 2:
        assert push[7] == Structure((LongUnsigned(30), LongUnsigned(0), LongUnsigned(30)))


# Blue Book disconnect control, written out per mode: (state, trigger) -> new state.
_D, _C, _R = ControlState.DISCONNECTED, ControlState.CONNECTED, ControlState.READY_FOR_RECONNECTION
_REMOTE_RECONNECT_TO_READY = {ControlMode.MODE_2, ControlMode.MODE_4}
_MANUAL_DISCONNECT = {ControlMode.MODE_1, ControlMode.MODE_2, ControlMode.MODE_5}
_LOCAL_RECONNECT = {ControlMode.MODE_5, ControlMode.MODE_6}


def _reference(mode: ControlMode, state: ControlState, trigger: str) -> ControlState:
    if mode is ControlMode.NONE:
        return state
    if trigger == "remote_disconnect" and state in (_C, _R):
        return _D
    if trigger == "remote_reconnect" and state is _D:
        return _R if mode in _REMOTE_RECONNECT_TO_READY else _C
    if trigger == "manual_reconnect" and state is _R:
        return _C
    if trigger == "manual_disconnect" and state is _C and mode in _MANUAL_DISCONNECT:
        return _R
    if trigger == "local_disconnect" and state is _C:
        return _R
    if trigger == "local_reconnect" and state is _R and mode in _LOCAL_RECONNECT:
        return _C
    return state


_TRIGGERS = (
    "remote_disconnect",
    "remote_reconnect",
    "manual_reconnect",
    "manual_disconnect",
    "local_disconnect",
    "local_reconnect",
)


@settings(max_examples=150)
@given(st.sampled_from(ControlMode), st.lists(st.sampled_from(_TRIGGERS), max_size=20))
def test_disconnect_control_follows_the_blue_book_table(
    mode: ControlMode, triggers: list[str]
) -> None:
    changes: list[tuple[ControlState, ControlState]] = []
    relay = DisconnectControl(control_mode=mode, on_change=lambda a, b: changes.append((a, b)))
    state = ControlState.CONNECTED
    for trigger in triggers:
        expected = _reference(mode, state, trigger)
        if trigger.startswith("remote"):
            result, _ = relay.invoke(CTX, 1 if trigger == "remote_disconnect" else 2, Integer(0))
            assert result is (
                ActionResult.OTHER_REASON if mode is ControlMode.NONE else ActionResult.SUCCESS
            )
        else:
            getattr(relay, trigger)()
        if expected is not state:
            assert changes[-1] == (state, expected)
        state = expected
        assert relay.state is state
        assert relay.get_attribute(CTX, 2, None) is (state is ControlState.CONNECTED)
        assert relay.get_attribute(CTX, 3, None) == Enum(state)
