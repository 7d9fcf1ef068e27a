"""The server machine answering gurux-dlms's client: an independent implementation as oracle.

gurux-dlms (GPL-2.0) is a test-only dependency. Its client builds the requests (AARQ,
GET with and without block transfer, SET, ACTION, RLRQ) over the wrapper framing; the
wrapper header is stripped before our server sees the APDU and added to our answer
before gurux parses it.
"""

from __future__ import annotations

from typing import Any

import pytest
from gurux_dlms import GXByteBuffer, GXDLMSClient, GXReplyData
from gurux_dlms.enums import Authentication, InterfaceType
from gurux_dlms.objects import GXDLMSData, GXDLMSRegister

from dlmskit.apdu import ActionResult, MechanismName
from dlmskit.association import (
    AssociationPolicy,
    AssociationState,
    MemoryObjectTree,
    RequestContext,
    ServerAssociation,
)
from dlmskit.axdr import Data, DoubleLongUnsigned, OctetString
from obis import ObisCode

NAME = ObisCode(0, 0, 96, 1, 0, 255)
ENERGY = ObisCode(1, 0, 1, 8, 0, 255)
BIG = bytes(range(256)) * 40


def _wrap(apdu: bytes) -> bytes:
    return b"\x00\x01\x00\x01\x00\x10" + len(apdu).to_bytes(2, "big") + apdu


def _unwrap(frame: bytes) -> bytes:
    assert frame[:6] == b"\x00\x01\x00\x10\x00\x01"
    assert int.from_bytes(frame[6:8], "big") == len(frame) - 8
    return frame[8:]


class Link:
    def __init__(self, server: ServerAssociation, client: GXDLMSClient) -> None:
        self.server = server
        self.client = client
        self.apdus: list[bytes] = []

    def exchange(self, frames: Any) -> GXReplyData:
        reply = GXReplyData()
        if not isinstance(frames, list):
            frames = [frames]
        for frame in frames:
            self._one(bytes(frame), reply)
        while reply.isMoreData():
            self._one(bytes(self.client.receiverReady(reply)), reply)
        return reply

    def _one(self, frame: bytes, reply: GXReplyData) -> None:
        request = _unwrap(frame)
        self.apdus.append(request)
        self.server.receive_apdu(request)
        out = self.server.data_to_send()
        assert len(out) == 1
        self.apdus.append(out[0])
        self.client.getData(GXByteBuffer(bytearray(_wrap(out[0]))), reply)


def _reset(ctx: RequestContext, params: Data | None) -> tuple[ActionResult, Data | None]:
    return ActionResult.SUCCESS, None


def _link(max_pdu: int, **policy: Any) -> Link:
    objects = MemoryObjectTree(
        {
            (1, NAME, 2): OctetString(BIG),
            (3, ENERGY, 2): DoubleLongUnsigned(123),
            (3, ENERGY, 3): OctetString(b"\x00\x1e"),
        },
        methods={(3, ENERGY, 1): _reset},
    )
    server = ServerAssociation(AssociationPolicy(**policy), objects)
    auth = (
        Authentication.LOW if policy.get("mechanism") == MechanismName.LOW else Authentication.NONE
    )
    client = GXDLMSClient(True, 16, 1, auth, policy.get("password"), InterfaceType.WRAPPER)
    client.maxReceivePDUSize = max_pdu
    link = Link(server, client)
    reply = link.exchange(client.aarqRequest())
    client.parseAareResponse(reply.data)
    assert server.state is AssociationState.ASSOCIATED
    return link


@pytest.mark.parametrize("max_pdu", [128, 1024, 0xFFFF])
def test_gurux_client_reads_through_our_block_transfer(max_pdu: int) -> None:
    link = _link(max_pdu)
    name = GXDLMSData(str(NAME))
    reply = link.exchange(link.client.read(name, 2))
    assert bytes(reply.value) == BIG
    responses = link.apdus[3::2]
    assert all(len(apdu) <= max_pdu for apdu in responses)
    if max_pdu < len(BIG):
        assert all(apdu[:2] == b"\xc4\x02" for apdu in responses)
        # 9 header bytes and a 1-byte length leave 118 of 128 for the 10 244-byte Data
        assert len(responses) == -(-(len(BIG) + 4) // (max_pdu - 10))


def test_gurux_client_get_set_action_and_release() -> None:
    link = _link(0xFFFF, mechanism=MechanismName.LOW, password=b"12345678")
    assert bytes.fromhex("8B0760857405080201") in link.apdus[0]  # gurux asked for LLS
    register = GXDLMSRegister(str(ENERGY))
    reply = link.exchange(link.client.read(register, 2))
    assert reply.value == 123
    register.value = 456
    link.exchange(link.client.write(register, 2))
    assert link.apdus[-1] == bytes.fromhex("C501C100")
    assert link.server.objects.values[(3, ENERGY, 2)] == 456  # type: ignore[attr-defined]
    link.exchange(link.client.method(register, 1, 0, 15))
    assert link.apdus[-1][:4] == bytes.fromhex("C701C100")
    link.exchange(link.client.releaseRequest())
    assert link.apdus[-1][:1] == b"\x63"
    assert link.server.state is AssociationState.IDLE


def test_gurux_aarq_with_wrong_password_is_rejected() -> None:
    objects = MemoryObjectTree()
    server = ServerAssociation(
        AssociationPolicy(mechanism=MechanismName.LOW, password=b"12345678"), objects
    )
    client = GXDLMSClient(True, 16, 1, Authentication.LOW, "wrong", InterfaceType.WRAPPER)
    link = Link(server, client)
    with pytest.raises(Exception, match=r"(?i)authentication"):
        reply = link.exchange(client.aarqRequest())
        client.parseAareResponse(reply.data)
    assert bytes.fromhex("A305A10302010D") in link.apdus[1]  # authentication-failure
    assert server.state is AssociationState.IDLE


# -- our client against gurux-dlms's server classes ----------------------------------
# gurux-dlms 1.0.203's Python server lacks a few methods its own command handlers call
# (GXServerReply.setReply/getConnectionInfo, server.notifyRead); the test supplies them.
# Its long-GET and SET paths fail inside gurux itself, so association, a single-APDU GET
# and release are exchanged.


def _gurux_server(monkeypatch: pytest.MonkeyPatch) -> Any:
    from gurux_dlms import GXDLMSServer, GXServerReply
    from gurux_dlms.enums import AccessMode, MethodAccessMode, SourceDiagnostic
    from gurux_dlms.objects import GXDLMSAssociationLogicalName

    monkeypatch.setattr(
        GXServerReply, "setReply", lambda self, value: setattr(self, "reply", value), raising=False
    )
    monkeypatch.setattr(
        GXServerReply, "getConnectionInfo", lambda self: self.connectionInfo, raising=False
    )

    class Server(GXDLMSServer):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(True, InterfaceType.WRAPPER)
            self.register = GXDLMSRegister(str(ENERGY))
            self.register.value = 123456
            association = GXDLMSAssociationLogicalName()
            association.objectList.append(self.register)
            self.items.append(association)
            self.items.append(self.register)
            self.initialize()

        def isTarget(self, server_address: int, client_address: int) -> bool:
            return True

        def onValidateAuthentication(self, authentication: Any, password: Any) -> Any:
            return SourceDiagnostic.NONE

        def onGetAttributeAccess(self, arg: Any) -> Any:
            return AccessMode.READ_WRITE

        def onGetMethodAccess(self, arg: Any) -> Any:
            return MethodAccessMode.ACCESS

        def onFindObject(self, *args: Any) -> None:
            return None

        def onPostRead(self, args: Any = None) -> None:
            return None

        def notifyRead(self, args: Any = None) -> None:
            return None

        def _ignore(self, *args: Any) -> None:
            return None

        onPreGet = onPostGet = onPreRead = onPreWrite = onPostWrite = _ignore
        onConnected = onInvalidConnection = onDisconnected = onPreAction = _ignore
        onPostAction = _ignore

    return Server()


def _to_gurux(server: Any, apdu: bytes) -> bytes:
    from gurux_dlms import GXServerReply

    sr = GXServerReply(bytearray(b"\x00\x01\x00\x10\x00\x01" + len(apdu).to_bytes(2, "big") + apdu))
    server.handleRequest(sr)
    reply = bytes(sr.reply)
    assert reply[:6] == b"\x00\x01\x00\x01\x00\x10"
    return reply[8:]


def test_our_client_with_gurux_server(monkeypatch: pytest.MonkeyPatch) -> None:
    from dlmskit.apdu import Conformance, CosemAttributeDescriptor
    from dlmskit.association import (
        AssociationAccepted,
        ClientAssociation,
        GetCompleted,
        Released,
    )

    server = _gurux_server(monkeypatch)
    client = ClientAssociation()
    client.associate()
    client.receive_apdu(_to_gurux(server, client.data_to_send()[0]))
    accepted = client.next_event()
    assert isinstance(accepted, AssociationAccepted)
    assert Conformance.GET in accepted.conformance and Conformance.SET in accepted.conformance
    energy = CosemAttributeDescriptor(class_id=3, instance_id=ENERGY, attribute_id=2)
    client.get(energy)
    client.receive_apdu(_to_gurux(server, client.data_to_send()[0]))
    got = client.next_event()
    assert isinstance(got, GetCompleted) and got.result == 123456
    client.release()
    client.receive_apdu(_to_gurux(server, client.data_to_send()[0]))
    assert isinstance(client.next_event(), Released)
