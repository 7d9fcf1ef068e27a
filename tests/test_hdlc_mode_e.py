"""IEC 62056-21 mode E sign-on and hand-over machines (dlms-facts 4.2)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.errors import DecodeError, LocalProtocolError
from transports import (
    BAUD_RATES,
    ModeEAcknowledged,
    ModeEClient,
    ModeEIdentification,
    ModeEMeter,
    ModeERequest,
    ModeEState,
    baud_character,
)


def even_parity(data: bytes) -> bytes:
    """What a 7E1 line carries when read as 8-bit bytes: bit 7 is the even parity bit."""
    return bytes(b | (0x80 if bin(b).count("1") % 2 else 0) for b in data)


def test_full_sign_on_and_hand_over() -> None:
    client = ModeEClient()
    meter = ModeEMeter(manufacturer="DLK", baud_char="5", identification="SIM-0001")
    request = client.request()
    assert request == b"/?!\r\n"
    assert [client.state] == [ModeEState.WAIT_IDENTIFICATION]
    meter.receive_data(request)
    assert meter.next_event() == ModeERequest(device_address="")
    identification = meter.data_to_send()
    assert identification == b"/DLK5\\2SIM-0001\r\n"
    client.receive_data(identification)
    ident = client.next_event()
    assert ident == ModeEIdentification(
        manufacturer="DLK", baud_char="5", mode_e=True, identification="SIM-0001"
    )
    assert ident.baudrate == 9600
    ack = client.acknowledge()
    assert ack == b"\x06252\r\n"
    assert [client.state] == [ModeEState.HDLC]
    meter.receive_data(ack)
    event = meter.next_event()
    assert event == ModeEAcknowledged(protocol_control="2", baud_char="5", mode_control="2")
    assert event.hdlc and event.baudrate == 9600
    assert meter.state is ModeEState.HDLC


def test_byte_by_byte_with_parity_bits_and_line_noise() -> None:
    client = ModeEClient(device_address="12345678")
    meter = ModeEMeter(manufacturer="ISk", baud_char="6", device_address="12345678")
    assert client.request() == b"/?12345678!\r\n"
    for byte in even_parity(b"\x00\x7f" + client.request()):
        meter.receive_data(bytes((byte,)))
        event = meter.next_event()
    assert event == ModeERequest(device_address="12345678")
    for byte in even_parity(b"noise" + meter.data_to_send()):
        client.receive_data(bytes((byte,)))
        ident = client.next_event()
    assert ident is not None and ident.manufacturer == "ISk" and ident.baudrate == 19200
    meter.receive_data(even_parity(client.acknowledge("4")))
    ack = meter.next_event()
    assert isinstance(ack, ModeEAcknowledged) and ack.baudrate == 4800


def test_meter_ignores_requests_for_another_address() -> None:
    meter = ModeEMeter(manufacturer="DLK", device_address="0001")
    meter.receive_data(b"/?0002!\r\n")
    assert meter.next_event() is None
    assert meter.data_to_send() == b""
    meter.receive_data(b"/?0001!\r\n")
    assert meter.next_event() == ModeERequest(device_address="0001")


def test_identification_parsing() -> None:
    client = ModeEClient()
    client.request()
    client.receive_data(b"/ISk5\\2MT382-1000\r\n")
    ident = client.next_event()
    assert ident is not None
    assert (ident.manufacturer, ident.baud_char, ident.mode_e) == ("ISk", "5", True)
    assert ident.identification == "MT382-1000"
    assert ident.encode() == b"/ISk5\\2MT382-1000\r\n"


def test_meter_without_mode_e_cannot_be_acknowledged() -> None:
    client = ModeEClient()
    client.request()
    client.receive_data(b"/ABC5METER\r\n")
    ident = client.next_event()
    assert ident is not None and not ident.mode_e
    with pytest.raises(LocalProtocolError):
        client.acknowledge()


def test_acknowledge_rules() -> None:
    client = ModeEClient()
    with pytest.raises(LocalProtocolError):
        client.acknowledge()  # nothing received yet
    client.request()
    client.receive_data(b"/DLK3\\2X\r\n")
    assert client.next_event() is not None
    with pytest.raises(LocalProtocolError):
        client.acknowledge("5")  # faster than the meter offers


@pytest.mark.parametrize("line", [b"/DL\r\n", b"/D1K5\\2X\r\n", b"/DLKZ\\2X\r\n"])
def test_bad_identifications(line: bytes) -> None:
    client = ModeEClient()
    client.request()
    client.receive_data(line)
    with pytest.raises(DecodeError):
        client.next_event()


def test_parity_bit_is_not_data() -> None:
    client = ModeEClient()
    client.request()
    client.receive_data(b"/DLK5\\2\xff\r\n")  # 0xFF on a 7-bit line is DEL plus parity
    ident = client.next_event()
    assert ident is not None and ident.identification == "\x7f"


def test_meter_rejects_an_ack_that_does_not_select_hdlc() -> None:
    meter = ModeEMeter(manufacturer="DLK")
    meter.receive_data(b"/?!\r\n")
    meter.next_event()
    meter.receive_data(b"\x06050\r\n")  # mode C data readout
    with pytest.raises(DecodeError):
        meter.next_event()
    assert meter.state is ModeEState.IDLE


def test_baud_characters() -> None:
    assert baud_character(9600) == "5"
    assert baud_character(300) == "0"
    assert BAUD_RATES["6"] == 19200
    with pytest.raises(ValueError):
        baud_character(115200)
    with pytest.raises(ValueError):
        ModeEMeter(manufacturer="TOOLONG")
    with pytest.raises(ValueError):
        ModeEClient(device_address="bad!address")


def test_long_noise_without_line_end_stays_bounded() -> None:
    client = ModeEClient()
    client.request()
    for _ in range(100):
        client.receive_data(b"/" + b"x" * 1000)
        assert client.next_event() is None
    client.receive_data(b"\r\n/DLK5\\2OK\r\n")
    ident = client.next_event()
    assert ident is not None and ident.identification == "OK"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=50), max_size=6))
def test_garbage_into_both_machines(chunks: list[bytes]) -> None:
    client = ModeEClient()
    client.request()
    meter = ModeEMeter(manufacturer="DLK")
    for chunk in chunks:
        for machine in (client, meter):
            machine.receive_data(chunk)
            with contextlib.suppress(DecodeError):
                machine.next_event()
