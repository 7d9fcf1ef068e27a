"""The connected meter: ``async with connect(target, association=...) as meter``.

:class:`Meter` drives the sans-IO :class:`~dlmskit.association.ClientAssociation` over
an :class:`~transports.ApduTransport`: every call queues a request on the machine, sends
what the machine has to send, and feeds it responses until it hands out one event.
Block transfer, HLS passes 3 and 4 and ciphering happen inside the machine; every wait
here is bounded by the link's :class:`~dlmskit.client.LinkSettings`.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import functools
from collections.abc import Awaitable, Callable, Mapping, Sequence

import trio

import obis
from dlmskit.apdu import (
    ActionResult,
    Conformance,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    DataAccessResult,
    DataNotification,
    EventNotificationRequest,
    SelectiveAccess,
)
from dlmskit.association import (
    NEED_DATA,
    ActionCompleted,
    AssociationAccepted,
    AssociationRejected,
    AssociationState,
    AuthenticationFailed,
    ClientAssociation,
    ConfirmedServiceErrorReceived,
    Event,
    ExceptionReceived,
    GetCompleted,
    NotificationReceived,
    Released,
    SetCompleted,
)
from dlmskit.axdr import Data
from dlmskit.client import _operations as _ops
from dlmskit.client import _reads
from dlmskit.client._association import Association
from dlmskit.client._errors import (
    AssociationRefused,
    AuthenticationFailure,
    MeterTimeout,
    result_name,
)
from dlmskit.client._link import LinkSettings
from dlmskit.cosem import (
    CaptureObject,
    ObjectListEntry,
    ProfileColumns,
    ProfileRow,
    Quantity,
    ScalerUnit,
)
from dlmskit.errors import (
    LocalProtocolError,
    RemoteProtocolError,
    SecurityError,
    ServiceError,
    TransportError,
)
from dlmskit.security import KeyId, SecurityContext
from obis import ObisCode, ObisLike, as_obis
from transports import ApduTransport

__all__ = ["AttributeRef", "Meter"]

_AARE_TAG = b"\x61"

#: (class_id, logical name, attribute or method index)
AttributeRef = tuple[int, ObisLike, int]


@functools.lru_cache(maxsize=1024)
def _shared_attribute(
    class_id: int, name: ObisCode | str | bytes, index: int
) -> CosemAttributeDescriptor:
    return CosemAttributeDescriptor(
        class_id=class_id, instance_id=as_obis(name), attribute_id=index
    )


def _attribute(class_id: int, name: ObisLike, index: int) -> CosemAttributeDescriptor:
    """The (frozen, so shared) descriptor of an attribute: a head-end reads the same few
    attributes of every meter. Names that cannot be keys (a bytearray) are built each
    time."""
    if isinstance(name, _KEYABLE):
        return _shared_attribute(class_id, name, index)
    return CosemAttributeDescriptor(
        class_id=class_id, instance_id=as_obis(name), attribute_id=index
    )


_KEYABLE = (ObisCode, str, bytes)


def describe_reference(class_id: int, name: ObisLike, index: int) -> str:
    """``3/1.0.1.8.0.255/2 (Cumulative energy kWh import)``: for error messages."""
    code = as_obis(name)
    text = f"{class_id}/{code}/{index}"
    label = obis.describe(code)
    return f"{text} ({label})" if label else text


class _Turn:
    """One request at a time on a meter: taken at once when free (no scheduling round
    trip: the link I/O that follows is the checkpoint), else waited for in line;
    leaving hands it straight to the longest waiter. A flag and a parking lot: cheaper
    than ``trio.Lock`` on a path taken for every request."""

    __slots__ = ("_busy", "_waiting")

    def __init__(self) -> None:
        self._busy = False
        self._waiting = trio.lowlevel.ParkingLot()

    async def __aenter__(self) -> None:
        if self._busy:
            # __aexit__ hands the turn over: when park() returns, it is ours
            await self._waiting.park()
        else:
            self._busy = True

    async def __aexit__(self, *exc: object) -> None:
        if self._waiting:
            self._waiting.unpark()
        else:
            self._busy = False


class Meter:
    """One open association with one meter, over one transport.

    Use :func:`connect` rather than building one. Requests are serialised: one
    confirmed service is outstanding at a time (the association allows no more), so
    concurrent tasks may share a ``Meter`` safely. Unsolicited notifications that
    arrive during a request are kept in ``notifications``.
    """

    def __init__(
        self,
        transport: ApduTransport,
        association: Association,
        link: LinkSettings,
        *,
        name: str = "meter",
        datagram: bool = False,
        reopen: Callable[[], Awaitable[ApduTransport]] | None = None,
    ) -> None:
        self.transport = transport
        self.association = association
        self.link = link
        self.name = name
        self.notifications: list[DataNotification | EventNotificationRequest] = []
        self._datagram = datagram
        self._lock = _Turn()
        # one security context for the life of the link: its invocation counters must
        # keep rising across re-associations
        self._security = association.security_context()
        self._machine = ClientAssociation(association.client_settings(self._security))
        #: the machine above has not been used yet: the first ``open`` takes it
        self._fresh_machine = True
        self.accepted: AssociationAccepted | None = None
        self._reopen = reopen
        #: an AARQ or RLRQ went unanswered: what comes next on this link may answer
        #: an association that is gone
        self._unsettled = False
        #: the AARQ or HLS pass 3 of the last ``open`` was sent more than once
        self.association_repeated = False
        #: requests sent again (protected afresh) because no answer came in time
        self.resent = 0

    # -- the pump ------------------------------------------------------------------

    @property
    def state(self) -> AssociationState:
        return self._machine.state

    @property
    def security(self) -> SecurityContext | None:
        """The security context of the current association (counters, keys)."""
        return self._security

    async def _flush(self) -> None:
        for apdu in self._machine.data_to_send():
            await self.transport.send_apdu(apdu)

    def _give_up(self) -> None:
        """Stop waiting: a request is abandoned (its late answer will be discarded and
        the association stays); an unanswered AARQ or RLRQ ends the association."""
        if not self._machine.abandon_request():
            if self._machine.state in (
                AssociationState.ASSOCIATION_PENDING,
                AssociationState.RELEASE_PENDING,
                AssociationState.AUTHENTICATING,
            ):
                self._unsettled = True
            self._machine.abort()

    async def _next_event(self, timeout: float) -> Event:
        """Send what the machine has queued and feed it responses until it hands out an
        event; a cancelled wait gives the request up (see :meth:`_give_up`). One frame
        for the whole exchange: every wait for a response suspends through it."""
        try:
            await self._flush()
            resends = self.link.retries if self._datagram else 0
            while True:
                event = self._machine.next_event()
                if event is not NEED_DATA:
                    assert not isinstance(event, type(NEED_DATA))
                    if isinstance(event, NotificationReceived):
                        self.notifications.append(event.notification)
                        continue
                    return event
                awaited = self._machine.awaiting or "a response"
                with trio.move_on_after(timeout) as scope:
                    try:
                        data = await self.transport.receive_apdu()
                    except TransportError as error:
                        self._machine.abort()
                        raise TransportError(
                            f"{self.name}: link lost awaiting {awaited}: {error}"
                        ) from error
                if scope.cancelled_caught:
                    if self._machine.request_retransmission():
                        await self._flush()
                        continue
                    if resends > 0 and self._machine.repeat_request():
                        resends -= 1
                        self.resent += 1
                        if self._machine.state in (
                            AssociationState.ASSOCIATION_PENDING,
                            AssociationState.AUTHENTICATING,
                        ):
                            self.association_repeated = True
                        await self._flush()
                        continue
                    self._give_up()
                    raise MeterTimeout(
                        f"no {awaited} from {self.name} within {timeout:g} s",
                        awaited=awaited,
                        timeout=timeout,
                    )
                if (
                    self._unsettled
                    and self._machine.state is AssociationState.ASSOCIATION_PENDING
                    and data[:1] != _AARE_TAG
                ):
                    continue  # a late answer within an association that is gone
                try:
                    self._machine.receive_apdu(data)
                except SecurityError as error:
                    text = str(error)
                    if "tag" in text and "verif" in text:
                        text = f"authentication tag mismatch, wrong keys? ({text})"
                    raise AuthenticationFailure(
                        f"{self.name}: {awaited} could not be opened: {text}"
                    ) from error
                await self._flush()
        except trio.Cancelled:
            self._give_up()
            raise

    # -- association ---------------------------------------------------------------

    async def open(self) -> AssociationAccepted:
        """Open the association (AARQ/AARE, HLS passes 3 and 4 when needed).

        After an AARQ or RLRQ went unanswered, a link this meter opened is closed and
        opened afresh first, so the meter forgets the old association; on a link the
        caller gave (a connection the meter opened), APDUs other than the AARE are
        discarded while the AARE is awaited.
        """
        async with self._lock:
            if self._unsettled and self._reopen is not None:
                await _close_quietly(self.transport)
                self.transport = await self._reopen()
                self._unsettled = False
            if self._fresh_machine:
                self._fresh_machine = False
            else:
                self._machine = ClientAssociation(self.association.client_settings(self._security))
            self.association_repeated = False
            if self.association.pre_established:
                self.accepted = self._pre_establish()
                return self.accepted
            self._machine.associate()
            event = await self._next_event(self.link.connect_timeout)
        if isinstance(event, AssociationAccepted):
            self.accepted = event
            self._unsettled = False
            return event
        if isinstance(event, AssociationRejected):
            detail = result_name(event.diagnostic)
            if event.initiate_error is not None:
                detail += f", initiate error {result_name(event.initiate_error.error)}"
                if self.association.ciphered and "DECIPHERING" in event.initiate_error.error.name:
                    detail += (
                        "; the meter may have seen our invocation counter already:"
                        " start above it (the frame-counter pattern)"
                    )
            raise AssociationRefused(
                f"{self.name} refused the {self.association.name} association"
                f" (client SAP {self.association.client_sap}): {detail}",
                result=event.diagnostic,
            )
        if isinstance(event, AuthenticationFailed):
            raise AuthenticationFailure(
                f"{self.name}: HLS authentication of the {self.association.name} association"
                f" failed: {event.reason}"
            )
        raise RemoteProtocolError(f"{self.name} answered the AARQ with {event!r}")

    def _pre_establish(self) -> AssociationAccepted:
        recipe = self.association
        if recipe.ciphered and recipe.server_system_title is None:
            raise LocalProtocolError(
                f"the pre-established {recipe.name} association needs the meter's system title"
            )
        return self._machine.assume_established(
            server_system_title=recipe.server_system_title,
            server_max_receive_pdu_size=recipe.server_max_receive_pdu_size,
        )

    async def release(self) -> None:
        """Release the association (RLRQ/RLRE); a meter that does not answer is let go.
        A pre-established association is not released (Green Book 9.3.2)."""
        if self.association.pre_established:
            self.accepted = None
            return
        async with self._lock:
            if self._machine.state is not AssociationState.ASSOCIATED:
                return
            self._machine.release()
            try:
                event = await self._next_event(self.link.release_timeout)
            except MeterTimeout:
                return
            finally:
                self.accepted = None
            if not isinstance(event, Released):
                raise RemoteProtocolError(f"{self.name} answered the RLRQ with {event!r}")

    async def reassociate(self) -> AssociationAccepted:
        """Release and open the association again over the same link (a late answer
        to a request that timed out is discarded on the way)."""
        await self.release()
        return await self.open()

    # -- services ------------------------------------------------------------------

    async def _request(self, start: Callable[[], object], what: Callable[[], str]) -> Event:
        """Run one confirmed service; ``what`` names it in error messages (only built
        when one is raised)."""
        async with self._lock:
            if self._machine.state is not AssociationState.ASSOCIATED:
                raise LocalProtocolError(f"{what()}: no open association with {self.name}")
            start()
            event = await self._next_event(self.link.response_timeout)
        if isinstance(event, ExceptionReceived):
            exc = event.exception
            raise ServiceError(
                f"{what()} refused by {self.name}: exception-response"
                f" {result_name(exc.state_error)}, {result_name(exc.service_error)}",
                result=exc.service_error,
            )
        if isinstance(event, ConfirmedServiceErrorReceived):
            raise ServiceError(
                f"{what()} refused by {self.name}: {result_name(event.error.error)}",
                result=event.error.error,
            )
        return event

    async def get(
        self,
        class_id: int,
        logical_name: ObisLike,
        attribute: int,
        access: SelectiveAccess | None = None,
    ) -> Data:
        """One attribute's value; :class:`ServiceError` names the data-access-result."""
        descriptor = _attribute(class_id, logical_name, attribute)

        def what() -> str:
            return f"GET {describe_reference(class_id, logical_name, attribute)}"

        event = await self._request(lambda: self._machine.get(descriptor, access), what)
        if not isinstance(event, GetCompleted):
            raise RemoteProtocolError(f"{what()}: unexpected {event!r}")
        result = event.result
        if isinstance(result, DataAccessResult):
            raise ServiceError(f"{what()} failed: {result_name(result)}", result=result)
        return result

    async def get_with_list(
        self, references: Sequence[AttributeRef]
    ) -> tuple[Data | DataAccessResult, ...]:
        """Several attributes in one GET-Request-With-List (one by one when the meter did
        not grant multiple-references); each item is a value or its data-access-result."""
        if Conformance.MULTIPLE_REFERENCES not in self._machine.conformance:
            results: list[Data | DataAccessResult] = []
            for ref in references:
                try:
                    results.append(await self.get(*ref))
                except ServiceError as error:
                    if not isinstance(error.result, DataAccessResult):
                        raise
                    results.append(error.result)
            return tuple(results)
        items = [
            CosemAttributeDescriptorWithSelection(attribute_descriptor=_attribute(*ref))
            for ref in references
        ]
        event = await self._request(
            lambda: self._machine.get_with_list(items), lambda: f"GET with list of {len(items)}"
        )
        if not isinstance(event, GetCompleted) or len(event.results) != len(items):
            raise RemoteProtocolError(f"GET with list: unexpected {event!r}")
        return event.results

    async def set(
        self,
        class_id: int,
        logical_name: ObisLike,
        attribute: int,
        value: Data,
        access: SelectiveAccess | None = None,
    ) -> None:
        """Write one attribute; :class:`ServiceError` names the data-access-result."""
        descriptor = _attribute(class_id, logical_name, attribute)

        def what() -> str:
            return f"SET {describe_reference(class_id, logical_name, attribute)}"

        event = await self._request(lambda: self._machine.set(descriptor, value, access), what)
        if not isinstance(event, SetCompleted):
            raise RemoteProtocolError(f"{what()}: unexpected {event!r}")
        if event.result is not DataAccessResult.SUCCESS:
            raise ServiceError(f"{what()} failed: {result_name(event.result)}", result=event.result)

    async def action(
        self,
        class_id: int,
        logical_name: ObisLike,
        method: int,
        parameters: Data | None = None,
    ) -> Data | None:
        """Invoke one method; returns its return parameters (``None`` when there are none);
        :class:`ServiceError` names the action-result."""
        descriptor = CosemMethodDescriptor(
            class_id=class_id, instance_id=as_obis(logical_name), method_id=method
        )

        def what() -> str:
            return f"ACTION {describe_reference(class_id, logical_name, method)}"

        event = await self._request(lambda: self._machine.action(descriptor, parameters), what)
        if not isinstance(event, ActionCompleted):
            raise RemoteProtocolError(f"{what()}: unexpected {event!r}")
        if event.result is not ActionResult.SUCCESS:
            raise ServiceError(f"{what()} failed: {result_name(event.result)}", result=event.result)
        data = event.return_data
        if isinstance(data, DataAccessResult):
            raise ServiceError(f"{what()} return data: {result_name(data)}", result=data)
        return data

    # -- typed reads and operations ---------------------------------------------------

    async def read(
        self, class_id: int, logical_name: ObisLike, attribute: int
    ) -> Quantity | _dt.datetime | ScalerUnit | Data:
        """One attribute, typed by its interface class: register values as
        :class:`Quantity` (scaled), scaler_unit as :class:`ScalerUnit`, date-times as
        ``datetime``, anything else as its A-XDR value."""
        return await _reads.read_typed(self, class_id, logical_name, attribute)

    async def read_register(self, logical_name: ObisLike, class_id: int = 3) -> Quantity:
        """A register's value scaled by its scaler_unit."""
        return await _reads.read_register(self, logical_name, class_id)

    async def read_clock(self, *, tz: _dt.tzinfo | None = None) -> _dt.datetime:
        """The meter's clock (aware when the meter sends its deviation)."""
        return await _reads.read_clock(self, tz=tz)

    async def sync_clock(self, moment: _dt.datetime | None = None) -> _dt.timedelta:
        """Set the meter's clock to ``moment`` (default: now); returns the meter's drift
        read just before (meter minus ours)."""
        return await _reads.sync_clock(self, moment)

    async def object_list(self) -> tuple[ObjectListEntry, ...]:
        """The current association's object_list (0.0.40.0.0.255 attribute 2)."""
        return await _reads.object_list(self)

    async def read_invocation_counter(self, logical_name: ObisLike | None = None) -> int:
        """The meter's invocation counter object (0.0.43.1.N.255 attribute 2)."""
        return await _reads.read_invocation_counter(self, logical_name)

    async def profile_columns(self, logical_name: ObisLike) -> ProfileColumns:
        """A profile's columns (capture_objects, attribute 3)."""
        return await _reads.profile_columns(self, logical_name)

    async def read_profile(
        self,
        logical_name: ObisLike,
        start: _dt.datetime | None = None,
        end: _dt.datetime | None = None,
        *,
        entries: tuple[int, int] | None = None,
        columns: Sequence[ObisLike | CaptureObject] | None = None,
        scaler_profile: ObisLike | bool | None = True,
        tz: _dt.tzinfo | None = None,
    ) -> tuple[ProfileRow, ...]:
        """Typed rows of a profile: by time range (``start``..``end``), by ``entries``
        (first, last; 1-based, 0 = the last) or everything; see :func:`_reads.read_profile`."""
        return await _reads.read_profile(
            self,
            logical_name,
            start,
            end,
            entries=entries,
            columns=columns,
            scaler_profile=scaler_profile,
            tz=tz,
        )

    async def disconnect_relay(self, logical_name: ObisLike = _ops.DISCONNECT_CONTROL) -> None:
        """Open the supply relay (disconnect control method 1, remote_disconnect)."""
        await _ops.relay(self, logical_name, connect=False)

    async def reconnect_relay(self, logical_name: ObisLike = _ops.DISCONNECT_CONTROL) -> None:
        """Close the supply relay (disconnect control method 2, remote_reconnect)."""
        await _ops.relay(self, logical_name, connect=True)

    async def transfer_keys(
        self, keys: Mapping[KeyId, bytes], security_setup: ObisLike | None = None
    ) -> Association:
        """Change global keys by key_transfer; returns the recipe with the new keys."""
        return await _ops.transfer_keys(self, keys, security_setup)

    async def upgrade_firmware(
        self,
        identifier: bytes,
        image: bytes,
        *,
        logical_name: ObisLike = _ops.IMAGE_TRANSFER,
        activate: bool = True,
        progress: Callable[[int, int], None] | None = None,
    ) -> _ops.ImageTransferReport:
        """Image transfer: initiate (or resume), blocks, verify, activate."""
        return await _ops.upgrade_firmware(
            self,
            identifier,
            image,
            logical_name=logical_name,
            activate=activate,
            progress=progress,
        )


async def _close_quietly(transport: ApduTransport) -> None:
    with trio.CancelScope(shield=True), contextlib.suppress(Exception):
        await transport.aclose()
