"""Authentication mechanisms 1..7 (Green Book 9.2.2.2, dlms-facts 1.8), both roles.

LLS (1) sends the password in the AARQ. HLS (2..7) runs four passes: the client sends a
challenge CtoS in the AARQ, the server answers with StoC in the AARE, then the client
proves itself with f(StoC) in reply_to_HLS_authentication and the server answers f(CtoS).

Every HLS mechanism has the same four methods, each taking the :class:`SecurityContext`
of the side that calls it (its ``system_title`` is that side's, ``peer_system_title``
the other's)::

    client_response(ctx, stoc=..., ctos=...) -> f(StoC)          # client, pass 3
    server_check(ctx, response, stoc=..., ctos=...) -> bool       # server checks pass 3
    server_response(ctx, stoc=..., ctos=...) -> f(CtoS)           # server, pass 4
    client_check(ctx, response, stoc=..., ctos=...) -> bool       # client checks pass 4
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import ClassVar, Protocol

import attrs
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dlmskit.errors import LocalProtocolError
from dlmskit.security._context import SecurityContext

__all__ = [
    "HlsEcdsa",
    "HlsGmac",
    "HlsMd5",
    "HlsMechanism",
    "HlsSecret",
    "HlsSha1",
    "HlsSha256",
    "LowLevelSecurity",
    "aes_ecb_transform",
    "new_challenge",
]

MIN_CHALLENGE = 8
MAX_CHALLENGE = 64


def new_challenge(
    length: int = 16, *, random_source: Callable[[int], bytes] = secrets.token_bytes
) -> bytes:
    """A random challenge (CtoS or StoC) of 8..64 bytes; 16 suits most meters."""
    if not MIN_CHALLENGE <= length <= MAX_CHALLENGE:
        raise LocalProtocolError(f"challenge length must be 8..64, got {length}")
    value = random_source(length)
    if len(value) != length:
        raise LocalProtocolError("random source returned the wrong number of bytes")
    return value


def _same(a: bytes, b: bytes) -> bool:
    return hmac.compare_digest(bytes(a), bytes(b))


def _peer(ctx: SecurityContext) -> bytes:
    peer = ctx.peer_system_title
    if peer is None:
        raise LocalProtocolError("the peer system title is needed for this mechanism")
    return peer


@attrs.frozen(kw_only=True)
class LowLevelSecurity:
    """Mechanism 1: the password itself is the calling-authentication-value."""

    MECHANISM_ID: ClassVar[int] = 1
    password: bytes = attrs.field(repr=False)

    def calling_authentication_value(self) -> bytes:
        return self.password

    def verify(self, value: bytes) -> bool:
        """Server side: constant-time comparison with the stored password."""
        return _same(value, self.password)


class HlsMechanism(Protocol):
    """What an association machine calls to run passes 3 and 4 of HLS."""

    MECHANISM_ID: ClassVar[int]

    def client_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes: ...

    def server_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool: ...

    def server_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes: ...

    def client_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool: ...


def aes_ecb_transform(secret: bytes, challenge: bytes) -> bytes:
    """Mechanism 2 as used by Indian meters (IS 15959): AES-ECB of the zero-padded challenge.

    The challenge is padded with zeros to a multiple of 16 and encrypted with the
    16-byte (or 32-byte) HLS secret.
    """
    if len(secret) not in (16, 24, 32):
        raise LocalProtocolError(
            f"HLS secret for AES must be 16, 24 or 32 bytes, got {len(secret)}"
        )
    padded = bytes(challenge) + bytes(-len(challenge) % 16)
    encryptor = Cipher(algorithms.AES(bytes(secret)), modes.ECB()).encryptor()
    return encryptor.update(padded) + encryptor.finalize()


class _ChallengeHls:
    """Mechanisms whose f() depends only on the secret and the challenge answered."""

    __slots__ = ()

    def _f(self, challenge: bytes) -> bytes:
        raise LocalProtocolError("mechanism has no transform")

    def client_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes:
        return self._f(stoc)

    def server_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool:
        return _same(response, self._f(stoc))

    def server_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes:
        return self._f(ctos)

    def client_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool:
        return _same(response, self._f(ctos))


@attrs.frozen(kw_only=True)
class HlsSecret(_ChallengeHls):
    """Mechanism 2: manufacturer-specific f(challenge) = transform(secret, challenge).

    The default transform is :func:`aes_ecb_transform`; pass another for other meters.
    """

    MECHANISM_ID: ClassVar[int] = 2
    secret: bytes = attrs.field(repr=False)
    transform: Callable[[bytes, bytes], bytes] = aes_ecb_transform

    def _f(self, challenge: bytes) -> bytes:
        return self.transform(self.secret, challenge)


@attrs.frozen(kw_only=True)
class HlsMd5(_ChallengeHls):
    """Mechanism 3: f(challenge) = MD5(challenge || secret)."""

    MECHANISM_ID: ClassVar[int] = 3
    secret: bytes = attrs.field(repr=False)

    def _f(self, challenge: bytes) -> bytes:
        return hashlib.md5(bytes(challenge) + self.secret, usedforsecurity=True).digest()


@attrs.frozen(kw_only=True)
class HlsSha1(_ChallengeHls):
    """Mechanism 4: f(challenge) = SHA-1(challenge || secret)."""

    MECHANISM_ID: ClassVar[int] = 4
    secret: bytes = attrs.field(repr=False)

    def _f(self, challenge: bytes) -> bytes:
        return hashlib.sha1(bytes(challenge) + self.secret, usedforsecurity=True).digest()


@attrs.frozen(kw_only=True)
class HlsSha256:
    """Mechanism 6: SHA-256(secret || ST-C || ST-S || StoC || CtoS) from the client and
    SHA-256(secret || ST-S || ST-C || CtoS || StoC) from the server."""

    MECHANISM_ID: ClassVar[int] = 6
    secret: bytes = attrs.field(repr=False)

    def _client_value(self, client: bytes, server: bytes, stoc: bytes, ctos: bytes) -> bytes:
        return hashlib.sha256(self.secret + client + server + stoc + ctos).digest()

    def _server_value(self, client: bytes, server: bytes, stoc: bytes, ctos: bytes) -> bytes:
        return hashlib.sha256(self.secret + server + client + ctos + stoc).digest()

    def client_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes:
        return self._client_value(ctx.system_title, _peer(ctx), stoc, ctos)

    def server_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool:
        return _same(response, self._client_value(_peer(ctx), ctx.system_title, stoc, ctos))

    def server_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes:
        return self._server_value(_peer(ctx), ctx.system_title, stoc, ctos)

    def client_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool:
        return _same(response, self._server_value(ctx.system_title, _peer(ctx), stoc, ctos))


@attrs.frozen(kw_only=True)
class HlsGmac:
    """Mechanism 5: SC || IC || GMAC(EK, ST || IC, SC || AK || challenge), keys from ``ctx``."""

    MECHANISM_ID: ClassVar[int] = 5

    def client_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes:
        return ctx.gmac_response(stoc)

    def server_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool:
        return ctx.verify_gmac_response(response, stoc)

    def server_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes:
        return ctx.gmac_response(ctos)

    def client_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool:
        return ctx.verify_gmac_response(response, ctos)


@attrs.frozen(kw_only=True)
class HlsEcdsa:
    """Mechanism 7: ECDSA over ST-C || ST-S || StoC || CtoS (server: ST-S || ST-C || CtoS ||
    StoC), with the signing keys held by ``ctx`` (P-256 suite 1, P-384 suite 2)."""

    MECHANISM_ID: ClassVar[int] = 7

    def client_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes:
        return ctx.sign(ctx.system_title + _peer(ctx) + stoc + ctos)

    def server_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool:
        return ctx.verify_peer_signature(_peer(ctx) + ctx.system_title + stoc + ctos, response)

    def server_response(self, ctx: SecurityContext, *, stoc: bytes, ctos: bytes) -> bytes:
        return ctx.sign(ctx.system_title + _peer(ctx) + ctos + stoc)

    def client_check(
        self, ctx: SecurityContext, response: bytes, *, stoc: bytes, ctos: bytes
    ) -> bool:
        return ctx.verify_peer_signature(_peer(ctx) + ctx.system_title + ctos + stoc, response)
