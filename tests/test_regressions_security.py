"""Regression vectors for dlmskit.security found by the fuzz targets (fuzz/_security.py,
fuzz/_association.py)."""

from __future__ import annotations

import pytest

from dlmskit.apdu import ApplicationContextName, MechanismName
from dlmskit.association import (
    NEED_DATA,
    AssociationAccepted,
    AssociationPolicy,
    AssociationState,
    ClientAssociation,
    ClientSettings,
    MemoryObjectTree,
    ServerAssociation,
)
from dlmskit.errors import SecurityError
from dlmskit.security import HlsGmac, InvocationCounterError, SecurityContext

CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
STOC = bytes.fromhex("503677524A323146")
CTOS = bytes.fromhex("4B35366956616759")
# Green Book Table 40, SC 0x20 (dlms-facts.md 3.4): a glo-get-request, which names no
# system title
GLO_WITHOUT_TITLE = bytes.fromhex("C8122001234567411312FF935A47566827C467BC")


def _context(title: bytes, peer: bytes | None = None) -> SecurityContext:
    return SecurityContext(
        system_title=title, peer_system_title=peer, global_unicast_key=EK, authentication_key=AK
    )


def test_service_specific_apdu_before_the_peer_title_is_known_is_a_security_error() -> None:
    # was LocalProtocolError: the receiver cannot form the IV, and that is the peer's doing
    receiver = _context(SERVER_ST)
    with pytest.raises(SecurityError, match="peer system title is not known"):
        receiver.unprotect(GLO_WITHOUT_TITLE)
    with pytest.raises(SecurityError, match="peer system title is not known"):
        receiver.unprotect(bytes.fromhex("DB00122001234567411312FF935A47566827C467BC"))


def test_hls_gmac_in_a_ciphered_context_associates() -> None:
    # the ACTION carrying f(StoC) is ciphered with the counter after f(StoC)'s own, and is
    # accepted first; f(StoC) was then refused as a replay and the association failed
    settings = ClientSettings(
        application_context=ApplicationContextName.LN_CIPHERED,
        mechanism=MechanismName.HIGH_GMAC,
        hls=HlsGmac(),
        security=_context(CLIENT_ST),
        challenge_source=lambda: CTOS,
    )
    policy = AssociationPolicy(
        application_context=ApplicationContextName.LN_CIPHERED,
        mechanism=MechanismName.HIGH_GMAC,
        hls=HlsGmac(),
        security=_context(SERVER_ST),
        challenge_source=lambda: STOC,
    )
    client = ClientAssociation(settings)
    server = ServerAssociation(policy, MemoryObjectTree())
    client.associate()
    wire: list[bytes] = []
    for _ in range(4):
        for apdu in client.data_to_send():
            wire.append(apdu)
            server.receive_apdu(apdu)
        for apdu in server.data_to_send():
            client.receive_apdu(apdu)
    assert client.state is AssociationState.ASSOCIATED
    assert server.state is AssociationState.ASSOCIATED
    assert isinstance(client.next_event(), AssociationAccepted)
    assert client.next_event() is NEED_DATA
    # pass 3 is a glo-ACTION-request (0xCB) ciphered with counter 2 around f(StoC) with
    # counter 1: Green Book Table 43's f(StoC) exactly
    pass_3 = wire[1]
    assert pass_3[0] == 0xCB and pass_3[3:7] == bytes.fromhex("00000002")
    opened = _context(SERVER_ST, CLIENT_ST).unprotect(pass_3)
    assert opened.endswith(bytes.fromhex("10000000011A52FE7DD3E72748973C1E28"))


def test_hls_gmac_responses_are_still_refused_when_replayed() -> None:
    client, server = _context(CLIENT_ST, SERVER_ST), _context(SERVER_ST, CLIENT_ST)
    first = client.gmac_response(STOC)
    second = client.gmac_response(STOC)
    assert server.verify_gmac_response(second, STOC)
    with pytest.raises(InvocationCounterError):
        server.verify_gmac_response(first, STOC)
    with pytest.raises(InvocationCounterError):
        server.verify_gmac_response(second, STOC)
    # APDU counters are a separate record: the client's first APDU after HLS opens
    fresh_client = _context(CLIENT_ST, SERVER_ST)
    assert server.unprotect(fresh_client.protect(bytes.fromhex("C001C100080000010000FF0200")))
