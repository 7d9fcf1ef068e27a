"""A materialised simulated meter: its associations and the sessions clients open.

Each session is the real :class:`~dlmskit.association.ServerAssociation` for the client
SAP's IS 15959-2 association (public client, meter reader with LLS, utility settings and
firmware with HLS and suite 0 ciphering) over the meter's object tree. The meter keeps
one security context per association, so its invocation counters and the clients' last
accepted counters survive from one session to the next.
"""

from __future__ import annotations

import datetime as _dt
import functools
from collections.abc import Callable

from dlmskit.apdu import ApplicationContextName, MechanismName
from dlmskit.association import (
    NEED_DATA,
    AssociationPolicy,
    AssociationState,
    ServerAssociation,
)
from dlmskit.axdr import DeviationSign
from dlmskit.cosem import (
    IS15959_SINGLE_PHASE,
    IS15959_THREE_PHASE,
    AssociationProfile,
    CompanionProfile,
)
from dlmskit.security import HlsGmac, HlsSecret, KeyId, MemoryCounterStore, SecurityContext
from simulators._faults import FaultKind, FaultPlan
from simulators._identity import MeterIdentity, MeterKeys, MeterModel
from simulators._measure import MeteringPoint
from simulators._objects import MeterObjects
from simulators._state import MeterState, utc_now

__all__ = ["MeterSession", "SimulatedMeter"]

#: Client SAPs that open an association with an AARQ (push 64 is pre-established).
SERVED_SAPS = (0x10, 0x20, 0x30, 0x50)


class MeterSession:
    """One client's association with a meter: APDUs in, APDUs out."""

    def __init__(self, meter: SimulatedMeter, association: ServerAssociation) -> None:
        self.meter = meter
        self.association = association
        self._open = True
        meter.open_sessions += 1

    def handle(self, apdu: bytes) -> list[bytes]:
        """The meter's answers to one APDU from the client (never raises)."""
        association = self.association
        association.receive_apdu(apdu)
        while association.next_event() is not NEED_DATA:
            pass
        return association.data_to_send()

    @property
    def associated(self) -> bool:
        return self.association.state is AssociationState.ASSOCIATED

    def close(self) -> None:
        """The link is gone: abort the association."""
        self.association.abort()
        if self._open:
            self._open = False
            self.meter.open_sessions -= 1


def _last_received(contexts: dict[int, SecurityContext], sap: int) -> int:
    """The last counter accepted from the client of ``sap`` (0 before any)."""
    context = contexts.get(sap)
    if context is None or context.peer_system_title is None:
        return 0
    last = context.last_accepted(context.peer_system_title, KeyId.GLOBAL_UNICAST_ENCRYPTION)
    return 0 if last is None else last


class SimulatedMeter:
    """A meter brought to life: identity, keys, state, object tree and associations."""

    def __init__(
        self,
        identity: MeterIdentity,
        *,
        keys: MeterKeys | None = None,
        plan: FaultPlan | None = None,
        clock: Callable[[], _dt.datetime] = utc_now,
        sign: DeviationSign = DeviationSign.UTC_TO_LOCAL,
    ) -> None:
        self.identity = identity
        self.keys = keys if keys is not None else MeterKeys()
        point = MeteringPoint(model=identity.load_model(), plan=plan or FaultPlan())
        self.state = MeterState(identity=identity, point=point, clock=clock, sign=sign)
        self.profile: CompanionProfile = (
            IS15959_THREE_PHASE
            if identity.model is MeterModel.THREE_PHASE
            else IS15959_SINGLE_PHASE
        )
        self.objects = MeterObjects(self.state, self.profile)
        self.counters = MemoryCounterStore()
        self._contexts: dict[int, SecurityContext] = {}
        self._wrong_keys = False
        self._counter_reset_done = False
        # a function of the contexts alone: a meter referenced from its own state would
        # be a reference cycle, left for the cycle collector when the fleet evicts it
        self.state.last_received = functools.partial(_last_received, self._contexts)
        self.sessions_opened = 0
        #: Sessions not closed yet: a fleet does not evict a meter that has some.
        self.open_sessions = 0

    # -- security ------------------------------------------------------------------------

    def _context(self, sap: int) -> SecurityContext:
        wrong = bool(self.state.rules(FaultKind.WRONG_KEYS))
        if wrong != self._wrong_keys:
            self._contexts.clear()
            self._wrong_keys = wrong
        context = self._contexts.get(sap)
        if context is None:
            keys = self.keys.wrong() if wrong else self.keys
            context = SecurityContext(
                system_title=self.identity.system_title,
                global_unicast_key=keys.ek,
                authentication_key=keys.ak,
                counter_store=self.counters,
            )
            self._contexts[sap] = context
        return context

    def received_counters(self) -> tuple[tuple[int, bytes, int], ...]:
        """(client SAP, client system title, last accepted counter) of each association."""
        out = []
        for sap, context in self._contexts.items():
            title = context.peer_system_title
            if title is None:
                continue
            last = context.last_accepted(title, KeyId.GLOBAL_UNICAST_ENCRYPTION)
            if last is not None:
                out.append((sap, title, last))
        return tuple(out)

    def restore_received(self, received: tuple[tuple[int, bytes, int], ...]) -> None:
        """Seed the replay checks from ``received_counters`` of an earlier life."""
        for sap, title, last in received:
            context = self._context(sap)
            context.peer_system_title = title
            context.set_last_accepted(title, KeyId.GLOBAL_UNICAST_ENCRYPTION, last)

    def _apply_counter_reset(self) -> None:
        if self._counter_reset_done or not self.state.rules(FaultKind.COUNTER_RESET):
            return
        self._counter_reset_done = True
        for key in (KeyId.GLOBAL_UNICAST_ENCRYPTION, KeyId.DEDICATED):
            self.counters.reset(self.identity.system_title, int(key))

    def policy(self, association: AssociationProfile) -> AssociationPolicy:
        """The server policy of one IS 15959-2 association with this meter's keys."""
        ciphered = association.application_context in (
            ApplicationContextName.LN_CIPHERED,
            ApplicationContextName.SN_CIPHERED,
        )
        security = self._context(association.client_sap) if ciphered else None
        mechanism = association.mechanism
        hls: HlsSecret | HlsGmac | None = None
        if mechanism >= MechanismName.HIGH:
            mechanism = self.keys.hls_mechanism
            if mechanism == MechanismName.HIGH_GMAC:
                hls = HlsGmac()
                security = security or self._context(association.client_sap)
            else:
                hls = HlsSecret(secret=self.keys.hls_secret)
        return AssociationPolicy(
            client_sap=association.client_sap,
            application_context=association.application_context,
            mechanism=mechanism,
            password=self.keys.lls_secret if mechanism == MechanismName.LOW else None,
            hls=hls,
            security=security,
            conformance=association.conformance,
        )

    # -- sessions ------------------------------------------------------------------------

    def open_session(self, client_sap: int) -> MeterSession | None:
        """A new association for ``client_sap``, or ``None`` if the meter has none there."""
        association = self.profile.association(client_sap)
        if association is None or client_sap not in SERVED_SAPS:
            return None
        self._apply_counter_reset()
        self.sessions_opened += 1
        return MeterSession(self, ServerAssociation(self.policy(association), self.objects))

    def push_context(self) -> SecurityContext:
        """The security context of the pre-established Push association (SAP 64)."""
        return self._context(0x40)

    def silent(self) -> bool:
        return self.state.silent()
