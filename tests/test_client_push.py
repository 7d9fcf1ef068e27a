"""Pushes into ``dlmskit.listen`` over real TCP and UDP sockets: deciphered, verified,
replay-checked and tied to the meter by its system title."""

from __future__ import annotations

import attrs
import pytest
import trio
from cryptography.hazmat.primitives.asymmetric import ec
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import (
    CosemAttributeDescriptor,
    DataNotification,
    EventNotificationRequest,
    GeneralGloCiphering,
    LongInvokeIdAndPriority,
    decode_apdu,
)
from dlmskit.axdr import DateTime, DoubleLongUnsigned, OctetString, Structure, VisibleString
from dlmskit.client import GREEN_BOOK_AK, GREEN_BOOK_EK, MeterKeys, Push, PushListener, listen
from dlmskit.errors import DecodeError
from dlmskit.security import CipheringForm, SecurityContext, sign_general
from transports import LinkAddress, open_tcp_wrapper, open_udp_endpoint

METER_A = bytes.fromhex("4D4D4D0000BC614E")
METER_B = bytes.fromhex("4D4D4D0000BC614F")
KEYS = {
    METER_A: MeterKeys(name="A", encryption_key=GREEN_BOOK_EK, authentication_key=GREEN_BOOK_AK),
    METER_B: MeterKeys(
        name="B", encryption_key=bytes(range(16, 32)), authentication_key=GREEN_BOOK_AK
    ),
}


def notification(serial: str, energy: int) -> bytes:
    return DataNotification(
        long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=1),
        notification_body=Structure(
            (
                OctetString(b"\x00\x00\x60\x01\x00\xff"),
                VisibleString(serial),
                DoubleLongUnsigned(energy),
            )
        ),
    ).to_bytes()


def meter_context(title: bytes, ek: bytes = GREEN_BOOK_EK) -> SecurityContext:
    return SecurityContext(
        system_title=title, global_unicast_key=ek, authentication_key=GREEN_BOOK_AK
    )


def body(push: Push) -> Structure:
    assert isinstance(push.notification, DataNotification)
    value = push.notification.notification_body
    assert isinstance(value, Structure)
    return value


def ciphered(context: SecurityContext, apdu: bytes) -> bytes:
    return context.protect(apdu, form=CipheringForm.GENERAL_GLO)


async def next_push(listener: PushListener) -> Push:
    with trio.fail_after(5):
        return await listener.receive()


async def test_tcp_pushes_are_deciphered_and_tied_to_the_meter() -> None:
    a = meter_context(METER_A)
    b = meter_context(METER_B, bytes(range(16, 32)))
    async with listen(KEYS, host="127.0.0.1", tcp_port=0, udp_port=None) as pushes:
        assert pushes.tcp_port
        link = await open_tcp_wrapper(
            "127.0.0.1", pushes.tcp_port, client_wport=1, server_wport=0x40
        )
        await link.send_apdu(ciphered(a, notification("A1", 100)))
        await link.send_apdu(ciphered(b, notification("B1", 200)))
        first, second = await next_push(pushes), await next_push(pushes)
        await link.aclose()
    assert (first.meter, first.system_title, first.transport) == ("A", METER_A, "tcp")
    assert body(first)[1] == "A1"
    assert first.invocation_counter == 0 and first.ciphered
    assert (second.meter, body(second)[2]) == ("B", 200)


async def test_udp_replay_wrong_key_and_unknown_meter_are_rejected() -> None:
    a = meter_context(METER_A)
    async with listen(KEYS, host="127.0.0.1", tcp_port=None, udp_port=0) as pushes:
        assert pushes.udp_port
        async with open_udp_endpoint("127.0.0.1", 0) as udp:
            peer = udp.peer("127.0.0.1", pushes.udp_port, local_wport=1, remote_wport=0x40)
            good = ciphered(a, notification("A1", 1))
            await peer.send_apdu(good)
            push = await next_push(pushes)
            assert push.transport == "udp" and push.meter == "A"
            await peer.send_apdu(good)  # replayed
            wrong = meter_context(METER_A, bytes(16))
            wrong_counter_skip = [ciphered(wrong, notification("X", 0)) for _ in range(3)][-1]
            await peer.send_apdu(wrong_counter_skip)  # counter 2, wrong key
            stranger = meter_context(bytes.fromhex("4D4D4D00000000FF"))
            await peer.send_apdu(ciphered(stranger, notification("S", 0)))
            await peer.send_apdu(notification("plain", 0))
            await peer.send_apdu(b"\xc0\x01\x00")
            later = ciphered(a, notification("A2", 2))
            await peer.send_apdu(later)
            push = await next_push(pushes)
    assert body(push)[1] == "A2"
    reasons = [r.reason for r in pushes.rejected]
    assert len(reasons) == 5, reasons
    assert "already used" in reasons[0]
    assert reasons[1].startswith("authentication tag mismatch")
    assert reasons[2] == "unknown system title 4D4D4D00000000FF"
    assert reasons[3] == "unciphered push refused"
    assert reasons[4] == "not a push: 0xC0"
    assert pushes.last_counter(METER_A) == 1


async def test_plain_pushes_when_allowed() -> None:
    event = EventNotificationRequest(
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=1, instance_id="0.0.96.11.0.255", attribute_id=2
        ),
        value=DoubleLongUnsigned(101),
    ).to_bytes()
    async with listen(host="127.0.0.1", tcp_port=0, udp_port=None, allow_plain=True) as pushes:
        assert pushes.tcp_port
        link = await open_tcp_wrapper(
            "127.0.0.1", pushes.tcp_port, client_wport=1, server_wport=0x40
        )
        await link.send_apdu(notification("P", 7))
        await link.send_apdu(event)
        first, second = await next_push(pushes), await next_push(pushes)
        await link.aclose()
    assert first.system_title is None and not first.ciphered and first.meter == ""
    assert isinstance(second.notification, EventNotificationRequest)
    assert second.raw == event


def event(value: int) -> bytes:
    return EventNotificationRequest(
        attribute_descriptor=CosemAttributeDescriptor(
            class_id=1, instance_id="0.0.96.11.0.255", attribute_id=2
        ),
        value=DoubleLongUnsigned(value),
    ).to_bytes()


def event_value(push: Push) -> object:
    assert isinstance(push.notification, EventNotificationRequest)
    return push.notification.value


async def test_service_specific_pushes_are_tied_to_the_meter_of_their_connection() -> None:
    """glo-event-notification (0xCA) names no sender: the connection's earlier general-glo
    push does, and a connection nothing has bound is refused."""
    a = meter_context(METER_A)
    async with listen(KEYS, host="127.0.0.1", tcp_port=0, udp_port=None) as pushes:
        assert pushes.tcp_port
        unbound = await open_tcp_wrapper(
            "127.0.0.1", pushes.tcp_port, client_wport=1, server_wport=0x40
        )
        glo_event = a.protect(event(7))  # service-specific: tag 0xCA, no system title
        assert glo_event[0] == 0xCA
        await unbound.send_apdu(glo_event)
        link = await open_tcp_wrapper(
            "127.0.0.1", pushes.tcp_port, client_wport=1, server_wport=0x40
        )
        await link.send_apdu(ciphered(a, notification("A1", 1)))
        await link.send_apdu(a.protect(event(8)))
        first, second = await next_push(pushes), await next_push(pushes)
        await link.aclose()
        await unbound.aclose()
    assert (second.meter, second.system_title, event_value(second)) == ("A", METER_A, 8)
    assert second.invocation_counter == 2 and first.invocation_counter == 1
    (rejected,) = pushes.rejected
    assert rejected.reason == "the push names no sender and its link is bound to no meter"


async def test_peers_map_addresses_and_wports_to_meters() -> None:
    b = meter_context(METER_B, bytes(range(16, 32)))
    a = meter_context(METER_A)
    async with listen(
        KEYS, host="127.0.0.1", tcp_port=None, udp_port=0, peers={"127.0.0.1": METER_B}
    ) as pushes:
        assert pushes.udp_port
        async with open_udp_endpoint("127.0.0.1", 0) as udp:
            peer = udp.peer("127.0.0.1", pushes.udp_port, local_wport=1, remote_wport=0x40)
            await peer.send_apdu(b.protect(event(20)))
            by_host = await next_push(pushes)
    async with listen(
        KEYS, host="127.0.0.1", tcp_port=0, udp_port=None, peers={0x11: METER_A}
    ) as pushes:
        assert pushes.tcp_port
        links = [
            await open_tcp_wrapper(
                "127.0.0.1", pushes.tcp_port, client_wport=wport, server_wport=0x40
            )
            for wport in (0x12, 0x11)
        ]
        for link in links:
            await link.send_apdu(a.protect(event(10)))
        by_wport = await next_push(pushes)
        with trio.fail_after(5):
            while not pushes.rejected_count:
                await trio.sleep(0.01)
        for link in links:
            await link.aclose()
    assert (by_host.meter, by_host.transport, event_value(by_host)) == ("B", "udp", 20)
    assert (by_wport.meter, by_wport.transport, event_value(by_wport)) == ("A", "tcp", 10)
    assert by_wport.peer.sap == 0x11
    (rejected,) = pushes.rejected  # wPort 0x12 is nobody's
    assert rejected.peer.sap == 0x12


async def test_a_udp_peer_is_bound_by_a_push_that_named_its_meter() -> None:
    a = meter_context(METER_A)
    general = ciphered(a, notification("A1", 1))
    # a general-glo push without its system title (the IV still uses it)
    envelope = GeneralGloCiphering.from_bytes(ciphered(a, notification("A2", 2)))
    untitled = attrs.evolve(envelope, system_title=b"").to_bytes()
    async with listen(KEYS, host="127.0.0.1", tcp_port=None, udp_port=0) as pushes:
        assert pushes.udp_port
        async with open_udp_endpoint("127.0.0.1", 0) as udp:
            peer = udp.peer("127.0.0.1", pushes.udp_port, local_wport=1, remote_wport=0x40)
            await peer.send_apdu(general)
            await peer.send_apdu(untitled)
            await peer.send_apdu(a.protect(event(3)))
            pushes_seen = [await next_push(pushes) for _ in range(3)]
    assert [p.meter for p in pushes_seen] == ["A", "A", "A"]
    assert body(pushes_seen[1])[1] == "A2"
    assert [p.invocation_counter for p in pushes_seen] == [0, 1, 2]
    assert pushes.rejected == []


async def test_signed_pushes_are_verified_with_the_meter_public_key() -> None:
    private = ec.generate_private_key(ec.SECP256R1())
    other = ec.generate_private_key(ec.SECP256R1())
    signer = SecurityContext(
        system_title=METER_A,
        global_unicast_key=GREEN_BOOK_EK,
        authentication_key=GREEN_BOOK_AK,
        signing_key=private,
    )
    keys = {METER_A: attrs.evolve(KEYS[METER_A], signing_key=private.public_key())}
    signed = signer.protect_signed(notification("S1", 1), form=CipheringForm.GENERAL_GLO)
    forged_signer = SecurityContext(
        system_title=METER_A,
        global_unicast_key=GREEN_BOOK_EK,
        authentication_key=GREEN_BOOK_AK,
        signing_key=other,
    )
    forged = forged_signer.protect_signed(notification("F", 9), form=CipheringForm.GENERAL_GLO)
    signed_plain = sign_general(
        notification("P", 5),
        private_key=private,
        transaction_id=bytes(8),
        originator_system_title=METER_A,
    ).to_bytes()
    for allow_plain in (False, True):
        async with listen(
            keys, host="127.0.0.1", tcp_port=0, udp_port=None, allow_plain=allow_plain
        ) as pushes:
            assert pushes.tcp_port
            link = await open_tcp_wrapper(
                "127.0.0.1", pushes.tcp_port, client_wport=1, server_wport=0x40
            )
            for apdu in (signed, forged, signed_plain):
                await link.send_apdu(apdu)
            first = await next_push(pushes)
            assert (first.meter, body(first)[1], first.invocation_counter) == ("A", "S1", 0)
            if allow_plain:
                second = await next_push(pushes)
                assert body(second)[1] == "P" and not second.ciphered
            else:
                with trio.move_on_after(0.3):
                    await pushes.receive()
                    raise AssertionError("a signed unciphered push was accepted")
            await link.aclose()
        reasons = [r.reason for r in pushes.rejected]
        assert "did not verify" in reasons[0]
        assert reasons[1:] == ([] if allow_plain else ["signed unciphered push refused"])
    async with listen(KEYS, host="127.0.0.1", tcp_port=0, udp_port=None) as pushes:
        assert pushes.tcp_port
        link = await open_tcp_wrapper(
            "127.0.0.1", pushes.tcp_port, client_wport=1, server_wport=0x40
        )
        await link.send_apdu(signed)
        await link.send_apdu(ciphered(meter_context(METER_A), notification("after", 1)))
        await next_push(pushes)
        await link.aclose()
    assert pushes.rejected[0].reason == "no public key to verify the signed push"


SIGNER = ec.generate_private_key(ec.SECP256R1())
#: The listener's own system title in the garbage tests (general-ciphering names it).
LISTENER_ST = bytes.fromhex("444B540000000009")


def _forms() -> list[bytes]:
    a = SecurityContext(
        system_title=METER_A,
        peer_system_title=LISTENER_ST,
        global_unicast_key=GREEN_BOOK_EK,
        authentication_key=GREEN_BOOK_AK,
        signing_key=SIGNER,
    )
    body = notification("A", 1)
    return [
        ciphered(a, body),
        a.protect(event(1)),
        a.protect_general(body),
        a.protect_signed(body, form=CipheringForm.GENERAL_GLO),
        sign_general(
            body, private_key=SIGNER, transaction_id=bytes(8), originator_system_title=METER_A
        ).to_bytes(),
    ]


FORMS = _forms()
GARBAGE_KEYS = {METER_A: attrs.evolve(KEYS[METER_A], signing_key=SIGNER.public_key())}


@settings(max_examples=150, deadline=None)
@given(
    data=st.one_of(
        st.binary(max_size=80),
        st.sampled_from([0xCA, 0xDB, 0xDC, 0xDD, 0xDF, 0x0F, 0xC2]).flatmap(
            lambda tag: st.binary(max_size=80).map(lambda rest: bytes((tag,)) + rest)
        ),
    )
)
def test_garbage_pushes_are_rejected_never_raised(data: bytes) -> None:
    listener = PushListener(
        GARBAGE_KEYS, system_title=LISTENER_ST, allow_plain=True, buffer=1, peers={"h": METER_A}
    )
    peer = LinkAddress(host="h", port=1)
    push = listener.check(data, peer, "udp")
    assert push is not None or listener.rejected_count == 1


def test_truncated_pushes_of_every_form_are_rejected() -> None:
    whole = PushListener(GARBAGE_KEYS, system_title=LISTENER_ST, allow_plain=True, buffer=8)
    accepted = [whole.check(wire, LinkAddress(host="h"), "tcp", METER_A) for wire in FORMS]
    assert all(push is not None and push.meter == "A" for push in accepted), whole.rejected
    for wire in FORMS:
        for cut in range(len(wire)):
            listener = PushListener(GARBAGE_KEYS, system_title=bytes(8), allow_plain=True, buffer=1)
            peer = LinkAddress(host="h", port=1)
            assert listener.check(wire[:cut], peer, "tcp", METER_A) is None
            assert listener.rejected_count == 1
        flipped = wire[:-1] + bytes((wire[-1] ^ 1,))
        listener = PushListener(GARBAGE_KEYS, system_title=LISTENER_ST, allow_plain=True, buffer=1)
        assert listener.check(flipped, LinkAddress(host="h"), "tcp", METER_A) is None


async def test_errors_in_the_listening_block_come_out_unwrapped() -> None:
    with pytest.raises(KeyError, match="mine"):
        async with listen(KEYS, host="127.0.0.1", tcp_port=0, udp_port=0):
            raise KeyError("mine")


def test_repeated_notification_headers_decode_alike_and_bad_ones_still_fail() -> None:
    """Headers seen before are reused by value: a push with the same long-invoke-id and
    date-time octets decodes equal to the first, and a malformed header (reserved bits,
    a date-time cut short) is refused even after well-formed ones were seen."""
    stamp = DateTime(
        year=2026,
        month=12,
        day=4,
        day_of_week=5,
        hour=6,
        minute=30,
        second=0,
        hundredths=0,
        deviation=330,
        clock_status=0,
    )
    for invoke_id in (1, 2, 1):
        note = DataNotification(
            long_invoke_id_and_priority=LongInvokeIdAndPriority(invoke_id=invoke_id),
            date_time=stamp,
            notification_body=DoubleLongUnsigned(invoke_id),
        )
        first, again = decode_apdu(note.to_bytes()), decode_apdu(note.to_bytes())
        assert first == again == note
    wire = note.to_bytes()
    reserved = wire[:1] + bytes((wire[1] | 0x0F,)) + wire[2:]
    with pytest.raises(DecodeError):
        decode_apdu(reserved)
    for cut in range(1, 19):
        with pytest.raises(DecodeError):
            decode_apdu(wire[:cut])
    # a header without a date-time
    plain = DataNotification(date_time=None, notification_body=DoubleLongUnsigned(7))
    assert decode_apdu(plain.to_bytes()) == plain
