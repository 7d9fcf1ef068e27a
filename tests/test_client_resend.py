"""Requests that time out: a datagram re-sent with a fresh invocation counter, a late
answer discarded by its invoke-id, a re-association after a timeout over a link that
still carries the late answer."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import AsyncIterator

import attrs
import pytest
import trio
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import CosemAttributeDescriptor, GetRequestNormal, decode_apdu
from dlmskit.association import (
    NEED_DATA,
    AssociationState,
    ClientAssociation,
    GetCompleted,
    ServerAssociation,
)
from dlmskit.client import Association, AssociationRefused, LinkSettings, MeterTimeout, connect
from dlmskit.cosem import CosemObjectTree
from dlmskit.errors import DlmsError
from dlmskit.security import SecurityContext
from dlmskit.testing import MeterEndpoint, demo_meter, serve_hdlc, serve_udp, serve_wrapper
from obis import ObisCode
from transports import (
    WrapperStreamTransport,
    open_tcp_wrapper,
    open_udp_endpoint,
    serve_tcp_wrapper,
)

NOW = dt.datetime(2024, 1, 2, 0, 7, 30, tzinfo=dt.UTC)
FAST = LinkSettings(connect_timeout=1.0, response_timeout=0.3, release_timeout=0.3, retries=0)
CLOCK = "0.0.1.0.0.255"
SETTINGS = Association.utility_settings()


@pytest.fixture
def endpoint() -> MeterEndpoint[CosemObjectTree]:
    return demo_meter(now=lambda: NOW)


@pytest.fixture
async def wrapper_url(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> AsyncIterator[str]:
    port = await nursery.start(serve_wrapper, endpoint)
    yield f"tcp://127.0.0.1:{port}"


@pytest.fixture
async def udp_url(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> AsyncIterator[str]:
    port = await nursery.start(serve_udp, endpoint)
    yield f"udp://127.0.0.1:{port}"


def _pump(client: ClientAssociation, server: ServerAssociation) -> object:
    """Carry APDUs both ways until the client has an event."""
    while (event := client.next_event()) is NEED_DATA:
        out = client.data_to_send()
        assert out, "the client waits for nothing"
        for apdu in out:
            server.receive_apdu(apdu)
            while server.next_event() is not NEED_DATA:
                pass
            for answer in server.data_to_send():
                client.receive_apdu(answer)
    return event


def test_a_repeated_request_is_protected_afresh(endpoint: MeterEndpoint[CosemObjectTree]) -> None:
    """Sans-IO: the copy carries the next invocation counter, the server takes it, and the
    answer to the first copy is then discarded rather than taken as out of place."""
    client_context = SETTINGS.security_context()
    assert client_context is not None
    client = ClientAssociation(SETTINGS.client_settings(client_context))
    server = ServerAssociation(endpoint.policies[0x30], endpoint.objects)
    client.associate()
    _pump(client, server)
    assert client.state is AssociationState.ASSOCIATED
    invoke_id = client.get(
        CosemAttributeDescriptor(class_id=8, instance_id=ObisCode.parse(CLOCK), attribute_id=3)
    )
    (first,) = client.data_to_send()
    assert client.repeat_request()
    (second,) = client.data_to_send()
    assert first != second and first[0] == second[0] == 0xC8  # glo-get-request
    assert int.from_bytes(second[3:7]) == int.from_bytes(first[3:7]) + 1
    reader = SecurityContext(
        system_title=bytes(8),
        peer_system_title=SETTINGS.system_title,
        global_unicast_key=SETTINGS.encryption_key,
        authentication_key=SETTINGS.authentication_key,
    )
    plain = [decode_apdu(reader.unprotect(apdu)) for apdu in (first, second)]
    assert plain[0] == plain[1] and isinstance(plain[0], GetRequestNormal)
    answers = []
    for apdu in (first, second):  # the server got both copies and answers both
        server.receive_apdu(apdu)
        while server.next_event() is not NEED_DATA:
            pass
        answers.extend(server.data_to_send())
    assert len(answers) == 2
    client.receive_apdu(answers[0])
    event = client.next_event()
    assert isinstance(event, GetCompleted) and event.invoke_id == invoke_id
    assert event.result == 330
    client.receive_apdu(answers[1])  # the answer to the copy: discarded
    assert client.next_event() is NEED_DATA
    assert client.state is AssociationState.ASSOCIATED


def test_nothing_to_repeat() -> None:
    client = ClientAssociation(Association.public().client_settings(None))
    assert not client.repeat_request()
    assert not client.abandon_request()


async def test_udp_resend_of_a_ciphered_request_is_not_a_replay(
    endpoint: MeterEndpoint[CosemObjectTree], udp_url: str
) -> None:
    seen: list[bytes] = []
    endpoint.on_request = seen.append
    link = attrs.evolve(FAST, retries=2)
    async with connect(udp_url, association=SETTINGS, link=link) as meter:
        endpoint.drop_next = 1
        assert await meter.get(8, CLOCK, 3) == 330
        endpoint.drop_next = 2  # lost twice, answered the third time
        assert await meter.read_clock() == NOW
        endpoint.drop_next = 3
        with pytest.raises(MeterTimeout):
            await meter.get(8, CLOCK, 3)
    requests = seen[1:4]  # the GET and its copy, and the next GET
    assert requests[0] != requests[1]
    assert len({apdu[3:7] for apdu in seen[1:]}) == len(seen) - 1  # counters never repeat


async def test_udp_late_answer_to_a_resent_request_is_discarded(
    endpoint: MeterEndpoint[CosemObjectTree], udp_url: str
) -> None:
    link = attrs.evolve(FAST, retries=1)
    async with connect(udp_url, association=SETTINGS, link=link) as meter:
        endpoint.late_next, endpoint.late_by = 1, 0.45
        assert await meter.get(8, CLOCK, 3) == 330  # the late answer to the first copy
        # the answer to the copy is still on its way: it must not answer this one
        assert await meter.read_clock() == NOW
        assert await meter.get(1, "0.0.96.1.0.255", 2) == endpoint.objects["0.0.96.1.0.255"][2]


@pytest.mark.parametrize("scheme", ["tcp", "hdlc+tcp"])
async def test_after_a_timeout_the_late_answer_is_discarded(
    scheme: str, endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> None:
    serve = serve_wrapper if scheme == "tcp" else serve_hdlc
    port = await nursery.start(serve, endpoint)
    async with connect(f"{scheme}://127.0.0.1:{port}", association=SETTINGS, link=FAST) as meter:
        endpoint.late_next, endpoint.late_by = 1, 0.45
        with pytest.raises(MeterTimeout):
            await meter.read_clock()
        # the association stays; the late clock answer does not answer this request
        assert await meter.get(8, CLOCK, 3) == 330
        endpoint.late_next, endpoint.late_by = 1, 0.45
        with pytest.raises(MeterTimeout):
            await meter.read_clock()
        await meter.reassociate()  # the RLRQ waits behind the late answer
        assert await meter.get(8, CLOCK, 3) == 330
    assert endpoint.sessions == 1


async def test_an_unanswered_release_reopens_the_link(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    async with connect(wrapper_url, association=SETTINGS, link=FAST) as meter:
        endpoint.late_next, endpoint.late_by = 1, 0.45
        await meter.reassociate()  # the RLRE comes late: the link is opened afresh
        assert await meter.read_clock() == NOW
    assert endpoint.sessions == 2


async def test_late_release_on_a_link_the_meter_opened(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> None:
    """A link that cannot be reopened: the late RLRE is skipped while the AARE is awaited."""
    results: list[object] = []
    done = trio.Event()

    async def on_meter(transport: WrapperStreamTransport) -> None:
        async with connect(transport, association=Association.public(), link=FAST) as meter:
            endpoint.late_next, endpoint.late_by = 1, 0.45
            await meter.reassociate()
            results.append(await meter.get(8, CLOCK, 3))
        done.set()

    listeners = await nursery.start(
        functools.partial(
            serve_tcp_wrapper, on_meter, "127.0.0.1", 0, local_wport=0x10, remote_wport=0x01
        )
    )
    port = listeners[0].socket.getsockname()[1]
    meter_side = await open_tcp_wrapper("127.0.0.1", port, client_wport=0x01, server_wport=0x10)
    nursery.start_soon(endpoint.serve, meter_side, 0x10)
    with trio.fail_after(5):
        await done.wait()
    assert results == [330]
    await meter_side.aclose()


async def test_a_cancelled_request_leaves_a_usable_association(
    endpoint: MeterEndpoint[CosemObjectTree], wrapper_url: str
) -> None:
    async with connect(wrapper_url, association=SETTINGS, link=FAST) as meter:
        endpoint.late_next, endpoint.late_by = 1, 0.2
        with trio.move_on_after(0.05):
            await meter.read_clock()
        assert await meter.get(8, CLOCK, 3) == 330


async def test_a_udp_peer_the_caller_opened_is_resent_too(
    endpoint: MeterEndpoint[CosemObjectTree], nursery: trio.Nursery
) -> None:
    port = await nursery.start(serve_udp, endpoint)
    link = attrs.evolve(FAST, retries=1)
    async with open_udp_endpoint("127.0.0.1", 0) as udp:
        peer = udp.peer("127.0.0.1", port, local_wport=0x30, remote_wport=0x01)
        async with connect(peer, association=SETTINGS, link=link) as meter:
            endpoint.drop_next = 1
            assert await meter.get(8, CLOCK, 3) == 330


def test_abandoned_invoke_ids_are_skipped_until_their_answer_comes(
    endpoint: MeterEndpoint[CosemObjectTree],
) -> None:
    public = Association.public()
    client = ClientAssociation(public.client_settings(None))
    server = ServerAssociation(endpoint.policies[0x10], endpoint.objects)
    client.associate()
    _pump(client, server)
    clock = CosemAttributeDescriptor(class_id=8, instance_id=ObisCode.parse(CLOCK), attribute_id=3)
    abandoned = client.get(clock)
    (request,) = client.data_to_send()
    server.receive_apdu(request)
    while server.next_event() is not NEED_DATA:
        pass
    (late,) = server.data_to_send()
    assert client.abandon_request() and not client.abandon_request()
    used = []
    for _ in range(20):
        used.append(client.get(clock))
        event = _pump(client, server)
        assert isinstance(event, GetCompleted) and event.result == 330
    assert abandoned not in used and len(set(used)) == 15
    client.receive_apdu(late)  # the late answer comes: discarded, its invoke-id free again
    assert client.next_event() is NEED_DATA
    again = []
    for _ in range(16):
        again.append(client.get(clock))
        _pump(client, server)
    assert abandoned in again


FATES = st.sampled_from(["answered", "lost-then-repeated", "late-abandoned", "late-repeated"])


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.tuples(FATES, st.booleans()), min_size=1, max_size=24))
def test_lost_late_and_repeated_answers_never_answer_another_request(
    steps: list[tuple[str, bool]],
) -> None:
    """Over an ordered link in a ciphered association: answers lost (then the request is
    repeated), or late (the request abandoned, or repeated and the copy answered first
    or after): every completed GET gets its own attribute's value, and no late answer
    breaks the association."""
    endpoint = demo_meter(now=lambda: NOW)
    reader = Association.meter_reader()
    client = ClientAssociation(reader.client_settings(reader.security_context()))
    server = ServerAssociation(endpoint.policies[0x20], endpoint.objects)
    client.associate()
    _pump(client, server)
    attributes = [
        (
            CosemAttributeDescriptor(class_id=8, instance_id=ObisCode.parse(CLOCK), attribute_id=3),
            330,
        ),
        (
            CosemAttributeDescriptor(
                class_id=1, instance_id=ObisCode.parse("0.0.96.1.0.255"), attribute_id=2
            ),
            endpoint.objects["0.0.96.1.0.255"][2],
        ),
        (
            CosemAttributeDescriptor(class_id=8, instance_id=ObisCode.parse(CLOCK), attribute_id=4),
            endpoint.objects[CLOCK][4],
        ),
    ]
    held: list[bytes] = []

    def serve(apdus: list[bytes]) -> list[bytes]:
        answers: list[bytes] = []
        for apdu in apdus:
            server.receive_apdu(apdu)
            while server.next_event() is not NEED_DATA:
                pass
            answers.extend(server.data_to_send())
        return answers

    def deliver(answers: list[bytes]) -> list[object]:
        events: list[object] = []
        for answer in answers:
            client.receive_apdu(answer)
            while (event := client.next_event()) is not NEED_DATA:
                events.append(event)
        return events

    for number, (fate, held_first) in enumerate(steps):
        descriptor, expected = attributes[number % len(attributes)]
        if held_first:
            assert deliver(held) == []  # late answers: discarded
            held.clear()
        invoke_id = client.get(descriptor)
        first = serve(client.data_to_send())
        if not held_first:
            assert deliver(held) == []
            held.clear()
        if fate == "answered":
            events = deliver(first)
        elif fate == "lost-then-repeated":
            assert client.repeat_request()
            events = deliver(serve(client.data_to_send()))
        elif fate == "late-abandoned":
            assert client.abandon_request()
            held.extend(first)
            continue
        else:  # late, repeated: the first answer still comes first on an ordered link
            assert client.repeat_request()
            held.extend(serve(client.data_to_send()))
            events = deliver(first)
        (event,) = events
        assert isinstance(event, GetCompleted) and event.invoke_id == invoke_id
        assert event.result == expected
        assert client.state is AssociationState.ASSOCIATED
    assert deliver(held) == []
    assert client.state is AssociationState.ASSOCIATED


@pytest.mark.parametrize("lost", ["AARE", "HLS pass 4"])
async def test_udp_association_after_a_lost_answer(
    lost: str, endpoint: MeterEndpoint[CosemObjectTree], udp_url: str
) -> None:
    """The meter associated on the first AARQ (or pass 3) and refuses the repeated one:
    the client associates again from a fresh socket."""
    drop_at = 0 if lost == "AARE" else 1
    requests: list[bytes] = []

    def on_request(apdu: bytes) -> None:
        if len(requests) == drop_at:
            endpoint.drop_next = 1
        requests.append(apdu)

    endpoint.on_request = on_request
    link = attrs.evolve(FAST, connect_timeout=0.3, retries=2)
    async with connect(udp_url, association=SETTINGS, link=link) as meter:
        assert not meter.association_repeated  # the second socket's went through at once
        assert await meter.get(8, CLOCK, 3) == 330
    assert endpoint.sessions == 2
    # AARQ (0x60) or glo-action-request pass 3 (0xCB) sent twice, then a fresh AARQ
    first = [0x60, 0x60, 0x60] if lost == "AARE" else [0x60, 0xCB, 0xCB, 0x60]
    assert [apdu[0] for apdu in requests[: len(first)]] == first
    endpoint.on_request = None
    wrong = Association.utility_settings(hls_secret=b"0123456789ABCDEF", invocation_counter=1000)
    with pytest.raises(DlmsError, match="HLS authentication"):  # not repeated: no retry
        async with connect(udp_url, association=wrong, link=link):
            pass


async def test_udp_errors_come_out_unwrapped(udp_url: str) -> None:
    """Errors cross the UDP endpoint's task nursery as themselves, not exception groups."""
    with pytest.raises(AssociationRefused, match="authentication-failure"):
        async with connect(udp_url, association=Association.meter_reader(password=b"0"), link=FAST):
            pass
    with pytest.raises(KeyError, match="mine"):
        async with connect(udp_url, link=FAST):
            raise KeyError("mine")
