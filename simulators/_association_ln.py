"""Association LN objects (class 15, Blue Book 4.4.3) of a simulated meter: the object
list each association sees, with its access rights, and the association's parameters.

The object list is what head-end tools read first (``object_list``, attribute 2) to find
what a meter offers; it is computed from the meter's tables and the same access rules
the server applies, so it never disagrees with what a GET or SET would do.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlmskit.apdu import CosemAttributeDescriptor, CosemMethodDescriptor
from dlmskit.association import AttributeAccessMode, RequestContext
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
from dlmskit.cosem import (
    AssociationProfile,
    AssociationStatus,
    CompanionProfile,
    context_name,
    interface_class,
    mechanism_name,
)
from obis import ObisCode

if TYPE_CHECKING:
    from simulators._objects import MeterObjects

__all__ = ["ASSOCIATION_ATTRIBUTES", "CURRENT_ASSOCIATION", "association_attribute", "object_list"]

#: The Association LN attributes the simulator serves (7, the secret, is write-only and
#: changed by no one here).
ASSOCIATION_ATTRIBUTES = (2, 3, 4, 5, 6, 8, 9)
#: The server's upper SAP (the management logical device) and its PDU sizes.
SERVER_SAP = 1
MAX_PDU_SIZE = 1024

#: The "current association" logical name: every client sees its own.
CURRENT_ASSOCIATION = ObisCode(0, 0, 40, 0, 0)
_PROFILE_GENERIC = 7


def _version(class_id: int) -> int:
    return interface_class(class_id).version


def object_list(objects: MeterObjects, ctx: RequestContext) -> Array:
    """The object_list of the association ``ctx`` arrived on: every object with at least
    one attribute (besides the logical name) or method the association may use."""
    entries: list[Data] = []
    catalogue = objects.catalogue
    for (class_id, ln), getters in sorted(
        catalogue.attributes.items(), key=lambda item: (item[0][1], item[0][0])
    ):
        attributes: list[Data] = []
        visible = False
        for index in sorted(getters):
            descriptor = CosemAttributeDescriptor(
                class_id=class_id, instance_id=ln, attribute_id=index
            )
            mode = objects.attribute_access(ctx, descriptor) or AttributeAccessMode.NO_ACCESS
            visible = visible or (index > 1 and mode is not AttributeAccessMode.NO_ACCESS)
            selectors: Data = (
                Array((Integer(1), Integer(2)))
                if class_id == _PROFILE_GENERIC and index == 2
                else None
            )
            attributes.append(Structure((Integer(index), Enum(int(mode)), selectors)))
        methods: list[Data] = []
        for index in sorted(catalogue.methods.get((class_id, ln), {})):
            descriptor_m = CosemMethodDescriptor(class_id=class_id, instance_id=ln, method_id=index)
            allowed = objects.method_access(ctx, descriptor_m)
            mode_m = 0 if allowed is None else int(allowed)
            visible = visible or mode_m != 0
            methods.append(Structure((Integer(index), Enum(mode_m))))
        if not visible and class_id != 15:
            continue
        entries.append(
            Structure(
                (
                    LongUnsigned(class_id),
                    Unsigned(_version(class_id)),
                    OctetString(ln.to_bytes()),
                    Structure((Array(attributes), Array(methods))),
                )
            )
        )
    return Array(entries)


def association_attribute(
    objects: MeterObjects, ctx: RequestContext, ln: ObisCode, index: int
) -> Data | None:
    """Attributes 2..6, 8 and 9 of an Association LN object (Blue Book 4.4.3, version 1);
    ``None`` for one not served. The current association (0.0.40.0.0.255) and the
    association the client is on describe what was negotiated; the others what they offer.
    """
    profile: CompanionProfile = objects.profile
    association: AssociationProfile | None = (
        profile.association(ctx.client_sap)
        if ln == CURRENT_ASSOCIATION
        else next((a for a in profile.associations if a.logical_name == ln), None)
    )
    if association is None:
        return None
    own = association.client_sap == ctx.client_sap
    if index == 2:
        return object_list(objects, ctx) if own else Array(())
    if index == 3:
        return Structure((Integer(association.client_sap), LongUnsigned(SERVER_SAP)))
    if index == 4:
        return context_name(ctx.application_context if own else association.application_context)
    if index == 5:
        conformance = ctx.conformance if own else association.conformance
        return Structure(
            (
                BitString(value=int(conformance).to_bytes(3, "big"), length=24),
                LongUnsigned(MAX_PDU_SIZE),
                LongUnsigned(MAX_PDU_SIZE),
                Unsigned(6),
                Integer(0),
                OctetString(b""),
            )
        )
    if index == 6:
        return mechanism_name(ctx.mechanism if own else association.mechanism)
    if index == 8:
        return Enum(AssociationStatus.ASSOCIATED if own else AssociationStatus.NON_ASSOCIATED)
    if index == 9:
        setup = association.security_setup
        return OctetString(bytes(6) if setup is None else setup.to_bytes())
    return None
