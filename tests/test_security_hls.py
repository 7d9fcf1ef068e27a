"""Authentication mechanisms 1..7 in both roles, with and without a dedicated key."""

from __future__ import annotations

import hashlib
import itertools

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from dlmskit.errors import LocalProtocolError
from dlmskit.security import (
    HlsEcdsa,
    HlsGmac,
    HlsMd5,
    HlsMechanism,
    HlsSecret,
    HlsSha1,
    HlsSha256,
    InvocationCounterError,
    LowLevelSecurity,
    SecurityContext,
    SecuritySuite,
    aes_ecb_transform,
    generate_key_pair,
    new_challenge,
)

CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
SECRET = bytes.fromhex("30313233343536373839414243444546")  # "0123456789ABCDEF"


def _contexts(suite: SecuritySuite, dedicated: bool) -> tuple[SecurityContext, SecurityContext]:
    n = 32 if suite == SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384 else 16
    ek, ak, dk = bytes(range(n)), bytes(range(0xD0, 0xD0 + n)), bytes(range(0x40, 0x40 + n))
    ecc = suite != SecuritySuite.AES_GCM_128
    client_sign = generate_key_pair(suite) if ecc else None
    server_sign = generate_key_pair(suite) if ecc else None
    client = SecurityContext(
        system_title=CLIENT_ST,
        peer_system_title=SERVER_ST,
        suite=suite,
        global_unicast_key=ek,
        authentication_key=ak,
        dedicated_key=dk if dedicated else None,
        signing_key=client_sign,
        peer_signing_key=server_sign.public_key() if server_sign else None,
    )
    server = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=CLIENT_ST,
        suite=suite,
        global_unicast_key=ek,
        authentication_key=ak,
        dedicated_key=dk if dedicated else None,
        signing_key=server_sign,
        peer_signing_key=client_sign.public_key() if client_sign else None,
    )
    return client, server


MECHANISMS: list[tuple[HlsMechanism, SecuritySuite]] = [
    (HlsSecret(secret=SECRET), SecuritySuite.AES_GCM_128),
    (HlsMd5(secret=SECRET), SecuritySuite.AES_GCM_128),
    (HlsSha1(secret=SECRET), SecuritySuite.AES_GCM_128),
    (HlsGmac(), SecuritySuite.AES_GCM_128),
    (HlsGmac(), SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384),
    (HlsSha256(secret=SECRET), SecuritySuite.AES_GCM_128),
    (HlsEcdsa(), SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256),
    (HlsEcdsa(), SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384),
]


@pytest.mark.parametrize("dedicated", [False, True])
@pytest.mark.parametrize(("mechanism", "suite"), MECHANISMS)
def test_four_pass_both_roles(
    mechanism: HlsMechanism, suite: SecuritySuite, dedicated: bool
) -> None:
    client, server = _contexts(suite, dedicated)
    ctos, stoc = new_challenge(16), new_challenge(32)
    f_stoc = mechanism.client_response(client, stoc=stoc, ctos=ctos)
    assert mechanism.server_check(server, f_stoc, stoc=stoc, ctos=ctos)
    f_ctos = mechanism.server_response(server, stoc=stoc, ctos=ctos)
    assert mechanism.client_check(client, f_ctos, stoc=stoc, ctos=ctos)
    # a response is bound to its direction and to the challenge
    assert f_stoc != f_ctos
    other = new_challenge(16)
    fresh_client, fresh_server = _contexts(suite, dedicated)
    assert not mechanism.server_check(fresh_server, f_stoc, stoc=other, ctos=ctos)
    tampered = bytes([f_stoc[0], *f_stoc[1:-1], f_stoc[-1] ^ 1])
    assert not mechanism.server_check(fresh_server, tampered, stoc=stoc, ctos=ctos)
    assert not mechanism.client_check(fresh_client, f_stoc, stoc=stoc, ctos=ctos)


@pytest.mark.parametrize(
    ("mechanism", "suite"), [(m, s) for m, s in MECHANISMS if not isinstance(m, HlsEcdsa)]
)
def test_dedicated_key_does_not_change_the_response(
    mechanism: HlsMechanism, suite: SecuritySuite
) -> None:
    ctos, stoc = new_challenge(8), new_challenge(64)
    plain_client, _ = _contexts(suite, False)
    ded_client, _ = _contexts(suite, True)
    assert mechanism.client_response(plain_client, stoc=stoc, ctos=ctos) == (
        mechanism.client_response(ded_client, stoc=stoc, ctos=ctos)
    )


def test_known_answers_of_the_challenge_mechanisms() -> None:
    stoc = bytes.fromhex("503677524A323146")
    ctx = SecurityContext(system_title=CLIENT_ST, peer_system_title=SERVER_ST)
    encryptor = Cipher(algorithms.AES(SECRET), modes.ECB()).encryptor()
    assert HlsSecret(secret=SECRET).client_response(ctx, stoc=stoc, ctos=b"") == (
        encryptor.update(stoc + bytes(8)) + encryptor.finalize()
    )
    assert HlsMd5(secret=SECRET).client_response(ctx, stoc=stoc, ctos=b"") == (
        hashlib.md5(stoc + SECRET).digest()
    )
    assert HlsSha1(secret=SECRET).client_response(ctx, stoc=stoc, ctos=b"") == (
        hashlib.sha1(stoc + SECRET).digest()
    )
    ctos = bytes.fromhex("4B35366956616759")
    assert (
        HlsSha256(secret=SECRET).server_response(
            SecurityContext(system_title=SERVER_ST, peer_system_title=CLIENT_ST),
            stoc=stoc,
            ctos=ctos,
        )
        == hashlib.sha256(SECRET + SERVER_ST + CLIENT_ST + ctos + stoc).digest()
    )
    assert len(aes_ecb_transform(SECRET, bytes(17))) == 32


def test_custom_mechanism_2_transform() -> None:
    def xor(secret: bytes, challenge: bytes) -> bytes:
        return bytes(a ^ b for a, b in zip(itertools.cycle(secret), challenge, strict=False))

    hls = HlsSecret(secret=SECRET, transform=xor)
    ctx = SecurityContext(system_title=CLIENT_ST, peer_system_title=SERVER_ST)
    stoc = bytes(8)
    assert hls.client_response(ctx, stoc=stoc, ctos=b"") == SECRET[:8]
    assert hls.server_check(ctx, SECRET[:8], stoc=stoc, ctos=b"")


def test_gmac_counter_is_consumed_and_replay_rejected() -> None:
    client, server = _contexts(SecuritySuite.AES_GCM_128, False)
    gmac = HlsGmac()
    stoc, ctos = new_challenge(), new_challenge()
    first = gmac.client_response(client, stoc=stoc, ctos=ctos)
    second = gmac.client_response(client, stoc=stoc, ctos=ctos)
    assert first[1:5] == b"\x00\x00\x00\x00" and second[1:5] == b"\x00\x00\x00\x01"
    assert gmac.server_check(server, second, stoc=stoc, ctos=ctos)
    with pytest.raises(InvocationCounterError) as info:
        gmac.server_check(server, first, stoc=stoc, ctos=ctos)
    assert info.value.expected == 2


def test_lls() -> None:
    lls = LowLevelSecurity(password=b"12345678")
    assert lls.calling_authentication_value() == b"12345678"
    assert lls.verify(b"12345678")
    assert not lls.verify(b"12345679")
    assert not lls.verify(b"1234567")
    assert "12345678" not in repr(lls)
    assert lls.MECHANISM_ID == 1


def test_secrets_are_not_in_repr() -> None:
    for mechanism in (HlsSecret(secret=SECRET), HlsMd5(secret=SECRET), HlsSha1(secret=SECRET)):
        assert SECRET.hex() not in repr(mechanism)
        assert repr(SECRET) not in repr(mechanism)
    assert repr(SECRET) not in repr(HlsSha256(secret=SECRET))
    assert [m.MECHANISM_ID for m, _ in MECHANISMS] == [2, 3, 4, 5, 5, 6, 7, 7]


def test_challenges() -> None:
    calls: list[int] = []

    def source(n: int) -> bytes:
        calls.append(n)
        return bytes(range(n))

    assert new_challenge(8, random_source=source) == bytes(range(8))
    assert new_challenge(64, random_source=source) == bytes(range(64))
    assert calls == [8, 64]
    for bad in (7, 65, 0):
        with pytest.raises(LocalProtocolError, match=r"8\.\.64"):
            new_challenge(bad)
    with pytest.raises(LocalProtocolError, match="wrong number"):
        new_challenge(16, random_source=lambda n: b"x")
    assert new_challenge() != new_challenge()
    assert len(new_challenge()) == 16


def test_mechanisms_needing_a_peer_title_or_keys_say_so() -> None:
    lonely = SecurityContext(system_title=CLIENT_ST)
    with pytest.raises(LocalProtocolError, match="peer system title"):
        HlsSha256(secret=SECRET).client_response(lonely, stoc=bytes(8), ctos=bytes(8))
    with pytest.raises(LocalProtocolError, match="GLOBAL_UNICAST"):
        HlsGmac().client_response(lonely, stoc=bytes(8), ctos=bytes(8))
    lonely.peer_system_title = SERVER_ST
    with pytest.raises(LocalProtocolError, match="signing key"):
        HlsEcdsa().client_response(lonely, stoc=bytes(8), ctos=bytes(8))
