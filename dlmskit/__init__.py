"""dlmskit: a DLMS/COSEM protocol stack and head-end SDK.

The package root re-exports the public API of the sans-IO core. Private modules start
with an underscore; everything a user needs is importable from here or from the public
sub-modules named in ``__all__``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dlmskit import apdu, association, axdr, cosem, security
from dlmskit.apdu import (
    ActionRequestNormal,
    ActionResponseNormal,
    ActionResult,
    Apdu,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    DataAccessResult,
    DataNotification,
    EventNotificationRequest,
    GeneralBlockTransfer,
    GetRequestNormal,
    GetResponseNormal,
    InvokeIdAndPriority,
    SelectiveAccess,
    SetRequestNormal,
    SetResponseNormal,
    decode_apdu,
    encode_apdu,
)
from dlmskit.association import (
    NEED_DATA,
    ActionCompleted,
    AssociationAccepted,
    AssociationPolicy,
    AssociationRejected,
    AssociationState,
    AuthenticationFailed,
    ClientAssociation,
    ClientSettings,
    ExceptionReceived,
    GetCompleted,
    MemoryObjectTree,
    NotificationReceived,
    ObjectTree,
    ReadCompleted,
    Released,
    ServerAssociation,
    SetCompleted,
    ShortNameEntry,
    ShortNameTable,
    WriteCompleted,
)
from dlmskit.errors import (
    DecodeError,
    DlmsError,
    LocalProtocolError,
    RemoteProtocolError,
    SecurityError,
    ServiceError,
    TransportError,
)
from dlmskit.security import (
    CipheringForm,
    InvocationCounterError,
    SecurityContext,
    SecurityControl,
    SecuritySuite,
)

if TYPE_CHECKING:
    from dlmskit.client import connect, listen

__version__ = "0.1.0"

__all__ = [
    "ActionRequestNormal",
    "ActionResponseNormal",
    "ActionResult",
    "Apdu",
    "CosemAttributeDescriptor",
    "CosemMethodDescriptor",
    "DataAccessResult",
    "DataNotification",
    "EventNotificationRequest",
    "GeneralBlockTransfer",
    "GetRequestNormal",
    "GetResponseNormal",
    "InvokeIdAndPriority",
    "SelectiveAccess",
    "SetRequestNormal",
    "SetResponseNormal",
    "apdu",
    "decode_apdu",
    "encode_apdu",
    "DecodeError",
    "DlmsError",
    "LocalProtocolError",
    "RemoteProtocolError",
    "SecurityError",
    "ServiceError",
    "TransportError",
    "__version__",
    "association",
    "NEED_DATA",
    "ActionCompleted",
    "AssociationAccepted",
    "AssociationPolicy",
    "AssociationRejected",
    "AssociationState",
    "AuthenticationFailed",
    "ClientAssociation",
    "ClientSettings",
    "ExceptionReceived",
    "GetCompleted",
    "MemoryObjectTree",
    "NotificationReceived",
    "ObjectTree",
    "ReadCompleted",
    "Released",
    "ServerAssociation",
    "SetCompleted",
    "ShortNameEntry",
    "ShortNameTable",
    "WriteCompleted",
    "axdr",
    "cosem",
    "security",
    "CipheringForm",
    "InvocationCounterError",
    "SecurityContext",
    "SecurityControl",
    "SecuritySuite",
    "connect",
    "listen",
]


def __getattr__(name: str) -> object:
    """``dlmskit.connect`` and ``dlmskit.listen`` load the trio client on first use, so
    importing the sans-IO core never imports trio."""
    if name in ("connect", "listen"):
        from dlmskit import client

        return getattr(client, name)
    raise AttributeError(f"module 'dlmskit' has no attribute {name!r}")
