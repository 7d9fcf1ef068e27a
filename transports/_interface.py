"""The one interface every trio transport adapter offers: send an APDU, receive an APDU,
close. The client and the head-end see nothing else of the medium."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import attrs

__all__ = ["ApduTransport", "LinkAddress"]


@attrs.frozen(kw_only=True)
class LinkAddress:
    """One end of a link: network address and/or DLMS addressing, whichever applies.

    ``sap`` is the wrapper wPort or the HDLC upper (logical) address, ``physical`` the
    HDLC lower address, ``device`` a serial port name.
    """

    host: str | None = None
    port: int | None = None
    sap: int | None = None
    physical: int | None = None
    device: str | None = None


@runtime_checkable
class ApduTransport(Protocol):
    """Moves whole APDUs between two DLMS ends.

    ``receive_apdu`` raises ``TransportError`` once the link is closed (by either end)
    or broken; every wait can be cancelled by the caller's trio cancel scope, and a
    cancelled call loses no data.
    """

    @property
    def local_address(self) -> LinkAddress: ...

    @property
    def peer_address(self) -> LinkAddress: ...

    async def send_apdu(self, apdu: bytes) -> None: ...

    async def receive_apdu(self) -> bytes: ...

    async def aclose(self) -> None: ...
