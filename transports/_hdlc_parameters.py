"""HDLC parameter negotiation field carried by SNRM and UA (IEC 62056-46 clause 6.4.4.4.3.2).

``81 80 <length>`` (format identifier, group identifier, group length), then TLVs:
``05`` maximum information field length transmit, ``06`` ... receive, ``07`` window size
transmit, ``08`` window size receive. Values are from the sender's point of view; an
absent parameter takes its default (128 bytes, window 1).
"""

from __future__ import annotations

import attrs

from dlmskit.errors import DecodeError

__all__ = ["DEFAULT_MAX_INFO", "DEFAULT_WINDOW", "HdlcParameters"]

DEFAULT_MAX_INFO = 128
DEFAULT_WINDOW = 1

_MAX_INFO_TX = 0x05
_MAX_INFO_RX = 0x06
_WINDOW_TX = 0x07
_WINDOW_RX = 0x08


def _info_length(
    instance: object, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and not 1 <= value <= 0xFFFF:
        raise ValueError(f"{attribute.name} {value} outside 1..65535")


def _window(instance: object, attribute: attrs.Attribute[int | None], value: int | None) -> None:
    if value is not None and not 1 <= value <= 7:
        raise ValueError(f"{attribute.name} {value} outside 1..7 (modulo-8 sequence numbers)")


@attrs.frozen(kw_only=True)
class HdlcParameters:
    """The four negotiable HDLC parameters; ``None`` means "not sent, use the default"."""

    max_info_transmit: int | None = attrs.field(default=None, validator=_info_length)
    max_info_receive: int | None = attrs.field(default=None, validator=_info_length)
    window_transmit: int | None = attrs.field(default=None, validator=_window)
    window_receive: int | None = attrs.field(default=None, validator=_window)

    @property
    def tx_info(self) -> int:
        return self.max_info_transmit or DEFAULT_MAX_INFO

    @property
    def rx_info(self) -> int:
        return self.max_info_receive or DEFAULT_MAX_INFO

    @property
    def tx_window(self) -> int:
        return self.window_transmit or DEFAULT_WINDOW

    @property
    def rx_window(self) -> int:
        return self.window_receive or DEFAULT_WINDOW

    def encode(self) -> bytes:
        """The parameter field, or ``b""`` when every parameter is left at its default."""
        body = bytearray()
        for ident, value in (
            (_MAX_INFO_TX, self.max_info_transmit),
            (_MAX_INFO_RX, self.max_info_receive),
        ):
            if value is not None:
                size = 1 if value < 0x100 else 2
                body += bytes((ident, size)) + value.to_bytes(size, "big")
        for ident, value in ((_WINDOW_TX, self.window_transmit), (_WINDOW_RX, self.window_receive)):
            if value is not None:
                body += bytes((ident, 4)) + value.to_bytes(4, "big")
        if not body:
            return b""
        return bytes((0x81, 0x80, len(body))) + bytes(body)

    @classmethod
    def decode(cls, data: bytes | bytearray) -> HdlcParameters:
        """Parse a parameter field; ``b""`` gives all defaults. Unknown parameters are skipped."""
        if not data:
            return cls()
        if len(data) < 3:
            raise DecodeError(
                "HDLC parameter field too short", offset=len(data), expected="81 80 len"
            )
        if data[0] != 0x81 or data[1] != 0x80:
            raise DecodeError("HDLC parameter field identifiers", offset=0, expected="81 80")
        if data[2] != len(data) - 3:
            raise DecodeError(
                "HDLC parameter group length mismatch", offset=2, expected=str(len(data) - 3)
            )
        values: dict[int, int] = {}
        pos = 3
        while pos < len(data):
            if pos + 2 > len(data):
                raise DecodeError("HDLC parameter truncated", offset=pos, expected="id and length")
            ident, size = data[pos], data[pos + 1]
            pos += 2
            if size == 0 or size > 4 or pos + size > len(data):
                raise DecodeError("HDLC parameter value length", offset=pos - 1, expected="1..4")
            values[ident] = int.from_bytes(data[pos : pos + size], "big")
            pos += size
        try:
            return cls(
                max_info_transmit=values.get(_MAX_INFO_TX),
                max_info_receive=values.get(_MAX_INFO_RX),
                window_transmit=values.get(_WINDOW_TX),
                window_receive=values.get(_WINDOW_RX),
            )
        except ValueError as exc:
            raise DecodeError(str(exc), offset=3, expected="parameter in range") from None
