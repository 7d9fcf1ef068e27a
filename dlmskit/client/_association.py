"""What a client proposes when it opens an association, with IS 15959-2 presets.

:class:`Association` is a recipe, not a connection: every :func:`~dlmskit.client.connect`
builds fresh :class:`~dlmskit.association.ClientSettings` and a fresh
:class:`~dlmskit.security.SecurityContext` from it. IS 15959-2 fixes one association per
client SAP (dlms-facts 6.2): public client 16 (no security), meter reader 32 (LLS),
utility settings 48 and firmware 80 (HLS mechanism 2 with suite 0 ciphering), and the
pre-established push association 64 (ciphered, no AARQ: the client just sends requests).

The presets' default keys and secrets are the Green Book test keys (EK 00..0F, AK D0..DF)
and the usual factory secrets: they exist for tests and demonstrations against the
simulator only; a real meter needs its own keys.
"""

from __future__ import annotations

from typing import Final

import attrs

from dlmskit.apdu import ApplicationContextName, Conformance, MechanismName
from dlmskit.association import DEFAULT_CONFORMANCE, ClientSettings
from dlmskit.axdr import DeviationSign
from dlmskit.security import (
    HlsGmac,
    HlsSecret,
    InvocationCounterStore,
    KeyId,
    MemoryCounterStore,
    SecurityContext,
    SecuritySuite,
)
from obis import ObisCode

__all__ = [
    "DEFAULT_CLIENT_SYSTEM_TITLE",
    "GREEN_BOOK_AK",
    "GREEN_BOOK_EK",
    "TEST_HLS_SECRET",
    "TEST_LLS_SECRET",
    "Association",
]

#: Green Book test global unicast encryption key (tests and demonstrations only).
GREEN_BOOK_EK: Final = bytes(range(16))
#: Green Book test authentication key (tests and demonstrations only).
GREEN_BOOK_AK: Final = bytes(range(0xD0, 0xE0))
#: Factory meter reader (LLS) secret of many IS 15959 meters (tests and demonstrations only).
TEST_LLS_SECRET: Final = b"12345678"
#: Factory HLS secret (tests and demonstrations only).
TEST_HLS_SECRET: Final = b"ABCDEFGHIJKLMNOP"
#: The client system title the presets use unless told otherwise.
DEFAULT_CLIENT_SYSTEM_TITLE: Final = bytes.fromhex("444B540000000001")

_C = Conformance
_MR_CONFORMANCE: Final = _C.GET | _C.SELECTIVE_ACCESS | _C.BLOCK_TRANSFER_WITH_GET_OR_READ
_US_CONFORMANCE: Final = (
    _C.GET
    | _C.SET
    | _C.ACTION
    | _C.SELECTIVE_ACCESS
    | _C.MULTIPLE_REFERENCES
    | _C.GENERAL_BLOCK_TRANSFER
    | _C.BLOCK_TRANSFER_WITH_GET_OR_READ
    | _C.BLOCK_TRANSFER_WITH_SET_OR_WRITE
    | _C.BLOCK_TRANSFER_WITH_ACTION
    | _C.DATA_NOTIFICATION
)


# The presets' fields (IS 15959-2 associations, dlms-facts 6.2).
_PUBLIC: Final[dict[str, object]] = {
    "name": "public client",
    "client_sap": 0x10,
    "conformance": _C.GET,
}
_METER_READER: Final[dict[str, object]] = {
    "name": "meter reader",
    "client_sap": 0x20,
    "application_context": ApplicationContextName.LN_CIPHERED,
    "mechanism": MechanismName.LOW,
    "password": TEST_LLS_SECRET,
    "encryption_key": GREEN_BOOK_EK,
    "authentication_key": GREEN_BOOK_AK,
    "conformance": _MR_CONFORMANCE,
    "invocation_counter_object": ObisCode(0, 0, 43, 1, 2, 255),
}
_UTILITY_SETTINGS: Final[dict[str, object]] = {
    "name": "utility settings",
    "client_sap": 0x30,
    "application_context": ApplicationContextName.LN_CIPHERED,
    "mechanism": MechanismName.HIGH,
    "hls_secret": TEST_HLS_SECRET,
    "encryption_key": GREEN_BOOK_EK,
    "authentication_key": GREEN_BOOK_AK,
    "conformance": _US_CONFORMANCE,
    "invocation_counter_object": ObisCode(0, 0, 43, 1, 3, 255),
}
_FIRMWARE: Final[dict[str, object]] = {
    **_UTILITY_SETTINGS,
    "name": "firmware upgrade",
    "client_sap": 0x50,
    "invocation_counter_object": ObisCode(0, 0, 43, 1, 5, 255),
}
_PUSH: Final[dict[str, object]] = {
    "name": "push",
    "client_sap": 0x40,
    "application_context": ApplicationContextName.LN_CIPHERED,
    "encryption_key": GREEN_BOOK_EK,
    "authentication_key": GREEN_BOOK_AK,
    "conformance": _MR_CONFORMANCE,
    "pre_established": True,
}


def _optional_key(_inst: object, attribute: attrs.Attribute[bytes | None], value: object) -> None:
    if value is not None and (not isinstance(value, bytes) or len(value) not in (16, 32)):
        raise ValueError(f"{attribute.name} must be 16 or 32 bytes")


@attrs.frozen(kw_only=True)
class Association:
    """One association recipe: SAPs, context, authentication, keys, conformance.

    ``invocation_counter`` is the first counter our ciphered APDUs use (the
    frame-counter pattern: read the meter's counter object, then start above it);
    ``counter_store`` overrides it with a persistent store. ``sign`` is how this meter
    reads the clock deviation (Blue Book: minutes from local time to UTC).
    """

    name: str = "custom"
    client_sap: int = attrs.field(default=0x10, validator=attrs.validators.in_(range(0x80)))
    #: Server logical device (HDLC upper address / server wPort).
    server_sap: int = attrs.field(default=1, validator=attrs.validators.in_(range(0x4000)))
    #: HDLC physical (lower) address, if the meter needs one.
    physical_address: int | None = None
    application_context: ApplicationContextName = ApplicationContextName.LN
    mechanism: MechanismName = MechanismName.LOWEST
    password: bytes | None = attrs.field(default=None, repr=False)
    hls_secret: bytes | None = attrs.field(default=None, repr=False)
    encryption_key: bytes | None = attrs.field(default=None, repr=False, validator=_optional_key)
    authentication_key: bytes | None = attrs.field(
        default=None, repr=False, validator=_optional_key
    )
    #: Master key (KEK): wraps new keys in key_transfer.
    master_key: bytes | None = attrs.field(default=None, repr=False, validator=_optional_key)
    system_title: bytes = DEFAULT_CLIENT_SYSTEM_TITLE
    suite: SecuritySuite = SecuritySuite.AES_GCM_128
    invocation_counter: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    counter_store: InvocationCounterStore | None = attrs.field(default=None, eq=False, repr=False)
    conformance: Conformance = DEFAULT_CONFORMANCE
    max_receive_pdu_size: int = 0xFFFF
    #: Logical name of the meter's invocation counter object for this association.
    invocation_counter_object: ObisCode | None = None
    sign: DeviationSign = DeviationSign.UTC_TO_LOCAL
    use_general_block_transfer: bool = False
    #: The association exists without an AARQ (Green Book 9.3.2): requests go out at
    #: once and nothing is released. A ciphered one needs ``server_system_title``.
    pre_established: bool = False
    #: The meter's system title, where no AARE tells it (pre-established associations).
    server_system_title: bytes | None = None
    #: The meter's max receive PDU size, where no AARE tells it.
    server_max_receive_pdu_size: int = attrs.field(
        default=0xFFFF, validator=attrs.validators.in_(range(12, 0x10000))
    )

    def __attrs_post_init__(self) -> None:
        if len(self.system_title) != 8:
            raise ValueError("system_title must be 8 bytes")
        if self.server_system_title is not None and len(self.server_system_title) != 8:
            raise ValueError("server_system_title must be 8 bytes")
        if self.pre_established and self.mechanism >= MechanismName.HIGH:
            raise ValueError("HLS authenticates in an AARQ: it cannot be pre-established")

    @property
    def ciphered(self) -> bool:
        return self.application_context in (
            ApplicationContextName.LN_CIPHERED,
            ApplicationContextName.SN_CIPHERED,
        )

    # -- IS 15959-2 presets ----------------------------------------------------------

    # Each preset builds the recipe once from its fields and the caller's changes (what
    # ``attrs.evolve`` of the preset gives, without building the preset first).

    @classmethod
    def public(cls, **changes: object) -> Association:
        """Public client, SAP 16: no authentication, no ciphering, GET only."""
        return cls(**{**_PUBLIC, **changes})  # type: ignore[arg-type]

    @classmethod
    def meter_reader(cls, **changes: object) -> Association:
        """Meter reader, SAP 32: LLS with suite 0 ciphering (factory test secret and keys)."""
        return cls(**{**_METER_READER, **changes})  # type: ignore[arg-type]

    @classmethod
    def utility_settings(cls, **changes: object) -> Association:
        """Utility settings, SAP 48: HLS (mechanism 2) with suite 0 ciphering."""
        return cls(**{**_UTILITY_SETTINGS, **changes})  # type: ignore[arg-type]

    @classmethod
    def firmware(cls, **changes: object) -> Association:
        """Firmware upgrade, SAP 80: HLS (mechanism 2) with suite 0 ciphering."""
        return cls(**{**_FIRMWARE, **changes})  # type: ignore[arg-type]

    @classmethod
    def push(cls, **changes: object) -> Association:
        """Push client, SAP 64: pre-established, suite 0 ciphering with the test keys and
        no authentication (IS 15959-2); give the meter's ``server_system_title``.

        No AARE says what the meter grants: the conformance here (GET with selective
        access and block transfer) is assumed. IS 15959-2 lists data-notification and
        general-protection for this association; meters that serve reads on it grant GET.
        """
        return cls(**{**_PUSH, **changes})  # type: ignore[arg-type]

    @classmethod
    def preset(cls, name: str, **changes: object) -> Association:
        """A preset by name: public, reader (meter-reader), settings (utility-settings),
        firmware, push."""
        key = name.lower().replace("_", "-").replace(" ", "-")
        makers = {
            "public": cls.public,
            "public-client": cls.public,
            "reader": cls.meter_reader,
            "meter-reader": cls.meter_reader,
            "settings": cls.utility_settings,
            "utility-settings": cls.utility_settings,
            "firmware": cls.firmware,
            "push": cls.push,
        }
        if key not in makers:
            raise ValueError(f"unknown association preset {name!r}; known: {', '.join(makers)}")
        return makers[key](**changes)

    def with_invocation_counter(self, value: int) -> Association:
        """This recipe starting its ciphered APDUs at ``value``."""
        return attrs.evolve(self, invocation_counter=value, counter_store=None)

    # -- building the sans-IO settings -------------------------------------------------

    def security_context(self) -> SecurityContext | None:
        """A fresh security context for one connection, or ``None`` when not needed."""
        needs = self.ciphered or self.mechanism >= MechanismName.HIGH_GMAC
        if not needs:
            return None
        store = self.counter_store
        if store is None:
            store = MemoryCounterStore(
                {(self.system_title, int(KeyId.GLOBAL_UNICAST_ENCRYPTION)): self.invocation_counter}
            )
        return SecurityContext(
            system_title=self.system_title,
            suite=self.suite,
            global_unicast_key=self.encryption_key,
            authentication_key=self.authentication_key,
            counter_store=store,
        )

    def client_settings(self, security: SecurityContext | None) -> ClientSettings:
        hls: HlsSecret | HlsGmac | None = None
        if self.mechanism == MechanismName.HIGH:
            if self.hls_secret is None:
                raise ValueError("HLS mechanism 2 needs hls_secret")
            hls = HlsSecret(secret=self.hls_secret)
        elif self.mechanism == MechanismName.HIGH_GMAC:
            hls = HlsGmac()
        elif self.mechanism > MechanismName.HIGH:
            raise ValueError(f"mechanism {self.mechanism.name} is not offered by this client")
        return ClientSettings(
            application_context=self.application_context,
            mechanism=self.mechanism,
            password=self.password if self.mechanism == MechanismName.LOW else None,
            hls=hls,
            security=security,
            conformance=self.conformance,
            max_receive_pdu_size=self.max_receive_pdu_size,
            use_general_block_transfer=self.use_general_block_transfer,
        )
