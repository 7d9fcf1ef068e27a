"""A meter endpoint for tests: server associations over the transports' trio servers."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import trio

from dlmskit.association import NEED_DATA, AssociationPolicy, ObjectTree, ServerAssociation
from dlmskit.errors import DlmsError
from transports import (
    ApduTransport,
    HdlcAddress,
    UdpPeerTransport,
    open_udp_endpoint,
    serve_tcp_hdlc,
    serve_tcp_wrapper,
)

__all__ = ["MeterEndpoint", "serve_hdlc", "serve_udp", "serve_wrapper"]

TreeT = TypeVar("TreeT", bound=ObjectTree)


class MeterEndpoint(Generic[TreeT]):
    """One meter: an object tree and the association policy of each client SAP.

    Policies are shared by every session of a SAP, so the server's security contexts
    (and so its replay state) live as long as the endpoint. ``sessions`` counts
    associations served; ``silent`` makes the meter swallow requests (a dead link);
    ``drop_next`` drops that many responses (a lossy link); ``corrupt_next`` flips the
    last octet of that many responses (line noise); ``late_next`` answers that many
    requests ``late_by`` seconds late (a slow meter: the link waits meanwhile);
    ``hang_up`` closes the link at the next request.
    """

    def __init__(
        self,
        objects: TreeT,
        policies: Mapping[int, AssociationPolicy],
        *,
        server_sap: int = 1,
    ) -> None:
        self.objects = objects
        self.policies = dict(policies)
        self.server_sap = server_sap
        self.sessions = 0
        self.requests = 0
        self.silent = False
        self.drop_next = 0
        self.corrupt_next = 0
        self.hang_up = False
        self.late_next = 0
        self.late_by = 0.0
        #: client SAP -> the client's system title, for SAPs whose association is
        #: pre-established (served without an AARQ)
        self.pre_established: dict[int, bytes | None] = {}
        self.on_request: Callable[[bytes], None] | None = None

    async def serve(self, transport: ApduTransport, client_sap: int | None = None) -> None:
        """Answer one client over ``transport`` until the link closes."""
        association: ServerAssociation | None = None
        try:
            while True:
                apdu = await transport.receive_apdu()
                self.requests += 1
                if self.on_request is not None:
                    self.on_request(apdu)
                if association is None:
                    sap = client_sap if client_sap is not None else transport.peer_address.sap
                    policy = self.policies.get(sap if sap is not None else -1)
                    if policy is None:
                        return
                    association = ServerAssociation(policy, self.objects)
                    if sap in self.pre_established:
                        association.assume_established(
                            client_system_title=self.pre_established[sap]
                        )
                    self.sessions += 1
                if self.hang_up:
                    self.hang_up = False
                    await transport.aclose()
                    return
                if self.silent:
                    continue
                association.receive_apdu(apdu)
                while association.next_event() is not NEED_DATA:
                    pass
                answers = association.data_to_send()
                if answers and self.late_next > 0:
                    self.late_next -= 1
                    await trio.sleep(self.late_by)
                for answer in answers:
                    if self.drop_next > 0:
                        self.drop_next -= 1
                        continue
                    if self.corrupt_next > 0:
                        self.corrupt_next -= 1
                        answer = answer[:-1] + bytes((answer[-1] ^ 0x01,))
                    await transport.send_apdu(answer)
        except DlmsError:
            return
        finally:
            if association is not None:
                association.abort()


async def serve_wrapper(
    endpoint: MeterEndpoint[Any],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``endpoint`` over the wrapper on TCP; ``nursery.start`` gives the port."""

    async def handler(transport: Any) -> None:
        await endpoint.serve(transport)

    async with trio.open_nursery() as nursery:
        listeners: Any = await nursery.start(serve_tcp_wrapper, handler, host, port)
        task_status.started(int(listeners[0].socket.getsockname()[1]))


async def serve_hdlc(
    endpoint: MeterEndpoint[Any],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``endpoint`` with HDLC over TCP; ``nursery.start`` gives the port."""

    async def handler(transport: Any) -> None:
        await endpoint.serve(transport)

    async with trio.open_nursery() as nursery:
        listeners: Any = await nursery.start(
            lambda task_status: serve_tcp_hdlc(
                handler,
                host,
                port,
                server_address=HdlcAddress.server(endpoint.server_sap),
                task_status=task_status,
            )
        )
        task_status.started(int(listeners[0].socket.getsockname()[1]))


async def serve_udp(
    endpoint: MeterEndpoint[Any],
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    task_status: trio.TaskStatus[int] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``endpoint`` over the wrapper on UDP; ``nursery.start`` gives the port."""
    async with open_udp_endpoint(host, port) as udp, trio.open_nursery() as nursery:
        task_status.started(udp.sockname[1])
        while True:
            peer: UdpPeerTransport = await udp.accept()
            nursery.start_soon(endpoint.serve, peer)
