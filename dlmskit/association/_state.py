"""Association states and the one transition table both roles share.

The ACSE/xDLMS association life cycle (Green Book 9.3, "application association
establishment and release") is the same seen from the client and from the server: an
AARQ opens it, an AARE accepts, rejects or asks for HLS passes 3 and 4, an RLRQ/RLRE pair
closes it. Every transition of either machine goes through :class:`AssociationStateMachine`,
whose table is :data:`TRANSITIONS` (the layout of h11's ``_state.py``).
"""

from __future__ import annotations

import enum
from typing import Final

from dlmskit.errors import LocalProtocolError

__all__ = ["TRANSITIONS", "AssociationState", "AssociationStateMachine", "Trigger"]


class AssociationState(enum.IntEnum):
    """Where an association machine is."""

    #: No association: an AARQ may be sent (client) or received (server).
    IDLE = 0
    #: AARQ sent or received, AARE not yet sent or received.
    ASSOCIATION_PENDING = 1
    #: AARE accepted with "authentication-required": HLS passes 3 and 4 are running.
    AUTHENTICATING = 2
    #: The association is established: xDLMS services may run.
    ASSOCIATED = 3
    #: RLRQ sent or received, RLRE not yet sent or received.
    RELEASE_PENDING = 4
    #: The peer broke the protocol; the machine accepts nothing more.
    ERROR = 5


class Trigger(enum.Enum):
    """What moves an association from one state to the next, whichever side we are."""

    AARQ = "aarq"
    #: Client and server agreed on the association beforehand: no AARQ (Green Book
    #: 9.3.2, pre-established application associations).
    PRE_ESTABLISHED = "pre-established"
    AARE_ACCEPTED = "aare-accepted"
    AARE_AUTHENTICATION_REQUIRED = "aare-authentication-required"
    AARE_REJECTED = "aare-rejected"
    HLS_VERIFIED = "hls-verified"
    HLS_FAILED = "hls-failed"
    RLRQ = "rlrq"
    RLRE = "rlre"
    ABORT = "abort"
    PROTOCOL_ERROR = "protocol-error"


_S = AssociationState
_T = Trigger

#: ``{state: {trigger: next state}}``. ABORT (lower layer gone) and PROTOCOL_ERROR are
#: accepted in every state but ERROR and added below.
TRANSITIONS: Final[dict[AssociationState, dict[Trigger, AssociationState]]] = {
    _S.IDLE: {_T.AARQ: _S.ASSOCIATION_PENDING, _T.PRE_ESTABLISHED: _S.ASSOCIATED},
    _S.ASSOCIATION_PENDING: {
        _T.AARE_ACCEPTED: _S.ASSOCIATED,
        _T.AARE_AUTHENTICATION_REQUIRED: _S.AUTHENTICATING,
        _T.AARE_REJECTED: _S.IDLE,
    },
    _S.AUTHENTICATING: {_T.HLS_VERIFIED: _S.ASSOCIATED, _T.HLS_FAILED: _S.IDLE},
    _S.ASSOCIATED: {_T.RLRQ: _S.RELEASE_PENDING},
    _S.RELEASE_PENDING: {_T.RLRE: _S.IDLE},
    _S.ERROR: {},
}
for _state, _row in TRANSITIONS.items():
    if _state is not _S.ERROR:
        _row[_T.ABORT] = _S.IDLE
        _row[_T.PROTOCOL_ERROR] = _S.ERROR


class AssociationStateMachine:
    """The current state, moved only through :data:`TRANSITIONS`."""

    __slots__ = ("state",)

    def __init__(self) -> None:
        self.state = AssociationState.IDLE

    def can(self, trigger: Trigger) -> bool:
        """Whether ``trigger`` is allowed in the current state."""
        return trigger in TRANSITIONS[self.state]

    def process(self, trigger: Trigger) -> AssociationState:
        """Apply ``trigger``; a trigger the table does not allow is a local error."""
        try:
            self.state = TRANSITIONS[self.state][trigger]
        except KeyError:
            raise LocalProtocolError(
                f"{trigger.value} is not allowed in state {self.state.name}"
            ) from None
        return self.state
