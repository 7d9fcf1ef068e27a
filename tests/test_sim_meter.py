"""One simulated meter through the dlmskit client, in memory: access rights per
association, clock setting, relay, entry selection, and a firmware upgrade."""

from __future__ import annotations

import datetime as dt
import hmac

import pytest

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
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
    AssociationRejected,
    AuthenticationFailed,
    ClientAssociation,
    ClientSettings,
    Event,
    GetCompleted,
    SetCompleted,
)
from dlmskit.axdr import (
    BitString,
    Data,
    DateTime,
    DeviationSign,
    DoubleLongUnsigned,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
)
from dlmskit.cosem import esw_bits
from dlmskit.errors import LocalProtocolError
from dlmskit.security import HlsGmac, HlsSecret, MemoryCounterStore, SecurityContext
from obis import ObisCode
from simulators import (
    DEFAULT_AK,
    DEFAULT_EK,
    DEFAULT_HLS_SECRET,
    DEFAULT_LLS_SECRET,
    IST,
    FaultPlan,
    Fleet,
    FleetLayout,
    MeterKeys,
    MeterSession,
    injected_faults,
    meter_truth,
)
from simulators._image import IMAGE_BLOCK_SIZE, build_image
from simulators._load import interval_index

NOW = dt.datetime(2026, 6, 10, 12, 0, tzinfo=dt.UTC)
COUNTERS = MemoryCounterStore()
INTERVAL_15 = dt.timedelta(minutes=15)


def _attribute(class_id: int, ln: str, index: int) -> CosemAttributeDescriptor:
    return CosemAttributeDescriptor(
        class_id=class_id, instance_id=ObisCode.parse(ln), attribute_id=index
    )


def _method(class_id: int, ln: str, index: int) -> CosemMethodDescriptor:
    return CosemMethodDescriptor(class_id=class_id, instance_id=ObisCode.parse(ln), method_id=index)


class Client:
    """A dlmskit client association wired to one meter session in memory."""

    def __init__(self, session: MeterSession | None, settings: ClientSettings) -> None:
        assert session is not None
        self.session = session
        self.machine = ClientAssociation(settings)

    def run(self) -> Event:
        while True:
            out = self.machine.data_to_send()
            if not out:
                break
            for apdu in out:
                for answer in self.session.handle(apdu):
                    self.machine.receive_apdu(answer)
        event = self.machine.next_event()
        assert event is not NEED_DATA and not isinstance(event, type(NEED_DATA))
        return event

    def associate(self) -> Event:
        self.machine.associate()
        return self.run()

    def get(
        self, descriptor: CosemAttributeDescriptor, access: SelectiveAccess | None = None
    ) -> Data | DataAccessResult:
        self.machine.get(descriptor, access)
        event = self.run()
        assert isinstance(event, GetCompleted), event
        return event.results[0]

    def set(self, descriptor: CosemAttributeDescriptor, value: Data) -> DataAccessResult:
        self.machine.set(descriptor, value)
        event = self.run()
        assert isinstance(event, SetCompleted), event
        result = event.results[0]
        assert isinstance(result, DataAccessResult)
        return result

    def action(
        self, descriptor: CosemMethodDescriptor, parameters: Data | None = None
    ) -> ActionResult:
        self.machine.action(descriptor, parameters)
        event = self.run()
        assert isinstance(event, ActionCompleted), event
        return event.result


def _ciphered(mechanism: MechanismName, **kwargs: object) -> ClientSettings:
    context = SecurityContext(
        system_title=bytes.fromhex("4D4D4D0000000007"),
        global_unicast_key=DEFAULT_EK,
        authentication_key=DEFAULT_AK,
        counter_store=COUNTERS,
    )
    return ClientSettings(
        application_context=ApplicationContextName.LN_CIPHERED,
        mechanism=mechanism,
        security=context,
        **kwargs,  # type: ignore[arg-type]
    )


def _fleet() -> Fleet:
    return Fleet(FleetLayout(seed=21, meters=2), clock=lambda: NOW, sign=DeviationSign.BLUE_BOOK)


def _settings_client(fleet: Fleet, sap: int = 0x30) -> Client:
    client = Client(
        fleet.meter(0).open_session(sap),
        _ciphered(MechanismName.HIGH, hls=HlsSecret(secret=DEFAULT_HLS_SECRET)),
    )
    assert isinstance(client.associate(), AssociationAccepted)
    return client


def test_access_rights_follow_the_associations() -> None:
    fleet = _fleet()
    public = Client(fleet.meter(0).open_session(0x10), ClientSettings())
    assert isinstance(public.associate(), AssociationAccepted)
    assert isinstance(public.get(_attribute(8, "0.0.1.0.0.255", 2)), bytes)
    assert public.get(_attribute(3, "1.0.1.8.0.255", 2)) is DataAccessResult.READ_WRITE_DENIED
    assert (
        public.get(_attribute(3, "1.0.1.8.0.255", 1)) == ObisCode.parse("1.0.1.8.0.255").to_bytes()
    )
    assert public.get(_attribute(3, "9.9.9.9.9.255", 2)) is DataAccessResult.OBJECT_UNDEFINED

    reader = Client(
        fleet.meter(0).open_session(0x20), _ciphered(MechanismName.LOW, password=DEFAULT_LLS_SECRET)
    )
    assert isinstance(reader.associate(), AssociationAccepted)
    assert isinstance(reader.get(_attribute(3, "1.0.1.8.0.255", 2)), int)
    assert fleet.meter(0).open_session(0x40) is None  # push is pre-established, no AARQ
    wrong = Client(fleet.meter(0).open_session(0x20), _ciphered(MechanismName.LOW, password=b"x"))
    assert isinstance(wrong.associate(), AssociationRejected)


def test_utility_settings_sets_the_clock_and_switches_the_relay() -> None:
    fleet = _fleet()
    client = _settings_client(fleet)
    later = (NOW + dt.timedelta(minutes=7)).astimezone(IST)
    stamp = DateTime.from_datetime(later, sign=DeviationSign.BLUE_BOOK)
    assert client.set(_attribute(8, "0.0.1.0.0.255", 2), OctetString(stamp.to_bytes())) is (
        DataAccessResult.SUCCESS
    )
    read = client.get(_attribute(8, "0.0.1.0.0.255", 2))
    assert isinstance(read, bytes)
    assert DateTime.from_bytes(read).to_datetime(sign=DeviationSign.BLUE_BOOK) == later
    assert client.get(_attribute(70, "0.0.96.3.10.255", 2)) is True
    assert client.action(_method(70, "0.0.96.3.10.255", 1), Integer(0)) is ActionResult.SUCCESS
    assert client.get(_attribute(70, "0.0.96.3.10.255", 2)) is False
    control = client.get(_attribute(7, "0.0.99.98.6.255", 2))
    transactions = client.get(_attribute(7, "0.0.99.98.3.255", 2))
    assert isinstance(control, tuple) and isinstance(transactions, tuple)
    assert [row[1] for row in control] == [301]  # type: ignore[index]
    assert [row[1] for row in transactions] == [151]  # type: ignore[index]
    assert client.set(_attribute(71, "0.0.17.0.0.255", 3), DoubleLongUnsigned(2500)) is (
        DataAccessResult.SUCCESS
    )
    assert fleet.meter(0).state.load_limit == 2500
    reader = Client(
        fleet.meter(0).open_session(0x20), _ciphered(MechanismName.LOW, password=DEFAULT_LLS_SECRET)
    )
    reader.associate()
    with pytest.raises(LocalProtocolError):  # the reader's conformance has no SET
        reader.set(_attribute(71, "0.0.17.0.0.255", 3), DoubleLongUnsigned(1))


def test_entry_descriptor_selects_rows_and_columns() -> None:
    fleet = _fleet()
    client = _settings_client(fleet)
    profile = _attribute(7, "1.0.99.1.0.255", 2)
    whole = client.get(profile)
    assert isinstance(whole, tuple) and len(whole) == 45 * 96
    access = SelectiveAccess(
        selector=2,
        parameters=Structure(
            (DoubleLongUnsigned(3), DoubleLongUnsigned(5), LongUnsigned(1), LongUnsigned(2))
        ),
    )
    some = client.get(profile, access)
    assert isinstance(some, tuple) and len(some) == 3
    assert [tuple(row) for row in some] == [tuple(whole[n])[:2] for n in range(2, 5)]  # type: ignore[arg-type]
    bad = SelectiveAccess(selector=7, parameters=None)  # as dlmskit.cosem.ProfileGeneric
    assert client.get(profile, bad) is DataAccessResult.SCOPE_OF_ACCESS_VIOLATED
    malformed = SelectiveAccess(selector=2, parameters=Structure((DoubleLongUnsigned(3),)))
    assert client.get(profile, malformed) is DataAccessResult.OTHER_REASON


@pytest.mark.parametrize("corrupt", [False, True])
def test_firmware_upgrade_is_accepted_verified_and_activated(corrupt: bool) -> None:
    fleet = _fleet()
    client = Client(
        fleet.meter(0).open_session(0x50),
        _ciphered(MechanismName.HIGH, hls=HlsSecret(secret=DEFAULT_HLS_SECRET)),
    )
    assert isinstance(client.associate(), AssociationAccepted)
    image = bytearray(build_image(bytes(range(256)) * 5))
    if corrupt:
        image[100] ^= 1
    identifier = b"SIM-2.0.0"
    transfer = "0.0.44.0.0.255"
    assert client.get(_attribute(18, transfer, 2)) == IMAGE_BLOCK_SIZE
    initiate = Structure((OctetString(identifier), DoubleLongUnsigned(len(image))))
    assert client.action(_method(18, transfer, 1), initiate) is ActionResult.SUCCESS
    for number in range(0, len(image), IMAGE_BLOCK_SIZE):
        block = Structure(
            (
                DoubleLongUnsigned(number // IMAGE_BLOCK_SIZE),
                OctetString(bytes(image[number : number + IMAGE_BLOCK_SIZE])),
            )
        )
        assert client.action(_method(18, transfer, 2), block) is ActionResult.SUCCESS
    verified = client.action(_method(18, transfer, 3), Integer(0))
    version = client.get(_attribute(1, "1.0.0.2.0.255", 2))
    if corrupt:
        assert verified is not ActionResult.SUCCESS
        assert client.get(_attribute(18, transfer, 6)) == 4  # verification failed
        assert client.action(_method(18, transfer, 4), Integer(0)) is not ActionResult.SUCCESS
        assert version == b"SIM-1.0.0"
        return
    assert verified is ActionResult.SUCCESS
    assert client.action(_method(18, transfer, 4), Integer(0)) is ActionResult.SUCCESS
    assert client.get(_attribute(18, transfer, 6)) == 6  # activation successful
    assert client.get(_attribute(1, "1.0.0.2.0.255", 2)) == identifier
    events = client.get(_attribute(7, "0.0.99.98.3.255", 2))
    assert isinstance(events, tuple)
    assert [row[1] for row in events] == [157]  # type: ignore[index]


def test_reader_cannot_upgrade_firmware() -> None:
    fleet = _fleet()
    reader = Client(
        fleet.meter(0).open_session(0x20), _ciphered(MechanismName.LOW, password=DEFAULT_LLS_SECRET)
    )
    reader.associate()
    initiate = Structure((OctetString(b"X"), DoubleLongUnsigned(10)))
    with pytest.raises(LocalProtocolError):  # the reader's conformance has no ACTION
        reader.action(_method(18, "0.0.44.0.0.255", 1), initiate)


def test_billing_profile_adds_up_and_meets_the_daily_readings() -> None:
    fleet = _fleet()
    client = _settings_client(fleet)
    rows = client.get(_attribute(7, "1.0.98.1.0.255", 2))
    assert isinstance(rows, tuple) and 6 <= len(rows) <= 12
    ident = fleet.identity(0)
    for row in rows:
        assert isinstance(row, Structure) and isinstance(row[0], bytes)
        billed = DateTime.from_bytes(row[0]).to_datetime(sign=DeviationSign.BLUE_BOOK)
        local = billed.astimezone(IST)
        assert (local.day, local.hour, local.minute) == (1, 0, 0)
        values = [v for v in row[2:16] if isinstance(v, int)]
        assert len(values) == 14
        assert values[0] == sum(values[1:7])  # kWh: TZ1..6 add up to the total
        assert values[7] == sum(values[8:14])  # kVAh likewise
        utc = billed.astimezone(dt.UTC)
        daily = {
            (str(r.obis), r.start): r.value
            for r in meter_truth(ident, fleet.plan, utc, utc + dt.timedelta(minutes=1))
            if r.quality == "daily"
        }
        assert daily[("1.0.1.8.0.255", utc)] == values[0]
        md_time = DateTime.from_bytes(row[17]).to_datetime(sign=DeviationSign.BLUE_BOOK)  # type: ignore[arg-type]
        assert md_time < billed
        assert md_time >= billed - dt.timedelta(days=31)


def test_tamper_and_voltage_events_fill_the_logs_and_the_esw() -> None:
    plan = FaultPlan.from_mapping(
        {
            "seed": 8,
            "interval": [
                {"kind": "low_voltage", "meters": 1.0, "per_day": 1.0, "length": 4},
                {"kind": "magnet", "meters": 1.0, "per_day": 1.0, "length": 96},
                {"kind": "cover_open", "meters": 1.0, "per_day": 0.5, "length": 1},
            ],
        }
    )
    fleet = Fleet(
        FleetLayout(seed=21, meters=1, three_phase_share=0.0),
        plan=plan,
        clock=lambda: NOW,
        sign=DeviationSign.BLUE_BOOK,
    )
    client = _settings_client(fleet)
    voltage = client.get(_attribute(7, "0.0.99.98.0.255", 2))
    other = client.get(_attribute(7, "0.0.99.98.4.255", 2))
    cover = client.get(_attribute(7, "0.0.99.98.5.255", 2))
    assert isinstance(voltage, tuple) and isinstance(other, tuple) and isinstance(cover, tuple)
    assert {row[1] for row in voltage} == {9, 10}  # type: ignore[index]
    assert {row[1] for row in other} == {201, 202}  # type: ignore[index]
    assert len(voltage) == 50 and len(cover) == 1  # the IS 15959-2 log depths
    for row in voltage:
        assert isinstance(row, Structure)
        volts = row[3]  # captured voltage (1.0.12.7.0.255, centivolts)
        assert isinstance(volts, int)
        if row[1] == 9:
            assert volts < 20_000  # captured during the low voltage
    truth = list(meter_truth(fleet.identity(0), plan, NOW - dt.timedelta(days=1), NOW, daily=False))
    low = [r for r in truth if r.quality == "low_voltage" and str(r.obis) == "1.0.12.27.0.255"]
    assert low and all(isinstance(r.value, float) and r.value < 200 for r in low)
    esw = client.get(_attribute(1, "0.0.94.91.18.255", 2))
    assert isinstance(esw, BitString)
    assert 81 in esw_bits(bytes(esw.value))  # the magnet is on all day


def test_an_evicted_meter_still_refuses_replayed_counters() -> None:
    fleet = Fleet(FleetLayout(seed=21, meters=2), clock=lambda: NOW, max_active=1)

    def reader() -> ClientSettings:
        context = SecurityContext(
            system_title=bytes.fromhex("4D4D4D00000000AA"),
            global_unicast_key=DEFAULT_EK,
            authentication_key=DEFAULT_AK,
            counter_store=MemoryCounterStore(),  # a client that forgot its counters
        )
        return ClientSettings(
            application_context=ApplicationContextName.LN_CIPHERED,
            mechanism=MechanismName.LOW,
            password=DEFAULT_LLS_SECRET,
            security=context,
        )

    first = Client(fleet.meter(0).open_session(0x20), reader())
    assert isinstance(first.associate(), AssociationAccepted)
    fleet.meter(1)
    assert fleet.active == 2  # a meter with an open session is not evicted
    first.session.close()
    fleet.meter(1)  # now meter 0 is evicted: only its counters and settings are kept
    assert fleet.active == 1
    again = Client(fleet.meter(0).open_session(0x20), reader())
    assert not isinstance(again.associate(), AssociationAccepted)


def test_an_evicted_meter_is_freed_at_once() -> None:
    """No reference cycle holds a meter: evicted, it goes without the cycle collector."""
    import gc
    import weakref

    fleet = Fleet(FleetLayout(seed=21, meters=3), clock=lambda: NOW, max_active=1)
    client = _settings_client(fleet)
    client.session.close()
    gone = weakref.ref(fleet.meter(0))
    del client
    enabled = gc.isenabled()
    gc.disable()
    try:
        fleet.meter(1)
        assert fleet.active == 1
        assert gone() is None
    finally:
        if enabled:
            gc.enable()


def test_clock_drift_moves_the_clock_and_every_stamp() -> None:
    plan = FaultPlan.from_mapping(
        {
            "seed": 3,
            "meter": [
                {"kind": "clock_drift", "meters": 1.0, "value": 60.0, "start": "2026-06-01T12:00Z"}
            ],
        }
    )
    fleet = Fleet(
        FleetLayout(seed=21, meters=1), plan=plan, clock=lambda: NOW, sign=DeviationSign.BLUE_BOOK
    )
    client = _settings_client(fleet)
    drift = dt.timedelta(seconds=9 * 60)  # nine days at 60 s a day
    clock = client.get(_attribute(8, "0.0.1.0.0.255", 2))
    assert isinstance(clock, bytes)
    assert DateTime.from_bytes(clock).to_datetime(sign=DeviationSign.BLUE_BOOK) == NOW + drift
    rows = client.get(_attribute(7, "1.0.99.1.0.255", 2))
    assert isinstance(rows, tuple)
    last = rows[-1]
    assert isinstance(last, Structure) and isinstance(last[0], bytes)
    stamp = DateTime.from_bytes(last[0]).to_datetime(sign=DeviationSign.BLUE_BOOK)
    slot = NOW - dt.timedelta(minutes=15)
    assert slot < stamp < slot + drift  # a little less drift at the start of the slot
    faults = injected_faults(fleet.identity(0), plan, NOW - dt.timedelta(days=1), NOW)
    assert [(f.kind.value, f.value) for f in faults] == [("clock_drift", 60.0)]
    # setting the clock (time synchronisation) removes the drift
    synced = DateTime.from_datetime(NOW.astimezone(IST), sign=DeviationSign.BLUE_BOOK)
    client.set(_attribute(8, "0.0.1.0.0.255", 2), OctetString(synced.to_bytes()))
    clock = client.get(_attribute(8, "0.0.1.0.0.255", 2))
    assert isinstance(clock, bytes)
    assert DateTime.from_bytes(clock).to_datetime(sign=DeviationSign.BLUE_BOOK) == NOW


def test_per_meter_keys_from_a_master_key() -> None:
    master = bytes(range(32))
    fleet = Fleet(FleetLayout(seed=21, meters=3), clock=lambda: NOW, key_master=master)
    keys = fleet.keys_of(2)
    assert keys.ek != fleet.keys_of(1).ek and keys.ek != DEFAULT_EK
    plan = fleet.address_plan(4059)
    assert plan[2]["ek"] == keys.ek.hex().upper()
    title = fleet.identity(2).system_title  # what a head-end computes from the master key
    assert keys.ek == hmac.digest(master, b"EK" + title, "sha256")[:16]
    assert keys.ak == hmac.digest(master, b"AK" + title, "sha256")[:16]

    def reader(ek: bytes, ak: bytes) -> ClientSettings:
        context = SecurityContext(
            system_title=bytes.fromhex("4D4D4D00000000BB"),
            global_unicast_key=ek,
            authentication_key=ak,
        )
        return ClientSettings(
            application_context=ApplicationContextName.LN_CIPHERED,
            mechanism=MechanismName.LOW,
            password=DEFAULT_LLS_SECRET,
            security=context,
        )

    good = Client(fleet.meter(2).open_session(0x20), reader(keys.ek, keys.ak))
    assert isinstance(good.associate(), AssociationAccepted)
    shared = Client(fleet.meter(2).open_session(0x20), reader(DEFAULT_EK, DEFAULT_AK))
    assert isinstance(shared.associate(), AssociationRejected)


def test_tamper_count_counts_the_tamper_occurrences_of_the_fault_plan() -> None:
    plan = FaultPlan.from_mapping(
        {
            "seed": 3,
            "interval": [
                {"kind": "magnet", "meters": 1.0, "per_day": 0.5, "length": 2},
                {"kind": "cover_open", "meters": 1.0, "per_day": 0.1, "length": 1},
                {"kind": "reverse", "meters": 1.0, "per_day": 0.2, "length": 3},
                {"kind": "low_voltage", "meters": 1.0, "per_day": 1.0, "length": 2},
            ],
        }
    )
    fleet = Fleet(
        FleetLayout(seed=21, meters=1), plan=plan, clock=lambda: NOW, sign=DeviationSign.BLUE_BOOK
    )
    client = _settings_client(fleet)
    count = client.get(_attribute(1, "0.0.94.91.0.255", 2))
    faults = injected_faults(
        fleet.identity(0), plan, dt.datetime(2020, 1, 1, tzinfo=dt.UTC), NOW + INTERVAL_15
    )
    tamper = [f for f in faults if f.kind.value in ("magnet", "cover_open", "reverse")]
    assert tamper and len(tamper) < len(faults)  # low voltage is not a tamper
    assert count == len(tamper)
    # each event row captures the count at its time: every magnet occurrence adds one
    other = client.get(_attribute(7, "0.0.99.98.4.255", 2))
    assert isinstance(other, tuple) and other
    captured = [(row[1], row[-1]) for row in other]  # type: ignore[index]
    assert all(isinstance(c, int) and 0 < c <= count for _code, c in captured)
    magnets = [t for code, t in captured if code == 201 and isinstance(t, int)]
    assert len(magnets) >= 2 and magnets == sorted(set(magnets))
    clean = Fleet(FleetLayout(seed=21, meters=1), clock=lambda: NOW)
    assert _settings_client(clean).get(_attribute(1, "0.0.94.91.0.255", 2)) == 0


def test_over_current_is_measured_logged_and_flagged() -> None:
    plan = FaultPlan.from_mapping(
        {
            "seed": 4,
            "interval": [{"kind": "over_current", "meters": 1.0, "per_day": 1.0, "length": 96}],
        }
    )
    fleet = Fleet(
        FleetLayout(seed=21, meters=1, three_phase_share=0.0),
        plan=plan,
        clock=lambda: NOW,
        sign=DeviationSign.BLUE_BOOK,
    )
    client = _settings_client(fleet)
    current_log = client.get(_attribute(7, "0.0.99.98.1.255", 2))
    assert isinstance(current_log, tuple) and current_log
    assert {row[1] for row in current_log} <= {67, 68}  # type: ignore[index]
    assert 67 in {row[1] for row in current_log}  # type: ignore[index]
    esw = client.get(_attribute(1, "0.0.94.91.18.255", 2))
    assert isinstance(esw, BitString) and 11 in esw_bits(bytes(esw.value))  # over current
    amps = client.get(_attribute(3, "1.0.11.7.0.255", 2))
    assert isinstance(amps, int) and amps > 60_000  # mA, above the 60 A rating
    day = (NOW - dt.timedelta(days=1), NOW)
    truth = list(meter_truth(fleet.identity(0), plan, *day, daily=False))
    currents = [r for r in truth if str(r.obis) == "1.0.11.27.0.255"]
    over = [r for r in currents if r.quality == "over_current"]
    assert over and all(isinstance(r.value, float) and r.value > 60 for r in over)
    # the energy the over current took is in the cumulative register
    point = fleet.meter(0).state.point
    first = interval_index(day[0])
    energy = sum(point.interval(i).measured.import_wh for i in range(first, first + 96))
    assert point.cumulative(first + 96)[0] - point.cumulative(first)[0] == energy
    assert energy > sum(point.model.interval(i).import_wh for i in range(first, first + 96))


class _WrongTagGmac(HlsGmac):
    """HLS-GMAC whose pass 3 answer carries a tag with one bit flipped."""

    def client_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes:
        answer = bytearray(super().client_response(ctx, stoc=stoc, ctos=ctos))
        answer[-1] ^= 1
        return bytes(answer)


@pytest.mark.parametrize("sap", [0x30, 0x50])
def test_hls_gmac_checks_pass_3_and_keeps_working_across_sessions(sap: int) -> None:
    fleet = Fleet(
        FleetLayout(seed=21, meters=1),
        keys=MeterKeys(hls_mechanism=MechanismName.HIGH_GMAC),
        clock=lambda: NOW,
        sign=DeviationSign.BLUE_BOOK,
    )
    for _ in range(2):  # a second association takes fresh counters on both sides
        good = Client(
            fleet.meter(0).open_session(sap), _ciphered(MechanismName.HIGH_GMAC, hls=HlsGmac())
        )
        assert isinstance(good.associate(), AssociationAccepted)
        assert isinstance(good.get(_attribute(8, "0.0.1.0.0.255", 2)), bytes)
        good.session.close()
    bad = Client(
        fleet.meter(0).open_session(sap), _ciphered(MechanismName.HIGH_GMAC, hls=_WrongTagGmac())
    )
    refused = bad.associate()
    assert isinstance(refused, AuthenticationFailed), refused
    assert refused.reason.startswith("pass 3 refused")  # the meter checked f(StoC)
    assert not bad.session.associated
