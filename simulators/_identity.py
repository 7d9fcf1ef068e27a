"""Who a simulated meter is: serial, system title, address, model, clusters and keys.

Everything is derived from (fleet seed, meter number), so an idle meter of a fleet is
nothing but its number. Defaults are the Green Book test keys and the server system
title ``4D4D4D0000BC614E`` (meter number n gets ``...BC614E + n``).
"""

from __future__ import annotations

import enum
import functools
import ipaddress
import socket
from typing import Final

import attrs
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.hmac import HMAC

from dlmskit.apdu import MechanismName
from simulators._faults import ClusterKind
from simulators._load import ConsumerKind, LoadModel, mix

__all__ = [
    "DEFAULT_AK",
    "DEFAULT_EK",
    "DEFAULT_HLS_SECRET",
    "DEFAULT_LLS_SECRET",
    "DEFAULT_SYSTEM_TITLE",
    "FIRST_ADDRESS",
    "FleetLayout",
    "MeterIdentity",
    "MeterKeys",
    "MeterModel",
]

#: Green Book test global unicast encryption key 000102...0F.
DEFAULT_EK: Final = bytes(range(16))
#: Green Book test authentication key D0D1...DF.
DEFAULT_AK: Final = bytes(range(0xD0, 0xE0))
#: The server system title of the Green Book examples (serial 12345678 = 0xBC614E).
DEFAULT_SYSTEM_TITLE: Final = bytes.fromhex("4D4D4D0000BC614E")
#: Meter reader (LLS) secret, the usual IS 15959 default.
DEFAULT_LLS_SECRET: Final = b"12345678"
#: Utility settings / firmware HLS secret (mechanism 2, AES-128 key): ASCII 16 bytes.
DEFAULT_HLS_SECRET: Final = b"ABCDEFGHIJKLMNOP"
#: Fleet meter n listens on this loopback address + n.
FIRST_ADDRESS: Final = ipaddress.IPv4Address("127.1.0.0")
_NETWORKS: Final = ("4G-A", "4G-B", "NB-IoT", "RF-mesh")


class MeterModel(enum.IntEnum):
    """The simulated meter models (IS 15959-2 variants)."""

    SINGLE_PHASE = 1
    THREE_PHASE = 3


@attrs.frozen(kw_only=True)
class MeterKeys:
    """Keys and secrets of a meter: global keys (suite 0), LLS and HLS secrets, and the
    HLS mechanism of the utility settings and firmware associations (2, IS 15959; or 5
    GMAC)."""

    ek: bytes = attrs.field(default=DEFAULT_EK, repr=False)
    ak: bytes = attrs.field(default=DEFAULT_AK, repr=False)
    lls_secret: bytes = attrs.field(default=DEFAULT_LLS_SECRET, repr=False)
    hls_secret: bytes = attrs.field(default=DEFAULT_HLS_SECRET, repr=False)
    hls_mechanism: MechanismName = attrs.field(default=MechanismName.HIGH, converter=MechanismName)

    def __attrs_post_init__(self) -> None:
        if len(self.ek) != 16 or len(self.ak) != 16:
            raise ValueError("suite 0 keys are 16 bytes")
        if self.hls_mechanism not in (MechanismName.HIGH, MechanismName.HIGH_GMAC):
            raise ValueError("the simulator offers HLS mechanism 2 or 5")

    def derived(self, master: bytes, system_title: bytes) -> MeterKeys:
        """Per-meter global keys derived from ``master`` and the meter's system title
        (HMAC-SHA-256, first 16 bytes), so a fleet's meters do not share keys and a
        head-end can compute each one."""
        return attrs.evolve(
            self, ek=_prf(master, b"EK" + system_title), ak=_prf(master, b"AK" + system_title)
        )

    def wrong(self) -> MeterKeys:
        """The same keys with the last byte of each flipped (the wrong-keys fault)."""

        def flip(key: bytes) -> bytes:
            return key[:-1] + bytes((key[-1] ^ 0x5A,))

        return attrs.evolve(self, ek=flip(self.ek), ak=flip(self.ak))


def _prf(master: bytes, label: bytes) -> bytes:
    """The first 16 bytes of HMAC-SHA-256(master, label) (``cryptography``)."""
    mac = HMAC(master, hashes.SHA256())
    mac.update(label)
    return mac.finalize()[:16]


@attrs.frozen(kw_only=True)
class MeterIdentity:
    """One meter: number, seed, serial, system title, address, model and clusters."""

    number: int
    seed: int
    serial: int
    system_title: bytes
    host: str
    model: MeterModel
    kind: ConsumerKind
    net_metered: bool
    cell: int
    feeder: int
    network: int

    @property
    def network_name(self) -> str:
        return _NETWORKS[self.network % len(_NETWORKS)]

    @property
    def clusters(self) -> dict[ClusterKind, int]:
        return {
            ClusterKind.CELL: self.cell,
            ClusterKind.FEEDER: self.feeder,
            ClusterKind.MODEL: int(self.model),
            ClusterKind.NETWORK: self.network,
        }

    @property
    def name(self) -> str:
        """The meter's name in the ground truth and the address plan."""
        return f"SIM{self.serial:08d}"

    def load_model(self) -> LoadModel:
        return LoadModel.from_seed(
            self.seed,
            kind=self.kind,
            net_metered=self.net_metered,
            phases=int(self.model),
        )


@attrs.frozen(kw_only=True)
class FleetLayout:
    """How meter numbers map to identities: seed, size, cells and feeders.

    ``first_host`` is the loopback address of meter 0; meter n is that address + n.
    ``system_title`` is meter 0's; meter n adds n to its last four bytes.
    """

    seed: int = 0
    meters: int = 1
    cells: int = 50
    feeders_per_cell: int = 8
    first_host: str = str(FIRST_ADDRESS)
    system_title: bytes = DEFAULT_SYSTEM_TITLE
    three_phase_share: float = 0.15

    def __attrs_post_init__(self) -> None:
        if self.meters < 1:
            raise ValueError("a fleet has at least one meter")
        last = ipaddress.IPv4Address(self.first_host) + (self.meters - 1)
        if not last.is_loopback and self.meters > 1:
            raise ValueError(f"meter addresses leave the loopback range at {last}")

    def identity(self, number: int) -> MeterIdentity:
        """Meter ``number`` (0-based)."""
        if not 0 <= number < self.meters:
            raise IndexError(f"meter {number} outside 0..{self.meters - 1}")
        seed = mix(self.seed, 0x5EED, number)
        h = mix(seed, 0x1D)
        three = (h % 1000) < round(self.three_phase_share * 1000)
        cell = (h >> 10) % self.cells
        feeder = cell * self.feeders_per_cell + (h >> 20) % self.feeders_per_cell
        title = int.from_bytes(self.system_title[4:], "big") + number
        model = LoadModel.from_seed(seed)
        return MeterIdentity(
            number=number,
            seed=seed,
            serial=int.from_bytes(self.system_title[5:], "big") + number,
            system_title=self.system_title[:4] + (title & 0xFFFFFFFF).to_bytes(4, "big"),
            host=socket.inet_ntoa((_ipv4(self.first_host) + number).to_bytes(4, "big")),
            model=MeterModel.THREE_PHASE if three else MeterModel.SINGLE_PHASE,
            kind=ConsumerKind.COMMERCIAL if three else model.kind,
            net_metered=model.solar > 0,
            cell=cell,
            feeder=feeder,
            network=(h >> 30) % len(_NETWORKS),
        )

    def number_of(self, host: str) -> int | None:
        """The meter listening on ``host``, or ``None``."""
        address: int | None
        try:
            # a dotted IPv4 address (what a fleet's listener sees), read in C
            address = int.from_bytes(socket.inet_pton(socket.AF_INET, host), "big")
        except (OSError, ValueError):
            address = _mapped_ipv4(host)
        if address is None:
            return None
        number = address - _ipv4(self.first_host)
        return number if 0 <= number < self.meters else None


@functools.lru_cache(maxsize=64)
def _ipv4(host: str) -> int:
    """The integer value of a dotted IPv4 address (a layout's first host)."""
    return int(ipaddress.IPv4Address(host))


def _mapped_ipv4(host: str) -> int | None:
    """The IPv4 address of ``host`` written any other way (an IPv4-mapped IPv6 address),
    as an integer, or ``None``."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address):
        mapped = address.ipv4_mapped
        if mapped is None:
            return None
        address = mapped
    return int(address)
