"""The frame-counter pattern: read a meter's invocation counter publicly, then start above it."""

from __future__ import annotations

from dlmskit.client._association import Association
from dlmskit.client._connect import connect
from dlmskit.client._link import LinkSettings, Target
from dlmskit.errors import LocalProtocolError

__all__ = ["with_frame_counter"]


async def with_frame_counter(
    target: Target,
    association: Association,
    *,
    link: LinkSettings | None = None,
    public: Association | None = None,
) -> Association:
    """The frame-counter pattern (dlms-facts 3.6): connect as the public client, read
    the meter's invocation counter object of ``association`` (0.0.43.1.N.255), and
    return ``association`` starting its ciphered APDUs at that counter + 1."""
    if association.invocation_counter_object is None:
        raise LocalProtocolError(f"the {association.name} association has no counter object")
    reader = (
        public
        if public is not None
        else Association.public(
            server_sap=association.server_sap, physical_address=association.physical_address
        )
    )
    async with connect(target, association=reader, link=link) as meter:
        counter = await meter.read_invocation_counter(association.invocation_counter_object)
    return association.with_invocation_counter(counter + 1)
