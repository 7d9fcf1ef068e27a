"""Cross-checks against gurux-dlms (GPL-2.0, test-only oracle) and cryptography's own GCM.

Gurux does not verify tags on authenticated+encrypted APDUs, so every tag dlmskit makes is
also checked with cryptography's streaming GCM decryptor (12-byte tag), a path independent
of the one dlmskit uses.
"""

from __future__ import annotations

import hashlib
import random

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from gurux_dlms.AesGcmParameter import AesGcmParameter
from gurux_dlms.CountType import CountType
from gurux_dlms.ecdsa.GXEcdsa import GXEcdsa
from gurux_dlms.ecdsa.GXPrivateKey import GXPrivateKey
from gurux_dlms.ecdsa.GXPublicKey import GXPublicKey
from gurux_dlms.enums import Authentication, InterfaceType
from gurux_dlms.enums.Security import Security
from gurux_dlms.GXByteBuffer import GXByteBuffer
from gurux_dlms.GXCiphering import GXCiphering
from gurux_dlms.GXDLMSChippering import GXDLMSChippering
from gurux_dlms.GXDLMSSettings import GXDLMSSettings
from gurux_dlms.GXSecure import GXSecure
from gurux_dlms.objects.enums.SecuritySuite import SecuritySuite as GuruxSuite
from gurux_dlms.secure.GXDLMSSecureClient import GXDLMSSecureClient
from gurux_dlms.secure.GXDLMSSecureNotify import GXDLMSSecureNotify

from dlmskit.apdu import CipheredApdu, GeneralCiphering
from dlmskit.security import (
    CipheringForm,
    HlsEcdsa,
    HlsGmac,
    HlsMd5,
    HlsSecret,
    HlsSha1,
    HlsSha256,
    InvocationCounterError,
    KeyId,
    MemoryCounterStore,
    SecurityContext,
    SecurityControl,
    SecuritySuite,
    TransferredKey,
    build_key_transfer,
    generate_key_pair,
    public_key_to_bytes,
    wrap_key,
)

SENDER_ST = bytes.fromhex("4D4D4D0000BC614E")
RECEIVER_ST = bytes.fromhex("4D4D4D0000000001")
PLAIN_TAGS = (0xC0, 0xC1, 0xC3, 0xC4, 0xC5, 0xC7, 0x01, 0x08)
GLO = {
    0xC0: 0xC8,
    0xC1: 0xC9,
    0xC3: 0xCB,
    0xC4: 0xCC,
    0xC5: 0xCD,
    0xC7: 0xCF,
    0x01: 0x21,
    0x08: 0x28,
}
DED = {
    0xC0: 0xD0,
    0xC1: 0xD1,
    0xC3: 0xD3,
    0xC4: 0xD4,
    0xC5: 0xD5,
    0xC7: 0xD7,
    0x01: 0x41,
    0x08: 0x48,
}


def _case(seed: int) -> tuple[bytes, bytes, bytes, bytes, bytes, int, int]:
    rnd = random.Random(seed)
    ek, ak, bk, dk = (rnd.randbytes(16) for _ in range(4))
    plain = bytes((rnd.choice(PLAIN_TAGS),)) + rnd.randbytes(rnd.randrange(0, 300))
    ic = rnd.randrange(0, 2**32)
    sc = rnd.choice((0x10, 0x20, 0x30))
    return ek, ak, bk, dk, plain, ic, sc


def _gurux_encrypt(
    tag: int, key: bytes, ak: bytes, sc: int, ic: int, plain: bytes, **kw: bool
) -> bytes:
    p = AesGcmParameter(tag, SENDER_ST, key, ak)
    p.security = Security(sc)
    p.invocationCounter = ic
    p.broadcast = kw.get("broadcast", False)
    return bytes(GXDLMSChippering.encryptAesGcm(p, plain))


def _receiver(ek: bytes, ak: bytes, bk: bytes, dk: bytes) -> SecurityContext:
    return SecurityContext(
        system_title=RECEIVER_ST,
        peer_system_title=SENDER_ST,
        global_unicast_key=ek,
        global_broadcast_key=bk,
        authentication_key=ak,
        dedicated_key=dk,
        min_security=SecurityControl.NONE,
    )


def _sender(ek: bytes, ak: bytes, bk: bytes, dk: bytes, key_id: KeyId, ic: int) -> SecurityContext:
    return SecurityContext(
        system_title=SENDER_ST,
        peer_system_title=RECEIVER_ST,
        global_unicast_key=ek,
        global_broadcast_key=bk,
        authentication_key=ak,
        dedicated_key=dk,
        counter_store=MemoryCounterStore({(SENDER_ST, int(key_id)): ic}),
    )


def _independent_tag_check(key: bytes, ic: int, sc: int, ak: bytes, payload: bytes) -> bytes:
    """Open SC 0x30 / 0x10 payloads with cryptography's streaming GCM and a 12-byte tag."""
    iv = SENDER_ST + ic.to_bytes(4, "big")
    body, tag = payload[:-12], payload[-12:]
    decryptor = Cipher(algorithms.AES(key), modes.GCM(iv, tag, min_tag_length=12)).decryptor()
    if sc & 0x30 == 0x30:
        decryptor.authenticate_additional_data(bytes((sc,)) + ak)
        return decryptor.update(body) + decryptor.finalize()
    decryptor.authenticate_additional_data(bytes((sc,)) + ak + body)
    decryptor.finalize()
    return body


@pytest.mark.parametrize("seed", range(24))
def test_gurux_glo_apdus_decipher_and_recipher_identically(seed: int) -> None:
    ek, ak, bk, dk, plain, ic, sc = _case(seed)
    wire = _gurux_encrypt(GLO[plain[0]], ek, ak, sc, ic, plain)
    assert _receiver(ek, ak, bk, dk).unprotect(wire) == plain
    ours = _sender(ek, ak, bk, dk, KeyId.GLOBAL_UNICAST_ENCRYPTION, ic).protect(plain, security=sc)
    assert ours == wire
    if sc & 0x10:
        payload = CipheredApdu.from_bytes(wire).payload
        assert _independent_tag_check(ek, ic, sc, ak, payload) == plain


@pytest.mark.parametrize("seed", range(100, 112))
def test_gurux_ded_apdus_use_the_dedicated_key(seed: int) -> None:
    ek, ak, bk, dk, plain, ic, sc = _case(seed)
    wire = _gurux_encrypt(DED[plain[0]], dk, ak, sc, ic, plain)
    assert _receiver(ek, ak, bk, dk).unprotect(wire) == plain
    ours = _sender(ek, ak, bk, dk, KeyId.DEDICATED, ic).protect(
        plain, form=CipheringForm.DED, security=sc
    )
    assert ours == wire


@pytest.mark.parametrize("seed", range(200, 212))
def test_gurux_general_glo_and_ded(seed: int) -> None:
    ek, ak, bk, dk, plain, ic, sc = _case(seed)
    for tag, key, form, key_id in (
        (0xDB, ek, CipheringForm.GENERAL_GLO, KeyId.GLOBAL_UNICAST_ENCRYPTION),
        (0xDC, dk, CipheringForm.GENERAL_DED, KeyId.DEDICATED),
    ):
        wire = _gurux_encrypt(tag, key, ak, sc, ic, plain)
        assert _receiver(ek, ak, bk, dk).unprotect(wire) == plain
        ours = _sender(ek, ak, bk, dk, key_id, ic).protect(plain, form=form, security=sc)
        assert ours == wire


@pytest.mark.parametrize("seed", range(300, 306))
def test_gurux_broadcast_key(seed: int) -> None:
    ek, ak, bk, dk, plain, ic, sc = _case(seed)
    wire = _gurux_encrypt(GLO[plain[0]], bk, ak, sc, ic, plain, broadcast=True)
    assert CipheredApdu.from_bytes(wire).security_control == sc | 0x40
    assert _receiver(ek, ak, bk, dk).unprotect(wire) == plain
    ours = _sender(ek, ak, bk, dk, KeyId.GLOBAL_BROADCAST_ENCRYPTION, ic).protect(
        plain, security=sc, broadcast=True
    )
    assert ours == wire


@pytest.mark.parametrize("seed", range(400, 406))
def test_gurux_deciphers_what_dlmskit_protects(seed: int) -> None:
    ek, ak, bk, dk, plain, ic, sc = _case(seed)
    ours = _sender(ek, ak, bk, dk, KeyId.GLOBAL_UNICAST_ENCRYPTION, ic).protect(
        plain, form=CipheringForm.GENERAL_GLO, security=sc
    )
    settings = GXDLMSSettings(False, None)
    p = AesGcmParameter(0, SENDER_ST, ek, ak)
    p.settings = settings
    assert bytes(GXDLMSChippering.decryptAesGcm(settings, p, GXByteBuffer(ours))) == plain


# -- HLS against gurux GXSecure -------------------------------------------------------------


def _gurux_secure(authentication: Authentication, challenge: bytes, secret: bytes) -> bytes:
    settings = GXDLMSSettings(False, None)
    settings.authentication = authentication
    return bytes(GXSecure.secure(settings, None, 0, challenge, secret))


@pytest.mark.parametrize("seed", range(6))
def test_hls_transforms_match_gurux(seed: int) -> None:
    rnd = random.Random(seed)
    secret = rnd.randbytes(16)
    stoc, ctos = rnd.randbytes(rnd.randrange(8, 65)), rnd.randbytes(16)
    client = SecurityContext(system_title=RECEIVER_ST, peer_system_title=SENDER_ST)
    for mechanism, auth in (
        (HlsSecret(secret=secret), Authentication.HIGH),
        (HlsMd5(secret=secret), Authentication.HIGH_MD5),
        (HlsSha1(secret=secret), Authentication.HIGH_SHA1),
    ):
        assert mechanism.client_response(client, stoc=stoc, ctos=ctos) == _gurux_secure(
            auth, stoc, secret
        )
    prepared = secret + RECEIVER_ST + SENDER_ST + stoc + ctos
    expected = _gurux_secure(Authentication.HIGH_SHA256, b"", prepared)
    assert expected == hashlib.sha256(prepared).digest()
    assert HlsSha256(secret=secret).client_response(client, stoc=stoc, ctos=ctos) == expected


@pytest.mark.parametrize("seed", range(4))
def test_hls_gmac_matches_gurux(seed: int) -> None:
    rnd = random.Random(seed)
    ek, ak = rnd.randbytes(16), rnd.randbytes(16)
    ic = rnd.randrange(0, 2**32 - 1)
    stoc = rnd.randbytes(16)
    settings = GXDLMSSettings(False, None)
    settings.authentication = Authentication.HIGH_GMAC
    cipher = GXCiphering(RECEIVER_ST)
    cipher.blockCipherKey = ek
    cipher.authenticationKey = ak
    expected = bytes(GXSecure.secure(settings, cipher, ic, stoc, RECEIVER_ST))
    client = SecurityContext(
        system_title=RECEIVER_ST,
        peer_system_title=SENDER_ST,
        global_unicast_key=ek,
        authentication_key=ak,
        counter_store=MemoryCounterStore({(RECEIVER_ST, 0): ic}),
    )
    assert HlsGmac().client_response(client, stoc=stoc, ctos=b"") == expected


# -- a whole ciphered AARQ built by the gurux client --------------------------------------


@pytest.mark.parametrize("seed", range(3))
def test_gurux_ciphered_aarq_initiate_request(seed: int) -> None:
    rnd = random.Random(seed)
    ek, ak, dk = rnd.randbytes(16), rnd.randbytes(16), rnd.randbytes(16)
    ic = rnd.randrange(0, 2**32)
    client = GXDLMSSecureClient(True, 48, 1, Authentication.LOW, "12345678", InterfaceType.WRAPPER)
    client.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    client.ciphering.systemTitle = RECEIVER_ST
    client.ciphering.blockCipherKey = ek
    client.ciphering.authenticationKey = ak
    client.ciphering.invocationCounter = ic
    client.ciphering.dedicatedKey = dk
    (frame,) = client.aarqRequest()
    aarq = bytes(frame)[8:]  # after the 8-byte wrapper header
    assert aarq[0] == 0x60
    title_at = aarq.index(bytes.fromhex("A60A0408")) + 4
    calling_title = aarq[title_at : title_at + 8]
    assert calling_title == RECEIVER_ST
    user_information = aarq[aarq.index(b"\xbe") :]
    assert user_information[2] == 0x04 and user_information[3] == len(user_information) - 4
    glo_initiate = user_information[4:]
    meter = SecurityContext(
        system_title=SENDER_ST,
        peer_system_title=calling_title,
        global_unicast_key=ek,
        authentication_key=ak,
    )
    initiate = meter.unprotect(glo_initiate)
    assert initiate[:3] == b"\x01\x01\x10" and initiate[3:19] == dk
    assert meter.last_accepted(RECEIVER_ST, KeyId.GLOBAL_UNICAST_ENCRYPTION) == ic
    # dlmskit, as the client, ciphers the same InitiateRequest to the same bytes
    ours = SecurityContext(
        system_title=RECEIVER_ST,
        global_unicast_key=ek,
        authentication_key=ak,
        counter_store=MemoryCounterStore({(RECEIVER_ST, 0): ic}),
    )
    assert ours.protect(initiate) == glo_initiate


def test_gurux_key_wrap_and_key_transfer_data() -> None:
    rnd = random.Random(7)
    kek = rnd.randbytes(16)
    keys = [(KeyId(i), rnd.randbytes(16)) for i in (0, 1, 2)]
    expected = bytearray(b"\x01\x03")
    for key_id, key in keys:
        wrapped = bytes(GXDLMSSecureClient.encrypt(kek, key))
        assert wrap_key(kek, key) == wrapped
        expected += bytes((0x02, 0x02, 0x16, key_id, 0x09, len(wrapped))) + wrapped
    transfer = build_key_transfer(
        [TransferredKey(key_id=key_id, key=key) for key_id, key in keys], kek=kek
    )
    assert transfer == bytes(expected)


def test_gurux_ciphered_push_is_opened_and_replay_refused() -> None:
    notify = GXDLMSSecureNotify(True, 1, 64, InterfaceType.WRAPPER)
    notify.ciphering.security = Security.AUTHENTICATION_ENCRYPTION
    notify.ciphering.systemTitle = SENDER_ST
    notify.ciphering.blockCipherKey = bytes(range(16))
    notify.ciphering.authenticationKey = bytes(range(0xD0, 0xE0))
    notify.ciphering.invocationCounter = 77
    body = GXByteBuffer()
    body.set(bytes.fromhex("0903616263"))  # octet-string "abc"
    (frame,) = notify.generateDataNotificationMessages(None, body)
    apdu = bytes(frame)[8:]
    assert apdu[0] == 0xDB and apdu[2:10] == SENDER_ST
    # a head-end context that learns the meter's title from the push itself
    head_end = SecurityContext(
        system_title=RECEIVER_ST,
        global_unicast_key=bytes(range(16)),
        authentication_key=bytes(range(0xD0, 0xE0)),
    )
    plain = head_end.unprotect(apdu)
    assert plain[0] == 0x0F and plain.endswith(bytes.fromhex("0903616263"))
    assert head_end.last_accepted(SENDER_ST, KeyId.GLOBAL_UNICAST_ENCRYPTION) == 77
    with pytest.raises(InvocationCounterError) as info:
        head_end.unprotect(apdu)
    assert info.value.expected == 78


@pytest.mark.parametrize("suite", [1, 2])
@pytest.mark.parametrize("seed", range(3))
def test_gurux_general_ciphering_aad_of_suites_1_and_2(suite: int, seed: int) -> None:
    rnd = random.Random(seed)
    n = 16 if suite == 1 else 32
    ek, ak = rnd.randbytes(n), rnd.randbytes(n)
    plain = b"\xc0" + rnd.randbytes(rnd.randrange(1, 200))
    ic = rnd.randrange(0, 2**32)
    ctx = SecurityContext(
        system_title=RECEIVER_ST,
        peer_system_title=SENDER_ST,
        suite=SecuritySuite(suite),
        global_unicast_key=ek,
        authentication_key=ak,
        counter_store=MemoryCounterStore({(RECEIVER_ST, 0): ic}),
    )
    envelope = GeneralCiphering.from_bytes(ctx.protect_general(plain))
    assert envelope.transaction_id == ic.to_bytes(8, "big")
    p = AesGcmParameter(0, RECEIVER_ST, ek, ak)
    p.security = Security.AUTHENTICATION_ENCRYPTION
    p.securitySuite = GuruxSuite(suite)
    p.invocationCounter = ic
    p.recipientSystemTitle = SENDER_ST
    p.type_ = CountType.DATA | CountType.TAG
    assert bytes(GXDLMSChippering.encryptAesGcm(p, plain)) == envelope.payload


def test_gurux_ecdsa_signatures_interoperate_with_hls_mechanism_7() -> None:
    # P-256 only: gurux-dlms 1.0.203 cannot load a raw P-384 private key
    suite = 1
    dlms_suite = SecuritySuite(suite)
    client_key, server_key = generate_key_pair(dlms_suite), generate_key_pair(dlms_suite)
    size = 32
    gurux_client = GXPrivateKey.fromRawBytes(
        client_key.private_numbers().private_value.to_bytes(size, "big")
    )
    stoc, ctos = random.Random(suite).randbytes(32), random.Random(-suite).randbytes(16)
    # gurux signs f(StoC) as the client; dlmskit's server checks it
    f_stoc = bytes(GXEcdsa(gurux_client).sign(RECEIVER_ST + SENDER_ST + stoc + ctos))
    assert len(f_stoc) == 2 * size
    server = SecurityContext(
        system_title=SENDER_ST,
        peer_system_title=RECEIVER_ST,
        suite=dlms_suite,
        signing_key=server_key,
        peer_signing_key=client_key.public_key(),
    )
    assert HlsEcdsa().server_check(server, f_stoc, stoc=stoc, ctos=ctos)
    # dlmskit's server answers f(CtoS); gurux verifies it with the server's public key
    f_ctos = HlsEcdsa().server_response(server, stoc=stoc, ctos=ctos)
    gurux_server_public = GXPublicKey.fromRawBytes(
        b"\x04" + public_key_to_bytes(server_key.public_key())
    )
    assert GXEcdsa(gurux_server_public).verify(f_ctos, SENDER_ST + RECEIVER_ST + ctos + stoc)
    assert not GXEcdsa(gurux_server_public).verify(f_ctos, SENDER_ST + RECEIVER_ST + stoc + ctos)
