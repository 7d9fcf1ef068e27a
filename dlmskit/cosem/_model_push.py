"""Push setup (class 40) and Security setup (class 64) objects (Blue Book 4.4.8, 4.4.7).

A push setup builds its push body, the structure of the current values of its
push_object_list (what a data-notification carries, Green Book 9.3.x), and hands it to
a hook: the application decides how to send it (transport, ciphering with the Push
association's keys). A security setup serves its policy, suite and system titles and
hands key transfers and the other key-management methods to hooks, since keys live in
the security context, not in the object model.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping, Sequence

from dlmskit.apdu import ActionResult, DataAccessResult
from dlmskit.association import RequestContext
from dlmskit.axdr import (
    Array,
    Data,
    DoubleLongUnsigned,
    Enum,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.cosem._capture import CaptureObject
from dlmskit.cosem._model_base import (
    CosemObject,
    MethodImplementation,
    capture_objects_value,
    method_failed,
)
from dlmskit.errors import DlmsError
from obis import ObisLike

__all__ = ["PushSetup", "SecuritySetup", "TransportService"]


_NO_DATE_TIME = bytes.fromhex("FFFFFFFFFFFFFFFFFF8000FF")


class TransportService(enum.IntEnum):
    """send_destination_and_method transport_service."""

    TCP = 0
    UDP = 1
    FTP = 2
    SMTP = 3
    SMS = 4
    HDLC = 5
    M_BUS = 6
    ZIGBEE = 7


class PushSetup(CosemObject):
    """Push setup (class 40, versions 0-2): push_object_list, destination, windows, retries.

    Version 1 adds port_reference, push_client_SAP and push_protection_parameters;
    version 2 turns repetition_delay into {min, exponent, max} and adds
    push_operation_method (unconfirmed), confirmation_parameters and
    last_confirmation_date_time. Method 2 (reset, version 2) is not implemented.

    SETs of the push_object_list, send_destination_and_method and communication_window
    are checked element by element (type-unmatched when an element has the wrong shape).

    Method 1 push builds :meth:`push_body` and calls ``on_push(self, body)``; without a
    hook there is nowhere to send it and the method answers temporary-failure.
    """

    def __init__(
        self,
        logical_name: ObisLike,
        *,
        push_object_list: Sequence[CaptureObject],
        destination: bytes = b"",
        transport: TransportService = TransportService.TCP,
        communication_window: Array | None = None,
        randomisation_start_interval: int = 0,
        number_of_retries: int = 3,
        repetition_delay: int = 0,
        on_push: Callable[[PushSetup, Structure], None] | None = None,
        version: int = 0,
        push_client_sap: int = 0x40,
    ) -> None:
        super().__init__(logical_name, class_id=40, version=version)
        self.on_push = on_push
        self[2] = capture_objects_value(tuple(push_object_list))
        self[3] = Structure((Enum(transport), OctetString(destination), Enum(0)))
        self[4] = communication_window if communication_window is not None else Array()
        self[5] = LongUnsigned(randomisation_start_interval)
        self[6] = Unsigned(number_of_retries)
        self[7] = LongUnsigned(repetition_delay)
        if version >= 1:
            self[8] = OctetString(bytes(6))
            self[9] = Integer(push_client_sap)
            self[10] = Array()
        if version >= 2:
            delay = LongUnsigned(repetition_delay)
            self[7] = Structure((delay, LongUnsigned(0), delay))
            self[11] = Enum(0)
            self[12] = Structure((OctetString(_NO_DATE_TIME), DoubleLongUnsigned(0)))
            self[13] = OctetString(_NO_DATE_TIME)
        self.on_set(2, self._set_push_object_list)
        self.on_set(3, self._set_destination)
        self.on_set(4, self._set_window)
        self.implement(1, self._push)

    def _set_push_object_list(self, ctx: RequestContext, value: Data) -> DataAccessResult:
        assert isinstance(value, Array)
        try:
            for item in value:
                CaptureObject.from_data(item)
        except DlmsError:
            return DataAccessResult.TYPE_UNMATCHED
        self._values[2] = value
        return DataAccessResult.SUCCESS

    def _set_destination(self, ctx: RequestContext, value: Data) -> DataAccessResult:
        if not (
            isinstance(value, Structure)
            and len(value) == 3
            and isinstance(value[0], Enum)
            and isinstance(value[1], OctetString)
            and isinstance(value[2], Enum)
        ):
            return DataAccessResult.TYPE_UNMATCHED
        self._values[3] = value
        return DataAccessResult.SUCCESS

    def _set_window(self, ctx: RequestContext, value: Data) -> DataAccessResult:
        assert isinstance(value, Array)
        for item in value:
            if not (
                isinstance(item, Structure)
                and len(item) == 2
                and all(isinstance(v, OctetString) and len(v) == 12 for v in item)
            ):
                return DataAccessResult.TYPE_UNMATCHED
        self._values[4] = value
        return DataAccessResult.SUCCESS

    @property
    def push_object_list(self) -> tuple[CaptureObject, ...]:
        value = self[2]
        if not isinstance(value, Array):
            return ()
        return tuple(CaptureObject.from_data(item) for item in value)

    @property
    def destination(self) -> bytes:
        value = self[3]
        if isinstance(value, Structure) and len(value) == 3 and isinstance(value[1], bytes):
            return bytes(value[1])
        return b""

    def push_body(self) -> Structure:
        """The current values of the push_object_list, in order."""
        return Structure(self.resolve(column) for column in self.push_object_list)

    def push(self) -> Structure:
        """Build the body and hand it to ``on_push``."""
        if self.on_push is None:
            raise method_failed(ActionResult.TEMPORARY_FAILURE, "no push channel")
        body = self.push_body()
        self.on_push(self, body)
        return body

    def _push(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        self.push()
        return None


#: key_transfer / global_key_transfer entries: (key_id, wrapped key).
KeyTransfer = Callable[[tuple[tuple[int, bytes], ...]], None]


def _key_data(parameters: Data | None) -> tuple[tuple[int, bytes], ...]:
    if not isinstance(parameters, Array):
        raise method_failed(ActionResult.TYPE_UNMATCHED, "array of key data")
    out: list[tuple[int, bytes]] = []
    for item in parameters:
        if (
            not isinstance(item, Structure)
            or len(item) != 2
            or isinstance(item[0], bool)
            or not isinstance(item[0], int)
            or not isinstance(item[1], bytes)
        ):
            raise method_failed(ActionResult.TYPE_UNMATCHED, "structure {key_id, key_wrapped}")
        out.append((int(item[0]), bytes(item[1])))
    return tuple(out)


class SecuritySetup(CosemObject):
    """Security setup (class 64, version 0 or 1): policy, suite, system titles.

    Method 1 security_activate raises the policy (it can only be strengthened: the new
    value must keep every bit of the old one). Method 2 (global_key_transfer in version
    0, key_transfer in version 1) decodes the key data and calls ``key_transfer``;
    ``methods`` implements any other method by index.
    """

    def __init__(
        self,
        logical_name: ObisLike,
        *,
        security_policy: int = 0,
        security_suite: int = 0,
        client_system_title: bytes = b"",
        server_system_title: bytes = b"",
        version: int = 0,
        key_transfer: KeyTransfer | None = None,
        methods: Mapping[int, MethodImplementation] | None = None,
    ) -> None:
        super().__init__(logical_name, class_id=64, version=version)
        self.key_transfer = key_transfer
        self[2] = Enum(security_policy)
        self[3] = Enum(security_suite)
        self[4] = OctetString(client_system_title)
        self[5] = OctetString(server_system_title)
        if version >= 1:
            self[6] = Array()
        self.implement(1, self._security_activate)
        if key_transfer is not None:
            self.implement(2, self._key_transfer)
        for index, method in (methods or {}).items():
            self.implement(index, method)

    @property
    def security_policy(self) -> int:
        value = self[2]
        assert isinstance(value, int)
        return int(value)

    def _security_activate(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if not isinstance(parameters, int) or isinstance(parameters, bool):
            raise method_failed(ActionResult.TYPE_UNMATCHED, "enum security_policy")
        old = self.security_policy
        if int(parameters) & old != old or not 0 <= parameters <= 0xFF:
            raise method_failed(ActionResult.OTHER_REASON, "the policy can only be raised")
        self._values[2] = Enum(int(parameters))
        return None

    def _key_transfer(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        keys = _key_data(parameters)
        assert self.key_transfer is not None
        self.key_transfer(keys)
        return None
