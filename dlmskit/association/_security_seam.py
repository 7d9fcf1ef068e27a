"""Where security plugs into the association machines.

The machines never touch a cipher. Ciphering of whole APDUs (Green Book 9.2.7: glo-/ded-
service-specific and general ciphering) comes from a :class:`Ciphering` object and the
HLS functions f() of passes 3 and 4 (Green Book 9.2.2.2, mechanisms 2..7) from an
:class:`HlsMechanism`; ``dlmskit.security.SecurityContext`` and its ``Hls*`` classes
satisfy both protocols, tests may provide others.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any, ClassVar, Protocol

from dlmskit.errors import LocalProtocolError
from dlmskit.security import CipheringForm, SecurityContext, key_length

__all__ = [
    "Ciphering",
    "HlsMechanism",
    "dedicated_key_length",
    "default_challenge",
    "install_dedicated_key",
    "passwords_match",
    "protect_dedicated",
    "protect_general_glo",
]


class Ciphering(Protocol):
    """Protects outgoing and unprotects incoming APDU bytes for one association.

    The machine sets ``peer_system_title`` from the AARQ calling-AP-title (server) or
    the AARE responding-AP-title (client): the IV of every APDU the peer protects
    starts with it. ``unprotect`` raises a ``SecurityError`` (or ``DecodeError``) when
    the APDU does not verify.
    """

    @property
    def system_title(self) -> bytes: ...

    @property
    def peer_system_title(self) -> bytes | None: ...

    @peer_system_title.setter
    def peer_system_title(self, value: bytes | None) -> None: ...

    def protect(self, apdu: bytes) -> bytes: ...

    def unprotect(self, data: bytes) -> bytes: ...


class HlsMechanism(Protocol):
    """One HLS mechanism (2..7): f() for passes 3 and 4 and their checks.

    ``ctx`` is the association's security context (keys, system titles, invocation
    counters) or None when the mechanism needs none (2..4 hold their own secret). The
    client sends ``client_response`` (f(StoC)) and checks pass 4 with ``client_check``;
    the server checks pass 3 with ``server_check`` and answers ``server_response``
    (f(CtoS)).
    """

    MECHANISM_ID: ClassVar[int]

    def client_response(self, ctx: Any, *, stoc: bytes, ctos: bytes) -> bytes: ...

    def server_check(self, ctx: Any, response: bytes, *, stoc: bytes, ctos: bytes) -> bool: ...

    def server_response(self, ctx: Any, *, stoc: bytes, ctos: bytes) -> bytes: ...

    def client_check(self, ctx: Any, response: bytes, *, stoc: bytes, ctos: bytes) -> bool: ...


def default_challenge() -> bytes:
    """A 16-byte random challenge (CtoS / StoC); 16 bytes suits every known meter."""
    return secrets.token_bytes(16)


def passwords_match(expected: bytes, given: bytes) -> bool:
    """LLS (mechanism 1) password check in constant time."""
    return hmac.compare_digest(expected, given)


def protect_general_glo(ciphering: Ciphering, apdu: bytes) -> bytes:
    """Protect an APDU that has no service-specific ciphered form (data-notification,
    access, Green Book 9.2.7): general-glo-ciphering with a
    :class:`~dlmskit.security.SecurityContext`; any other seam object chooses itself."""
    if isinstance(ciphering, SecurityContext):
        return ciphering.protect(apdu, form=CipheringForm.GENERAL_GLO)
    return ciphering.protect(apdu)


def _context(ciphering: Ciphering) -> SecurityContext:
    if not isinstance(ciphering, SecurityContext):
        raise LocalProtocolError("a dedicated key needs a dlmskit.security.SecurityContext")
    return ciphering


def dedicated_key_length(ciphering: Ciphering) -> int:
    """Octets of a dedicated key for the context's security suite (16 or 32)."""
    return key_length(_context(ciphering).suite)


def install_dedicated_key(ciphering: Ciphering, key: bytes | None) -> None:
    """Install the dedicated key of the InitiateRequest (Green Book 9.2.7.2.4.2), or
    drop it with ``None``; a key of the wrong length is a ``LocalProtocolError``."""
    _context(ciphering).set_dedicated_key(key)


def protect_dedicated(ciphering: Ciphering, apdu: bytes, *, general: bool) -> bytes:
    """Protect a service APDU with the dedicated key: its ded- service-specific form, or
    general-ded-ciphering (``general``) when it has none."""
    form = CipheringForm.GENERAL_DED if general else CipheringForm.DED
    return _context(ciphering).protect(apdu, form=form)
