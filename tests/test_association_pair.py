"""A client and a server association machine wired back to back in memory."""

from __future__ import annotations

from collections.abc import Callable

from dlmskit.association import (
    NEED_DATA,
    AssociationPolicy,
    ClientAssociation,
    ClientSettings,
    Event,
    MemoryObjectTree,
    ServerAssociation,
    ShortNameMap,
)
from dlmskit.association._endpoint import (
    DEFAULT_MAX_BLOCKS,
    DEFAULT_MAX_DEPTH,
    DEFAULT_MAX_REASSEMBLED_SIZE,
)

#: Decides whether one APDU in flight is lost: (direction "c2s"/"s2c", APDU) -> drop?
Loss = Callable[[str, bytes], bool]


class Pair:
    """Moves ``data_to_send()`` of each machine into ``receive_apdu()`` of the other."""

    def __init__(
        self,
        settings: ClientSettings | None = None,
        policy: AssociationPolicy | None = None,
        objects: MemoryObjectTree | None = None,
        *,
        short_names: ShortNameMap | None = None,
        max_reassembled_size: int = DEFAULT_MAX_REASSEMBLED_SIZE,
        max_blocks: int = DEFAULT_MAX_BLOCKS,
        max_depth: int = DEFAULT_MAX_DEPTH,
    ) -> None:
        limits = {
            "max_reassembled_size": max_reassembled_size,
            "max_blocks": max_blocks,
            "max_depth": max_depth,
        }
        self.client = ClientAssociation(settings, **limits)
        self.objects = objects if objects is not None else MemoryObjectTree()
        self.server = ServerAssociation(
            policy if policy is not None else AssociationPolicy(),
            self.objects,
            short_names=short_names,
            **limits,
        )
        self.wire: list[tuple[str, bytes]] = []

    def pump(self, loss: Loss | None = None, *, max_rounds: int = 100_000) -> None:
        for _ in range(max_rounds):
            c2s = self.client.data_to_send()
            s2c: list[bytes] = []
            for apdu in c2s:
                self.wire.append(("c2s", apdu))
                if loss is None or not loss("c2s", apdu):
                    self.server.receive_apdu(apdu)
            s2c = self.server.data_to_send()
            for apdu in s2c:
                self.wire.append(("s2c", apdu))
                if loss is None or not loss("s2c", apdu):
                    self.client.receive_apdu(apdu)
            if not c2s and not s2c:
                return
        raise AssertionError("the machines kept talking")

    def client_events(self) -> list[Event]:
        return _drain(self.client)

    def server_events(self) -> list[Event]:
        return _drain(self.server)

    def one_event(self) -> Event:
        events = self.client_events()
        assert len(events) == 1, events
        return events[0]

    def associate(self) -> Event:
        self.client.associate()
        self.pump()
        return self.one_event()


def _drain(machine: ClientAssociation | ServerAssociation) -> list[Event]:
    out: list[Event] = []
    while (event := machine.next_event()) is not NEED_DATA:
        assert not isinstance(event, type(NEED_DATA))
        out.append(event)
    return out
