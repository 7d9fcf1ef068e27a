"""An IS 15959-2 single-phase meter for tests and demonstrations.

Its associations match the client presets (:class:`dlmskit.client.Association`) with
the Green Book test keys and factory secrets; its block load profile is a pure function
of time (03:30 local is never captured, to show a gap); its invocation counter objects
report the last counter the meter accepted from each ciphered client, so the
frame-counter pattern works against it.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable

from dlmskit.apdu import MechanismName, SelectiveAccess
from dlmskit.association import AssociationPolicy, RequestContext
from dlmskit.axdr import (
    Data,
    DateTime,
    DeviationSign,
    DoubleLong,
    DoubleLongUnsigned,
    LongUnsigned,
    OctetString,
)
from dlmskit.client import (
    DEFAULT_CLIENT_SYSTEM_TITLE,
    GREEN_BOOK_AK,
    GREEN_BOOK_EK,
    TEST_HLS_SECRET,
    TEST_LLS_SECRET,
    Association,
)
from dlmskit.cosem import AssociationRights, CosemObjectTree, is15959_object_tree
from dlmskit.security import HlsSecret, KeyId, SecurityContext
from dlmskit.testing._server import MeterEndpoint
from obis import ObisCode

__all__ = ["DEMO_SERVER_SYSTEM_TITLE", "IST", "block_load_row", "demo_meter"]

IST = _dt.timezone(_dt.timedelta(hours=5, minutes=30))
#: The server system title of the Green Book examples.
DEMO_SERVER_SYSTEM_TITLE = bytes.fromhex("4D4D4D0000BC614E")
_SIGN = DeviationSign.UTC_TO_LOCAL


def _stamp(moment: _dt.datetime) -> OctetString:
    return OctetString(DateTime.from_datetime(moment.astimezone(IST), sign=_SIGN).to_bytes())


def block_load_row(moment: _dt.datetime) -> tuple[Data, ...] | None:
    """The block load entry captured at ``moment``; 03:30 IST is always missing."""
    local = moment.astimezone(IST)
    if (local.hour, local.minute) == (3, 30):
        return None
    slot = int(local.timestamp()) // 900
    return (
        _stamp(local),
        LongUnsigned(23000 + slot % 100),
        DoubleLongUnsigned(slot % 250),
        DoubleLongUnsigned(slot % 300),
        DoubleLongUnsigned(0),
        DoubleLongUnsigned(0),
        DoubleLong(1000 + slot % 7),
    )


def _policy(association: Association, security: SecurityContext | None) -> AssociationPolicy:
    return AssociationPolicy(
        client_sap=association.client_sap,
        application_context=association.application_context,
        mechanism=association.mechanism,
        password=TEST_LLS_SECRET if association.mechanism == MechanismName.LOW else None,
        hls=HlsSecret(secret=TEST_HLS_SECRET)
        if association.mechanism == MechanismName.HIGH
        else None,
        security=security,
        conformance=association.conformance,
        max_receive_pdu_size=1024,
    )


def demo_meter(
    *,
    now: Callable[[], _dt.datetime],
    server_system_title: bytes = DEMO_SERVER_SYSTEM_TITLE,
) -> MeterEndpoint[CosemObjectTree]:
    """A meter endpoint over an IS 15959-2 single-phase tree, clock driven by ``now``."""
    tree: CosemObjectTree = is15959_object_tree(
        now=now, sign=_SIGN, time_zone=330, block_load_rows=block_load_row
    )
    policies: dict[int, AssociationPolicy] = {}
    for association in (
        Association.public(),
        Association.meter_reader(),
        Association.utility_settings(),
        Association.firmware(),
        Association.push(),
    ):
        security = None
        if association.ciphered:
            security = SecurityContext(
                system_title=server_system_title,
                global_unicast_key=GREEN_BOOK_EK,
                authentication_key=GREEN_BOOK_AK,
            )
            if association.invocation_counter_object is not None:
                _bind_counter(tree, association.invocation_counter_object, security)
        policies[association.client_sap] = _policy(association, security)
    # the pre-established push association reads (no writes, no methods) here
    tree.grant(
        AssociationRights(
            client_sap=0x40, association=ObisCode(0, 0, 40, 0, 4, 255), write=False, methods=False
        )
    )
    endpoint = MeterEndpoint(tree, policies)
    endpoint.pre_established[0x40] = DEFAULT_CLIENT_SYSTEM_TITLE
    return endpoint


def _bind_counter(tree: CosemObjectTree, name: ObisCode, security: SecurityContext) -> None:
    def read(ctx: RequestContext, access: SelectiveAccess | None) -> Data:
        last = security.last_accepted(DEFAULT_CLIENT_SYSTEM_TITLE, KeyId.GLOBAL_UNICAST_ENCRYPTION)
        return DoubleLongUnsigned(last if last is not None else 0)

    tree[name].bind(2, read)
