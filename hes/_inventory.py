"""The meter inventory: who to read, how to reach them, which clusters they share.

Loads from TOML (``[[meter]]`` tables), CSV (one meter a row, the same field names as
columns) or a simulator address plan (``dlmskit-sim fleet --plan`` JSON, or
``Fleet.address_plan``). Keys are referenced by name (``key_ref``); the keys themselves
live in a key store, never in the inventory.
"""

from __future__ import annotations

import csv
import enum
import io
import json
import tomllib
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import attrs

from hes._shards import MeterScope, Shard

__all__ = ["Inventory", "MeterInfo", "Network"]


class Network(enum.StrEnum):
    """How the head-end reaches a meter."""

    GPRS = "gprs"
    """Cellular: the wrapper over TCP, concurrency limited per cell (base station)."""
    WISUN = "wisun"
    """Wi-SUN FAN: the wrapper over UDP through a border router (gateway)."""
    RF_MESH = "rf_mesh"
    """RF mesh behind a data concentrator (DCU)."""


def _bool(value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "y"):
        return True
    if text in ("", "0", "false", "no", "n"):
        return False
    raise ValueError(f"not a boolean: {value!r}")


def _title(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    text = str(value).strip()
    return bytes.fromhex(text) if text else b""


@attrs.frozen(kw_only=True)
class MeterInfo:
    """One meter of the inventory."""

    name: str
    host: str
    port: int = 4059
    network: Network = attrs.field(default=Network.GPRS, converter=Network)
    system_title: bytes = attrs.field(default=b"", converter=_title)
    association: str = "meter-reader"
    key_ref: str = "default"
    model: str = ""
    cell: str = ""
    feeder: str = ""
    operator: str = ""
    """The network operator or technology name (e.g. ``4G-A``), a KPI cluster."""
    gateway: str = ""
    """DCU or border router for mesh and Wi-SUN meters."""
    net_metered: bool = attrs.field(default=False, converter=_bool)
    device_address: bytes = attrs.field(default=b"", converter=_title)
    """Physical device address behind a DCU (e.g. the node's EUI-64)."""
    behind_nat: bool = attrs.field(default=False, converter=_bool)
    """Reached only over links the meter opens (carrier-grade NAT): never dialled; its
    reads wait for its call (:class:`~hes.InboundSessions`)."""

    def __attrs_post_init__(self) -> None:
        if not self.name:
            raise ValueError("a meter needs a name")
        if self.system_title and len(self.system_title) != 8:
            raise ValueError(f"{self.name}: a system title is 8 bytes")
        if not 0 < self.port < 65536:
            raise ValueError(f"{self.name}: port {self.port} out of range")

    @property
    def cluster(self) -> str:
        """The shared resource that limits concurrency: the cell for cellular meters, the
        gateway for Wi-SUN and mesh meters."""
        if self.network is Network.GPRS:
            return f"cell:{self.cell}"
        return f"{self.network.value}:{self.gateway or self.cell}"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MeterInfo:
        known = {f.name for f in attrs.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown inventory fields: {sorted(unknown)}")
        args = {k: v for k, v in data.items() if (v is not None and v != "") or k == "name"}
        if "port" in args:
            args["port"] = int(args["port"])
        for key in ("cell", "feeder", "model", "gateway", "operator"):
            if key in args:
                args[key] = str(args[key])
        return cls(**args)


def _plan_network(entry: Mapping[str, Any]) -> Network:
    name = str(entry.get("network", "")).lower()
    if "mesh" in name:
        return Network.RF_MESH
    if "wisun" in name or "wi-sun" in name:
        return Network.WISUN
    return Network.GPRS


class Inventory:
    """Meters by name, with lookups by system title and cluster."""

    def __init__(self, meters: Iterable[MeterInfo]) -> None:
        self.scope = MeterScope()
        """Which of the fleet's meters these are (:meth:`sharded`, :meth:`only`,
        :meth:`without`); a schedule and a head-end over them take back-reads only of
        these meters' gaps from a store other processes share."""
        self._meters: dict[str, MeterInfo] = {}
        self._titles: dict[bytes, MeterInfo] = {}
        for meter in meters:
            if meter.name in self._meters:
                raise ValueError(f"meter {meter.name} listed twice")
            self._meters[meter.name] = meter
            if meter.system_title:
                if meter.system_title in self._titles:
                    raise ValueError(f"system title {meter.system_title.hex()} listed twice")
                self._titles[meter.system_title] = meter

    def __len__(self) -> int:
        return len(self._meters)

    def __iter__(self) -> Iterator[MeterInfo]:
        return iter(self._meters.values())

    def __getitem__(self, name: str) -> MeterInfo:
        return self._meters[name]

    def __contains__(self, name: object) -> bool:
        return name in self._meters

    def by_system_title(self, title: bytes) -> MeterInfo | None:
        return self._titles.get(bytes(title))

    @property
    def shard(self) -> Shard | None:
        """The shard these meters are (:meth:`sharded`); ``None``: no shard."""
        return self.scope.shard

    def _part(self, scope: MeterScope) -> Inventory:
        part = Inventory(m for m in self if scope.owns(m.name))
        part.scope = scope
        return part

    def sharded(self, shard: Shard) -> Inventory:
        """The meters of ``shard`` (see :func:`~hes.shard_of`)."""
        return self._part(attrs.evolve(self.scope, shard=shard))

    def only(self, names: Iterable[str]) -> Inventory:
        """The meters named in ``names`` (of these)."""
        listed = frozenset(names)
        if self.scope.only is not None:
            listed &= self.scope.only
        return self._part(attrs.evolve(self.scope, only=listed))

    def without(self, names: Iterable[str]) -> Inventory:
        """These meters less those named in ``names``."""
        return self._part(attrs.evolve(self.scope, without=self.scope.without | frozenset(names)))

    def clusters(self) -> dict[str, list[MeterInfo]]:
        out: dict[str, list[MeterInfo]] = {}
        for meter in self:
            out.setdefault(meter.cluster, []).append(meter)
        return out

    # -- loading ------------------------------------------------------------------------

    @classmethod
    def from_toml(cls, text: str) -> Inventory:
        data = tomllib.loads(text)
        defaults = data.get("defaults", {})
        return cls(MeterInfo.from_mapping({**defaults, **m}) for m in data.get("meter", []))

    @classmethod
    def from_csv(cls, text: str) -> Inventory:
        reader = csv.DictReader(io.StringIO(text))
        return cls(MeterInfo.from_mapping(dict(row)) for row in reader)

    @classmethod
    def from_address_plan(
        cls,
        plan: Iterable[Mapping[str, Any]],
        *,
        network: Callable[[Mapping[str, Any]], Network] = _plan_network,
        port: int | None = None,
    ) -> Inventory:
        """From a simulator address plan (``meter, host, port, system_title, model, cell,
        feeder, network, net_metered``, optionally ``transport``, ``gateway``,
        ``device_address`` and ``behind_nat``); without ``transport``, ``network`` picks
        the transport of each entry (by default from the plan's network name: mesh names
        are RF mesh, the rest is cellular)."""
        meters = []
        for entry in plan:
            kind = Network(entry["transport"]) if entry.get("transport") else network(entry)
            gateway = str(entry.get("gateway") or "")
            if not gateway and kind is not Network.GPRS:
                gateway = f"gw{entry.get('cell', '')}"
            meters.append(
                MeterInfo(
                    name=str(entry["meter"]),
                    host=str(entry["host"]),
                    port=int(port if port is not None else entry.get("port", 4059)),
                    network=kind,
                    system_title=str(entry.get("system_title", "")),
                    model=str(entry.get("model", "")),
                    cell=str(entry.get("cell", "")),
                    feeder=str(entry.get("feeder", "")),
                    operator=str(entry.get("network", "")),
                    gateway=gateway,
                    net_metered=bool(entry.get("net_metered", False)),
                    device_address=str(entry.get("device_address", "")),
                    behind_nat=bool(entry.get("behind_nat", False)),
                )
            )
        return cls(meters)

    @classmethod
    def load(cls, path: str | Path) -> Inventory:
        """By suffix: ``.toml``, ``.csv`` or ``.json`` (an address plan)."""
        path = Path(path)
        text = path.read_text(encoding="utf-8")
        suffix = path.suffix.lower()
        if suffix == ".toml":
            return cls.from_toml(text)
        if suffix == ".csv":
            return cls.from_csv(text)
        if suffix == ".json":
            data = json.loads(text)
            if isinstance(data, Mapping):
                data = data.get("meters", [])
            return cls.from_address_plan(data)
        raise ValueError(f"{path}: inventory files are .toml, .csv or .json")
