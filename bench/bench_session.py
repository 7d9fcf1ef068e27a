"""Complete in-memory sessions: association, a 96-row profile GET, release.

Both association machines run in this process, joined back to back: the client's AARQ
goes to the server, the AARE back, then GET-Request-Normal for the block-load profile
(one day, 96 rows) through service-specific block transfer (the client accepts 512-byte
APDUs, so the response comes as GET-Response-With-Datablock), then RLRQ/RLRE; and the
same session with every request and response through general block transfer, window 4;
and the same session with short name referencing (Read of the profile's short name, the
response in data-block-results acknowledged by block-number-access).

Compared, in the same run, against the floor: decoding the same 96-row profile encoding
alone, so the ratio is the cost of the protocol around the data (ACSE, xDLMS, blocks,
both machines). gurux-dlms 1.0.203 cannot serve as the peer here: its Python server
fails on the block-transfer GET (``setTransaction`` missing, ``gbtWndowSize`` typo).
"""

from __future__ import annotations

from collections.abc import Callable

from _harness import Measurement, rate
from bench_axdr import profile_rows

from dlmskit.apdu import (
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    MechanismName,
    SelectiveAccess,
)
from dlmskit.association import (
    DEFAULT_CONFORMANCE,
    DEFAULT_SN_CONFORMANCE,
    NEED_DATA,
    AssociationAccepted,
    AssociationPolicy,
    ClientAssociation,
    ClientSettings,
    GetCompleted,
    MemoryObjectTree,
    ReadCompleted,
    RequestContext,
    ServerAssociation,
    ShortNameEntry,
    ShortNameTable,
)
from dlmskit.axdr import Array, Data, decode_from, encode
from dlmskit.security import HlsGmac, MemoryCounterStore, SecurityContext
from obis import ObisCode

PROFILE = CosemAttributeDescriptor(
    class_id=7, instance_id=ObisCode(1, 0, 99, 1, 0, 255), attribute_id=2
)
CLIENT_PDU = 512


def _exchange(client: ClientAssociation, server: ServerAssociation) -> int:
    """The client's queued APDUs to the server and its answers back, until the client has
    nothing more to send; the number of APDUs moved."""
    apdus = 0
    while out := client.data_to_send():
        for apdu in out:
            server.receive_apdu(apdu)
            apdus += 1
        for apdu in server.data_to_send():
            client.receive_apdu(apdu)
            apdus += 1
    return apdus


def _profile_session(
    client: ClientAssociation,
    server: ServerAssociation,
    ask: Callable[[], object],
    mechanism: MechanismName | None = None,
) -> int:
    """Associate, ``ask`` for the 96-row profile, release; the APDUs moved. Checks that
    the association was accepted (with ``mechanism``, when given) and the answer holds
    96 rows."""
    client.associate()
    apdus = _exchange(client, server)
    accepted = client.next_event()
    assert isinstance(accepted, AssociationAccepted), accepted
    assert mechanism is None or accepted.mechanism is mechanism
    ask()
    apdus += _exchange(client, server)
    event = client.next_event()
    assert isinstance(event, GetCompleted | ReadCompleted) and len(event.results[0]) == 96  # type: ignore[arg-type]
    client.release()
    apdus += _exchange(client, server)
    assert client.next_event() is not NEED_DATA
    return apdus


def _sn_session_factory(rows: Array) -> Callable[[], int]:
    """The same session with short name referencing: Read of the buffer's short name."""

    def buffer(ctx: RequestContext, access: SelectiveAccess | None) -> Data:
        return rows

    objects = MemoryObjectTree({(7, PROFILE.instance_id, 2): buffer})
    names = ShortNameTable(
        [ShortNameEntry(base_name=0x6000, class_id=7, logical_name=PROFILE.instance_id)]
    )
    sn = ApplicationContextName.SN
    policy = AssociationPolicy(
        application_context=sn, max_receive_pdu_size=1024, conformance=DEFAULT_SN_CONFORMANCE
    )
    settings = ClientSettings(
        application_context=sn,
        max_receive_pdu_size=CLIENT_PDU,
        conformance=DEFAULT_SN_CONFORMANCE,
    )
    buffer_name = names.attribute_name(7, PROFILE.instance_id, 2)

    def session() -> int:
        client = ClientAssociation(settings)
        server = ServerAssociation(policy, objects, short_names=names)
        return _profile_session(client, server, lambda: client.read([buffer_name]))

    return session


def _session_factory(rows: Array, *, gbt_window: int = 0) -> Callable[[], int]:
    """A session runner; ``gbt_window`` > 0 sends everything through GBT with that window."""

    def buffer(ctx: RequestContext, access: SelectiveAccess | None) -> Data:
        return rows

    objects = MemoryObjectTree({(7, PROFILE.instance_id, 2): buffer})
    conformance = DEFAULT_CONFORMANCE | (Conformance.GENERAL_BLOCK_TRANSFER if gbt_window else 0)
    policy = AssociationPolicy(max_receive_pdu_size=1024, conformance=conformance)
    settings = ClientSettings(
        max_receive_pdu_size=CLIENT_PDU,
        conformance=conformance,
        use_general_block_transfer=bool(gbt_window),
        gbt_window=max(1, gbt_window),
    )

    def session() -> int:
        client = ClientAssociation(settings)
        server = ServerAssociation(policy, objects)
        return _profile_session(client, server, lambda: client.get(PROFILE))

    return session


EK = bytes(range(16))
AK = bytes(range(0xD0, 0xE0))
CLIENT_TITLE = bytes.fromhex("4D4D4D0000000001")
SERVER_TITLE = bytes.fromhex("4D4D4D0000BC614E")


def _gmac_session_factory(rows: Array) -> Callable[[], int]:
    """The same session on an HLS-GMAC association (mechanism 5, suite 0): the AARQ and
    AARE carry glo-ciphered initiate APDUs, pass 3 and 4 are the reply_to_HLS_authentication
    ACTION, every xDLMS APDU is glo-ciphered (authenticated and encrypted), then release.
    Each session makes its security contexts anew; the client's invocation counters
    persist across sessions, as a head-end's do."""

    def buffer(ctx: RequestContext, access: SelectiveAccess | None) -> Data:
        return rows

    objects = MemoryObjectTree({(7, PROFILE.instance_id, 2): buffer})
    counters = MemoryCounterStore()
    ciphered = ApplicationContextName.LN_CIPHERED
    gmac = MechanismName.HIGH_GMAC

    def context(title: bytes, store: MemoryCounterStore) -> SecurityContext:
        return SecurityContext(
            system_title=title, global_unicast_key=EK, authentication_key=AK, counter_store=store
        )

    def session() -> int:
        client = ClientAssociation(
            ClientSettings(
                application_context=ciphered,
                mechanism=gmac,
                hls=HlsGmac(),
                security=context(CLIENT_TITLE, counters),
                max_receive_pdu_size=CLIENT_PDU,
            )
        )
        server = ServerAssociation(
            AssociationPolicy(
                application_context=ciphered,
                mechanism=gmac,
                hls=HlsGmac(),
                security=context(SERVER_TITLE, MemoryCounterStore()),
                max_receive_pdu_size=1024,
            ),
            objects,
        )
        return _profile_session(client, server, lambda: client.get(PROFILE), gmac)

    return session


def run() -> list[Measurement]:
    rows = profile_rows()
    encoding = encode(rows)
    session = _session_factory(rows)
    apdus = session()
    assert apdus > 10, "the profile should need block transfer"
    gbt_session = _session_factory(rows, gbt_window=4)
    gbt_apdus = gbt_session()
    sn_session = _sn_session_factory(rows)
    sn_apdus = sn_session()
    gmac_session = _gmac_session_factory(rows)
    gmac_apdus = gmac_session()

    def floor() -> object:
        return decode_from(encoding, 0)

    floor_rate = rate(floor)
    return [
        Measurement(
            name="in-memory session (AARQ, 96-row profile GET in blocks, RLRQ)",
            unit="sessions/s",
            ours=rate(session),
            peer_name="profile decode alone (floor)",
            peer=floor_rate,
            note=f"{apdus} APDUs per session, client max PDU {CLIENT_PDU}, service block "
            "transfer; ratio < 1 is the protocol overhead around the data",
        ),
        Measurement(
            name="in-memory HLS-GMAC session (ciphered AARQ, pass 3/4, 96-row profile GET in "
            "blocks, release)",
            unit="sessions/s",
            ours=rate(gmac_session),
            peer_name="profile decode alone (floor)",
            peer=floor_rate,
            note=f"{gmac_apdus} APDUs per session, every xDLMS APDU glo-ciphered (suite 0), "
            f"client max PDU {CLIENT_PDU}",
        ),
        Measurement(
            name="in-memory session, general block transfer (window 4)",
            unit="sessions/s",
            ours=rate(gbt_session),
            peer_name="profile decode alone (floor)",
            peer=floor_rate,
            note=f"{gbt_apdus} APDUs per session, client max PDU {CLIENT_PDU}",
        ),
        Measurement(
            name="in-memory SN session (AARQ, 96-row profile Read in data blocks, RLRQ)",
            unit="sessions/s",
            ours=rate(sn_session),
            peer_name="profile decode alone (floor)",
            peer=floor_rate,
            note=f"{sn_apdus} APDUs per session, client max PDU {CLIENT_PDU}, short names",
        ),
    ]
