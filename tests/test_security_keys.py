"""Key management: key_transfer data, RFC 3394, ECDH + KDF agreement, signing, certificates."""

from __future__ import annotations

import datetime

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from dlmskit.apdu import GeneralSigning
from dlmskit.errors import DecodeError, LocalProtocolError, SecurityError
from dlmskit.security import (
    KeyDataEntry,
    KeyId,
    SecurityContext,
    SecuritySuite,
    TransferredKey,
    build_key_data,
    build_key_transfer,
    certificate_public_key,
    certificate_system_title,
    derive_key,
    ecdh_shared_secret,
    ecdsa_sign,
    ecdsa_verify,
    export_certificate,
    generate_key_pair,
    key_agreement_entry,
    load_certificate,
    parse_key_data,
    parse_key_transfer,
    peer_ephemeral_key,
    public_key_from_bytes,
    public_key_to_bytes,
    sign_general,
    suite_for_key,
    unwrap_key,
    verify_general,
    wrap_key,
)

KEK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
NEW_KEY = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
WRAPPED = bytes.fromhex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
SUITES = [
    SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256,
    SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384,
]


def test_key_transfer_data_layout() -> None:
    data = build_key_transfer(
        [TransferredKey(key_id=KeyId.GLOBAL_UNICAST_ENCRYPTION, key=NEW_KEY)], kek=KEK
    )
    # the Indian head-end sample shape: 01 01 02 02 16 00 09 18 <24-byte wrapped>
    assert data == bytes.fromhex("0101020216000918") + WRAPPED
    keys = parse_key_transfer(data, kek=KEK)
    assert keys == [TransferredKey(key_id=KeyId.GLOBAL_UNICAST_ENCRYPTION, key=NEW_KEY)]
    assert NEW_KEY.hex() not in repr(keys).lower()
    assert repr(NEW_KEY) not in repr(keys)


def test_key_transfer_of_several_keys_and_wrong_kek() -> None:
    keys = [TransferredKey(key_id=KeyId(i), key=bytes([i]) * 16) for i in (0, 1, 2, 3)]
    data = build_key_transfer(keys, kek=KEK)
    assert data[:2] == b"\x01\x04"
    assert parse_key_transfer(data, kek=KEK) == keys
    with pytest.raises(SecurityError, match="unwrap failed"):
        parse_key_transfer(data, kek=bytes(16))
    tampered = bytearray(data)
    tampered[-1] ^= 1
    with pytest.raises(SecurityError):
        parse_key_transfer(bytes(tampered), kek=KEK)


def test_key_change_through_key_transfer_reaches_the_context() -> None:
    title = bytes.fromhex("4D4D4D0000000001")
    ctx = SecurityContext(system_title=title, global_unicast_key=KEK, master_key=KEK)
    for entry in parse_key_transfer(
        build_key_transfer(
            [TransferredKey(key_id=KeyId.GLOBAL_UNICAST_ENCRYPTION, key=NEW_KEY)], kek=KEK
        ),
        kek=KEK,
    ):
        ctx.change_key(entry.key_id, entry.key)
    peer = SecurityContext(
        system_title=bytes(8),
        peer_system_title=title,
        global_unicast_key=NEW_KEY,
        min_security=0,
    )
    assert peer.unprotect(ctx.protect(b"\xc0\x01", security=0x20)) == b"\xc0\x01"


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x02\x00",
        b"\x01",
        b"\x01\x84\xff\xff\xff\xff",
        b"\x01\x81",
        b"\x01\x01\x02\x02\x16\x00\x09\x84\xff\xff\xff\xff",
        b"\x01\x01\x02\x02\x11\x00\x09\x00",
        b"\x01\x00\x00",
    ],
)
def test_malformed_key_data(data: bytes) -> None:
    with pytest.raises(DecodeError):
        parse_key_data(data)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 255), st.binary(max_size=200)), max_size=5))
def test_key_data_round_trip_and_truncation(entries: list[tuple[int, bytes]]) -> None:
    values = [KeyDataEntry(key_id=k, data=d) for k, d in entries]
    data = build_key_data(values)
    assert parse_key_data(data) == values
    for cut in range(len(data)):
        with pytest.raises(DecodeError):
            parse_key_data(data[:cut])


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=60))
def test_key_data_garbage(data: bytes) -> None:
    try:
        values = parse_key_data(data)
    except DecodeError:
        return
    assert build_key_data(values) == data


def test_wrap_argument_checks() -> None:
    with pytest.raises(LocalProtocolError):
        wrap_key(bytes(15), NEW_KEY)
    with pytest.raises(LocalProtocolError):
        wrap_key(KEK, bytes(12))
    with pytest.raises(SecurityError):
        unwrap_key(KEK, bytes(20))
    assert unwrap_key(bytes(32), wrap_key(bytes(32), bytes(32))) == bytes(32)


@pytest.mark.parametrize("suite", SUITES)
def test_ecdh_key_agreement_both_sides_agree(suite: SecuritySuite) -> None:
    u_title, v_title = bytes.fromhex("4D4D4D0000BC614E"), bytes.fromhex("4D4D4D0000000001")
    u, v = generate_key_pair(suite), generate_key_pair(suite)
    z_u = ecdh_shared_secret(u, v.public_key())
    assert z_u == ecdh_shared_secret(v, u.public_key())
    key_u = derive_key(z_u, suite=suite, party_u_system_title=u_title, party_v_system_title=v_title)
    key_v = derive_key(
        ecdh_shared_secret(v, u.public_key()),
        suite=suite,
        party_u_system_title=u_title,
        party_v_system_title=v_title,
    )
    assert key_u == key_v
    assert len(key_u) == (16 if suite == SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256 else 32)
    swapped = derive_key(
        z_u, suite=suite, party_u_system_title=v_title, party_v_system_title=u_title
    )
    assert swapped != key_u
    with pytest.raises(LocalProtocolError):
        derive_key(
            z_u,
            suite=SecuritySuite.AES_GCM_128,
            party_u_system_title=u_title,
            party_v_system_title=v_title,
        )
    other = generate_key_pair(SUITES[1] if suite == SUITES[0] else SUITES[0])
    with pytest.raises(LocalProtocolError, match="different curves"):
        ecdh_shared_secret(u, other.public_key())


@pytest.mark.parametrize("suite", SUITES)
def test_ecdsa_raw_signatures_and_public_keys(suite: SecuritySuite) -> None:
    size = 32 if suite == SUITES[0] else 48
    key = generate_key_pair(suite)
    assert suite_for_key(key) == suite
    signature = ecdsa_sign(key, b"message")
    assert len(signature) == 2 * size
    assert ecdsa_verify(key.public_key(), b"message", signature)
    assert not ecdsa_verify(key.public_key(), b"messagf", signature)
    assert not ecdsa_verify(key.public_key(), b"message", signature[:-1])
    raw = public_key_to_bytes(key.public_key())
    assert len(raw) == 2 * size
    assert public_key_from_bytes(raw, suite).public_numbers() == key.public_key().public_numbers()
    assert public_key_from_bytes(b"\x04" + raw, suite) == public_key_from_bytes(raw, suite)
    with pytest.raises(SecurityError):
        public_key_from_bytes(bytes(2 * size), suite)
    with pytest.raises(SecurityError):
        public_key_from_bytes(raw[:-1], suite)
    # independent check: cryptography verifies the DER form of our raw signature
    der = encode_dss_signature(
        int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
    )
    algorithm = hashes.SHA256() if size == 32 else hashes.SHA384()
    key.public_key().verify(der, b"message", ec.ECDSA(algorithm))
    with pytest.raises(LocalProtocolError):
        suite_for_key(ec.generate_private_key(ec.SECP521R1()))


@pytest.mark.parametrize("suite", SUITES)
def test_general_signing(suite: SecuritySuite) -> None:
    key = generate_key_pair(suite)
    apdu = sign_general(
        b"\xc0\x01\xc1",
        private_key=key,
        transaction_id=bytes(8),
        originator_system_title=bytes.fromhex("4D4D4D0000BC614E"),
    )
    wire = apdu.to_bytes()
    assert wire[0] == 0xDF
    received = GeneralSigning.from_bytes(wire)
    assert verify_general(received, public_key=key.public_key()) == b"\xc0\x01\xc1"
    for i in range(1, len(wire)):
        tampered = bytearray(wire)
        tampered[i] ^= 0x01
        try:
            candidate = GeneralSigning.from_bytes(bytes(tampered))
        except DecodeError:
            continue
        with pytest.raises(SecurityError):
            verify_general(candidate, public_key=key.public_key())
    with pytest.raises(SecurityError):
        verify_general(received, public_key=generate_key_pair(suite).public_key())


def _certificate(title_cn: str, key: ec.EllipticCurvePrivateKey) -> x509.Certificate:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, title_cn)])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )


def test_certificates_import_export() -> None:
    key = generate_key_pair(SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256)
    cert = _certificate("4D4D4D0000BC614E", key)
    der = export_certificate(cert)
    pem = export_certificate(cert, pem=True)
    assert pem.startswith(b"-----BEGIN CERTIFICATE-----")
    for form in (der, pem):
        loaded = load_certificate(form)
        assert loaded == cert
        assert certificate_system_title(loaded) == bytes.fromhex("4D4D4D0000BC614E")
        assert certificate_public_key(loaded).public_numbers() == key.public_key().public_numbers()
    with pytest.raises(SecurityError):
        load_certificate(b"\x30\x03\x02\x01\x00")
    with pytest.raises(SecurityError, match="hexadecimal"):
        certificate_system_title(_certificate("meter", key))
    with pytest.raises(SecurityError, match="8-byte"):
        certificate_system_title(_certificate("4D4D", key))
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "4D4D4D0000BC614E")])
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    rsa_cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(rsa_key.public_key())
        .serial_number(2)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(rsa_key, hashes.SHA256())
    )
    with pytest.raises(SecurityError, match="not an ECDSA"):
        certificate_public_key(rsa_cert)


@pytest.mark.parametrize("suite", SUITES)
def test_key_agreement_method_data_ephemeral_unified_model(suite: SecuritySuite) -> None:
    client_title, server_title = (
        bytes.fromhex("4D4D4D0000000001"),
        bytes.fromhex("4D4D4D0000BC614E"),
    )
    client_sign, server_sign = generate_key_pair(suite), generate_key_pair(suite)
    client_eph, server_eph = generate_key_pair(suite), generate_key_pair(suite)
    request = build_key_data([key_agreement_entry(0, client_eph, client_sign)])
    response = build_key_data([key_agreement_entry(0, server_eph, server_sign)])
    size = 32 if suite == SUITES[0] else 48
    assert len(parse_key_data(request)[0].data) == 4 * size

    # server side
    (entry,) = parse_key_data(request)
    client_public = peer_ephemeral_key(
        entry, suite=suite, peer_signing_key=client_sign.public_key()
    )
    server_key = derive_key(
        ecdh_shared_secret(server_eph, client_public),
        suite=suite,
        party_u_system_title=client_title,
        party_v_system_title=server_title,
    )
    # client side
    (entry,) = parse_key_data(response)
    server_public = peer_ephemeral_key(
        entry, suite=suite, peer_signing_key=server_sign.public_key()
    )
    client_key = derive_key(
        ecdh_shared_secret(client_eph, server_public),
        suite=suite,
        party_u_system_title=client_title,
        party_v_system_title=server_title,
    )
    assert client_key == server_key
    # a signature by anyone else is refused
    with pytest.raises(SecurityError, match="did not verify"):
        peer_ephemeral_key(entry, suite=suite, peer_signing_key=client_sign.public_key())
    with pytest.raises(SecurityError):
        peer_ephemeral_key(
            KeyDataEntry(key_id=0, data=entry.data[:-1]),
            suite=suite,
            peer_signing_key=server_sign.public_key(),
        )
