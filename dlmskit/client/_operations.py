"""Meter operations made of several services: relay control, key change by
key_transfer, firmware upgrade through image transfer (with resume), and the
frame-counter pattern."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Final

import attrs

from dlmskit.axdr import (
    BitString,
    DoubleLongUnsigned,
    Enum,
    Integer,
    OctetString,
    Structure,
    decode,
)
from dlmskit.cosem import ImageTransferStatus
from dlmskit.errors import DecodeError, LocalProtocolError, ServiceError
from dlmskit.security import KeyId, TransferredKey, build_key_transfer
from obis import ObisCode, ObisLike, as_obis

if TYPE_CHECKING:
    from dlmskit.client._association import Association
    from dlmskit.client._meter import Meter

__all__ = [
    "DISCONNECT_CONTROL",
    "IMAGE_TRANSFER",
    "ImageTransferReport",
    "relay",
    "transfer_keys",
    "upgrade_firmware",
]

#: Disconnect control object of IS 15959-2 meters (class 70).
DISCONNECT_CONTROL: Final = ObisCode(0, 0, 96, 3, 10, 255)
#: Image transfer object (class 18).
IMAGE_TRANSFER: Final = ObisCode(0, 0, 44, 0, 0, 255)
_KEY_ATTRIBUTES: Final = {
    KeyId.GLOBAL_UNICAST_ENCRYPTION: "encryption_key",
    KeyId.AUTHENTICATION: "authentication_key",
    KeyId.MASTER: "master_key",
}


async def relay(meter: Meter, logical_name: ObisLike, *, connect: bool) -> None:
    """remote_disconnect (method 1) or remote_reconnect (method 2), parameter integer 0."""
    await meter.action(70, logical_name, 2 if connect else 1, Integer(0))


async def transfer_keys(
    meter: Meter, keys: Mapping[KeyId, bytes], security_setup: ObisLike | None = None
) -> Association:
    """Send new global keys wrapped with the master key (security setup method 2,
    key_transfer, Blue Book 4.4.7; RFC 3394 key wrap).

    The meter applies the keys to the next association, so the current one carries on
    with the old keys; the returned recipe has the new ones for :func:`connect`.
    """
    association = meter.association
    if association.master_key is None:
        raise LocalProtocolError("key_transfer needs the master key (KEK) in the association")
    if not keys:
        raise LocalProtocolError("key_transfer needs at least one key")
    for key_id in keys:
        if KeyId(key_id) not in _KEY_ATTRIBUTES:
            raise LocalProtocolError(f"key_transfer cannot change the {KeyId(key_id).name} key")
    setup = security_setup
    if setup is None:
        counter = association.invocation_counter_object
        if counter is None:
            raise LocalProtocolError("name the security setup object of this association")
        setup = ObisCode(0, 0, 43, 0, counter.e, 255)
    wrapped = build_key_transfer(
        (TransferredKey(key_id=KeyId(k), key=v) for k, v in keys.items()),
        kek=association.master_key,
    )
    await meter.action(64, setup, 2, decode(wrapped))
    changes = {_KEY_ATTRIBUTES[KeyId(k)]: v for k, v in keys.items()}
    updated = attrs.evolve(association, **changes)  # type: ignore[arg-type]
    if KeyId.GLOBAL_UNICAST_ENCRYPTION in keys:
        updated = updated.with_invocation_counter(0)
    meter.association = updated
    return updated


@attrs.frozen(kw_only=True)
class ImageTransferReport:
    """What a firmware upgrade did."""

    block_size: int
    blocks: int
    sent: int
    resumed: bool
    activated: bool


def _missing(status: object, count: int) -> list[int]:
    if not isinstance(status, BitString):
        raise DecodeError("image_transferred_blocks_status is not a bit-string")
    bits = list(status)
    return [n for n in range(count) if n >= len(bits) or not bits[n]]


async def upgrade_firmware(
    meter: Meter,
    identifier: bytes,
    image: bytes,
    *,
    logical_name: ObisLike = IMAGE_TRANSFER,
    activate: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImageTransferReport:
    """Image transfer (class 18, Blue Book 4.4.6): read the block size; resume a transfer
    the meter still holds for an image of the same number of blocks, else initiate;
    send the missing blocks; check nothing is missing; verify; activate.

    ``progress(done, total)`` is called after every block. Run it again after an
    interruption: blocks the meter already has are not sent again.
    """
    name = as_obis(logical_name)
    if not image:
        raise LocalProtocolError("the image is empty")
    size_value = await meter.get(18, name, 2)
    if isinstance(size_value, bool) or not isinstance(size_value, int) or size_value <= 0:
        raise DecodeError("image_block_size is not a positive integer")
    block_size = int(size_value)
    count = -(-len(image) // block_size)
    status = await meter.get(18, name, 6)
    missing: list[int] = []
    resumed = False
    if status == Enum(ImageTransferStatus.INITIATED):
        held = await meter.get(18, name, 3)
        if isinstance(held, BitString) and len(held) == count:
            missing = _missing(held, count)
            resumed = True
    if not resumed:
        parameters = Structure((OctetString(identifier), DoubleLongUnsigned(len(image))))
        await meter.action(18, name, 1, parameters)
        missing = list(range(count))
    done = count - len(missing)
    sent = 0
    for _ in range(2):  # a second pass for blocks the meter reports still missing
        for number in missing:
            block = image[number * block_size : (number + 1) * block_size]
            await meter.action(
                18, name, 2, Structure((DoubleLongUnsigned(number), OctetString(block)))
            )
            sent += 1
            done += 1
            if progress is not None:
                progress(min(done, count), count)
        missing = _missing(await meter.get(18, name, 3), count)
        if not missing:
            break
    if missing:
        raise ServiceError(f"image transfer: blocks {missing[:8]} still missing after resending")
    await meter.action(18, name, 3, Integer(0))
    activated = False
    if activate:
        await meter.action(18, name, 4, Integer(0))
        final = await meter.get(18, name, 6)
        activated = final == Enum(ImageTransferStatus.ACTIVATION_SUCCESSFUL)
    return ImageTransferReport(
        block_size=block_size, blocks=count, sent=sent, resumed=resumed, activated=activated
    )
