"""Pushes into ``dlmskit.listen`` over real TCP and UDP sockets: deciphered, verified,
replay-checked and tied to the meter by its system title."""

from __future__ import annotations

import trio

from dlmskit.apdu import (
    CosemAttributeDescriptor,
    DataNotification,
    EventNotificationRequest,
    LongInvokeIdAndPriority,
)
from dlmskit.axdr import DoubleLongUnsigned, OctetString, Structure, VisibleString
from dlmskit.client import GREEN_BOOK_AK, GREEN_BOOK_EK, MeterKeys, Push, PushListener, listen
from dlmskit.security import CipheringForm, SecurityContext
from transports import open_tcp_wrapper, open_udp_endpoint

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
