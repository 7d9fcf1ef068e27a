"""dlmskit: a DLMS/COSEM protocol stack and head-end SDK.

The package root re-exports the public API of the sans-IO core. Private modules start
with an underscore; everything a user needs is importable from here or from the public
sub-modules named in ``__all__``.
"""

from __future__ import annotations

from dlmskit import apdu, axdr, cosem, security
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
    "axdr",
    "cosem",
    "security",
    "CipheringForm",
    "InvocationCounterError",
    "SecurityContext",
    "SecurityControl",
    "SecuritySuite",
]
