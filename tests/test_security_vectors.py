"""Published worked examples, byte for byte (dlms-facts 1.5, 1.8, 3.4)."""

from __future__ import annotations

import pytest

from dlmskit.security import (
    CipheringForm,
    HlsGmac,
    KeyId,
    MemoryCounterStore,
    SecurityContext,
    SecurityControl,
    SecuritySuite,
    concat_kdf,
    derive_key,
    unwrap_key,
    wrap_key,
)

EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
GET_CLOCK = bytes.fromhex("C0010000080000010000FF0200")

TABLE_40 = {
    0x10: "C81E1001234567C0010000080000010000FF020006725D910F9221D263877516",
    0x20: "C8122001234567411312FF935A47566827C467BC",
    0x30: "C81E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B",
}


def _sender(ic: int, *, title: bytes = SERVER_ST, key: KeyId = KeyId.GLOBAL_UNICAST_ENCRYPTION):
    return SecurityContext(
        system_title=title,
        global_unicast_key=EK,
        authentication_key=AK,
        counter_store=MemoryCounterStore({(title, int(key)): ic}),
    )


def _receiver(peer: bytes = SERVER_ST, *, min_security: SecurityControl = SecurityControl.NONE):
    return SecurityContext(
        system_title=CLIENT_ST if peer != CLIENT_ST else SERVER_ST,
        peer_system_title=peer,
        global_unicast_key=EK,
        authentication_key=AK,
        min_security=min_security,
    )


@pytest.mark.parametrize("sc", sorted(TABLE_40))
def test_green_book_table_40_protect(sc: int) -> None:
    wire = _sender(0x01234567).protect(GET_CLOCK, security=sc)
    assert wire == bytes.fromhex(TABLE_40[sc])


@pytest.mark.parametrize("sc", sorted(TABLE_40))
def test_green_book_table_40_unprotect(sc: int) -> None:
    receiver = _receiver()
    assert receiver.unprotect(bytes.fromhex(TABLE_40[sc])) == GET_CLOCK
    assert receiver.last_accepted(SERVER_ST, KeyId.GLOBAL_UNICAST_ENCRYPTION) == 0x01234567


def test_green_book_table_40_general_glo_form() -> None:
    expected = bytes.fromhex(
        "DB084D4D4D0000BC614E1E3001234567411312FF935A47566827C467BC7D825C3BE4A77C3FCC056B6B"
    )
    assert _sender(0x01234567).protect(GET_CLOCK, form=CipheringForm.GENERAL_GLO) == expected
    assert _receiver().unprotect(expected) == GET_CLOCK


def test_green_book_table_43_hls_gmac_both_directions() -> None:
    stoc = bytes.fromhex("503677524A323146")
    ctos = bytes.fromhex("4B35366956616759")
    client = SecurityContext(
        system_title=CLIENT_ST,
        peer_system_title=SERVER_ST,
        global_unicast_key=EK,
        authentication_key=AK,
        counter_store=MemoryCounterStore({(CLIENT_ST, 0): 1}),
    )
    server = SecurityContext(
        system_title=SERVER_ST,
        peer_system_title=CLIENT_ST,
        global_unicast_key=EK,
        authentication_key=AK,
        counter_store=MemoryCounterStore({(SERVER_ST, 0): 0x01234567}),
    )
    gmac = HlsGmac()
    f_stoc = gmac.client_response(client, stoc=stoc, ctos=ctos)
    assert f_stoc == bytes.fromhex("10000000011A52FE7DD3E72748973C1E28")
    assert gmac.server_check(server, f_stoc, stoc=stoc, ctos=ctos)
    f_ctos = gmac.server_response(server, stoc=stoc, ctos=ctos)
    assert f_ctos == bytes.fromhex("1001234567FE1466AFB3DBCD4F9389E2B7")
    assert gmac.client_check(client, f_ctos, stoc=stoc, ctos=ctos)
    # the pass-3 ACTION-Request of the example carries exactly f(StoC)
    pass3 = bytes.fromhex("C301C1000F0000280000FF01010911") + f_stoc
    assert pass3 == bytes.fromhex(
        "C301C1000F0000280000FF0101091110000000011A52FE7DD3E72748973C1E28"
    )


def test_green_book_table_c2_kdf() -> None:
    z = bytes.fromhex("0D4385BA0DD756CBCAB9887EB538396EE8F090A14C1079B4359F115B977F4615")
    full = bytes.fromhex("59A71FD81C929A86A99438DA17A66C058C6A93FD3065F5EE16A05D775927659B")
    other = bytes.fromhex("60857405080300") + SERVER_ST + CLIENT_ST
    assert concat_kdf(z, other, length=32) == full
    key = derive_key(
        z,
        suite=SecuritySuite.ECDH_ECDSA_AES_GCM_128_SHA_256,
        party_u_system_title=SERVER_ST,
        party_v_system_title=CLIENT_ST,
    )
    assert key == full[:16]


def test_rfc_3394_section_4_1() -> None:
    kek = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
    key = bytes.fromhex("00112233445566778899AABBCCDDEEFF")
    wrapped = bytes.fromhex("1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5")
    assert wrap_key(kek, key) == wrapped
    assert unwrap_key(kek, wrapped) == key


def test_ciphered_aarq_of_section_1_5_deciphers_to_initiate_request() -> None:
    aarq = bytes.fromhex(
        "6066A109060760857405080103A60A04084D4D4D0000BC614E8A0207808B0760857405080201"
        "AC0A80083132333435363738BE34043221303001234567801302FF8A7874133D414CED25B4"
        "2534D28DB0047720606B175BD52211BE6841DB204D39EE6FDB8E356855"
    )
    # calling-AP-title A6 0A 04 08 <client system title>
    calling_title = aarq[aarq.index(bytes.fromhex("A60A0408")) + 4 :][:8]
    assert calling_title == bytes.fromhex("4D4D4D0000BC614E")
    # user-information BE 34 04 32 <glo-initiateRequest>
    user_information = aarq[aarq.index(bytes.fromhex("BE340432")) + 4 :]
    assert user_information[0] == 0x21 and len(user_information) == 0x32
    meter = SecurityContext(
        system_title=bytes.fromhex("4D4D4D0000000002"),
        peer_system_title=calling_title,
        global_unicast_key=EK,
        authentication_key=AK,
    )
    initiate = meter.unprotect(user_information)
    assert initiate == bytes.fromhex(
        "01011000112233445566778899AABBCCDDEEFF0000065F1F0400007E1F04B0"
    )
    # the dedicated key travels inside it: 01 10 <16 bytes>
    assert initiate[1:3] == b"\x01\x10"
