"""SecurityContext: protecting and unprotecting APDUs in every ciphered form.

Sans-IO: nothing here blocks or reads a clock; the sender's invocation counters come from
an injected :class:`InvocationCounterStore` and randomness from an injected callable.
"""

from __future__ import annotations

import struct
from hmac import compare_digest
from typing import NoReturn

import attrs

from dlmskit.apdu._ciphered import (
    _CIPHERED_TO_PLAIN,
    _PLAIN_TO_CIPHERED,
    AgreedKey,
    CipheredApdu,
    GeneralCiphering,
    GeneralDedCiphering,
    GeneralGloCiphering,
    GeneralSigning,
    IdentifiedKey,
    IdentifiedKeyId,
    KeyInfo,
    WrappedKey,
    _decode_length,
    _encode_length,
)
from dlmskit.errors import DecodeError, LocalProtocolError, SecurityError
from dlmskit.security._cipher import gcm_open, gcm_seal, new_aead
from dlmskit.security._control import (
    CipheringForm,
    KeyId,
    SecurityControl,
    SecuritySuite,
    key_length,
)
from dlmskit.security._general import (
    agreed_content_key,
    general_aad,
    new_agreed_key,
    new_wrapped_key,
    unwrapped_content_key,
)
from dlmskit.security._signing import sign_general, verify_general
from dlmskit.security._state import SecurityState, _check_replay, _ReceivePlan, _SendPlan

__all__ = ["SecurityContext"]

# enum members as module constants: attribute access on an enum class costs more than an APDU
# header, and protect/unprotect are the hot path of every head-end and simulator
_UNICAST = KeyId.GLOBAL_UNICAST_ENCRYPTION
_BROADCAST = KeyId.GLOBAL_BROADCAST_ENCRYPTION
_DEDICATED = KeyId.DEDICATED
_GLO = CipheringForm.GLO
_DED = CipheringForm.DED
_GENERAL_GLO = CipheringForm.GENERAL_GLO
_GENERAL_DED = CipheringForm.GENERAL_DED
_GENERAL = CipheringForm.GENERAL
_SHORT_LENGTH = tuple(bytes((n,)) for n in range(0x80))
# plain tag -> glo- / ded- tag, 0 where there is none
_GLO_TAG = tuple(_PLAIN_TO_CIPHERED[t][0] if t in _PLAIN_TO_CIPHERED else 0 for t in range(256))
_DED_TAG = tuple(_PLAIN_TO_CIPHERED[t][1] if t in _PLAIN_TO_CIPHERED else 0 for t in range(256))
_TAG_LENGTH = 12
_IV = struct.Struct(">8sI")
_SHORT_HEADER = struct.Struct(">BBBI")  # tag, length < 0x80, SC, IC
_GENERAL_TAGS = frozenset((0xDB, 0xDC, 0xDD))


def _invocation_counter_of(ciphered: bytes) -> int:
    """The invocation counter in the security header of a ciphered APDU."""
    tag = ciphered[0]
    if tag == 0xDB:
        return GeneralGloCiphering.from_bytes(ciphered).invocation_counter
    if tag == 0xDC:
        return GeneralDedCiphering.from_bytes(ciphered).invocation_counter
    if tag == 0xDD:
        return GeneralCiphering.from_bytes(ciphered).invocation_counter
    return CipheredApdu.from_bytes(ciphered).invocation_counter


def _general_offset(data: bytes, n: int) -> int:
    """Where SC || IC || payload starts in a general-glo/-ded-ciphering APDU with an
    8-octet system title and a content length of one octet (< 0x80) or 0x81 and one
    octet, when that length is exactly what follows and holds the security header; 0
    otherwise (the envelope must then be parsed in full, which also says what is wrong)."""
    if n < 16 or data[1] != 8:
        return 0
    size = data[10]
    if size < 0x80:
        return 11 if size >= 5 and 11 + size == n else 0
    if size == 0x81 and n > 16 and 12 + data[11] == n and data[11] >= 5:
        return 12
    return 0


def _unknown_peer() -> NoReturn:
    """A received APDU names no sender and none is known yet: it cannot be opened (the
    IV needs the sender's system title), which is the peer's doing, not the caller's."""
    raise SecurityError("the peer system title is not known: the APDU cannot be opened")


class SecurityContext(SecurityState):
    """Keys, system titles and invocation counters of one association; protects APDUs.

    ``system_title`` is this side's (client or server) and the sender part of every IV it
    builds; ``peer_system_title`` is the other side's, used to open service-specific
    APDUs (which do not carry it). ``min_security`` is the least protection accepted on
    received APDUs (default: authenticated), so a flipped security control byte cannot
    downgrade an APDU to unauthenticated. Keys are never shown by ``repr`` or in errors.
    """

    __slots__ = ()

    def _receive_plan(self, sc: int, dedicated: bool) -> _ReceivePlan:
        """Check a received SC once per (SC, key kind) and remember what it needs."""
        self._check_received_sc(sc)
        key_id = _DEDICATED if dedicated else _UNICAST
        if sc & 0x40:
            if dedicated:
                raise SecurityError("broadcast key bit set on a dedicated-key APDU")
            key_id = _BROADCAST
        plan = (self._aead_for(key_id), self._aad_prefix(sc), self._received[key_id])
        self._receive_plans[sc | 0x100 if dedicated else sc] = plan
        return plan

    # -- protect / unprotect ----------------------------------------------------------

    def _send_plan(
        self, form: CipheringForm, security: SecurityControl | int, broadcast: bool
    ) -> _SendPlan:
        """Validate a protect request once per (form, security, broadcast) and remember it."""
        sc = self._security_byte(security, broadcast)
        dedicated = form is _DED or form is _GENERAL_DED
        if dedicated:
            if broadcast:
                raise LocalProtocolError("the broadcast key cannot be used with the dedicated key")
            key_id = _DEDICATED
        else:
            key_id = _BROADCAST if broadcast else _UNICAST
        aead = self._aead.get(key_id)
        if aead is None:
            raise LocalProtocolError(f"no {key_id.name} key is set in this security context")
        plan = (bytes((sc,)), sc, aead, self._aad_prefix(sc), key_id)
        self._send_plans[
            security if form is _GLO and not broadcast else (form, security, broadcast)
        ] = plan
        return plan

    def protect(
        self,
        apdu: bytes,
        *,
        form: CipheringForm = _GLO,
        security: SecurityControl | int = SecurityControl.AUTHENTICATED_ENCRYPTED,
        broadcast: bool = False,
    ) -> bytes:
        """Protect a plain APDU and return the ciphered APDU bytes.

        Uses the next invocation counter of (own system title, key) from the store.
        """
        if not apdu:
            raise LocalProtocolError("cannot protect an empty APDU")
        if form is _GLO and not broadcast:
            plan = self._send_plans.get(security) or self._send_plan(form, security, broadcast)
            tag = _GLO_TAG[apdu[0]]
            general = False
        else:
            if form is _GENERAL:
                return self.protect_general(apdu, security=security, broadcast=broadcast)
            plan = self._send_plans.get((form, security, broadcast)) or self._send_plan(
                form, security, broadcast
            )
            general = form is _GENERAL_GLO or form is _GENERAL_DED
            if general:
                tag = 0xDC if form is _GENERAL_DED else 0xDB
            else:
                tag = (_DED_TAG if form is _DED else _GLO_TAG)[apdu[0]]
        if not tag:
            raise LocalProtocolError(
                f"APDU tag 0x{apdu[0]:02X} has no service-specific ciphered form;"
                " use CipheringForm.GENERAL_GLO"
            )
        sc_byte, sc, aead, aad, key_id = plan
        title = self._title
        ic = self._store.next(title, key_id)
        if sc & 0x30 == 0x30:
            sealed = aead.encrypt(_IV.pack(title, ic), apdu, aad)
            n = len(sealed) + 1  # SC, IC and a 12-byte tag: 5 + len(apdu) + 12
            if n < 0x80 and not general:
                return _SHORT_HEADER.pack(tag, n, sc, ic) + sealed[:-4]
            payload = sealed[:-4]
        else:
            payload = gcm_seal(aead, _IV.pack(title, ic), sc, aad, bytes(apdu))
            n = 5 + len(payload)
        head = bytes((tag, 8)) + title if general else bytes((tag,))
        length = _SHORT_LENGTH[n] if n < 0x80 else _encode_length(n)
        return b"".join((head, length, sc_byte, ic.to_bytes(4, "big"), payload))

    def unprotect(self, data: bytes) -> bytes:
        """Check and remove the protection of a ciphered APDU; return the plain APDU.

        Raises DecodeError for malformed envelopes, SecurityError (or its subclass
        InvocationCounterError) when the tag, key, suite, policy or counter is wrong.
        """
        if type(data) is not bytes:
            data = bytes(data)
        n = len(data)
        # fast path: a service-specific APDU, short length, SC already accepted with both
        # authentication and encryption; the same checks as below, in fewer steps
        if n > 19 and data[1] == n - 2 and n < 0x82:
            fast = self._fast_receive.get(data[0] << 8 | data[2])
            title = self._peer_title
            if fast is not None and title is not None:
                fast_tag, aead, aad, received = fast
                ic_bytes = data[3:7]
                last = received.get(title)
                if last is not None and ic_bytes <= last:
                    _check_replay(received, title, ic_bytes)
                iv = title + ic_bytes
                size = n - 19
                result = aead.encrypt(iv, data[7:-12], None)[:size]
                if not compare_digest(aead.encrypt(iv, result, aad)[size:-4], data[-12:]):
                    raise SecurityError("authentication tag did not verify")
                if result[0] != fast_tag:
                    raise SecurityError("ciphered tag does not match the protected APDU")
                received[title] = ic_bytes
                return result
        if not data:
            raise DecodeError("empty input", offset=0, expected="ciphered APDU")
        tag = data[0]
        entry = _CIPHERED_TO_PLAIN.get(tag)
        plain: int | None
        if entry is not None:
            if n > 1 and data[1] < 0x80:
                length, offset = data[1], 2
            else:
                length, offset = _decode_length(data, 1)
            if offset + length != n:
                raise DecodeError(
                    f"length {length} does not match the {n - offset} bytes that follow",
                    offset=offset - 1,
                    expected="the length of the rest of the APDU",
                )
            if length < 5:
                raise DecodeError(
                    "ciphered content has no room for the security header",
                    offset=offset,
                    expected="security control and invocation counter",
                )
            plain, dedicated = entry
            title = self._peer_title or _unknown_peer()
        elif tag == 0xDB or tag == 0xDC:
            # an 8-octet system title and a one- or two-octet length (every envelope up to
            # 255 octets of content) are read in place; anything else is parsed in full
            offset = _general_offset(data, n)
            if offset:
                title = data[2:10]
            else:
                envelope: GeneralGloCiphering | GeneralDedCiphering = (
                    GeneralGloCiphering.from_bytes(data)
                    if tag == 0xDB
                    else GeneralDedCiphering.from_bytes(data)
                )
                title = envelope.system_title or self._peer_title or _unknown_peer()
                offset = n - len(envelope.payload) - 5
            if len(title) != 8:
                raise SecurityError(f"system title of {len(title)} bytes cannot form an IV")
            if self._peer_title is not None and title != self._peer_title:
                raise SecurityError(
                    f"system title {title.hex().upper()} is not the peer's"
                    f" {self._peer_title.hex().upper()}"
                )
            plain, dedicated = None, tag == 0xDC
        elif tag == 0xDD:
            return self._unprotect_general(GeneralCiphering.from_bytes(data))
        elif tag == 0xDF:
            return self._unprotect_signed(GeneralSigning.from_bytes(data))
        else:
            raise DecodeError(
                f"tag 0x{tag:02X} is not a ciphered APDU",
                offset=0,
                expected="glo-, ded- or general ciphering tag",
            )
        # data[offset:] is SC || IC || payload
        sc = data[offset]
        plan = self._receive_plans.get(sc | 0x100 if dedicated else sc)
        if plan is None:
            plan = self._receive_plan(sc, dedicated)
        aead, aad, received = plan
        ic_bytes = data[offset + 1 : offset + 5]
        _check_replay(received, title, ic_bytes)
        iv = title + ic_bytes
        if sc & 0x30 == 0x30:
            # gcm_open, inlined for the common case (see _cipher for the two encryptions)
            end = n - _TAG_LENGTH
            start = offset + 5
            if end < start:
                raise SecurityError("ciphered payload is shorter than the 12-byte tag")
            size = end - start
            result = aead.encrypt(iv, data[start:end], None)[:size]
            if not compare_digest(aead.encrypt(iv, result, aad)[size:-4], data[end:]):
                raise SecurityError("authentication tag did not verify")
        else:
            result = gcm_open(aead, iv, sc, aad, data[offset + 5 :])
        if plain is not None:
            if not result or result[0] != plain:
                raise SecurityError("ciphered tag does not match the protected APDU")
            if sc & 0x30 == 0x30:
                self._fast_receive[tag << 8 | sc] = (plain, aead, aad, received)
        received[title] = ic_bytes
        return result

    # -- general-ciphering ------------------------------------------------------------

    def protect_general(
        self,
        apdu: bytes,
        *,
        security: SecurityControl | int = SecurityControl.AUTHENTICATED_ENCRYPTED,
        broadcast: bool = False,
        key_info: type[KeyInfo] = IdentifiedKey,
        transaction_id: bytes | None = None,
        date_time: bytes = b"",
        other_information: bytes = b"",
    ) -> bytes:
        """Protect ``apdu`` as general-ciphering (0xDD).

        ``key_info`` chooses how the key is named: :class:`IdentifiedKey` (a global key),
        :class:`WrappedKey` (a fresh random key wrapped with the master key) or
        :class:`AgreedKey` (one-pass Diffie-Hellman against the peer's key-agreement key,
        suites 1 and 2). ``transaction_id`` defaults to the 8-byte invocation counter.
        """
        if not apdu:
            raise LocalProtocolError("cannot protect an empty APDU")
        sc = self._security_byte(security, broadcast)
        recipient = self._peer()
        info: KeyInfo
        if key_info is IdentifiedKey:
            key_id = _BROADCAST if broadcast else _UNICAST
            aead = self._aead.get(key_id)
            if aead is None:
                raise LocalProtocolError(f"no {key_id.name} key is set in this security context")
            info = IdentifiedKey(key_id=IdentifiedKeyId(int(key_id)))
        elif key_info is WrappedKey:
            master = self._keys.get(KeyId.MASTER)
            if master is None:
                raise LocalProtocolError("no MASTER key is set to wrap a content key")
            content_key = self._random(key_length(self._suite))
            key_id, aead = KeyId.MASTER, new_aead(content_key)
            info = new_wrapped_key(master, content_key)
        elif key_info is AgreedKey:
            if self._peer_agreement_key is None:
                raise LocalProtocolError("no peer key-agreement key is set for an agreed key")
            if self._suite == SecuritySuite.AES_GCM_128:
                raise LocalProtocolError("agreed keys need security suite 1 or 2")
            content_key, info = new_agreed_key(
                suite=self._suite,
                peer_agreement_key=self._peer_agreement_key,
                signing_key=self._signing_key,
                originator=self._title,
                recipient=recipient,
            )
            key_id, aead = KeyId.MASTER, new_aead(content_key)
        else:
            raise LocalProtocolError(f"unknown key-info kind {key_info!r}")
        ic = self._store.next(self._title, key_id)
        envelope = GeneralCiphering(
            transaction_id=transaction_id if transaction_id is not None else ic.to_bytes(8, "big"),
            originator_system_title=self._title,
            recipient_system_title=recipient,
            date_time=date_time,
            other_information=other_information,
            key_info=info,
            security_control=sc,
            invocation_counter=ic,
            payload=b"",
        )
        aad = general_aad(self._aad_prefix(sc), sc, envelope)
        payload = gcm_seal(aead, _IV.pack(self._title, ic), sc, aad, bytes(apdu))
        return attrs.evolve(envelope, payload=payload).to_bytes()

    def _unprotect_general(self, envelope: GeneralCiphering) -> bytes:
        title = envelope.originator_system_title
        if len(title) != 8:
            raise SecurityError(f"originator system title of {len(title)} bytes cannot form an IV")
        if self._peer_title is not None and title != self._peer_title:
            raise SecurityError(f"originator {title.hex().upper()} is not the peer")
        if envelope.recipient_system_title and envelope.recipient_system_title != self._title:
            raise SecurityError("general-ciphering APDU is addressed to another system title")
        sc = envelope.security_control
        self._check_received_sc(sc)
        info = envelope.key_info
        ic = envelope.invocation_counter
        if info is None or isinstance(info, IdentifiedKey):
            broadcast = (info is not None and info.key_id == 1) or bool(sc & 0x40)
            key_id = _BROADCAST if broadcast else _UNICAST
            received = self._check_counter(title, key_id, ic)
            aead = self._aead_for(key_id)
        elif isinstance(info, WrappedKey):
            received = self._check_counter(title, KeyId.MASTER, ic)
            aead = new_aead(unwrapped_content_key(info, self._keys.get(KeyId.MASTER)))
        else:
            received = self._check_counter(title, KeyId.MASTER, ic)
            content_key = agreed_content_key(
                info,
                suite=self._suite,
                agreement_key=self._agreement_key,
                peer_signing_key=self._peer_signing_key,
                originator=title,
                recipient=self._title,
            )
            aead = new_aead(content_key)
        aad = general_aad(self._aad_prefix(sc), sc, envelope)
        plain = gcm_open(aead, _IV.pack(title, ic), sc, aad, envelope.payload)
        received[title] = ic.to_bytes(4, "big")
        return plain

    # -- general-signing --------------------------------------------------------------

    def protect_signed(
        self,
        apdu: bytes,
        *,
        form: CipheringForm = _GENERAL_GLO,
        security: SecurityControl | int = SecurityControl.AUTHENTICATED_ENCRYPTED,
        transaction_id: bytes | None = None,
        date_time: bytes = b"",
        other_information: bytes = b"",
    ) -> bytes:
        """Cipher ``apdu`` (any form) and sign the result as general-signing (0xDF).

        The signature, with this side's signing key, covers transaction-id .. content;
        ``transaction_id`` defaults to the 8-byte invocation counter of the inner APDU.
        """
        if self._signing_key is None:
            raise LocalProtocolError("no signing key is set in this security context")
        content = self.protect(apdu, form=form, security=security)
        if transaction_id is None:
            transaction_id = _invocation_counter_of(content).to_bytes(8, "big")
        return sign_general(
            content,
            private_key=self._signing_key,
            transaction_id=transaction_id,
            originator_system_title=self._title,
            recipient_system_title=self._peer_title or b"",
            date_time=date_time,
            other_information=other_information,
        ).to_bytes()

    def _unprotect_signed(self, envelope: GeneralSigning) -> bytes:
        """Verify a general-signing APDU, then open the ciphered APDU it carries.

        Signed content must itself be ciphered: its invocation counter is what protects
        it against replay. Use :func:`verify_general` for signed plain content.
        """
        title = envelope.originator_system_title
        if self._peer_title is not None and title != self._peer_title:
            raise SecurityError(f"originator {title.hex().upper()} is not the peer")
        if envelope.recipient_system_title and envelope.recipient_system_title != self._title:
            raise SecurityError("general-signing APDU is addressed to another system title")
        if self._peer_signing_key is None:
            raise SecurityError("no peer signing key is set to verify general-signing")
        content = verify_general(envelope, public_key=self._peer_signing_key)
        if not content or not (content[0] in _CIPHERED_TO_PLAIN or content[0] in _GENERAL_TAGS):
            raise SecurityError("general-signing content is not a ciphered APDU")
        return self.unprotect(content)
