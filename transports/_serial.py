"""Serial ports for trio (RS-485, optical probes) and the IEC 62056-21 mode E hand-over.

pyserial opens and configures the port (baud rate, 7E1/8N1); the bytes then move through
a duplicate of its file descriptor with ``trio.lowlevel.FdStream``, so reads wait in trio
without threads and every wait can be cancelled. POSIX only (the port needs a file
descriptor).
"""

from __future__ import annotations

import os
import termios
from collections.abc import Callable

import attrs
import serial
import trio

from dlmskit.errors import DecodeError, TransportError
from transports._hdlc_address import HdlcAddress
from transports._hdlc_parameters import HdlcParameters
from transports._hdlc_stream import HdlcStreamTransport, open_hdlc
from transports._mode_e import (
    BAUD_RATES,
    ModeEAcknowledged,
    ModeEClient,
    ModeEIdentification,
    ModeEMeter,
)

__all__ = [
    "SIGN_ON_LINE",
    "LineSettings",
    "SerialStream",
    "answer_mode_e",
    "open_optical_probe",
    "open_serial",
    "open_serial_hdlc",
    "sign_on_mode_e",
]

_PARITY = {"N": serial.PARITY_NONE, "E": serial.PARITY_EVEN, "O": serial.PARITY_ODD}


@attrs.frozen(kw_only=True)
class LineSettings:
    """Serial line settings: baud rate, data bits, parity (``"N"``, ``"E"``, ``"O"``), stop bits."""

    baudrate: int
    bytesize: int = 8
    parity: str = attrs.field(default="N", validator=attrs.validators.in_(_PARITY))
    stopbits: int = 1


#: IEC 62056-21 sign-on: 300 Bd, 7 data bits, even parity, 1 stop bit.
SIGN_ON_LINE = LineSettings(baudrate=300, bytesize=7, parity="E")


def _wake_on_first_byte(fd: int) -> None:
    """VMIN=1, VTIME=0: with O_NONBLOCK an empty port then reads EAGAIN (so trio waits)
    and an empty read means hang-up, instead of VMIN=0's "0 bytes, try again"."""
    attributes = termios.tcgetattr(fd)
    attributes[6][termios.VMIN] = 1
    attributes[6][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attributes)


class SerialStream(trio.abc.Stream):
    """A pyserial port as a ``trio.abc.Stream``."""

    def __init__(self, port: serial.Serial) -> None:
        self.port = port
        _wake_on_first_byte(port.fd)
        self._fd = trio.lowlevel.FdStream(os.dup(port.fd))

    @property
    def name(self) -> str:
        return str(self.port.port)

    def configure(self, line: LineSettings) -> None:
        """Change line settings (mode E switches from 300 Bd 7E1 to the agreed rate 8N1)."""
        try:
            self.port.apply_settings(
                {
                    "baudrate": line.baudrate,
                    "bytesize": line.bytesize,
                    "parity": _PARITY[line.parity],
                    "stopbits": line.stopbits,
                }
            )
            _wake_on_first_byte(self.port.fd)
        except (serial.SerialException, ValueError, OSError, termios.error) as exc:
            raise TransportError(f"cannot configure {self.name} as {line}: {exc}") from exc

    async def drain(self) -> None:
        """Wait until every written byte has left the port (before a baud switch)."""
        await trio.to_thread.run_sync(self.port.flush, abandon_on_cancel=True)

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._fd.send_all(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._fd.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        try:
            return await self._fd.receive_some(max_bytes)
        except OSError as exc:
            # Linux reports a hung-up pseudo-terminal peer as EIO
            raise trio.BrokenResourceError(f"{self.name}: {exc}") from exc

    async def aclose(self) -> None:
        try:
            await self._fd.aclose()
        finally:
            self.port.close()


def open_serial(device: str, line: LineSettings | None = None) -> SerialStream:
    """Open ``device`` raw, non-blocking, with ``line`` settings (default 9600 8N1)."""
    line = line if line is not None else LineSettings(baudrate=9600)
    try:
        port = serial.Serial(
            port=device,
            baudrate=line.baudrate,
            bytesize=line.bytesize,
            parity=_PARITY[line.parity],
            stopbits=line.stopbits,
        )
    except (serial.SerialException, ValueError, OSError, termios.error) as exc:
        raise TransportError(f"cannot open {device} as {line}: {exc}") from exc
    try:
        return SerialStream(port)
    except (OSError, termios.error) as exc:
        port.close()
        raise TransportError(f"cannot set up {device}: {exc}") from exc


async def open_serial_hdlc(
    device: str,
    *,
    server_address: HdlcAddress,
    client_address: int = 0x10,
    baudrate: int = 9600,
    parameters: HdlcParameters | None = None,
    response_timeout: float = 3.0,
    max_retries: int = 3,
) -> HdlcStreamTransport:
    """HDLC straight over a serial line (RS-485, or an optical port already in mode E)."""
    stream = open_serial(device, LineSettings(baudrate=baudrate))
    try:
        return await open_hdlc(
            stream,
            server_address=server_address,
            client_address=client_address,
            parameters=parameters,
            response_timeout=response_timeout,
            max_retries=max_retries,
            device=device,
        )
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise


async def sign_on_mode_e(
    stream: trio.abc.Stream,
    client: ModeEClient,
    *,
    baud_char: str | None = None,
    timeout: float = 2.0,
) -> tuple[ModeEIdentification, bytes]:
    """Client side of mode E up to and including the ACK; returns the identification and
    the ACK sent. Switching the line is left to the caller (see :func:`open_optical_probe`).
    """
    await stream.send_all(client.request())
    try:
        with trio.fail_after(timeout):
            while True:
                data = await stream.receive_some(256)
                if not data:
                    raise TransportError("port closed during mode E sign-on")
                client.receive_data(data)
                ident = client.next_event()
                if ident is not None:
                    break
    except trio.TooSlowError:
        raise TransportError("no identification from the meter") from None
    except DecodeError as exc:
        raise TransportError(f"bad identification: {exc}") from exc
    except trio.BrokenResourceError as exc:
        raise TransportError(f"port broken during sign-on: {exc}") from exc
    ack = client.acknowledge(baud_char)
    await stream.send_all(ack)
    return ident, ack


async def open_optical_probe(
    device: str,
    *,
    server_address: HdlcAddress,
    client_address: int = 0x10,
    device_address: str = "",
    baud_char: str | None = None,
    handover_delay: float = 0.3,
    sign_on_line: LineSettings = SIGN_ON_LINE,
    identification_timeout: float = 2.0,
    parameters: HdlcParameters | None = None,
    response_timeout: float = 3.0,
    max_retries: int = 3,
) -> HdlcStreamTransport:
    """Optical probe: mode E sign-on at 300 Bd 7E1, ACK, switch to the agreed rate 8N1,
    wait ``handover_delay``, then SNRM/UA. ``sign_on_line`` is the standard's 300 Bd 7E1
    unless a port cannot do it."""
    stream = open_serial(device, sign_on_line)
    try:
        ident, _ = await sign_on_mode_e(
            stream,
            ModeEClient(device_address=device_address),
            baud_char=baud_char,
            timeout=identification_timeout,
        )
        await stream.drain()
        await trio.sleep(handover_delay)
        rate = ident.baudrate if baud_char is None else BAUD_RATES[baud_char]
        stream.configure(LineSettings(baudrate=rate))
        return await open_hdlc(
            stream,
            server_address=server_address,
            client_address=client_address,
            parameters=parameters,
            response_timeout=response_timeout,
            max_retries=max_retries,
            device=device,
        )
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise


async def answer_mode_e(
    stream: trio.abc.Stream,
    meter: ModeEMeter,
    *,
    switch_line: Callable[[int], None] | None = None,
) -> ModeEAcknowledged:
    """Meter side of mode E: answer the sign-on, wait for the ACK, then call
    ``switch_line(baudrate)`` (if given) before HDLC starts. Bound it with a cancel scope.
    """
    while True:
        try:
            data = await stream.receive_some(256)
        except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
            raise TransportError(f"port broken during mode E: {exc}") from exc
        if not data:
            raise TransportError("port closed during mode E")
        meter.receive_data(data)
        while True:
            try:
                event = meter.next_event()
            except DecodeError:
                continue
            if event is None:
                break
            await stream.send_all(meter.data_to_send())
            if isinstance(event, ModeEAcknowledged):
                if switch_line is not None:
                    switch_line(event.baudrate)
                return event
