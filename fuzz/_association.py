"""Fuzz targets for the association machines: ClientAssociation and ServerAssociation.

The input's first byte picks a profile (context, authentication, GBT use) and whether
the machine is first brought into an established association by replaying a genuine
exchange; the rest is a sequence of APDUs (``fuzz._target.chunks``) fed to
``receive_apdu``. The server answers whatever a client sends: it must never raise. The
client may raise only ``DlmsError`` subclasses.

Profiles use fixed keys, system titles and challenges so each input replays exactly.
"""

from __future__ import annotations

import functools
import struct
from collections.abc import Callable, Mapping

import attrs

from dlmskit.apdu import (
    ActionResult,
    ApplicationContextName,
    Conformance,
    CosemAttributeDescriptor,
    CosemMethodDescriptor,
    MechanismName,
)
from dlmskit.association import (
    NEED_DATA,
    AssociationPolicy,
    AssociationState,
    ClientAssociation,
    ClientSettings,
    MemoryObjectTree,
    ServerAssociation,
)
from dlmskit.axdr import Array, DoubleLongUnsigned, OctetString, Structure, Unsigned
from dlmskit.errors import DlmsError
from dlmskit.security import HlsGmac, HlsSecret, SecurityContext
from fuzz._target import Target, chunks, join_chunks
from obis import ObisCode

__all__ = ["CLIENT_ASSOCIATION", "SERVER_ASSOCIATION", "MaskedError"]

CLIENT_ST = bytes.fromhex("4D4D4D0000000001")
SERVER_ST = bytes.fromhex("4D4D4D0000BC614E")
EK = bytes.fromhex("000102030405060708090A0B0C0D0E0F")
AK = bytes.fromhex("D0D1D2D3D4D5D6D7D8D9DADBDCDDDEDF")
STOC = bytes.fromhex("503677524A323146")
CTOS = bytes.fromhex("4B35366956616759")

ENERGY = CosemAttributeDescriptor(
    class_id=3, instance_id=ObisCode(1, 0, 1, 8, 0, 255), attribute_id=2
)
PROFILE = CosemAttributeDescriptor(
    class_id=7, instance_id=ObisCode(1, 0, 99, 1, 0, 255), attribute_id=2
)
ECHO = CosemMethodDescriptor(class_id=1, instance_id=ObisCode(0, 0, 96, 1, 0, 255), method_id=1)
CONFORMANCE = Conformance(0x001E1D | Conformance.GENERAL_BLOCK_TRANSFER)
_ROWS = Array(
    Structure((OctetString(bytes(12)), DoubleLongUnsigned(i), Unsigned(1))) for i in range(24)
)
_MAX_REASSEMBLED = 1 << 14
_MAX_BLOCKS = 256


def _objects() -> MemoryObjectTree:
    return MemoryObjectTree(
        {(3, ENERGY.instance_id, 2): DoubleLongUnsigned(5), (7, PROFILE.instance_id, 2): _ROWS},
        methods={(1, ECHO.instance_id, 1): lambda ctx, p: (ActionResult.SUCCESS, p)},
    )


def _security(title: bytes) -> SecurityContext:
    return SecurityContext(system_title=title, global_unicast_key=EK, authentication_key=AK)


@attrs.frozen(kw_only=True)
class _Profile:
    name: str
    client: Callable[[], ClientSettings]
    server: Callable[[], AssociationPolicy]


def _plain(name: str, *, gbt: bool, **both: object) -> _Profile:
    return _Profile(
        name=name,
        client=lambda: ClientSettings(
            max_receive_pdu_size=96,
            conformance=CONFORMANCE,
            use_general_block_transfer=gbt,
            gbt_window=2,
            challenge_source=lambda: CTOS,
            **both,  # type: ignore[arg-type]
        ),
        server=lambda: AssociationPolicy(
            max_receive_pdu_size=96,
            conformance=CONFORMANCE,
            gbt_window=3,
            challenge_source=lambda: STOC,
            **both,  # type: ignore[arg-type]
        ),
    )


def _ciphered(name: str, **both: object) -> _Profile:
    ln = ApplicationContextName.LN_CIPHERED
    return _Profile(
        name=name,
        client=lambda: ClientSettings(
            application_context=ln,
            security=_security(CLIENT_ST),
            max_receive_pdu_size=128,
            conformance=CONFORMANCE,
            challenge_source=lambda: CTOS,
            **both,  # type: ignore[arg-type]
        ),
        server=lambda: AssociationPolicy(
            application_context=ln,
            security=_security(SERVER_ST),
            max_receive_pdu_size=128,
            conformance=CONFORMANCE,
            challenge_source=lambda: STOC,
            **both,  # type: ignore[arg-type]
        ),
    )


PROFILES: tuple[_Profile, ...] = (
    _plain("ln", gbt=False),
    _plain("ln-gbt", gbt=True),
    _plain("ln-lls", gbt=False, mechanism=MechanismName.LOW, password=b"12345678"),
    _plain("ln-hls-aes", gbt=False, mechanism=MechanismName.HIGH, hls=HlsSecret(secret=EK)),
    _ciphered("ciphered"),
    _ciphered("ciphered-hls-gmac", mechanism=MechanismName.HIGH_GMAC, hls=HlsGmac()),
)


#: What escapes code that is wrong rather than input that is: none of these is a DlmsError.
_PROGRAMMING_ERRORS = (
    LookupError,
    TypeError,
    AttributeError,
    ValueError,
    ArithmeticError,
    RecursionError,
    MemoryError,
    AssertionError,
    NameError,
    struct.error,
)


class MaskedError(BaseException):
    """Raised past the server's catch-all ``except Exception``, which would swallow it."""


class _WatchedServer(ServerAssociation):
    """The server with its last line of defence made visible.

    ``receive_apdu`` turns any exception into an EXCEPTION-Response, so a crash inside
    the server would look like a refusal. The objects served here never fail, so the
    exceptions of a programming error reaching that line are bugs.
    """

    def _receive(self, data: bytes) -> None:
        try:
            super()._receive(data)
        except _PROGRAMMING_ERRORS as exc:
            raise MaskedError(f"server masked {exc!r}") from exc


def _machines(profile: _Profile) -> tuple[ClientAssociation, ServerAssociation]:
    return (
        ClientAssociation(
            profile.client(), max_reassembled_size=_MAX_REASSEMBLED, max_blocks=_MAX_BLOCKS
        ),
        _WatchedServer(
            profile.server(),
            _objects(),
            max_reassembled_size=_MAX_REASSEMBLED,
            max_blocks=_MAX_BLOCKS,
        ),
    )


def _unmasked(exc: DlmsError) -> None:
    """The client reports an internal error as "malformed APDU": that is a bug too."""
    cause = exc.__cause__
    if str(exc).startswith("malformed APDU") and not isinstance(cause, DlmsError):
        raise AssertionError(f"client masked {cause!r}") from exc


def _drain(machine: ClientAssociation | ServerAssociation) -> None:
    for _ in range(256):
        if machine.next_event() is NEED_DATA:
            return


@functools.cache
def _establishment(index: int) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """The APDUs a genuine pair exchanges to associate: (client's, server's)."""
    client, server = _machines(PROFILES[index])
    client.associate()
    sent: list[bytes] = []
    answered: list[bytes] = []
    for _ in range(8):
        c2s = client.data_to_send()
        for apdu in c2s:
            sent.append(apdu)
            server.receive_apdu(apdu)
        s2c = server.data_to_send()
        for apdu in s2c:
            answered.append(apdu)
            client.receive_apdu(apdu)
        if not c2s and not s2c:
            break
    assert client.state is AssociationState.ASSOCIATED, PROFILES[index].name
    _drain(client)
    return tuple(sent), tuple(answered)


def _request(client: ClientAssociation, kind: int) -> None:
    """Leave one confirmed request outstanding, so replies have something to match."""
    if kind == 0:
        client.get(PROFILE)
    elif kind == 1:
        client.get(ENERGY)
    elif kind == 2:
        client.set(ENERGY, OctetString(bytes(200)))
    else:
        client.action(ECHO, OctetString(bytes(8)))


def _client(data: bytes) -> None:
    if len(data) < 2:
        return
    index = data[0] % len(PROFILES)
    flags = data[1]
    client, _ = _machines(PROFILES[index])
    client.associate()
    client.data_to_send()
    if flags & 1:
        for apdu in _establishment(index)[1]:
            client.receive_apdu(apdu)
        client.data_to_send()
        _drain(client)
        _request(client, (flags >> 1) & 3)
        client.data_to_send()
    for apdu in chunks(data[2:]):
        try:
            client.receive_apdu(apdu)
        except DlmsError as exc:
            _unmasked(exc)
            raise
        finally:
            client.data_to_send()
            _drain(client)
        assert client.state in AssociationState


def _server(data: bytes) -> None:
    if len(data) < 2:
        return
    index = data[0] % len(PROFILES)
    _, server = _machines(PROFILES[index])
    if data[1] & 1:
        for apdu in _establishment(index)[0]:
            server.receive_apdu(apdu)
        server.data_to_send()
        _drain(server)
    for apdu in chunks(data[2:]):
        server.receive_apdu(apdu)
        for out in server.data_to_send():
            assert isinstance(out, bytes) and out
        _drain(server)
        assert server.state in AssociationState


def _conversation(index: int, kind: int) -> tuple[tuple[bytes, ...], tuple[bytes, ...]]:
    """A genuine request and its answers after establishment: (client's, server's)."""
    client, server = _machines(PROFILES[index])
    client.associate()
    for _ in range(8):
        for apdu in client.data_to_send():
            server.receive_apdu(apdu)
        for apdu in server.data_to_send():
            client.receive_apdu(apdu)
    _drain(client)
    _request(client, kind)
    sent: list[bytes] = []
    answered: list[bytes] = []
    for _ in range(400):
        c2s = client.data_to_send()
        sent += c2s
        for apdu in c2s:
            server.receive_apdu(apdu)
        s2c = server.data_to_send()
        answered += s2c
        for apdu in s2c:
            client.receive_apdu(apdu)
        if not c2s and not s2c:
            break
    return tuple(sent), tuple(answered)


def _client_seeds() -> Mapping[str, bytes]:
    seeds: dict[str, bytes] = {}
    for index, profile in enumerate(PROFILES):
        seeds[f"{profile.name}-establish"] = bytes((index, 0)) + join_chunks(
            *_establishment(index)[1]
        )
        for kind in range(4):
            answers = _conversation(index, kind)[1]
            seeds[f"{profile.name}-request-{kind}"] = bytes((index, 1 | kind << 1)) + join_chunks(
                *answers
            )
    return seeds


def _server_seeds() -> Mapping[str, bytes]:
    seeds: dict[str, bytes] = {}
    for index, profile in enumerate(PROFILES):
        seeds[f"{profile.name}-establish"] = bytes((index, 0)) + join_chunks(
            *_establishment(index)[0]
        )
        for kind in range(4):
            requests = _conversation(index, kind)[0]
            seeds[f"{profile.name}-request-{kind}"] = bytes((index, 1)) + join_chunks(*requests)
    return seeds


CLIENT_ASSOCIATION = Target(
    name="client_association",
    description="ClientAssociation.receive_apdu in every profile, before and after AARE",
    run=_client,
    allowed=(DlmsError,),
    seeds=_client_seeds,
)

SERVER_ASSOCIATION = Target(
    name="server_association",
    description="ServerAssociation.receive_apdu in every profile: never raises",
    run=_server,
    allowed=(),
    seeds=_server_seeds,
)
