"""SecurityContext behaviour: tampering, replay, wrong keys, policy, key hygiene."""

from __future__ import annotations

import contextlib
import secrets

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dlmskit.apdu import AgreedKey, GeneralCiphering, GeneralSigning, IdentifiedKey, WrappedKey
from dlmskit.errors import DecodeError, DlmsError, LocalProtocolError, SecurityError
from dlmskit.security import (
    MAX_INVOCATION_COUNTER,
    CipheringForm,
    InvocationCounterError,
    InvocationCounterExhausted,
    KeyId,
    MemoryCounterStore,
    SecurityContext,
    SecurityControl,
    SecurityPolicy,
    SecuritySuite,
    generate_key_pair,
    required_security,
    sign_general,
)

CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
BK = bytes.fromhex("B0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF")
MK = bytes.fromhex("A0A1A2A3A4A5A6A7A8A9AAABACADAEAF")
DK = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
ALL_KEYS = (EK, AK, BK, MK, DK)
GET_CLOCK = bytes.fromhex("C0010000080000010000FF0200")


def pair(
    *, suite: SecuritySuite = SecuritySuite.AES_GCM_128, **extra: object
) -> tuple[SecurityContext, SecurityContext]:
    n = 32 if suite == SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384 else 16
    keys = {
        "global_unicast_key": (EK * 2)[:n],
        "authentication_key": (AK * 2)[:n],
        "global_broadcast_key": (BK * 2)[:n],
        "master_key": (MK * 2)[:n],
        "dedicated_key": (DK * 2)[:n],
    }
    client = SecurityContext(
        system_title=CLIENT_ST, peer_system_title=SERVER_ST, suite=suite, **keys, **extra
    )  # type: ignore[arg-type]
    server = SecurityContext(
        system_title=SERVER_ST, peer_system_title=CLIENT_ST, suite=suite, **keys, **extra
    )  # type: ignore[arg-type]
    return client, server


FORMS = [CipheringForm.GLO, CipheringForm.DED, CipheringForm.GENERAL_GLO, CipheringForm.GENERAL_DED]


@pytest.mark.parametrize("form", [*FORMS, CipheringForm.GENERAL])
@pytest.mark.parametrize(
    "security", [SecurityControl.AUTHENTICATED, SecurityControl.AUTHENTICATED_ENCRYPTED]
)
def test_every_single_bit_flip_is_rejected(form: CipheringForm, security: SecurityControl) -> None:
    client, server = pair()
    warm = client.protect(GET_CLOCK, form=form, security=security)
    wire = client.protect(GET_CLOCK, form=form, security=security)
    # open one genuine APDU first, so the tampered ones meet the warmed-up receive path
    assert server.unprotect(warm) == GET_CLOCK
    for i in range(len(wire)):
        for bit in range(8):
            tampered = bytearray(wire)
            tampered[i] ^= 1 << bit
            with pytest.raises((SecurityError, DecodeError)):
                server.unprotect(bytes(tampered))
    # nothing was recorded by the failures: the genuine APDU still opens
    assert server.unprotect(wire) == GET_CLOCK


@pytest.mark.parametrize("form", FORMS)
def test_round_trip_of_every_form_and_security(form: CipheringForm) -> None:
    client, server = pair()
    for security in (0x10, 0x20, 0x30):
        server_lenient = SecurityContext(
            system_title=SERVER_ST,
            peer_system_title=CLIENT_ST,
            global_unicast_key=EK,
            authentication_key=AK,
            dedicated_key=DK,
            min_security=SecurityControl.NONE,
        )
        apdu = b"\xc4" + secrets.token_bytes(500)
        assert server_lenient.unprotect(client.protect(apdu, form=form, security=security)) == apdu
    del server


def _relength(apdu: bytes, form: int) -> bytes:
    """A general-glo/-ded APDU with its 8-octet title and its content length re-encoded
    in the given form (0 short, 0x81 or 0x82), content unchanged."""
    size = apdu[10]
    offset = 11 if size < 0x80 else 11 + (size & 0x7F)
    content = apdu[offset:]
    n = len(content)
    length = bytes((n,)) if form == 0 else bytes((form,)) + n.to_bytes(form & 0x7F, "big")
    return apdu[:10] + length + content


@pytest.mark.parametrize("form", [CipheringForm.GENERAL_GLO, CipheringForm.GENERAL_DED])
@pytest.mark.parametrize("size", [1, 100, 110, 111, 200, 238, 239, 600])
def test_general_envelopes_open_in_every_length_form(form: CipheringForm, size: int) -> None:
    """Short and 0x81 lengths are read in place, longer forms by the full parse: the
    same content opens to the same APDU either way, and a replay is refused either way."""
    client, server = pair()
    apdu = b"\xc4" + bytes(range(256)) * 3
    apdu = apdu[:size]
    wire = client.protect(apdu, form=form)
    content = len(_relength(wire, 0x82)) - 13
    forms = [f for f, most in ((0, 0x7F), (0x81, 0xFF), (0x82, 0xFFFF)) if content <= most]
    for n, length in enumerate(forms):
        fresh = client.protect(apdu, form=form)
        assert server.unprotect(_relength(fresh, length)) == apdu
        with pytest.raises(SecurityError):
            server.unprotect(_relength(fresh, forms[(n + 1) % len(forms)]))
    tampered = bytearray(_relength(client.protect(apdu, form=form), forms[0]))
    tampered[-1] ^= 1
    with pytest.raises(SecurityError):
        server.unprotect(bytes(tampered))
    # a length one short or one long is malformed, not misread
    good = _relength(client.protect(apdu, form=form), forms[0])
    for wrong in (good[:-1], good + b"\x00"):
        with pytest.raises((DecodeError, SecurityError)):
            server.unprotect(wrong)


def test_tags_per_form() -> None:
    client, _ = pair()
    assert client.protect(b"\x01\x00", form=CipheringForm.GLO)[0] == 0x21
    assert client.protect(b"\x01\x00", form=CipheringForm.DED)[0] == 0x41
    assert client.protect(b"\x08\x00", form=CipheringForm.GLO)[0] == 0x28
    assert client.protect(b"\x08\x00", form=CipheringForm.DED)[0] == 0x48
    assert client.protect(b"\x05\x00", form=CipheringForm.GLO)[0] == 0x25
    assert client.protect(b"\xc7\x00", form=CipheringForm.DED)[0] == 0xD7
    assert client.protect(b"\x0f\x00", form=CipheringForm.GENERAL_GLO)[0] == 0xDB
    assert client.protect(b"\x0f\x00", form=CipheringForm.GENERAL_DED)[0] == 0xDC
    assert client.protect(b"\x0f\x00", form=CipheringForm.GENERAL)[0] == 0xDD
    with pytest.raises(LocalProtocolError, match="no service-specific ciphered form"):
        client.protect(b"\x0f\x00", form=CipheringForm.GLO)


def test_replayed_counter_is_rejected_with_the_expected_value() -> None:
    client, server = pair()
    first = client.protect(GET_CLOCK)
    second = client.protect(GET_CLOCK)
    assert server.unprotect(second) == GET_CLOCK
    with pytest.raises(InvocationCounterError) as info:
        server.unprotect(first)
    assert info.value.received == 0 and info.value.expected == 2
    with pytest.raises(InvocationCounterError) as info:
        server.unprotect(second)
    assert info.value.expected == 2
    assert isinstance(info.value, SecurityError)
    assert server.last_accepted(CLIENT_ST, KeyId.GLOBAL_UNICAST_ENCRYPTION) == 1


def test_wrong_key_wrong_title_and_truncated_tag() -> None:
    client, _ = pair()
    wire = client.protect(GET_CLOCK)
    wrong_key = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=CLIENT_ST,
        global_unicast_key=BK,
        authentication_key=AK,
    )
    with pytest.raises(SecurityError, match="tag did not verify"):
        wrong_key.unprotect(wire)
    wrong_ak = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=CLIENT_ST,
        global_unicast_key=EK,
        authentication_key=BK,
    )
    with pytest.raises(SecurityError):
        wrong_ak.unprotect(wire)
    wrong_title = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=bytes.fromhex("4D4D4D0000000002"),
        global_unicast_key=EK,
        authentication_key=AK,
    )
    with pytest.raises(SecurityError):
        wrong_title.unprotect(wire)
    general = client.protect(GET_CLOCK, form=CipheringForm.GENERAL_GLO)
    with pytest.raises(SecurityError, match="not the peer"):
        wrong_title.unprotect(general)
    # a shorter tag with a consistent length byte
    truncated = bytes((wire[0], wire[1] - 1)) + wire[2:-1]
    _, server = pair()
    with pytest.raises(SecurityError):
        server.unprotect(truncated)
    tiny = bytes((0xC8, 5 + 11, 0x30)) + b"\x00\x00\x00\x07" + bytes(11)
    with pytest.raises(SecurityError, match="shorter than the 12-byte tag"):
        server.unprotect(tiny)


def test_truncation_at_every_position_raises_decode_or_security_error() -> None:
    client, server = pair()
    for form in [*FORMS, CipheringForm.GENERAL]:
        wire = client.protect(GET_CLOCK, form=form)
        for cut in range(len(wire)):
            with pytest.raises((DecodeError, SecurityError)):
                server.unprotect(wire[:cut])


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=80))
def test_garbage_raises_only_dlms_errors(data: bytes) -> None:
    _, server = pair()
    with contextlib.suppress(DecodeError, SecurityError):
        server.unprotect(data)


@settings(max_examples=100, deadline=None)
@given(st.sampled_from([0xC8, 0xD0, 0xDB, 0xDC, 0xDD, 0x21]), st.binary(max_size=60))
def test_garbage_behind_a_ciphered_tag(tag: int, body: bytes) -> None:
    _, server = pair()
    with pytest.raises((DecodeError, SecurityError)):
        server.unprotect(bytes((tag,)) + body)


def test_huge_length_fields_do_not_allocate() -> None:
    _, server = pair()
    for data in (
        b"\xc8\x84\xff\xff\xff\xff\x30",
        b"\xdb\x84\xff\xff\xff\xff",
        b"\xdd\x84\xff\xff\xff\xff",
        b"\xdb\x08" + SERVER_ST + b"\x84\xff\xff\xff\xf0\x30",
        b"\xc8\x83\x00\x00\x10",
    ):
        with pytest.raises(DecodeError):
            server.unprotect(data)


def test_policy_refuses_downgrade_and_compression() -> None:
    client, server = pair()
    enc_only = client.protect(GET_CLOCK, security=SecurityControl.ENCRYPTED)
    with pytest.raises(SecurityError, match="less protection"):
        server.unprotect(enc_only)
    strict = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=CLIENT_ST,
        global_unicast_key=EK,
        authentication_key=AK,
        min_security=SecurityControl.AUTHENTICATED_ENCRYPTED,
    )
    with pytest.raises(SecurityError, match="less protection"):
        strict.unprotect(client.protect(GET_CLOCK, security=SecurityControl.AUTHENTICATED))
    assert strict.unprotect(client.protect(GET_CLOCK)) == GET_CLOCK
    compressed = bytearray(client.protect(GET_CLOCK))
    compressed[2] |= 0x80
    with pytest.raises(SecurityError, match=r"compression \(V.44\) is not supported"):
        server.unprotect(bytes(compressed))
    with pytest.raises(LocalProtocolError, match=r"compression \(V.44\) is not supported"):
        client.protect(GET_CLOCK, security=SecurityControl.COMPRESSED | 0x30)
    with pytest.raises(LocalProtocolError):
        client.protect(GET_CLOCK, security=SecurityControl.NONE)


def test_suite_mismatch_is_rejected() -> None:
    client, _ = pair(suite=SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256)
    _, server = pair()
    wire = client.protect(GET_CLOCK)
    assert wire[2] == 0x31
    with pytest.raises(SecurityError, match="suite"):
        server.unprotect(wire)


def test_suite_2_uses_32_byte_keys() -> None:
    client, server = pair(suite=SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384)
    wire = client.protect(GET_CLOCK)
    assert wire[2] == 0x32
    assert server.unprotect(wire) == GET_CLOCK
    with pytest.raises(LocalProtocolError, match="32 bytes"):
        SecurityContext(
            system_title=CLIENT_ST,
            suite=SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384,
            global_unicast_key=EK,
        )


def test_broadcast_key() -> None:
    client, server = pair()
    wire = client.protect(GET_CLOCK, broadcast=True)
    assert wire[2] == 0x70
    assert server.unprotect(wire) == GET_CLOCK
    no_broadcast = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=CLIENT_ST,
        global_unicast_key=EK,
        authentication_key=AK,
    )
    with pytest.raises(SecurityError, match="GLOBAL_BROADCAST"):
        no_broadcast.unprotect(client.protect(GET_CLOCK, broadcast=True))
    with pytest.raises(LocalProtocolError):
        client.protect(GET_CLOCK, form=CipheringForm.DED, broadcast=True)
    with pytest.raises(LocalProtocolError, match="broadcast=True"):
        client.protect(GET_CLOCK, security=SecurityControl.BROADCAST_KEY | 0x30)


def test_dedicated_key_life_cycle() -> None:
    client, server = pair()
    wire = client.protect(GET_CLOCK, form=CipheringForm.DED)
    assert server.unprotect(wire) == GET_CLOCK
    new_key = secrets.token_bytes(16)
    server.set_dedicated_key(new_key)
    assert server.last_accepted(CLIENT_ST, KeyId.DEDICATED) is None
    with pytest.raises(SecurityError):
        server.unprotect(client.protect(GET_CLOCK, form=CipheringForm.DED))
    client.set_dedicated_key(new_key)
    assert server.unprotect(client.protect(GET_CLOCK, form=CipheringForm.DED)) == GET_CLOCK
    server.set_dedicated_key(None)
    with pytest.raises(SecurityError, match="no DEDICATED key"):
        server.unprotect(client.protect(GET_CLOCK, form=CipheringForm.DED))
    client.set_dedicated_key(None)
    with pytest.raises(LocalProtocolError, match="no DEDICATED key"):
        client.protect(GET_CLOCK, form=CipheringForm.DED)


def test_ciphered_tag_must_match_the_protected_apdu() -> None:
    client, server = pair()
    wire = bytearray(client.protect(GET_CLOCK))
    wire[0] = 0xC9  # glo-set-request around a get-request
    with pytest.raises(SecurityError, match="does not match"):
        server.unprotect(bytes(wire))


def test_counter_exhaustion_forces_a_key_change() -> None:
    store = MemoryCounterStore({(CLIENT_ST, 0): MAX_INVOCATION_COUNTER})
    client = SecurityContext(
        system_title=CLIENT_ST,
        peer_system_title=SERVER_ST,
        global_unicast_key=EK,
        authentication_key=AK,
        counter_store=store,
    )
    last = client.protect(GET_CLOCK)
    assert last[3:7] == b"\xff\xff\xff\xff"
    with pytest.raises(InvocationCounterExhausted, match="change the key"):
        client.protect(GET_CLOCK)
    with pytest.raises(LocalProtocolError, match="equals the old one"):
        client.change_key(KeyId.GLOBAL_UNICAST_ENCRYPTION, EK)
    client.change_key(KeyId.GLOBAL_UNICAST_ENCRYPTION, BK)
    wire = client.protect(GET_CLOCK)
    assert wire[3:7] == b"\x00\x00\x00\x00"
    server = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=CLIENT_ST,
        global_unicast_key=EK,
        authentication_key=AK,
    )
    assert server.unprotect(last) == GET_CLOCK
    server.change_key(KeyId.GLOBAL_UNICAST_ENCRYPTION, BK)
    assert server.unprotect(wire) == GET_CLOCK


def test_general_ciphering_key_info_kinds() -> None:
    client, server = pair()
    for kind in (IdentifiedKey, WrappedKey):
        wire = client.protect_general(
            GET_CLOCK, key_info=kind, date_time=b"", other_information=b"x"
        )
        envelope = GeneralCiphering.from_bytes(wire)
        assert isinstance(envelope.key_info, kind)
        assert envelope.originator_system_title == CLIENT_ST
        assert envelope.recipient_system_title == SERVER_ST
        assert envelope.transaction_id == envelope.invocation_counter.to_bytes(8, "big")
        assert server.unprotect(wire) == GET_CLOCK
    wrapped = GeneralCiphering.from_bytes(client.protect_general(GET_CLOCK, key_info=WrappedKey))
    assert isinstance(wrapped.key_info, WrappedKey)
    assert len(wrapped.key_info.key_ciphered_data) == 24
    no_master = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=CLIENT_ST,
        global_unicast_key=EK,
        authentication_key=AK,
    )
    with pytest.raises(SecurityError):
        no_master.unprotect(client.protect_general(GET_CLOCK, key_info=WrappedKey))
    other_recipient = SecurityContext(
        system_title=bytes.fromhex("4D4D4D0000000009"),
        peer_system_title=CLIENT_ST,
        global_unicast_key=EK,
        authentication_key=AK,
    )
    with pytest.raises(SecurityError, match="addressed to another"):
        other_recipient.unprotect(client.protect_general(GET_CLOCK))


@pytest.mark.parametrize(
    "suite",
    [SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256, SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384],
)
def test_general_ciphering_with_agreed_key(suite: SecuritySuite) -> None:
    client_sign, server_sign = generate_key_pair(suite), generate_key_pair(suite)
    server_agree = generate_key_pair(suite)
    client, _ = pair(
        suite=suite,
        signing_key=client_sign,
        peer_signing_key=server_sign.public_key(),
        peer_key_agreement_key=server_agree.public_key(),
    )
    _, server = pair(
        suite=suite,
        signing_key=server_sign,
        peer_signing_key=client_sign.public_key(),
        key_agreement_key=server_agree,
    )
    wire = client.protect_general(GET_CLOCK, key_info=AgreedKey)
    envelope = GeneralCiphering.from_bytes(wire)
    assert isinstance(envelope.key_info, AgreedKey)
    assert envelope.key_info.key_parameters == b"\x01"
    size = 32 if suite == SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256 else 48
    assert len(envelope.key_info.key_ciphered_data) == 4 * size  # X || Y || r || s
    assert server.unprotect(wire) == GET_CLOCK
    # a forged signature on the ephemeral key is refused
    forged = bytearray(wire)
    forged[wire.index(envelope.key_info.key_ciphered_data) + 3 * size] ^= 1
    with pytest.raises(SecurityError):
        server.unprotect(bytes(forged))


def test_keys_never_appear_in_repr_or_errors() -> None:
    client, server = pair()
    texts = [repr(client), str(client), repr(server)]
    wire = client.protect(GET_CLOCK)
    errors: list[DlmsError] = []
    for bad in (
        b"\xc8\x05\x30\x00\x00\x00\x00",
        bytes([wire[0], wire[1]]) + bytes(wire[2:-1]) + b"\x00",
    ):
        try:
            server.unprotect(bad)
        except DlmsError as exc:
            errors.append(exc)
    server.unprotect(wire)
    try:
        server.unprotect(wire)
    except DlmsError as exc:
        errors.append(exc)
    try:
        client.change_key(KeyId.GLOBAL_UNICAST_ENCRYPTION, EK)
    except DlmsError as exc:
        errors.append(exc)
    try:
        SecurityContext(system_title=CLIENT_ST, global_unicast_key=EK + b"\x01")
    except DlmsError as exc:
        errors.append(exc)
    assert len(errors) == 5
    texts += [str(e) for e in errors] + [repr(e) for e in errors]
    for text in texts:
        for key in ALL_KEYS:
            for form in (key.hex(), key.hex().upper(), repr(key), str(list(key))):
                assert form not in text, text
    assert "GLOBAL_UNICAST_ENCRYPTION" in repr(client)


def test_system_titles_are_checked() -> None:
    with pytest.raises(LocalProtocolError, match="8 bytes"):
        SecurityContext(system_title=b"short")
    ctx = SecurityContext(system_title=CLIENT_ST, global_unicast_key=EK, authentication_key=AK)
    # receiving: the APDU cannot be opened, which is a security failure, not a misuse
    with pytest.raises(SecurityError, match="peer system title"):
        ctx.unprotect(ctx.protect(GET_CLOCK))
    ctx.peer_system_title = CLIENT_ST
    assert ctx.unprotect(ctx.protect(GET_CLOCK)) == GET_CLOCK


def test_warm_receive_path_keeps_every_check() -> None:
    client, server = pair()
    first = client.protect(GET_CLOCK)
    second = client.protect(GET_CLOCK)
    third = client.protect(GET_CLOCK)
    assert server.unprotect(second) == GET_CLOCK
    with pytest.raises(InvocationCounterError) as info:
        server.unprotect(first)
    assert info.value.expected == 2 and info.value.received == 0
    assert server.unprotect(bytearray(third)) == GET_CLOCK
    assert server.unprotect(memoryview(client.protect(GET_CLOCK))) == GET_CLOCK
    # a different key, installed after the path warmed up, is used at once
    server.change_key(KeyId.GLOBAL_UNICAST_ENCRYPTION, BK)
    with pytest.raises(SecurityError, match="tag did not verify"):
        server.unprotect(client.protect(GET_CLOCK))
    client.change_key(KeyId.GLOBAL_UNICAST_ENCRYPTION, BK)
    assert server.unprotect(client.protect(GET_CLOCK)) == GET_CLOCK
    # so is a changed peer title
    server.peer_system_title = bytes.fromhex("4D4D4D0000000077")
    with pytest.raises(SecurityError):
        server.unprotect(client.protect(GET_CLOCK))
    # and the plain-tag check
    server.peer_system_title = CLIENT_ST
    wire = bytearray(client.protect(GET_CLOCK))
    wire[0] = 0xCC
    with pytest.raises(SecurityError, match="does not match"):
        server.unprotect(bytes(wire))


@pytest.mark.parametrize("size", [1, 110, 111, 112, 200, 70000])
def test_lengths_around_the_short_form(size: int) -> None:
    client, server = pair()
    apdu = b"\xc4" + bytes(size - 1)
    for form in FORMS:
        for _ in range(2):  # cold and warm receive paths
            wire = client.protect(apdu, form=form)
            assert server.unprotect(wire) == apdu
    wire = client.protect(apdu)
    content = size + 17
    if content < 0x80:
        assert wire[1] == content
    elif content <= 0xFF:
        assert wire[1:3] == bytes((0x81, content))
    elif content <= 0xFFFF:
        assert wire[1:4] == b"\x82" + content.to_bytes(2, "big")
    else:
        assert wire[1:6] == b"\x84" + content.to_bytes(4, "big")


def test_seeded_replay_state() -> None:
    client, server = pair()
    server.set_last_accepted(CLIENT_ST, KeyId.GLOBAL_UNICAST_ENCRYPTION, 10)
    server.set_last_accepted(CLIENT_ST, KeyId.GLOBAL_UNICAST_ENCRYPTION, 5)  # never backwards
    assert server.last_accepted(CLIENT_ST, KeyId.GLOBAL_UNICAST_ENCRYPTION) == 10
    with pytest.raises(InvocationCounterError) as info:
        server.unprotect(client.protect(GET_CLOCK))
    assert info.value.expected == 11
    client.counter_store.reset(CLIENT_ST, int(KeyId.GLOBAL_UNICAST_ENCRYPTION), 11)
    assert server.unprotect(client.protect(GET_CLOCK)) == GET_CLOCK
    assert server.last_accepted(CLIENT_ST, KeyId.GLOBAL_UNICAST_ENCRYPTION) == 11


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from([*FORMS, CipheringForm.GENERAL]),
    st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=4),
    st.integers(0, 3),
)
def test_random_corruption_after_warm_up(
    form: CipheringForm, edits: list[tuple[int, int]], extra: int
) -> None:
    client, server = pair()
    assert server.unprotect(client.protect(GET_CLOCK, form=form)) == GET_CLOCK
    original = client.protect(GET_CLOCK, form=form)
    wire = bytearray(original)
    for position, xor in edits:
        wire[position % len(wire)] ^= xor
    corrupted = bytes(wire) + bytes(extra)
    assume(corrupted != original)
    with pytest.raises((SecurityError, DecodeError)):
        server.unprotect(corrupted)


@pytest.mark.parametrize(
    "suite",
    [SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256, SecuritySuite.ECDH_ECDSA_AES_GCM_256_SHA_384],
)
@pytest.mark.parametrize("form", [*FORMS, CipheringForm.GENERAL])
def test_signed_and_ciphered_apdus(suite: SecuritySuite, form: CipheringForm) -> None:
    client_sign, server_sign = generate_key_pair(suite), generate_key_pair(suite)
    client, _ = pair(
        suite=suite, signing_key=client_sign, peer_signing_key=server_sign.public_key()
    )
    _, server = pair(
        suite=suite, signing_key=server_sign, peer_signing_key=client_sign.public_key()
    )
    wire = client.protect_signed(GET_CLOCK, form=form)
    signed = GeneralSigning.from_bytes(wire)
    assert signed.originator_system_title == CLIENT_ST
    assert signed.recipient_system_title == SERVER_ST
    size = 64 if suite == SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256 else 96
    assert len(signed.signature) == size
    assert server.unprotect(wire) == GET_CLOCK
    with pytest.raises(InvocationCounterError):
        server.unprotect(wire)
    fresh = client.protect_signed(GET_CLOCK, form=form)
    for i in range(len(fresh)):
        tampered = bytearray(fresh)
        tampered[i] ^= 0x80
        with pytest.raises((SecurityError, DecodeError)):
            server.unprotect(bytes(tampered))
    assert server.unprotect(fresh) == GET_CLOCK


def test_signed_content_must_be_ciphered_and_keys_present() -> None:
    suite = SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256
    key = generate_key_pair(suite)
    client, _ = pair(suite=suite, signing_key=key)
    _, server = pair(suite=suite, peer_signing_key=key.public_key())
    plain_signed = sign_general(
        GET_CLOCK,
        private_key=key,
        transaction_id=bytes(8),
        originator_system_title=CLIENT_ST,
        recipient_system_title=SERVER_ST,
    ).to_bytes()
    with pytest.raises(SecurityError, match="not a ciphered APDU"):
        server.unprotect(plain_signed)
    _, no_key = pair(suite=suite)
    with pytest.raises(SecurityError, match="no peer signing key"):
        no_key.unprotect(client.protect_signed(GET_CLOCK))
    with pytest.raises(LocalProtocolError, match="no signing key"):
        no_key.protect_signed(GET_CLOCK)


def test_policy_bits_map_to_min_security() -> None:
    policy = SecurityPolicy.AUTHENTICATED_REQUEST | SecurityPolicy.ENCRYPTED_RESPONSE
    assert required_security(policy, receiving_requests=True) == SecurityControl.AUTHENTICATED
    assert required_security(policy, receiving_requests=False) == SecurityControl.ENCRYPTED
    everything = SecurityPolicy(0xFC)
    for receiving in (True, False):
        assert (
            required_security(everything, receiving_requests=receiving)
            == SecurityControl.AUTHENTICATED_ENCRYPTED
        )
    assert required_security(SecurityPolicy.NONE, receiving_requests=True) == 0
    client, _ = pair()
    server = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=CLIENT_ST,
        global_unicast_key=EK,
        authentication_key=AK,
        min_security=required_security(SecurityPolicy.ENCRYPTED_REQUEST, receiving_requests=True),
    )
    assert server.unprotect(client.protect(GET_CLOCK, security=0x20)) == GET_CLOCK
    with pytest.raises(SecurityError, match="less protection"):
        server.unprotect(client.protect(GET_CLOCK, security=0x10))


def test_accepted_counters_snapshot_seeds_a_restarted_receiver() -> None:
    client, server = pair()
    pushes = [client.protect(GET_CLOCK) for _ in range(3)]
    dedicated = client.protect(GET_CLOCK, form=CipheringForm.DED)
    for wire in (*pushes, dedicated):
        server.unprotect(wire)
    snapshot = server.accepted_counters()
    assert snapshot == {
        (CLIENT_ST, KeyId.GLOBAL_UNICAST_ENCRYPTION): 2,
        (CLIENT_ST, KeyId.DEDICATED): 0,
    }
    _, restarted = pair()
    for (title, key_id), value in snapshot.items():
        restarted.set_last_accepted(title, key_id, value)
    for wire in (*pushes, dedicated):
        with pytest.raises(InvocationCounterError):
            restarted.unprotect(wire)
    assert restarted.unprotect(client.protect(GET_CLOCK)) == GET_CLOCK
