"""What each side of an association proposes and accepts.

:class:`ClientSettings` is what a client proposes in its AARQ; :class:`AssociationPolicy`
is what a server grants one client SAP (Green Book 9.3.2: application context,
authentication mechanism, conformance block and PDU sizes are negotiated per
association; IS 15959 fixes one policy per client address: public client 16, meter
reader 32, utility settings 48, push 64...).
"""

from __future__ import annotations

import enum
from collections.abc import Callable

import attrs

from dlmskit.apdu import ApplicationContextName, Conformance, MechanismName
from dlmskit.association._gbt import MAX_WINDOW
from dlmskit.association._security_seam import (
    Ciphering,
    HlsMechanism,
    dedicated_key_length,
    default_challenge,
)
from dlmskit.errors import LocalProtocolError

__all__ = [
    "DEFAULT_CONFORMANCE",
    "DEFAULT_SN_CONFORMANCE",
    "AssociationPolicy",
    "ClientSettings",
    "InvokeIdPolicy",
    "is_ciphered",
]

#: block transfer with get/set/action, multiple references, get, set, selective access,
#: action: ``00 1E 1D``, the usual LN client proposal.
DEFAULT_CONFORMANCE = Conformance(0x001E1D)
#: read, write, unconfirmed-write, block transfer with read and with write, multiple
#: references, information-report, parameterized-access: ``1C 1B 20``, an SN proposal.
DEFAULT_SN_CONFORMANCE = Conformance(0x1C1B20)


class InvokeIdPolicy(enum.IntEnum):
    """How the client numbers its confirmed requests (invoke-id, 4 bits)."""

    #: Every request uses ``first_invoke_id``.
    FIXED = 0
    #: Each request takes the next id, 0..15 cyclically.
    INCREMENT = 1


def _check_pdu(_inst: object, _attr: object, value: int) -> None:
    if not 12 <= value <= 0xFFFF:
        raise LocalProtocolError(f"max receive PDU size must be 12..65535, got {value}")


def _check_window(_inst: object, _attr: object, value: int) -> None:
    if not 1 <= value <= MAX_WINDOW:
        raise LocalProtocolError(f"GBT window must be 1..{MAX_WINDOW}, got {value}")


def _check_mechanism(
    mechanism: MechanismName,
    password: bytes | None,
    hls: HlsMechanism | None,
    security: Ciphering | None,
    context: ApplicationContextName,
) -> None:
    if mechanism == MechanismName.LOW and password is None:
        raise LocalProtocolError("LLS (mechanism 1) needs a password")
    if mechanism >= MechanismName.HIGH:
        if hls is None:
            raise LocalProtocolError(f"mechanism {mechanism.name} needs an HLS mechanism object")
        if mechanism != hls.MECHANISM_ID:
            raise LocalProtocolError(
                f"HLS object implements mechanism {hls.MECHANISM_ID}, not {int(mechanism)}"
            )
        if mechanism >= MechanismName.HIGH_GMAC and security is None:
            raise LocalProtocolError(f"mechanism {mechanism.name} needs a security context")
    if is_ciphered(context) and security is None:
        raise LocalProtocolError(f"context {context.name} needs a ciphering object")


def is_ciphered(context: ApplicationContextName) -> bool:
    return context in (ApplicationContextName.LN_CIPHERED, ApplicationContextName.SN_CIPHERED)


@attrs.frozen(kw_only=True)
class ClientSettings:
    """What a client proposes: context, authentication, conformance, PDU size, GBT use."""

    application_context: ApplicationContextName = ApplicationContextName.LN
    mechanism: MechanismName = MechanismName.LOWEST
    password: bytes | None = attrs.field(default=None, repr=False)
    hls: HlsMechanism | None = attrs.field(default=None, repr=False)
    #: Keys, system titles and counters: ciphers APDUs in the ciphered contexts and is
    #: the context HLS mechanisms 5..7 compute with.
    security: Ciphering | None = attrs.field(default=None, repr=False)
    #: Source of our HLS challenge (CtoS for a client, StoC for a server).
    challenge_source: Callable[[], bytes] = attrs.field(default=default_challenge, repr=False)
    conformance: Conformance = DEFAULT_CONFORMANCE
    max_receive_pdu_size: int = attrs.field(default=0xFFFF, validator=_check_pdu)
    dlms_version: int = 6
    invoke_id_policy: InvokeIdPolicy = InvokeIdPolicy.INCREMENT
    first_invoke_id: int = attrs.field(default=1, validator=attrs.validators.in_(range(16)))
    high_priority: bool = True
    #: Send every request through general block transfer when it was negotiated.
    use_general_block_transfer: bool = False
    #: How many GBT blocks we accept before acknowledging (the window we advertise).
    gbt_window: int = attrs.field(default=1, validator=_check_window)
    #: A dedicated key to propose in the (glo-ciphered) InitiateRequest of a ciphered
    #: context; service APDUs then use the ded- forms (Green Book 9.2.7.2.4.2).
    dedicated_key: bytes | None = attrs.field(default=None, repr=False)
    #: Or a random source (called with the key length, e.g. ``secrets.token_bytes``)
    #: that makes a fresh dedicated key for every AARQ.
    dedicated_key_source: Callable[[int], bytes] | None = attrs.field(default=None, repr=False)

    def __attrs_post_init__(self) -> None:
        _check_mechanism(
            self.mechanism, self.password, self.hls, self.security, self.application_context
        )
        if self.dedicated_key is None and self.dedicated_key_source is None:
            return
        if self.dedicated_key is not None and self.dedicated_key_source is not None:
            raise LocalProtocolError("give a dedicated key or a source of them, not both")
        if not is_ciphered(self.application_context) or self.security is None:
            raise LocalProtocolError("a dedicated key needs a ciphered application context")
        length = dedicated_key_length(self.security)
        if self.dedicated_key is not None and len(self.dedicated_key) != length:
            raise LocalProtocolError(f"the dedicated key must be {length} bytes")

    @property
    def uses_dedicated_key(self) -> bool:
        """Whether the AARQ proposes a dedicated key."""
        return self.dedicated_key is not None or self.dedicated_key_source is not None

    def new_dedicated_key(self) -> bytes | None:
        """The dedicated key for the next AARQ: the fixed one, a fresh one, or None."""
        if self.dedicated_key_source is None:
            return self.dedicated_key
        assert self.security is not None
        length = dedicated_key_length(self.security)
        key = bytes(self.dedicated_key_source(length))
        if len(key) != length:
            raise LocalProtocolError(
                f"the dedicated key source gave {len(key)} bytes, not {length}"
            )
        return key


@attrs.frozen(kw_only=True)
class AssociationPolicy:
    """What a server grants the client at one SAP."""

    client_sap: int = 16
    application_context: ApplicationContextName = ApplicationContextName.LN
    mechanism: MechanismName = MechanismName.LOWEST
    password: bytes | None = attrs.field(default=None, repr=False)
    hls: HlsMechanism | None = attrs.field(default=None, repr=False)
    #: Keys, system titles and counters: ciphers APDUs in the ciphered contexts and is
    #: the context HLS mechanisms 5..7 compute with.
    security: Ciphering | None = attrs.field(default=None, repr=False)
    #: Source of our HLS challenge (CtoS for a client, StoC for a server).
    challenge_source: Callable[[], bytes] = attrs.field(default=default_challenge, repr=False)
    conformance: Conformance = DEFAULT_CONFORMANCE
    max_receive_pdu_size: int = attrs.field(default=1024, validator=_check_pdu)
    #: InitiateRequests proposing a smaller client max receive PDU are refused.
    min_client_pdu_size: int = 64
    gbt_window: int = attrs.field(default=1, validator=_check_window)

    def __attrs_post_init__(self) -> None:
        _check_mechanism(
            self.mechanism, self.password, self.hls, self.security, self.application_context
        )
