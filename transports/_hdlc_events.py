"""Events produced by :class:`transports.HdlcConnection` (h11 style)."""

from __future__ import annotations

import attrs

from transports._hdlc_parameters import HdlcParameters

__all__ = ["NEED_DATA", "ApduReceived", "Connected", "Disconnected", "HdlcEvent", "NeedData"]


@attrs.frozen(kw_only=True)
class Connected:
    """SNRM/UA completed; ``parameters`` are the negotiated values from our point of view."""

    parameters: HdlcParameters


@attrs.frozen(kw_only=True)
class Disconnected:
    """The link is down: DISC/UA, DM, FRMR, or no answer after every retransmission."""

    reason: str


@attrs.frozen(kw_only=True)
class ApduReceived:
    """A complete APDU (LLC header removed); ``unnumbered`` for UI frames (pushes)."""

    apdu: bytes
    unnumbered: bool = False


@attrs.frozen(kw_only=True)
class NeedData:
    """No complete event yet: feed more bytes with ``receive_data``."""


NEED_DATA = NeedData()

HdlcEvent = Connected | Disconnected | ApduReceived | NeedData
