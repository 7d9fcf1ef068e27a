"""States, triggers and the transition table of the HDLC link (IEC 62056-46 clause 6.4.4).

Every state change of :class:`~transports.HdlcConnection` is looked up here; nothing
else changes the link state.
"""

from __future__ import annotations

import enum

__all__ = ["TRANSITIONS", "HdlcRole", "HdlcState", "HdlcTrigger"]


class HdlcRole(enum.Enum):
    CLIENT = "client"
    SERVER = "server"


class HdlcState(enum.Enum):
    DISCONNECTED = "disconnected"  # normal disconnected mode (NDM)
    CONNECTING = "connecting"  # SNRM sent, waiting for UA
    CONNECTED = "connected"  # normal response mode (NRM)
    DISCONNECTING = "disconnecting"  # DISC sent, waiting for UA/DM


class HdlcTrigger(enum.Enum):
    """What moves the link between states: a local call, a received frame, or giving up."""

    CONNECT = "connect"
    DISCONNECT = "disconnect"
    SNRM = "snrm"
    UA = "ua"
    DM = "dm"
    DISC = "disc"
    FRMR = "frmr"
    GIVE_UP = "give up"


_S = HdlcState
_T = HdlcTrigger

#: Every link state transition, by role: ``{role: {state: {trigger: new_state}}}``.
TRANSITIONS: dict[HdlcRole, dict[HdlcState, dict[HdlcTrigger, HdlcState]]] = {
    HdlcRole.CLIENT: {
        _S.DISCONNECTED: {_T.CONNECT: _S.CONNECTING},
        _S.CONNECTING: {
            _T.UA: _S.CONNECTED,
            _T.DM: _S.DISCONNECTED,
            _T.GIVE_UP: _S.DISCONNECTED,
            _T.DISCONNECT: _S.DISCONNECTING,
        },
        _S.CONNECTED: {
            _T.CONNECT: _S.CONNECTING,
            _T.DISCONNECT: _S.DISCONNECTING,
            _T.DM: _S.DISCONNECTED,
            _T.FRMR: _S.DISCONNECTED,
            _T.GIVE_UP: _S.DISCONNECTED,
        },
        _S.DISCONNECTING: {
            _T.UA: _S.DISCONNECTED,
            _T.DM: _S.DISCONNECTED,
            _T.GIVE_UP: _S.DISCONNECTED,
        },
    },
    HdlcRole.SERVER: {
        _S.DISCONNECTED: {_T.SNRM: _S.CONNECTED},
        _S.CONNECTED: {_T.SNRM: _S.CONNECTED, _T.DISC: _S.DISCONNECTED},
        _S.CONNECTING: {},
        _S.DISCONNECTING: {},
    },
}
