"""Turning descriptions and values into text for people: rich trees and short strings."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Mapping
from typing import Any

from rich.tree import Tree

import obis
from dlmskit.axdr import (
    Array,
    BitString,
    Data,
    DateTime,
    OctetString,
    Structure,
)
from dlmskit.cosem import Quantity, ScalerUnit
from dlmskit.errors import DlmsError
from obis import ObisCode

__all__ = ["description_tree", "format_value", "hex_excerpt"]

_FRAME_KINDS = {
    "hdlc": "HDLC frame",
    "wrapper": "wrapper PDU",
    "apdu": "APDU",
    "data": "A-XDR data",
    "raw": "raw octets",
    "frames": "frames",
}


def _control_text(control: int) -> str:
    poll = "/P" if control & 0x10 else ""
    if not control & 1:
        return f"I-frame N(S)={(control >> 1) & 7} N(R)={(control >> 5) & 7}{poll}"
    if control & 3 == 1:
        kind = {0: "RR", 1: "RNR", 2: "REJ", 3: "SREJ"}.get((control >> 2) & 3, "S")
        return f"{kind} N(R)={(control >> 5) & 7}{poll}"
    names = {0x83: "SNRM", 0x43: "DISC", 0x63: "UA", 0x0F: "DM", 0x87: "FRMR", 0x03: "UI"}
    return names.get(control & 0xEF, "U-frame") + poll


def _leaf(node: Mapping[str, Any]) -> str | None:
    """A one-line rendering of a scalar value node, or ``None`` for containers."""
    kind = node.get("$")
    if kind == "ObisCode":
        name = node.get("_name")
        return f"{node['text']}" + (f"  [cyan]{name}[/]" if name else "")
    if "hex" in node and kind not in (None,):
        extra = node.get("_obis") or node.get("_date_time") or node.get("_text")
        text = f"{kind} {node['hex'] or '(empty)'}"
        if "_value" in node:
            text = f"{kind} {node['_value']}"
        return text + (f"  [cyan]{extra}[/]" if extra else "")
    if "value" in node and len([k for k in node if not k.startswith("_")]) <= 3:
        if "name" in node:
            return f"{kind} {node['name']} ({node['value']})"
        names = node.get("_names")
        if names is not None:
            return f"{kind} {node['value']:#x} {'|'.join(names)}"
        return f"{kind} {node['value']}"
    return None


def _add(tree: Tree, label: str, value: Any) -> None:
    if isinstance(value, dict):
        if "kind" in value:
            branch = tree.add(f"{label}: [bold]{_FRAME_KINDS.get(value['kind'], value['kind'])}[/]")
            _fill(branch, value)
            return
        leaf = _leaf(value)
        if leaf is not None:
            tree.add(f"{label}: {leaf}")
            return
        if "_error" in value:
            tree.add(f"{label}: [red]{value['_error']}[/]")
            return
        kind = value.get("$", "")
        meaning = value.get("_meaning")
        head = f"{label}: [bold]{kind}[/]" + (f"  [cyan]{meaning}[/]" if meaning else "")
        if "items" in value:
            branch = tree.add(f"{head} ({len(value['items'])})")
            for index, item in enumerate(value["items"]):
                _add(branch, f"[{index}]", item)
            return
        branch = tree.add(head)
        for key, item in value.items():
            if key != "$" and not key.startswith("_"):
                _add(branch, key, item)
        return
    if isinstance(value, list):
        branch = tree.add(f"{label} ({len(value)})")
        for index, item in enumerate(value):
            _add(branch, f"[{index}]", item)
        return
    tree.add(f"{label}: {value}")


def _fill(tree: Tree, description: Mapping[str, Any]) -> None:
    kind = description.get("kind")
    if kind == "hdlc":
        if description.get("shared_flag"):
            tree.add("opening flag: the closing flag of the frame before")
        for side in ("destination", "source"):
            address = description[side]
            lower = address.get("lower")
            text = f"upper {address['upper']}" + (f", lower {lower}" if lower is not None else "")
            tree.add(f"{side}: {text} ({address['length']} octets)")
        control = int(description["control"])
        tree.add(f"control: 0x{control:02X} {_control_text(control)}")
        if description.get("segmented"):
            tree.add("segmented: more frames follow")
        if "llc" in description:
            tree.add(f"LLC: {description['llc']}")
        if "info" in description:
            _add(tree, "information", description["info"])
        return
    if kind == "wrapper":
        tree.add(f"source wPort: {description['source']}")
        tree.add(f"destination wPort: {description['destination']}")
        _add(tree, "APDU", description["apdu"])
        return
    if kind == "apdu":
        node = description["apdu"]
        branch = tree.add(f"[bold green]{node['$']}[/]")
        for key, item in node.items():
            if key != "$" and not key.startswith("_"):
                _add(branch, key, item)
        if "deciphered" in description:
            _add(tree, "deciphered", description["deciphered"])
        return
    if kind == "data":
        _add(tree, "value", description["value"])
        return
    if kind == "raw":
        tree.add(str(description["hex"]))
        return
    if kind == "frames":
        for index, frame in enumerate(description["frames"]):
            _add(tree, f"[{index}]", frame)
        for apdu in description.get("_reassembled", ()):
            _add(tree, "reassembled", apdu)


def description_tree(description: Mapping[str, Any], length: int) -> Tree:
    """A rich tree of a :func:`~dlmskit.client._translate.describe` output."""
    kind = _FRAME_KINDS.get(str(description.get("kind")), str(description.get("kind")))
    tree = Tree(f"[bold]{kind}[/] ({length} octets)")
    _fill(tree, description)
    return tree


def hex_excerpt(data: bytes, offset: int, width: int = 16) -> str:
    """The octets around ``offset`` with the one at ``offset`` bracketed."""
    start = max(0, offset - width // 2)
    end = min(len(data), offset + width // 2)
    parts = []
    for index in range(start, end):
        text = f"{data[index]:02X}"
        parts.append(f"[{text}]" if index == offset else text)
    if offset >= len(data):
        parts.append("[..]")
    prefix = "... " if start > 0 else ""
    suffix = " ..." if end < len(data) else ""
    return prefix + " ".join(parts) + suffix


def format_value(value: Quantity | _dt.datetime | ScalerUnit | Data) -> str:
    """A short, readable form of a value read from a meter."""
    if isinstance(value, Quantity | ScalerUnit):
        return str(value)
    if isinstance(value, _dt.datetime):
        return value.isoformat()
    if isinstance(value, OctetString):
        raw = bytes(value)
        if len(raw) == 6 and raw[5] == 0xFF:
            code = ObisCode.from_bytes(raw)
            label = obis.describe(code)
            return str(code) + (f" ({label})" if label else "")
        if len(raw) == 12:
            try:
                return str(DateTime.from_bytes(raw))
            except DlmsError:
                pass
        if raw and all(0x20 <= b < 0x7F for b in raw):
            return repr(raw.decode("ascii"))
        return raw.hex().upper() or "(empty)"
    if isinstance(value, Array | Structure):
        inner = ", ".join(format_value(item) for item in value)
        return f"[{inner}]" if isinstance(value, Array) else f"{{{inner}}}"
    if isinstance(value, BitString):
        return str(value)
    if value is None:
        return "null"
    return str(value)
