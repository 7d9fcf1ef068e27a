"""DLMS gateway protocol APDUs: reach a meter behind a data concentrator (DCU / gateway).

A head-end that talks to a DCU addresses each xDLMS APDU to one meter behind it by
wrapping the APDU in a gateway APDU (Green Book, gateway protocol; tags in dlms-facts §1.1)::

    gateway-request   E6 | network-id (1) | address length (A-XDR) | physical-device-address | APDU
    gateway-response  E7 | network-id (1) | address length (A-XDR) | physical-device-address | APDU

* ``network-id`` (Unsigned8) picks one of the DCU's downstream networks (RF mesh, PLC
  segment, ...); 0 when the DCU has one.
* ``physical-device-address`` is the meter's address on that network: the MAC / EUI-64
  (8 bytes) of a mesh node, a PLC short address, a serial number. The DCU keeps the table
  from (network-id, physical-device-address) to the meter's link.
* The APDU is the rest of the gateway APDU (no length of its own): AARQ, get-request,
  ciphered APDUs, general-block-transfer, anything the head-end would send to the meter
  directly. It travels to the meter unchanged; the meter's answer comes back in a
  gateway-response with the same network-id and address, so the head-end can match it.

The head-end still frames the gateway APDU as usual (wrapper on TCP/UDP, wPorts = its
client SAP and the meter's logical device); the DCU relays the wPorts to the meter.
Sans-IO; malformed bytes raise ``DecodeError``.
"""

from __future__ import annotations

from enum import IntEnum

import attrs

from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = [
    "MAX_PHYSICAL_ADDRESS_SIZE",
    "GatewayRequest",
    "GatewayResponse",
    "GatewayTag",
    "decode_gateway_apdu",
    "encode_gateway_apdu",
]

MAX_PHYSICAL_ADDRESS_SIZE = 64
"""Longest physical-device-address accepted (an EUI-64 is 8 bytes, IPv6 16)."""


class GatewayTag(IntEnum):
    """First byte of a gateway APDU (dlms-facts §1.1)."""

    REQUEST = 0xE6
    RESPONSE = 0xE7


def _check_network_id(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 0xFF:
        raise LocalProtocolError(f"{attribute.name} {value} outside 0..255")


def _check_address(_: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
    if not 1 <= len(value) <= MAX_PHYSICAL_ADDRESS_SIZE:
        raise LocalProtocolError(
            f"{attribute.name} of {len(value)} bytes outside 1..{MAX_PHYSICAL_ADDRESS_SIZE}"
        )


def _check_apdu(_: object, attribute: attrs.Attribute[bytes], value: bytes) -> None:
    if not value:
        raise LocalProtocolError(f"{attribute.name} must not be empty")


@attrs.frozen(kw_only=True)
class GatewayRequest:
    """Head-end to DCU: deliver ``apdu`` to the meter at ``physical_device_address``."""

    network_id: int = attrs.field(validator=_check_network_id)
    physical_device_address: bytes = attrs.field(converter=bytes, validator=_check_address)
    apdu: bytes = attrs.field(converter=bytes, validator=_check_apdu)


@attrs.frozen(kw_only=True)
class GatewayResponse:
    """DCU to head-end: ``apdu`` came from the meter at ``physical_device_address``."""

    network_id: int = attrs.field(validator=_check_network_id)
    physical_device_address: bytes = attrs.field(converter=bytes, validator=_check_address)
    apdu: bytes = attrs.field(converter=bytes, validator=_check_apdu)


def _encode_length(n: int) -> bytes:
    if n < 0x80:
        return bytes((n,))
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes((0x80 | len(body),)) + body


def encode_gateway_apdu(pdu: GatewayRequest | GatewayResponse) -> bytes:
    """Encode a gateway request (0xE6) or response (0xE7)."""
    tag = GatewayTag.REQUEST if isinstance(pdu, GatewayRequest) else GatewayTag.RESPONSE
    address = pdu.physical_device_address
    return bytes((tag, pdu.network_id)) + _encode_length(len(address)) + address + pdu.apdu


def decode_gateway_apdu(data: bytes) -> GatewayRequest | GatewayResponse:
    """Decode a gateway APDU; any malformed input raises ``DecodeError``."""
    if not data:
        raise DecodeError("empty gateway APDU", offset=0, expected="tag 0xE6 or 0xE7")
    if data[0] not in (GatewayTag.REQUEST, GatewayTag.RESPONSE):
        raise DecodeError(
            f"tag 0x{data[0]:02X} is not a gateway APDU", offset=0, expected="0xE6 or 0xE7"
        )
    if len(data) < 3:
        raise DecodeError(
            "gateway APDU truncated", offset=len(data), expected="network-id and address length"
        )
    network_id = data[1]
    pos = 2
    first = data[pos]
    pos += 1
    if first < 0x80:
        length = first
    else:
        count = first & 0x7F
        if count == 0 or count > 2:
            raise DecodeError(
                f"address length of {count} bytes", offset=2, expected="A-XDR length, 1..2 bytes"
            )
        if pos + count > len(data):
            raise DecodeError("address length truncated", offset=len(data), expected="length")
        length = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if not 1 <= length <= MAX_PHYSICAL_ADDRESS_SIZE:
        raise DecodeError(
            f"physical-device-address of {length} bytes",
            offset=2,
            expected=f"1..{MAX_PHYSICAL_ADDRESS_SIZE} bytes",
        )
    if pos + length > len(data):
        raise DecodeError(
            "physical-device-address truncated", offset=len(data), expected=f"{length} bytes"
        )
    address = data[pos : pos + length]
    pos += length
    if pos >= len(data):
        raise DecodeError("gateway APDU without inner APDU", offset=pos, expected="xDLMS APDU")
    cls = GatewayRequest if data[0] == GatewayTag.REQUEST else GatewayResponse
    return cls(network_id=network_id, physical_device_address=address, apdu=data[pos:])
