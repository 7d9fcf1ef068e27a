"""xDLMS association machines, client and server, sans-IO (Green Book 9.3).

``ClientAssociation`` and ``ServerAssociation`` take APDU bytes in and give APDU bytes
and events out; association establishment (AARQ/AARE), HLS passes 3 and 4, invoke-id
matching, service-specific and general block transfer, conformance enforcement and
release all live inside them. Ciphering and HLS plug in through the ``Ciphering`` and
``HlsMechanism`` protocols; the server serves any ``ObjectTree``.

A client over any transport that moves whole APDUs::

    client = ClientAssociation(ClientSettings(max_receive_pdu_size=1024))
    client.associate()
    while (event := client.next_event()) is NEED_DATA:
        for apdu in client.data_to_send():
            link.send(apdu)
        client.receive_apdu(link.receive())        # time out with client.awaiting
    assert isinstance(event, AssociationAccepted)
    client.get(CosemAttributeDescriptor(class_id=8, instance_id=ObisCode(0, 0, 1, 0, 0, 255),
                                        attribute_id=2))

The server side is the mirror image: ``server.receive_apdu(apdu)`` then send every
APDU of ``server.data_to_send()``; ``data_notification``, ``event_notification`` and
``information_report`` queue unsolicited APDUs.

``client.access([...])`` sends GET, SET and ACTION items in one Access-Request when the
access conformance bit was negotiated; ``action_with_list`` goes out in pblocks when it
passes the server's PDU.

Short name referencing (contexts SN and SN_CIPHERED): the client calls ``read``,
``write`` and ``unconfirmed_write`` with short names; the server resolves them through a
``ShortNameMap`` (``ShortNameTable`` over Association SN object_list entries) passed as
``ServerAssociation(policy, objects, short_names=...)``. A client learns a meter's names
with ``ShortNameTable.from_object_list`` on the value of Association SN attribute 2
(short name 0xFA08).

Dedicated key (ciphered contexts): ``ClientSettings(dedicated_key=...)``, or
``dedicated_key_source=secrets.token_bytes`` for a fresh key per AARQ, proposes it in the
glo-ciphered InitiateRequest; the server installs it in its ``SecurityContext``, and
after the AARE service APDUs travel in ded- forms (the server answers in the form of the
request). The key is dropped when the association ends.
"""

from __future__ import annotations

from dlmskit.association._client import ClientAssociation
from dlmskit.association._events import (
    NEED_DATA,
    AccessCompleted,
    ActionCompleted,
    ActionWithListCompleted,
    AssociationAccepted,
    AssociationRejected,
    AuthenticationFailed,
    ConfirmedServiceErrorReceived,
    Event,
    ExceptionReceived,
    GetCompleted,
    InformationReportReceived,
    NeedData,
    NotificationReceived,
    ReadCompleted,
    Released,
    SetCompleted,
    WriteCompleted,
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
    DEFAULT_SN_CONFORMANCE,
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
from dlmskit.association._short_names import (
    ASSOCIATION_SN_BASE,
    REPLY_TO_HLS_AUTHENTICATION_SN,
    SN_LAYOUTS,
    ShortNameEntry,
    ShortNameKind,
    ShortNameLayout,
    ShortNameMap,
    ShortNameTable,
    ShortNameTarget,
)
from dlmskit.association._state import AssociationState
from dlmskit.association._values import CURRENT_ASSOCIATION

__all__ = [
    "ASSOCIATION_SN_BASE",
    "CURRENT_ASSOCIATION",
    "DEFAULT_CONFORMANCE",
    "DEFAULT_SN_CONFORMANCE",
    "REPLY_TO_HLS_AUTHENTICATION_SN",
    "SN_LAYOUTS",
    "NEED_DATA",
    "AccessCompleted",
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
    "InformationReportReceived",
    "InvokeIdPolicy",
    "MemoryObjectTree",
    "MethodAccessMode",
    "MethodHandler",
    "NeedData",
    "NotificationReceived",
    "ObjectTree",
    "ReadCompleted",
    "Released",
    "RequestContext",
    "ServerAssociation",
    "SetCompleted",
    "ShortNameEntry",
    "ShortNameKind",
    "ShortNameLayout",
    "ShortNameMap",
    "ShortNameTable",
    "ShortNameTarget",
    "WriteCompleted",
    "default_challenge",
    "passwords_match",
]
