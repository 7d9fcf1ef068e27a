"""xDLMS association machines, client and server, sans-IO (Green Book 9.3).

``ClientAssociation`` and ``ServerAssociation`` take APDU bytes in and give APDU bytes
and events out; association establishment (AARQ/AARE), HLS passes 3 and 4, invoke-id
matching, service-specific and general block transfer, conformance enforcement and
release all live inside them. Ciphering and HLS plug in through the ``Ciphering`` and
``HlsMechanism`` protocols; the server serves any ``ObjectTree``.
"""

from __future__ import annotations

from dlmskit.association._client import ClientAssociation
from dlmskit.association._events import (
    NEED_DATA,
    ActionCompleted,
    ActionWithListCompleted,
    AssociationAccepted,
    AssociationRejected,
    AuthenticationFailed,
    ConfirmedServiceErrorReceived,
    Event,
    ExceptionReceived,
    GetCompleted,
    NeedData,
    NotificationReceived,
    Released,
    SetCompleted,
)
from dlmskit.association._objects import (
    AttributeAccessMode,
    AttributeValue,
    MemoryObjectTree,
    MethodAccessMode,
    MethodHandler,
    ObjectTree,
    RequestContext,
)
from dlmskit.association._policy import (
    DEFAULT_CONFORMANCE,
    AssociationPolicy,
    ClientSettings,
    InvokeIdPolicy,
)
from dlmskit.association._security_seam import (
    Ciphering,
    HlsMechanism,
    default_challenge,
    passwords_match,
)
from dlmskit.association._server import ServerAssociation
from dlmskit.association._state import AssociationState
from dlmskit.association._values import CURRENT_ASSOCIATION

__all__ = [
    "CURRENT_ASSOCIATION",
    "DEFAULT_CONFORMANCE",
    "NEED_DATA",
    "ActionCompleted",
    "ActionWithListCompleted",
    "AssociationAccepted",
    "AssociationPolicy",
    "AssociationRejected",
    "AssociationState",
    "AttributeAccessMode",
    "AttributeValue",
    "AuthenticationFailed",
    "Ciphering",
    "ClientAssociation",
    "ClientSettings",
    "ConfirmedServiceErrorReceived",
    "Event",
    "ExceptionReceived",
    "GetCompleted",
    "HlsMechanism",
    "InvokeIdPolicy",
    "MemoryObjectTree",
    "MethodAccessMode",
    "MethodHandler",
    "NeedData",
    "NotificationReceived",
    "ObjectTree",
    "Released",
    "RequestContext",
    "ServerAssociation",
    "SetCompleted",
    "default_challenge",
    "passwords_match",
]
