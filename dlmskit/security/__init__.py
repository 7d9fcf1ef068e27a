"""DLMS/COSEM security (Green Book ch. 9, DLMS UA 1000-2): sans-IO, keys never shown.

One :class:`SecurityContext` per association holds the security suite, both system
titles, the symmetric keys and the invocation counters, and protects APDUs::

    ctx = SecurityContext(
        system_title=client_st, peer_system_title=server_st,
        global_unicast_key=ek, authentication_key=ak,
        counter_store=FileCounterStore("ic.json"),     # the sender's counters survive restarts
    )
    wire = ctx.protect(get_request_bytes)              # glo-get-request, SC 0x30
    wire = ctx.protect(apdu, form=CipheringForm.GENERAL_GLO,
                       security=SecurityControl.AUTHENTICATED)
    wire = ctx.protect_general(apdu, key_info=dlmskit.apdu.WrappedKey)  # 0xDD
    wire = ctx.protect_signed(apdu)                    # general-signing over general-glo
    plain = ctx.unprotect(received)                    # any glo-/ded-/general/signed form

``unprotect`` verifies the 12-byte tag (always, also where gurux-dlms does not), refuses
compression (V.44), a foreign suite, less protection than ``min_security`` and a
ciphered tag that does not match the APDU inside, and rejects a replayed invocation
counter with :class:`InvocationCounterError` (its ``expected`` is what an
exception-response invocation-counter-error carries). A sender counter past 2**32 - 1
raises :class:`InvocationCounterExhausted`: change the key
(:meth:`SecurityContext.change_key`).

Association machines use, besides ``protect``/``unprotect``:

* ``set_dedicated_key`` (from the InitiateRequest), ``peer_system_title`` (from the
  calling/responding-AP-title), ``last_accepted`` / ``set_last_accepted`` /
  ``accepted_counters`` (the replay state per sender system title and key, to persist
  and seed back after a restart);
* an authentication mechanism: :class:`LowLevelSecurity` (1), :class:`HlsSecret` (2,
  AES-ECB by default, pluggable), :class:`HlsMd5` (3), :class:`HlsSha1` (4),
  :class:`HlsGmac` (5), :class:`HlsSha256` (6), :class:`HlsEcdsa` (7), each with
  ``client_response`` / ``server_check`` / ``server_response`` / ``client_check``,
  challenges from :func:`new_challenge`;
* key management: :func:`build_key_transfer` / :func:`parse_key_transfer` (RFC 3394),
  :func:`key_agreement_entry` / :func:`peer_ephemeral_key` with :func:`derive_key`
  (ECDH + SP 800-56A KDF), :func:`sign_general` / :func:`verify_general`
  (general-signing), X.509 certificates through ``cryptography``.

general-ciphering authenticates its header fields (transaction-id to
other-information) in the AAD for every suite, as gurux-dlms does for suites 1 and 2;
agreed keys in general-ciphering are one-pass Diffie-Hellman C(1e, 1s).
"""

from __future__ import annotations

from dlmskit.security._certificates import (
    certificate_public_key,
    certificate_system_title,
    export_certificate,
    load_certificate,
)
from dlmskit.security._cipher import TAG_LENGTH
from dlmskit.security._context import SecurityContext
from dlmskit.security._control import (
    CipheringForm,
    KeyId,
    SecurityControl,
    SecurityPolicy,
    SecuritySuite,
    key_length,
    required_security,
)
from dlmskit.security._counters import (
    MAX_INVOCATION_COUNTER,
    FileCounterStore,
    InvocationCounterError,
    InvocationCounterExhausted,
    InvocationCounterStore,
    MemoryCounterStore,
)
from dlmskit.security._hls import (
    HlsEcdsa,
    HlsGmac,
    HlsMd5,
    HlsMechanism,
    HlsSecret,
    HlsSha1,
    HlsSha256,
    LowLevelSecurity,
    aes_ecb_transform,
    new_challenge,
)
from dlmskit.security._kdf import (
    AlgorithmId,
    KeyAgreementScheme,
    concat_kdf,
    derive_key,
    ecdh_shared_secret,
    key_agreement_entry,
    peer_ephemeral_key,
)
from dlmskit.security._keywrap import (
    KeyDataEntry,
    TransferredKey,
    build_key_data,
    build_key_transfer,
    parse_key_data,
    parse_key_transfer,
    unwrap_key,
    wrap_key,
)
from dlmskit.security._signing import (
    curve_for_suite,
    ecdsa_sign,
    ecdsa_verify,
    generate_key_pair,
    public_key_from_bytes,
    public_key_to_bytes,
    sign_general,
    suite_for_key,
    verify_general,
)

__all__ = [
    "MAX_INVOCATION_COUNTER",
    "TAG_LENGTH",
    "AlgorithmId",
    "CipheringForm",
    "FileCounterStore",
    "HlsEcdsa",
    "HlsGmac",
    "HlsMd5",
    "HlsMechanism",
    "HlsSecret",
    "HlsSha1",
    "HlsSha256",
    "InvocationCounterError",
    "InvocationCounterExhausted",
    "InvocationCounterStore",
    "KeyAgreementScheme",
    "KeyDataEntry",
    "KeyId",
    "LowLevelSecurity",
    "MemoryCounterStore",
    "SecurityContext",
    "SecurityControl",
    "SecurityPolicy",
    "SecuritySuite",
    "TransferredKey",
    "aes_ecb_transform",
    "build_key_data",
    "build_key_transfer",
    "certificate_public_key",
    "certificate_system_title",
    "concat_kdf",
    "curve_for_suite",
    "derive_key",
    "ecdh_shared_secret",
    "ecdsa_sign",
    "ecdsa_verify",
    "export_certificate",
    "generate_key_pair",
    "key_agreement_entry",
    "key_length",
    "load_certificate",
    "new_challenge",
    "parse_key_data",
    "parse_key_transfer",
    "peer_ephemeral_key",
    "public_key_from_bytes",
    "public_key_to_bytes",
    "required_security",
    "sign_general",
    "suite_for_key",
    "unwrap_key",
    "verify_general",
    "wrap_key",
]
