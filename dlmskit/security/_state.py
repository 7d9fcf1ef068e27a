"""SecurityState: the keys, system titles and invocation counters of one association.

The part of :class:`SecurityContext` that holds and guards state: key installation and
change, the replay tables of received counters, the checks shared by every ciphering
form, and the HLS primitives (GMAC, ECDSA) that need the keys. Ciphering itself lives in
``_context``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dlmskit.errors import LocalProtocolError, SecurityError
from dlmskit.security._cipher import gmac, new_aead
from dlmskit.security._control import KeyId, SecurityControl, SecuritySuite, key_length
from dlmskit.security._counters import (
    InvocationCounterError,
    InvocationCounterStore,
    MemoryCounterStore,
)
from dlmskit.security._signing import ecdsa_sign, ecdsa_verify

__all__ = ["SecurityState"]

_CIPHER_KEYS = (
    KeyId.GLOBAL_UNICAST_ENCRYPTION,
    KeyId.GLOBAL_BROADCAST_ENCRYPTION,
    KeyId.DEDICATED,
)
_KEY_IDS = tuple(KeyId)
# (SC byte, SC, AES-GCM, SC || AK, counter key)
_SendPlan = tuple[bytes, int, AESGCM, bytes, KeyId]
# (AES-GCM, SC || AK, last accepted counters of that key by system title)
_ReceivePlan = tuple[AESGCM, bytes, dict[bytes, bytes]]
# (plain tag, AES-GCM, SC || AK, last accepted counters), by ciphered tag << 8 | SC
_FastPlan = tuple[int, AESGCM, bytes, dict[bytes, bytes]]


def _check_replay(received: dict[bytes, bytes], title: bytes, ic: bytes) -> None:
    """Raise InvocationCounterError unless ``ic`` is above the last accepted counter."""
    last = received.get(title)
    if last is not None and ic <= last:
        raise InvocationCounterError(
            system_title=title,
            received=int.from_bytes(ic, "big"),
            expected=int.from_bytes(last, "big") + 1,
        )


def _title(value: bytes | None, name: str) -> bytes | None:
    if value is None:
        return None
    value = bytes(value)
    if len(value) != 8:
        raise LocalProtocolError(f"{name} must be 8 bytes, got {len(value)}")
    return value


class SecurityState:
    """Keys, system titles and invocation counters of one association.

    ``system_title`` is this side's (client or server) and the sender part of every IV it
    builds; ``peer_system_title`` is the other side's, used to open service-specific
    APDUs (which do not carry it). ``min_security`` is the least protection accepted on
    received APDUs (default: authenticated), so a flipped security control byte cannot
    downgrade an APDU to unauthenticated. Keys are never shown by ``repr`` or in errors.
    """

    __slots__ = (
        "_aad",
        "_aead",
        "_agreement_key",
        "_ak",
        "_fast_receive",
        "_hls_received",
        "_keys",
        "_min_security",
        "_peer_agreement_key",
        "_peer_signing_key",
        "_peer_title",
        "_random",
        "_receive_plans",
        "_received",
        "_send_plans",
        "_signing_key",
        "_store",
        "_suite",
        "_title",
    )

    def __init__(
        self,
        *,
        system_title: bytes,
        peer_system_title: bytes | None = None,
        suite: SecuritySuite = SecuritySuite.AES_GCM_128,
        global_unicast_key: bytes | None = None,
        global_broadcast_key: bytes | None = None,
        authentication_key: bytes | None = None,
        master_key: bytes | None = None,
        dedicated_key: bytes | None = None,
        counter_store: InvocationCounterStore | None = None,
        min_security: SecurityControl | int = SecurityControl.AUTHENTICATED,
        signing_key: ec.EllipticCurvePrivateKey | None = None,
        peer_signing_key: ec.EllipticCurvePublicKey | None = None,
        key_agreement_key: ec.EllipticCurvePrivateKey | None = None,
        peer_key_agreement_key: ec.EllipticCurvePublicKey | None = None,
        random_source: Callable[[int], bytes] = secrets.token_bytes,
    ) -> None:
        title = _title(system_title, "system_title")
        assert title is not None
        self._title: bytes = title
        self._peer_title = _title(peer_system_title, "peer_system_title")
        self._suite = SecuritySuite(suite)
        if int(min_security) & ~0x30:
            raise LocalProtocolError("min_security may only name AUTHENTICATED and ENCRYPTED")
        self._min_security = int(min_security)
        self._store: InvocationCounterStore = (
            counter_store if counter_store is not None else MemoryCounterStore()
        )
        self._keys: dict[KeyId, bytes] = {}
        self._aead: dict[KeyId, AESGCM] = {}
        self._aad: dict[int, bytes] = {}
        self._send_plans: dict[object, _SendPlan] = {}
        self._receive_plans: dict[int, _ReceivePlan] = {}
        self._fast_receive: dict[int, _FastPlan] = {}
        self._ak = b""
        # last accepted counter per key, then per sender system title, kept as the 4
        # big-endian bytes of the header: equal-length big-endian bytes order like the
        # integers, so the replay check needs no conversion
        self._received: dict[KeyId, dict[bytes, bytes]] = {k: {} for k in _KEY_IDS}
        # counters of the peer's HLS-GMAC responses, apart from those of its APDUs: the
        # ciphered APDU carrying f(StoC) uses a later counter than f(StoC) itself and
        # is accepted first
        self._hls_received: dict[bytes, bytes] = {}
        self._signing_key = signing_key
        self._peer_signing_key = peer_signing_key
        self._agreement_key = key_agreement_key
        self._peer_agreement_key = peer_key_agreement_key
        self._random = random_source
        for key_id, key in (
            (KeyId.GLOBAL_UNICAST_ENCRYPTION, global_unicast_key),
            (KeyId.GLOBAL_BROADCAST_ENCRYPTION, global_broadcast_key),
            (KeyId.AUTHENTICATION, authentication_key),
            (KeyId.MASTER, master_key),
            (KeyId.DEDICATED, dedicated_key),
        ):
            if key is not None:
                self._install(key_id, key)

    # -- configuration ----------------------------------------------------------------

    def __repr__(self) -> str:
        peer = self._peer_title.hex().upper() if self._peer_title else None
        keys = ", ".join(k.name for k in sorted(self._keys))
        return (
            f"{type(self).__name__}(system_title={self._title.hex().upper()},"
            f" peer_system_title={peer},"
            f" suite={self._suite.name}, keys=[{keys}],"
            f" min_security={SecurityControl(self._min_security)!r})"
        )

    def _install(self, key_id: KeyId, key: bytes) -> None:
        key = bytes(key)
        expected = key_length(self._suite)
        if len(key) != expected:
            raise LocalProtocolError(
                f"{key_id.name} key must be {expected} bytes for suite {int(self._suite)},"
                f" got {len(key)}"
            )
        self._keys[key_id] = key
        self._send_plans.clear()
        self._receive_plans.clear()
        self._fast_receive.clear()
        if key_id in _CIPHER_KEYS:
            self._aead[key_id] = new_aead(key)
        if key_id == KeyId.AUTHENTICATION:
            self._ak = key
            self._aad.clear()

    @property
    def system_title(self) -> bytes:
        return self._title

    @property
    def peer_system_title(self) -> bytes | None:
        return self._peer_title

    @peer_system_title.setter
    def peer_system_title(self, value: bytes | None) -> None:
        """Set when the peer's title becomes known (calling/responding-AP-title)."""
        self._peer_title = _title(value, "peer_system_title")

    @property
    def suite(self) -> SecuritySuite:
        return self._suite

    @property
    def counter_store(self) -> InvocationCounterStore:
        return self._store

    def has_key(self, key_id: KeyId) -> bool:
        return key_id in self._keys

    def set_dedicated_key(self, key: bytes | None) -> None:
        """Install (or drop) the dedicated key proposed in the InitiateRequest.

        A new dedicated key starts new counters on the peer's side, so the record of
        the peer's last accepted counters under the dedicated key is cleared.
        """
        self._forget_received(KeyId.DEDICATED)
        self._send_plans.clear()
        self._receive_plans.clear()
        self._fast_receive.clear()
        if key is None:
            self._keys.pop(KeyId.DEDICATED, None)
            self._aead.pop(KeyId.DEDICATED, None)
            return
        self._install(KeyId.DEDICATED, key)

    def change_key(self, key_id: KeyId, key: bytes, *, restart_counters: bool = True) -> None:
        """Replace a key (after key_transfer); by default its counters restart at 0.

        Restarting is safe only because the key changes: refusing an unchanged key
        keeps a counter reset from ever reusing an IV.
        """
        key_id = KeyId(key_id)
        old = self._keys.get(key_id)
        if old is not None and hmac.compare_digest(old, bytes(key)):
            raise LocalProtocolError(f"the new {key_id.name} key equals the old one")
        self._install(key_id, key)
        if restart_counters and key_id in _CIPHER_KEYS:
            self._store.reset(self._title, int(key_id))
            self._forget_received(key_id)

    def _forget_received(self, key_id: KeyId) -> None:
        self._received[key_id].clear()
        if key_id == KeyId.GLOBAL_UNICAST_ENCRYPTION:
            self._hls_received.clear()

    def last_accepted(self, system_title: bytes, key_id: KeyId) -> int | None:
        """The last invocation counter accepted from ``system_title`` under ``key_id``."""
        last = self._received[KeyId(key_id)].get(bytes(system_title))
        return None if last is None else int.from_bytes(last, "big")

    def set_last_accepted(self, system_title: bytes, key_id: KeyId, value: int) -> None:
        """Seed the replay check (e.g. from a persisted value); only moves forward."""
        received = self._received[KeyId(key_id)]
        title = bytes(system_title)
        last = received.get(title)
        if last is None or value > int.from_bytes(last, "big"):
            received[title] = value.to_bytes(4, "big")

    def accepted_counters(self) -> dict[tuple[bytes, KeyId], int]:
        """A snapshot of every last accepted counter, to persist and later seed back with
        :meth:`set_last_accepted` (so a restarted head-end still refuses old pushes)."""
        return {
            (title, key_id): int.from_bytes(last, "big")
            for key_id, received in self._received.items()
            for title, last in received.items()
        }

    # -- checks shared by every ciphering form ---------------------------------------

    def _aead_for(self, key_id: KeyId) -> AESGCM:
        aead = self._aead.get(key_id)
        if aead is None:
            raise SecurityError(f"no {key_id.name} key is set in this security context")
        return aead

    def _aad_prefix(self, sc: int) -> bytes:
        """SC || AK, cached per security control value."""
        aad = self._aad.get(sc)
        if aad is None:
            if sc & 0x10 and not self._ak:
                raise SecurityError("authentication requested but no AUTHENTICATION key is set")
            aad = bytes((sc,)) + self._ak
            self._aad[sc] = aad
        return aad

    def _security_byte(self, security: SecurityControl | int, broadcast: bool) -> int:
        flags = int(security)
        if flags & 0x80:
            raise LocalProtocolError("compression (V.44) is not supported")
        if flags & 0x40:
            raise LocalProtocolError("ask for the broadcast key with broadcast=True")
        if flags & ~0x30 or not flags & 0x30:
            raise LocalProtocolError(
                f"security 0x{flags:02X} must ask for authentication and/or encryption"
            )
        if broadcast:
            flags |= 0x40
        return flags | self._suite

    def _check_received_sc(self, sc: int) -> None:
        if sc & 0x80:
            raise SecurityError("compression (V.44) is not supported")
        if sc & 0x0F != self._suite:
            raise SecurityError(
                f"APDU uses security suite {sc & 0x0F}, this context suite {int(self._suite)}"
            )
        if sc & self._min_security != self._min_security:
            raise SecurityError(
                f"security control 0x{sc:02X} gives less protection than required"
                f" ({SecurityControl(self._min_security)!r})"
            )

    def _check_counter(self, title: bytes, key_id: KeyId, ic: int) -> dict[bytes, bytes]:
        """Raise for a replayed counter; return where to record it once accepted."""
        received = self._received[key_id]
        _check_replay(received, title, ic.to_bytes(4, "big"))
        return received

    def _peer(self) -> bytes:
        if self._peer_title is None:
            raise LocalProtocolError("the peer system title is not known yet")
        return self._peer_title

    # -- HLS primitives (mechanisms 5 and 7) ------------------------------------------

    def gmac_response(self, challenge: bytes) -> bytes:
        """HLS-GMAC f(challenge) = SC || IC || GMAC (Green Book 9.2.7.4, Table 43).

        Uses the global unicast key, this side's system title and the next invocation
        counter (consumed).
        """
        aead = self._aead.get(KeyId.GLOBAL_UNICAST_ENCRYPTION)
        if aead is None:
            raise LocalProtocolError("HLS-GMAC needs the GLOBAL_UNICAST_ENCRYPTION key")
        sc = 0x10 | self._suite
        aad = self._aad_prefix(sc) + bytes(challenge)
        ic = self._store.next(self._title, KeyId.GLOBAL_UNICAST_ENCRYPTION).to_bytes(4, "big")
        return bytes((sc,)) + ic + gmac(aead, self._title + ic, aad)

    def verify_gmac_response(self, response: bytes, challenge: bytes) -> bool:
        """Check the peer's HLS-GMAC f(challenge); records its invocation counter.

        Raises InvocationCounterError for a counter at or below that of the peer's last
        accepted f() response. f() counters are checked among themselves, not against
        the counters of ciphered APDUs: in a ciphered association the APDU carrying
        f(StoC) (pass 3) or f(CtoS) (pass 4) was ciphered after f() was computed, so its
        later counter has already been accepted when f() is checked.
        """
        if len(response) != 17 or response[0] != 0x10 | self._suite:
            return False
        title = self._peer()
        aead = self._aead_for(KeyId.GLOBAL_UNICAST_ENCRYPTION)
        ic = response[1:5]
        _check_replay(self._hls_received, title, ic)
        aad = self._aad_prefix(response[0]) + bytes(challenge)
        ok = hmac.compare_digest(gmac(aead, title + ic, aad), response[5:])
        if ok:
            self._hls_received[title] = ic
        return ok

    def sign(self, data: bytes) -> bytes:
        """ECDSA signature (raw r || s) with this side's signing key."""
        if self._signing_key is None:
            raise LocalProtocolError("no signing key is set in this security context")
        return ecdsa_sign(self._signing_key, data)

    def verify_peer_signature(self, data: bytes, signature: bytes) -> bool:
        """Check a signature made with the peer's signing key."""
        if self._peer_signing_key is None:
            raise LocalProtocolError("no peer signing key is set in this security context")
        return ecdsa_verify(self._peer_signing_key, data, signature)
