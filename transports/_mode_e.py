"""IEC 62056-21 mode E: optical-port sign-on and hand-over to HDLC, sans-IO.

1. The client, at 300 Bd 7E1, sends the request ``/?<address>!CR LF``.
2. The meter answers its identification ``/MMMZ\\2<ident>CR LF``: MMM the manufacturer's
   FLAG id, Z the highest baud rate character, ``\\2`` the enhanced capability "mode E
   (HDLC)".
3. The client acknowledges with ``ACK '2' Z '2' CR LF`` (protocol control 2: HDLC
   procedure; mode control 2: binary).
4. Both switch to the agreed baud rate, 8N1, and HDLC starts with SNRM.

:class:`ModeEClient` is the probe side, :class:`ModeEMeter` the meter side. Both only
turn bytes into events and events into bytes; switching the serial port is the caller's.
"""

from __future__ import annotations

import enum

import attrs

from dlmskit.errors import DecodeError, LocalProtocolError

__all__ = [
    "BAUD_RATES",
    "ModeEAcknowledged",
    "ModeEClient",
    "ModeEIdentification",
    "ModeEMeter",
    "ModeERequest",
    "ModeEState",
    "baud_character",
]

#: Baud rate characters: digits in mode E (and mode C), letters in mode B.
BAUD_RATES = {
    "0": 300,
    "1": 600,
    "2": 1200,
    "3": 2400,
    "4": 4800,
    "5": 9600,
    "6": 19200,
    "A": 600,
    "B": 1200,
    "C": 2400,
    "D": 4800,
    "E": 9600,
    "F": 19200,
}

ACK = 0x06
_MAX_LINE = 128  # a request or identification message is far shorter than this


def baud_character(baudrate: int) -> str:
    """The mode E baud character for ``baudrate`` (``9600`` → ``"5"``)."""
    for char, rate in BAUD_RATES.items():
        if rate == baudrate and char.isdigit():
            return char
    raise ValueError(f"no IEC 62056-21 baud rate character for {baudrate}")


class ModeEState(enum.Enum):
    IDLE = "idle"
    WAIT_IDENTIFICATION = "wait identification"  # client: request sent
    WAIT_ACK = "wait ack"  # meter: identification sent
    HDLC = "hdlc"  # hand-over done: switch baud rate, run HDLC


@attrs.frozen(kw_only=True)
class ModeERequest:
    """Meter side: a sign-on request arrived (``device_address`` empty for "any meter")."""

    device_address: str


@attrs.frozen(kw_only=True)
class ModeEIdentification:
    """Client side: the meter's identification message."""

    manufacturer: str
    baud_char: str
    mode_e: bool
    identification: str

    @property
    def baudrate(self) -> int:
        return BAUD_RATES.get(self.baud_char, 300)

    def encode(self) -> bytes:
        enhanced = "\\2" if self.mode_e else ""
        text = f"/{self.manufacturer}{self.baud_char}{enhanced}{self.identification}\r\n"
        return text.encode("ascii")


@attrs.frozen(kw_only=True)
class ModeEAcknowledged:
    """Both sides: the acknowledgement that hands the port over to HDLC at ``baudrate``."""

    protocol_control: str
    baud_char: str
    mode_control: str

    @property
    def baudrate(self) -> int:
        return BAUD_RATES.get(self.baud_char, 300)

    @property
    def hdlc(self) -> bool:
        return self.protocol_control == "2" and self.mode_control == "2"


ModeEEvent = ModeERequest | ModeEIdentification | ModeEAcknowledged


class _LineBuffer:
    """Collect 7-bit characters up to CR LF; bounded so a babbling port cannot grow it."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def feed(self, data: bytes | bytearray | memoryview) -> None:
        self._buf += bytes(b & 0x7F for b in data)  # 7E1: the parity bit is not data
        if len(self._buf) > 4 * _MAX_LINE:
            del self._buf[: len(self._buf) - 2 * _MAX_LINE]

    def line(self, start: int) -> bytes | None:
        """The next message starting with ``start`` and ending in CR LF, without CR LF."""
        while True:
            i = self._buf.find(bytes((start,)))
            if i < 0:
                self._buf.clear()
                return None
            del self._buf[:i]
            end = self._buf.find(b"\r\n")
            if end < 0:
                if len(self._buf) > _MAX_LINE:
                    del self._buf[:1]
                    continue
                return None
            line = bytes(self._buf[:end])
            del self._buf[: end + 2]
            if len(line) > _MAX_LINE:
                continue
            return line


def parse_identification(line: bytes) -> ModeEIdentification:
    """Parse ``/MMMZ[\\W]ident`` (without CR LF)."""
    if len(line) < 5 or line[:1] != b"/":
        raise DecodeError("identification message too short", offset=len(line), expected="/MMMZ")
    try:
        text = line.decode("ascii")
    except UnicodeDecodeError:
        raise DecodeError("identification is not ASCII", offset=0, expected="ASCII") from None
    manufacturer, baud_char, rest = text[1:4], text[4], text[5:]
    if not manufacturer.isalpha():
        raise DecodeError("manufacturer id is not three letters", offset=1, expected="MMM")
    if baud_char not in BAUD_RATES:
        raise DecodeError("unknown baud rate character", offset=4, expected="0-6 or A-F")
    mode_e = rest.startswith("\\2")
    if rest.startswith("\\") and len(rest) >= 2:
        rest = rest[2:]
    return ModeEIdentification(
        manufacturer=manufacturer, baud_char=baud_char, mode_e=mode_e, identification=rest
    )


def _parse_ack(line: bytes) -> ModeEAcknowledged:
    if len(line) != 4:
        raise DecodeError("acknowledgement length", offset=len(line), expected="ACK V Z Y")
    text = line[1:].decode("ascii", "replace")
    return ModeEAcknowledged(protocol_control=text[0], baud_char=text[1], mode_control=text[2])


class ModeEClient:
    """The probe side of mode E: request, identification, acknowledgement."""

    def __init__(self, *, device_address: str = "") -> None:
        if len(device_address) > 32 or not all(c.isalnum() or c == " " for c in device_address):
            raise ValueError("device address: up to 32 letters, digits or spaces")
        self.device_address = device_address
        self.state = ModeEState.IDLE
        self.identification: ModeEIdentification | None = None
        self._lines = _LineBuffer()

    def request(self) -> bytes:
        """The sign-on request ``/?<address>!CR LF`` to send at 300 Bd 7E1."""
        self.state = ModeEState.WAIT_IDENTIFICATION
        self.identification = None
        self._lines = _LineBuffer()
        return f"/?{self.device_address}!\r\n".encode("ascii")

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        self._lines.feed(data)

    def next_event(self) -> ModeEIdentification | None:
        """The identification once complete (``None`` until then); ``DecodeError`` if bad."""
        if self.state is not ModeEState.WAIT_IDENTIFICATION:
            return None
        line = self._lines.line(ord("/"))
        if line is None:
            return None
        ident = parse_identification(line)
        self.identification = ident
        self.state = ModeEState.WAIT_ACK
        return ident

    def acknowledge(self, baud_char: str | None = None) -> bytes:
        """The acknowledgement selecting HDLC at ``baud_char`` (default: the meter's best)."""
        if self.state is not ModeEState.WAIT_ACK or self.identification is None:
            raise LocalProtocolError("acknowledge needs a received identification")
        if not self.identification.mode_e:
            raise LocalProtocolError("the meter does not offer mode E (HDLC)")
        char = baud_char if baud_char is not None else self.identification.baud_char
        if char not in BAUD_RATES or not char.isdigit() or char > self.identification.baud_char:
            raise LocalProtocolError(f"baud character {char!r} not offered by the meter")
        self.state = ModeEState.HDLC
        return bytes((ACK,)) + f"2{char}2\r\n".encode("ascii")


class ModeEMeter:
    """The meter side of mode E: answer a request with our identification, take the ACK."""

    def __init__(
        self,
        *,
        manufacturer: str,
        baud_char: str = "5",
        identification: str = "",
        device_address: str = "",
    ) -> None:
        self.identity = ModeEIdentification(
            manufacturer=manufacturer,
            baud_char=baud_char,
            mode_e=True,
            identification=identification,
        )
        if len(manufacturer) != 3 or not manufacturer.isalpha():
            raise ValueError("manufacturer id is three letters")
        if baud_char not in BAUD_RATES or not baud_char.isdigit():
            raise ValueError("mode E baud character is a digit 0-6")
        self.device_address = device_address
        self.state = ModeEState.IDLE
        self._lines = _LineBuffer()
        self._out = bytearray()

    def receive_data(self, data: bytes | bytearray | memoryview) -> None:
        self._lines.feed(data)

    def data_to_send(self) -> bytes:
        data = bytes(self._out)
        self._out.clear()
        return data

    def next_event(self) -> ModeERequest | ModeEAcknowledged | None:
        """A request (answered automatically, see :meth:`data_to_send`) or the ACK."""
        if self.state is ModeEState.IDLE:
            line = self._lines.line(ord("/"))
            if line is None:
                return None
            if len(line) < 2 or line[1:2] != b"?" or not line.endswith(b"!"):
                raise DecodeError("sign-on request", offset=0, expected="/?address!")
            address = line[2:-1].decode("ascii", "replace")
            if address and self.device_address and address != self.device_address:
                return None  # addressed to another meter on the bus
            self._out += self.identity.encode()
            self.state = ModeEState.WAIT_ACK
            return ModeERequest(device_address=address)
        if self.state is ModeEState.WAIT_ACK:
            line = self._lines.line(ACK)
            if line is None:
                return None
            ack = _parse_ack(line)
            if not ack.hdlc or ack.baud_char > self.identity.baud_char:
                self.state = ModeEState.IDLE
                raise DecodeError(
                    "acknowledgement does not select mode E", offset=1, expected="2Z2"
                )
            self.state = ModeEState.HDLC
            return ack
        return None
