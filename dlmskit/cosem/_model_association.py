"""Association LN objects (class 15; Blue Book 4.4.3) on the server side.

One object per association (IS 15959-2: 0.0.40.0.1.255 public client ... 0.0.40.0.5.255
firmware); 0.0.40.0.0.255 reaches the one of the client's own association through the
object tree. ``object_list`` is computed from the tree: exactly what that association
sees, with its access rights. Method 1 reply_to_HLS_authentication is HLS pass 3/4,
handled by the server association machine while the association is being
authenticated, so it is not implemented here; method 2 change_HLS_secret calls a hook;
methods 3 add_object and 4 remove_object change what the association sees (the access
rights given with add_object override the defaults).
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING

import attrs

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
    Conformance,
    DataAccessResult,
    MechanismName,
    SelectiveAccess,
)
from dlmskit.association import RequestContext
from dlmskit.axdr import (
    Array,
    BitString,
    Data,
    Enum,
    Integer,
    LongUnsigned,
    OctetString,
    Structure,
    Unsigned,
)
from dlmskit.cosem._model_base import CosemObject, method_failed
from dlmskit.cosem._object_list import (
    ObjectListEntry,
    decode_object_list,
    encode_object_list,
    object_list_entries,
)
from dlmskit.errors import DecodeError
from obis import ObisLike, as_obis

if TYPE_CHECKING:
    from dlmskit.cosem._model_tree import AssociationRights, CosemObjectTree

__all__ = ["AssociationLN", "AssociationStatus", "context_name", "mechanism_name"]


class AssociationStatus(enum.IntEnum):
    """Association LN attribute 8 association_status."""

    NON_ASSOCIATED = 0
    ASSOCIATION_PENDING = 1
    ASSOCIATED = 2


def context_name(context: ApplicationContextName) -> Structure:
    """application_context_name as the structure {2, 16, 756, 5, 8, 1, context_id}."""
    return Structure(
        (
            Unsigned(2),
            Unsigned(16),
            LongUnsigned(756),
            Unsigned(5),
            Unsigned(8),
            Unsigned(1),
            Unsigned(context),
        )
    )


def mechanism_name(mechanism: MechanismName) -> Structure:
    """authentication_mechanism_name as the structure {2, 16, 756, 5, 8, 2, mechanism_id}."""
    return Structure(
        (
            Unsigned(2),
            Unsigned(16),
            LongUnsigned(756),
            Unsigned(5),
            Unsigned(8),
            Unsigned(2),
            Unsigned(mechanism),
        )
    )


def _conformance_bits(conformance: Conformance) -> BitString:
    return BitString(value=int(conformance).to_bytes(3, "big"), length=24)


class AssociationLN(CosemObject):
    """Association LN (class 15, version 1 by default) of one client SAP.

    ``change_hls_secret(secret)`` is called by method 2 and by a SET of attribute 7
    (secret); without it the new secret is only stored. Raising from it fails the
    request.
    """

    def __init__(
        self,
        logical_name: ObisLike,
        *,
        client_sap: int,
        server_sap: int = 1,
        application_context: ApplicationContextName = ApplicationContextName.LN,
        mechanism: MechanismName = MechanismName.LOWEST,
        conformance: Conformance = Conformance.GET,
        max_receive_pdu_size: int = 1024,
        max_send_pdu_size: int = 1024,
        dlms_version: int = 6,
        security_setup: ObisLike | None = None,
        secret: bytes = b"",
        change_hls_secret: Callable[[bytes], None] | None = None,
        version: int = 1,
    ) -> None:
        super().__init__(logical_name, class_id=15, version=version)
        self.client_sap = client_sap
        self.server_sap = server_sap
        self.secret = secret
        self.change_hls_secret = change_hls_secret
        self.bind(2, self._object_list)
        self[3] = Structure((Integer(client_sap), LongUnsigned(server_sap)))
        self[4] = context_name(application_context)
        self[5] = Structure(
            (
                _conformance_bits(conformance),
                LongUnsigned(max_receive_pdu_size),
                LongUnsigned(max_send_pdu_size),
                Unsigned(dlms_version),
                Integer(0),
                OctetString(b""),
            )
        )
        self[6] = mechanism_name(mechanism)
        self.bind(7, self._read_secret, self._write_secret)
        self.bind(8, self._status)
        if version >= 1:
            self[9] = OctetString(
                as_obis(security_setup).to_bytes() if security_setup is not None else bytes(6)
            )
        self.implement(2, self._change_hls_secret)
        self.implement(3, self._add_object)
        self.implement(4, self._remove_object)

    def _object_list(self, ctx: RequestContext, access: SelectiveAccess | None) -> Data:
        if self.tree is None:
            return encode_object_list((), association_version=self.version)
        entries = object_list_entries(self.tree, self.client_sap)
        return encode_object_list(entries, association_version=self.version)

    def _read_secret(
        self, ctx: RequestContext, access: SelectiveAccess | None
    ) -> Data | DataAccessResult:
        return DataAccessResult.READ_WRITE_DENIED

    def _write_secret(self, ctx: RequestContext, value: Data) -> DataAccessResult:
        assert isinstance(value, OctetString)
        self._new_secret(bytes(value))
        return DataAccessResult.SUCCESS

    def _new_secret(self, secret: bytes) -> None:
        if self.change_hls_secret is not None:
            self.change_hls_secret(secret)
        self.secret = secret

    def _status(self, ctx: RequestContext, access: SelectiveAccess | None) -> Data:
        associated = ctx.client_sap == self.client_sap
        return Enum(
            AssociationStatus.ASSOCIATED if associated else AssociationStatus.NON_ASSOCIATED
        )

    def _change_hls_secret(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if not isinstance(parameters, OctetString) or not parameters:
            raise method_failed(ActionResult.TYPE_UNMATCHED, "the new secret is an octet-string")
        self._new_secret(bytes(parameters))
        return None

    def _rights_and_entry(
        self, parameters: Data | None
    ) -> tuple[CosemObjectTree, AssociationRights, ObjectListEntry]:
        try:
            (entry,) = decode_object_list(Array((parameters,)))
        except DecodeError:
            raise method_failed(ActionResult.TYPE_UNMATCHED, "object_list_element") from None
        tree = self.tree
        rights = None if tree is None else tree.rights(self.client_sap)
        if tree is None or rights is None:
            raise method_failed(ActionResult.OTHER_REASON, "association without rights")
        found = tree.get_object(entry.logical_name)
        if found is None or found.class_id != entry.class_id:
            raise method_failed(ActionResult.OBJECT_UNDEFINED, "no such object")
        return tree, rights, entry

    def _add_object(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        tree, rights, entry = self._rights_and_entry(parameters)
        name = entry.logical_name
        visible = None if rights.visible is None else rights.visible | {name}
        attributes = dict(rights.attributes)
        attributes.update(
            ((name, item.attribute_id), item.access_mode) for item in entry.attribute_access
        )
        methods = dict(rights.method_rights)
        methods.update(((name, item.method_id), item.access_mode) for item in entry.method_access)
        tree.grant(
            attrs.evolve(rights, visible=visible, attributes=attributes, method_rights=methods)
        )
        return None

    def _remove_object(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        tree, rights, entry = self._rights_and_entry(parameters)
        if entry.logical_name == self.logical_name:
            raise method_failed(ActionResult.OTHER_REASON, "an association always sees itself")
        seen = {obj.logical_name for obj in tree.visible_objects(self.client_sap)}
        tree.grant(attrs.evolve(rights, visible=seen - {entry.logical_name}))
        return None
