"""Regression vectors for dlmskit.association found by the fuzz targets
(fuzz/_association.py).

A vector marked ``xfail(strict=True)`` is a known, still open defect: the test turns
red as soon as the defect is fixed, so the marker goes with the fix.
"""

from __future__ import annotations

import pytest

from dlmskit.apdu import Conformance, CosemAttributeDescriptor
from dlmskit.association import (
    AssociationPolicy,
    AssociationState,
    ClientAssociation,
    ClientSettings,
    MemoryObjectTree,
    ServerAssociation,
)
from dlmskit.axdr import DoubleLongUnsigned
from dlmskit.errors import DlmsError, RemoteProtocolError
from obis import ObisCode

ENERGY = CosemAttributeDescriptor(
    class_id=3, instance_id=ObisCode(1, 0, 1, 8, 0, 255), attribute_id=2
)
WITH_GBT = Conformance(0x001E1D | Conformance.GENERAL_BLOCK_TRANSFER)
#: general-block-transfer: last block, window 0, block 1, ack 0, block-data of 0 octets
EMPTY_LAST_BLOCK = bytes.fromhex("E08000010000" + "00")


def _client_awaiting_get() -> ClientAssociation:
    client = ClientAssociation(
        ClientSettings(conformance=WITH_GBT, use_general_block_transfer=True)
    )
    server = ServerAssociation(
        AssociationPolicy(conformance=WITH_GBT),
        MemoryObjectTree({(3, ENERGY.instance_id, 2): DoubleLongUnsigned(5)}),
    )
    client.associate()
    for apdu in client.data_to_send():
        server.receive_apdu(apdu)
    for apdu in server.data_to_send():
        client.receive_apdu(apdu)
    assert client.state is AssociationState.ASSOCIATED
    client.get(ENERGY)
    client.data_to_send()
    return client


def test_gbt_block_reassembling_to_nothing_is_refused_as_such() -> None:
    client = _client_awaiting_get()
    with pytest.raises(DlmsError) as info:
        client.receive_apdu(EMPTY_LAST_BLOCK)
    assert info.value.__cause__ is None or isinstance(info.value.__cause__, DlmsError)
    assert isinstance(info.value, RemoteProtocolError)
    assert "empty APDU" in str(info.value)
    assert client.state is AssociationState.ERROR
