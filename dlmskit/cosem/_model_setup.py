"""Communication setup objects: SAP assignment (17), IEC HDLC setup (23), TCP-UDP setup
(41), IPv4 setup (42), GPRS modem setup (45) and IPv6 setup (48) (Blue Book 4.4.5,
4.7.x, 4.8.x).

Their attributes are configuration the meter serves and a head-end may write; the
values are stored (typed by the class definitions) and the transports read them.
"""

from __future__ import annotations

import ipaddress

from dlmskit.axdr import (
    Array,
    Data,
    DoubleLongUnsigned,
    Enum,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.cosem._model_base import CosemObject
from obis import ObisLike, as_obis

__all__ = [
    "GprsModemSetup",
    "IecHdlcSetup",
    "Ipv4Setup",
    "Ipv6Setup",
    "SapAssignment",
    "TcpUdpSetup",
]

_NO_REFERENCE = OctetString(bytes(6))


def _reference(value: ObisLike | None) -> OctetString:
    return _NO_REFERENCE if value is None else OctetString(as_obis(value).to_bytes())


def _ipv4(address: str) -> DoubleLongUnsigned:
    return DoubleLongUnsigned(int(ipaddress.IPv4Address(address)))


class SapAssignment(CosemObject):
    """SAP assignment (class 17): which logical device answers at which server SAP."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.41.0.0.255",
        *,
        devices: dict[int, bytes] | None = None,
    ) -> None:
        super().__init__(logical_name, class_id=17, version=0)
        self[2] = Array(
            Structure((LongUnsigned(sap), OctetString(name)))
            for sap, name in sorted((devices or {1: b""}).items())
        )


class IecHdlcSetup(CosemObject):
    """IEC HDLC setup (class 23, version 1): speed, windows, field lengths, timeouts."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.22.0.0.255",
        *,
        comm_speed: int = 5,
        window_size: int = 1,
        max_info_field_length: int = 128,
        inter_octet_time_out: int = 25,
        inactivity_time_out: int = 120,
        device_address: int = 0x10,
    ) -> None:
        super().__init__(logical_name, class_id=23, version=1)
        values: tuple[Data, ...] = (
            Enum(comm_speed),
            Unsigned(window_size),
            Unsigned(window_size),
            LongUnsigned(max_info_field_length),
            LongUnsigned(max_info_field_length),
            LongUnsigned(inter_octet_time_out),
            LongUnsigned(inactivity_time_out),
            LongUnsigned(device_address),
        )
        for index, value in enumerate(values, start=2):
            self[index] = value


class TcpUdpSetup(CosemObject):
    """TCP-UDP setup (class 41): port (4059), IP reference, MSS, connections, timeout."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.25.0.0.255",
        *,
        port: int = 4059,
        ip_reference: ObisLike | None = "0.0.25.1.0.255",
        mss: int = 576,
        nb_of_sim_conn: int = 1,
        inactivity_time_out: int = 180,
    ) -> None:
        super().__init__(logical_name, class_id=41, version=0)
        self[2] = LongUnsigned(port)
        self[3] = _reference(ip_reference)
        self[4] = LongUnsigned(mss)
        self[5] = Unsigned(nb_of_sim_conn)
        self[6] = LongUnsigned(inactivity_time_out)


class Ipv4Setup(CosemObject):
    """IPv4 setup (class 42): addresses as double-long-unsigned, DHCP flag, DNS."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.25.1.0.255",
        *,
        ip_address: str = "0.0.0.0",
        subnet_mask: str = "255.255.255.0",
        gateway: str = "0.0.0.0",
        use_dhcp: bool = True,
        primary_dns: str = "0.0.0.0",
        secondary_dns: str = "0.0.0.0",
        dl_reference: ObisLike | None = "0.0.25.4.0.255",
    ) -> None:
        super().__init__(logical_name, class_id=42, version=0)
        self[2] = _reference(dl_reference)
        self[3] = _ipv4(ip_address)
        self[4] = Array()
        self[5] = Array()
        self[6] = _ipv4(subnet_mask)
        self[7] = _ipv4(gateway)
        self[8] = use_dhcp
        self[9] = _ipv4(primary_dns)
        self[10] = _ipv4(secondary_dns)


class GprsModemSetup(CosemObject):
    """GPRS modem setup (class 45): APN, PIN code, quality of service."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.25.4.0.255",
        *,
        apn: bytes = b"",
        pin_code: int = 0,
    ) -> None:
        super().__init__(logical_name, class_id=45, version=0)
        self[2] = OctetString(apn)
        self[3] = LongUnsigned(pin_code)
        qos = Structure((Unsigned(0), Unsigned(0), Unsigned(0), Unsigned(0), Unsigned(0)))
        self[4] = Structure((qos, qos))


class Ipv6Setup(CosemObject):
    """IPv6 setup (class 48): address configuration, unicast/multicast/gateway addresses."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.25.7.0.255",
        *,
        unicast_addresses: tuple[str, ...] = (),
        gateway_addresses: tuple[str, ...] = (),
        address_config_mode: int = 0,
        dl_reference: ObisLike | None = None,
    ) -> None:
        super().__init__(logical_name, class_id=48, version=0)

        def packed(addresses: tuple[str, ...]) -> Array:
            return Array(OctetString(ipaddress.IPv6Address(a).packed) for a in addresses)

        self[2] = _reference(dl_reference)
        self[3] = Enum(address_config_mode)
        self[4] = packed(unicast_addresses)
        self[5] = Array()
        self[6] = packed(gateway_addresses)
        self[7] = OctetString(bytes(16))
        self[8] = OctetString(bytes(16))
        self[9] = Unsigned(0)
        self[10] = Array()
