"""The translator: bytes <-> a JSON description, for people who live in hex dumps.

:func:`describe` detects what the bytes are (an HDLC frame, a wrapper PDU, an xDLMS
APDU or bare A-XDR data), decodes them all the way down and returns a JSON-able
``dict``; :func:`build` takes such a ``dict`` (edited or not) and gives the bytes back:
``build(describe(x)) == x`` for every canonical encoding. Check sequences and lengths
are recomputed by :func:`build`; keys starting with ``_`` and ``deciphered`` are for
reading only and ignored. A ciphered APDU is rebuilt from its ciphered fields; with
keys, :func:`describe` also opens it (verifying the tag) under ``deciphered``.

Values are tagged: ``{"$": "DoubleLongUnsigned", "value": 7}``,
``{"$": "OctetString", "hex": "0000010000FF"}``, ``{"$": "GetRequestNormal", ...fields}``.
"""

from __future__ import annotations

import enum
import struct
from collections.abc import Callable, Mapping
from typing import Any, Final

import attrs

import obis
from dlmskit import apdu as _apdu
from dlmskit import axdr as _axdr
from dlmskit.apdu import decode_apdu
from dlmskit.errors import DecodeError, DlmsError, SecurityError
from dlmskit.security import SecurityContext
from obis import ObisCode
from transports import (
    HdlcAddress,
    HdlcFrame,
    decode_frame,
    decode_wpdu,
    encode_frame,
    encode_wpdu,
)

__all__ = ["DecipherKeys", "TranslateError", "build", "describe", "from_json", "to_json"]

JsonValue = Any

_LLC_HEADERS: Final = (b"\xe6\xe6\x00", b"\xe6\xe7\x00")
_CIPHERED_TYPES: Final = (
    _apdu.CipheredApdu,
    _apdu.GeneralGloCiphering,
    _apdu.GeneralDedCiphering,
    _apdu.GeneralCiphering,
    _apdu.GeneralSigning,
)


class TranslateError(DlmsError):
    """A description that cannot be turned into bytes (unknown type, bad field)."""


def _registry() -> dict[str, type]:
    found: dict[str, type] = {"ObisCode": ObisCode}
    for module in (_apdu, _axdr):
        for name in module.__all__:
            value = getattr(module, name)
            if isinstance(value, type):
                found[name] = value
    return found


_TYPES: Final = _registry()


# -- values <-> JSON -------------------------------------------------------------------


def to_json(value: object) -> JsonValue:
    """A JSON-able, lossless description of an APDU, a field or an A-XDR value."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, enum.Enum):
        if isinstance(value, enum.Flag):
            names = [m.name for m in type(value) if m.value and m in value and m.name]
            return {"$": type(value).__name__, "value": int(value.value), "_names": names}
        return {"$": type(value).__name__, "name": value.name, "value": value.value}
    if isinstance(value, ObisCode):
        out: dict[str, JsonValue] = {"$": "ObisCode", "text": str(value)}
        label = obis.describe(value)
        if label:
            out["_name"] = label
        return out
    if isinstance(value, int):
        if type(value) is int:
            return value
        return {"$": type(value).__name__, "value": int(value)}
    if isinstance(value, float):
        return _float_json(value)
    if isinstance(value, bytes):
        kind = "bytes" if type(value) is bytes else type(value).__name__
        return {"$": kind, "hex": value.hex().upper(), **_octets_hint(value)}
    if isinstance(value, str):
        if type(value) is str:
            return {"$": "str", "value": value}
        return {"$": type(value).__name__, "value": str(value)}
    if isinstance(value, tuple):
        kind = "tuple" if type(value) is tuple else type(value).__name__
        items = [to_json(item) for item in value]
        out = {"$": kind, "items": items}
        hint = _structure_hint(value)
        if hint:
            out["_meaning"] = hint
        return out
    cls = type(value)
    if attrs.has(cls):
        out = {"$": cls.__name__}
        for field in attrs.fields(cls):
            if field.init:
                out[field.name] = to_json(getattr(value, field.name))
        return out
    raise TranslateError(f"cannot describe a {type(value).__name__}")


def _float_json(value: float) -> JsonValue:
    if isinstance(value, _axdr.Float32):
        raw = _axdr.encode(value)[1:]
        return {"$": "Float32", "hex": raw.hex().upper(), "_value": repr(float(value))}
    if isinstance(value, _axdr.Float64):
        raw = _axdr.encode(value)[1:]
        return {"$": "Float64", "hex": raw.hex().upper(), "_value": repr(float(value))}
    return {"$": "float", "hex": struct.pack(">d", value).hex().upper()}


def _octets_hint(value: bytes) -> dict[str, JsonValue]:
    if len(value) == 6 and value[5] == 0xFF:
        code = ObisCode.from_bytes(value)
        label = obis.describe(code)
        return {"_obis": str(code) + (f" ({label})" if label else "")}
    if len(value) == 12:
        try:
            return {"_date_time": str(_axdr.DateTime.from_bytes(value))}
        except DlmsError:
            return {}
    if value and all(0x20 <= b < 0x7F for b in value):
        return {"_text": value.decode("ascii")}
    return {}


def _structure_hint(value: tuple[object, ...]) -> str:
    from dlmskit.cosem import ScalerUnit

    if isinstance(value, _axdr.Structure) and len(value) == 2:
        scaler, unit = value
        if isinstance(scaler, _axdr.Integer) and isinstance(unit, _axdr.Enum):
            try:
                return f"scaler_unit: {ScalerUnit.from_data(value)}"
            except DlmsError:
                return ""
    return ""


def from_json(node: JsonValue) -> Any:
    """The value :func:`to_json` described (``TranslateError`` when it cannot be built)."""
    try:
        return _from_json(node)
    except TranslateError:
        raise
    except (
        DlmsError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        OverflowError,
        RecursionError,
    ) as exc:
        raise TranslateError(f"cannot build {_label(node)}: {exc}") from None


def _label(node: JsonValue) -> str:
    if isinstance(node, dict):
        return str(node.get("$", "an object without '$'"))
    return type(node).__name__


def _from_json(node: JsonValue) -> Any:
    if node is None or isinstance(node, bool | int):
        return node
    if isinstance(node, list):
        return tuple(_from_json(item) for item in node)
    if not isinstance(node, dict) or "$" not in node:
        raise TranslateError(f"expected a tagged object, got {node!r}"[:200])
    kind = node["$"]
    if kind == "bytes":
        return bytes.fromhex(node["hex"])
    if kind == "str":
        return str(node["value"])
    if kind == "tuple":
        return tuple(_from_json(item) for item in node["items"])
    if kind == "float":
        return struct.unpack(">d", bytes.fromhex(node["hex"]))[0]
    if kind in ("Float32", "Float64"):
        tag = b"\x17" if kind == "Float32" else b"\x18"
        return _axdr.decode(tag + bytes.fromhex(node["hex"]))
    if kind == "ObisCode":
        return ObisCode.parse(node["text"])
    cls = _TYPES.get(kind)
    if cls is None:
        raise TranslateError(f"unknown type {kind!r}")
    if issubclass(cls, enum.Enum):
        return cls(node["value"])
    if issubclass(cls, bytes):
        return cls(bytes.fromhex(node["hex"]))
    if issubclass(cls, str):
        return cls(node["value"])
    if issubclass(cls, int):
        return cls(node["value"])
    if issubclass(cls, tuple):
        return cls(_from_json(item) for item in node["items"])
    if attrs.has(cls):
        kwargs = {
            field.alias: _from_json(node[field.name])
            for field in attrs.fields(cls)
            if field.init and field.name in node
        }
        return cls(**kwargs)
    raise TranslateError(f"type {kind!r} cannot be built")


# -- keys ------------------------------------------------------------------------------


@attrs.frozen(kw_only=True)
class DecipherKeys:
    """Keys to open ciphered APDUs with; ``system_title`` is the sender's, needed for
    service-specific ciphering (general-glo carries it)."""

    encryption_key: bytes | None = attrs.field(default=None, repr=False)
    authentication_key: bytes | None = attrs.field(default=None, repr=False)
    system_title: bytes | None = None


KeyLookup = Callable[[bytes | None], DecipherKeys | None]


def _decipher(data: bytes, keys: KeyLookup, sender: bytes | None) -> JsonValue:
    found = keys(sender)
    if found is None:
        if sender is None:
            return {"_error": "no keys: the APDU names no sender, give --system-title"}
        return {"_error": f"no keys for sender {sender.hex().upper()}"}
    title = sender or found.system_title
    if title is None:
        return {"_error": "the sender's system title is needed (--system-title)"}
    context = SecurityContext(
        system_title=b"\x00" * 8,
        peer_system_title=title,
        global_unicast_key=found.encryption_key,
        authentication_key=found.authentication_key,
        min_security=0,
    )
    try:
        plain = context.unprotect(data)
    except SecurityError as error:
        text = str(error)
        if "tag" in text and "verif" in text:
            text = f"authentication tag mismatch ({text})"
        return {"_error": text}
    except DlmsError as error:
        return {"_error": str(error)}
    return describe_apdu(plain, keys)


# -- bytes -> description --------------------------------------------------------------


def describe_apdu(data: bytes, keys: KeyLookup | None = None) -> dict[str, JsonValue]:
    """An APDU's description (raises :class:`DecodeError`)."""
    apdu = decode_apdu(data)
    out: dict[str, JsonValue] = {"kind": "apdu", "apdu": to_json(apdu)}
    if keys is not None and isinstance(apdu, _CIPHERED_TYPES):
        sender = getattr(apdu, "system_title", None) or getattr(
            apdu, "originator_system_title", None
        )
        out["deciphered"] = _decipher(data, keys, sender or None)
    return out


def _describe_info(info: bytes, keys: KeyLookup | None) -> dict[str, JsonValue]:
    out: dict[str, JsonValue] = {}
    body = info
    for llc in _LLC_HEADERS:
        if info.startswith(llc):
            out["llc"] = llc.hex().upper()
            body = info[len(llc) :]
            break
    try:
        out["info"] = describe_apdu(body, keys)
    except DecodeError:
        out["info"] = {"kind": "raw", "hex": body.hex().upper()}
    return out


def _address(address: HdlcAddress) -> dict[str, JsonValue]:
    return {"upper": address.upper, "lower": address.lower, "length": address.length}


def _shifted(error: DecodeError, by: int) -> DecodeError:
    return DecodeError(error.reason, offset=error.offset + by, expected=error.expected)


def _unit_end(data: bytes, start: int) -> int:
    """Where the HDLC frame or WPDU starting at ``start`` ends (by its length field)."""
    if data[start] == 0x7E:
        if start + 3 > len(data):
            raise DecodeError("HDLC frame truncated", offset=len(data), expected="frame format")
        return start + (((data[start + 1] << 8) | data[start + 2]) & 0x7FF) + 2
    if start + 8 > len(data):
        raise DecodeError("wrapper header truncated", offset=len(data), expected="8-byte header")
    return start + 8 + int.from_bytes(data[start + 6 : start + 8], "big")


def _describe_hdlc(data: bytes, keys: KeyLookup | None) -> dict[str, JsonValue]:
    frame = decode_frame(data)
    out: dict[str, JsonValue] = {
        "kind": "hdlc",
        "destination": _address(frame.destination),
        "source": _address(frame.source),
        "control": frame.control,
        "segmented": frame.segmented,
    }
    if frame.info:
        out.update(_describe_info(frame.info, keys))
    return out


def _describe_unit(data: bytes, keys: KeyLookup | None) -> dict[str, JsonValue]:
    if data[0] == 0x7E:
        return _describe_hdlc(data, keys)
    wpdu = decode_wpdu(data)
    return {
        "kind": "wrapper",
        "source": wpdu.source,
        "destination": wpdu.destination,
        "apdu": describe_apdu(wpdu.apdu, keys),
    }


def _reassemble(frames: list[bytes], keys: KeyLookup | None) -> list[JsonValue]:
    """APDUs carried by runs of segmented HDLC I-frames, for reading."""
    out: list[JsonValue] = []
    parts: list[bytes] = []
    for wire in frames:
        frame = decode_frame(wire)
        if frame.control & 1 or not frame.info:
            continue
        info = frame.info
        if not parts:
            for llc in _LLC_HEADERS:
                if info.startswith(llc):
                    info = info[len(llc) :]
        parts.append(info)
        if not frame.segmented:
            if len(parts) > 1:
                try:
                    out.append(describe_apdu(b"".join(parts), keys))
                except DecodeError as error:
                    out.append({"_error": f"reassembled APDU: {error}"})
            parts = []
    return out


def describe(data: bytes, keys: KeyLookup | None = None) -> dict[str, JsonValue]:
    """Detect and decode ``data``: HDLC frame(s), wrapper PDU(s), an APDU or A-XDR data.

    Several HDLC frames or WPDUs back to back, as captured from a link, give
    ``{"kind": "frames", "frames": [...]}``; HDLC frames sharing one flag between them
    are split there, each such frame marked ``"shared_flag": true``; APDUs split over segmented
    HDLC frames are shown reassembled under ``_reassembled``. Raises
    :class:`DecodeError` (with the offset where decoding stopped) when the bytes are
    none of these.
    """
    if not data:
        raise DecodeError("nothing to decode", offset=0, expected="at least one byte")
    if data[0] == 0x7E or (len(data) >= 8 and data[:2] == b"\x00\x01"):
        hdlc = data[0] == 0x7E
        units: list[bytes] = []
        shared: list[bool] = []
        position = 0
        while position < len(data):
            # HDLC frames may share one flag: the closing flag opens the next frame
            # (IEC 62056-46 6.3); the next frame then starts at that flag
            share = hdlc and position > 0 and data[position] != 0x7E and data[position - 1] == 0x7E
            if share:
                position -= 1
            if data[position] != (0x7E if hdlc else 0x00):
                raise DecodeError(
                    "bytes after the last frame",
                    offset=position,
                    expected="0x7E (the next HDLC frame)" if hdlc else "the next WPDU",
                )
            try:
                end = _unit_end(data, position)
                unit = data[position:end]
                described = _describe_unit(unit, keys)
            except DecodeError as error:
                if share:  # not a frame sharing the flag: bytes after the last frame
                    raise DecodeError(
                        "bytes after the last frame",
                        offset=position + 1,
                        expected="0x7E or a frame sharing the previous flag",
                    ) from None
                raise _shifted(error, position) from None
            units.append(unit)
            shared.append(share)
            if end >= len(data) and not position:
                return described
            position = end
        frames = [_describe_unit(unit, keys) for unit in units]
        for frame, share in zip(frames, shared, strict=True):
            if share:
                frame["shared_flag"] = True
        out: dict[str, JsonValue] = {"kind": "frames", "frames": frames}
        if hdlc:
            reassembled = _reassemble(units, keys)
            if reassembled:
                out["_reassembled"] = reassembled
        return out
    try:
        return describe_apdu(data, keys)
    except DecodeError as apdu_error:
        try:
            return {"kind": "data", "value": to_json(_axdr.decode(data))}
        except DecodeError as data_error:
            # an unknown first octet says it was not an APDU: the data error is the story
            if apdu_error.offset == 0:
                raise data_error from None
            raise apdu_error from None


# -- description -> bytes --------------------------------------------------------------


def _nested(node: JsonValue) -> bytes:
    if isinstance(node, dict) and node.get("kind") == "raw":
        return bytes.fromhex(str(node["hex"]))
    return build(node)


def build(description: Mapping[str, JsonValue]) -> bytes:
    """The bytes a :func:`describe` output stands for (:class:`TranslateError` if not)."""
    try:
        return _build(description)
    except TranslateError:
        raise
    except (
        DlmsError,
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        OverflowError,
        RecursionError,
    ) as exc:
        raise TranslateError(f"cannot build the {description.get('kind')!r}: {exc}") from None


def _build(description: Mapping[str, JsonValue]) -> bytes:
    kind = description.get("kind")
    if kind == "apdu":
        value = from_json(description["apdu"])
        return bytes(_apdu.encode_apdu(value))
    if kind == "data":
        return _axdr.encode(from_json(description["value"]))
    if kind == "wrapper":
        inner = _nested(description["apdu"])
        return encode_wpdu(int(description["source"]), int(description["destination"]), inner)
    if kind == "frames":
        parts: list[bytes] = []
        for frame in description["frames"]:
            wire = _build(frame)
            if frame.get("shared_flag") and parts and wire[:1] == b"\x7e":
                wire = wire[1:]  # the previous frame's closing flag opens this one
            parts.append(wire)
        return b"".join(parts)
    if kind == "hdlc":
        info = b""
        if "info" in description:
            info = bytes.fromhex(str(description.get("llc", ""))) + _nested(description["info"])
        frame = HdlcFrame(
            destination=HdlcAddress(**description["destination"]),
            source=HdlcAddress(**description["source"]),
            control=int(description["control"]),
            info=info,
            segmented=bool(description.get("segmented", False)),
        )
        return encode_frame(frame)
    raise TranslateError(f"unknown kind {kind!r}: expected hdlc, wrapper, frames, apdu or data")


def keys_by_title(entries: Mapping[bytes | None, DecipherKeys]) -> KeyLookup:
    """A lookup over known senders; ``None`` names the keys for any sender."""

    def lookup(title: bytes | None) -> DecipherKeys | None:
        found = entries.get(title) or entries.get(None)
        if found is None and title is None and len(entries) == 1:
            found = next(iter(entries.values()))  # the one meter we know of
        return found

    return lookup
