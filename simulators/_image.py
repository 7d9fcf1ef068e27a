"""Image transfer (class 18, Blue Book 4.4.6): a firmware upgrade accepted, verified and
activated by a simulated meter.

The simulator's image format: the firmware payload followed by its SHA-256, so that
verification means something (a corrupted or incomplete image fails it). Activation
makes the image identifier the meter's firmware version and logs event 157 ("new
firmware activated") in the transaction events.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

import attrs

from dlmskit.apdu import ActionResult, DataAccessResult, SelectiveAccess
from dlmskit.axdr import (
    Array,
    BitString,
    Data,
    DoubleLongUnsigned,
    Enum,
    OctetString,
    Structure,
)
from obis import ObisCode

if TYPE_CHECKING:
    from simulators._state import MeterState

__all__ = [
    "IMAGE_BLOCK_SIZE",
    "IMAGE_TRANSFER",
    "ImageTransfer",
    "ImageTransferStatus",
    "build_image",
    "image_attributes",
    "image_methods",
]

IMAGE_TRANSFER: Final = ObisCode(0, 0, 44, 0, 0)
IMAGE_BLOCK_SIZE: Final = 192
#: The largest image a simulated meter accepts.
MAX_IMAGE_SIZE: Final = 4 * 1024 * 1024
#: Transaction event "new firmware activated" (IS 15959-2), log 3.
FIRMWARE_ACTIVATED: Final = 157


class ImageTransferStatus(enum.IntEnum):
    """Blue Book image_transfer_status."""

    NOT_INITIATED = 0
    INITIATED = 1
    VERIFICATION_INITIATED = 2
    VERIFICATION_SUCCESSFUL = 3
    VERIFICATION_FAILED = 4
    ACTIVATION_INITIATED = 5
    ACTIVATION_SUCCESSFUL = 6
    ACTIVATION_FAILED = 7


def build_image(payload: bytes) -> bytes:
    """An image the simulator verifies: ``payload`` followed by its SHA-256."""
    return payload + hashlib.sha256(payload).digest()


@attrs.define
class ImageTransfer:
    """An image transfer in progress (or done) on one meter."""

    identifier: bytes = b""
    size: int = 0
    blocks: dict[int, bytes] = attrs.Factory(dict)
    status: ImageTransferStatus = ImageTransferStatus.NOT_INITIATED
    digest: bytes = b""

    @property
    def block_count(self) -> int:
        return -(-self.size // IMAGE_BLOCK_SIZE)

    def first_missing(self) -> int:
        return next((n for n in range(self.block_count) if n not in self.blocks), self.block_count)

    def image(self) -> bytes:
        return b"".join(self.blocks[n] for n in range(self.block_count))

    def verified(self) -> bool:
        if self.first_missing() != self.block_count:
            return False
        image = self.image()
        if len(image) != self.size or self.size < 32:
            return False
        payload, digest = image[:-32], image[-32:]
        return hmac.compare_digest(hashlib.sha256(payload).digest(), digest)


def _transfer(state: MeterState) -> ImageTransfer:
    if state.image is None:
        state.image = ImageTransfer()
    return state.image


def _status_bits(transfer: ImageTransfer) -> BitString:
    return BitString.from_bits(n in transfer.blocks for n in range(transfer.block_count))


def _to_activate(transfer: ImageTransfer) -> Array:
    if transfer.status < ImageTransferStatus.VERIFICATION_SUCCESSFUL:
        return Array(())
    digest = transfer.digest
    return Array(
        (
            Structure(
                (
                    DoubleLongUnsigned(transfer.size),
                    OctetString(transfer.identifier),
                    OctetString(digest),
                )
            ),
        )
    )


Getter = Callable[["MeterState", SelectiveAccess | None], Data | DataAccessResult]
Method = Callable[["MeterState", Data | None], ActionResult]


def image_attributes() -> dict[int, Getter]:
    """Getters of attributes 2..7: (state, selective access) -> value."""
    return {
        2: lambda s, a: DoubleLongUnsigned(IMAGE_BLOCK_SIZE),
        3: lambda s, a: _status_bits(_transfer(s)),
        4: lambda s, a: DoubleLongUnsigned(_transfer(s).first_missing()),
        5: lambda s, a: True,
        6: lambda s, a: Enum(_transfer(s).status),
        7: lambda s, a: _to_activate(_transfer(s)),
    }


def _initiate(state: MeterState, parameters: Data | None) -> ActionResult:
    if not isinstance(parameters, Structure) or len(parameters) != 2:
        return ActionResult.TYPE_UNMATCHED
    identifier, size = parameters
    if not isinstance(identifier, bytes) or not isinstance(size, int) or isinstance(size, bool):
        return ActionResult.TYPE_UNMATCHED
    if not 0 < size <= MAX_IMAGE_SIZE or len(identifier) > 64:
        return ActionResult.OTHER_REASON
    state.image = ImageTransfer(
        identifier=bytes(identifier), size=int(size), status=ImageTransferStatus.INITIATED
    )
    return ActionResult.SUCCESS


def _block(state: MeterState, parameters: Data | None) -> ActionResult:
    transfer = state.image
    if transfer is None or transfer.status is not ImageTransferStatus.INITIATED:
        return ActionResult.TEMPORARY_FAILURE
    if not isinstance(parameters, Structure) or len(parameters) != 2:
        return ActionResult.TYPE_UNMATCHED
    number, value = parameters
    if not isinstance(number, int) or isinstance(number, bool) or not isinstance(value, bytes):
        return ActionResult.TYPE_UNMATCHED
    if not 0 <= number < transfer.block_count:
        return ActionResult.OTHER_REASON
    last = number == transfer.block_count - 1
    expected = transfer.size - number * IMAGE_BLOCK_SIZE if last else IMAGE_BLOCK_SIZE
    if len(value) != expected:
        return ActionResult.OTHER_REASON
    transfer.blocks[int(number)] = bytes(value)
    return ActionResult.SUCCESS


def _verify(state: MeterState, parameters: Data | None) -> ActionResult:
    transfer = state.image
    if transfer is None or transfer.status not in (
        ImageTransferStatus.INITIATED,
        ImageTransferStatus.VERIFICATION_FAILED,
    ):
        return ActionResult.TEMPORARY_FAILURE
    ok = transfer.verified()
    if ok:
        transfer.digest = transfer.image()[-32:]
    transfer.status = (
        ImageTransferStatus.VERIFICATION_SUCCESSFUL
        if ok
        else ImageTransferStatus.VERIFICATION_FAILED
    )
    return ActionResult.SUCCESS if ok else ActionResult.OTHER_REASON


def _activate(state: MeterState, parameters: Data | None) -> ActionResult:
    transfer = state.image
    if transfer is None or transfer.status is not ImageTransferStatus.VERIFICATION_SUCCESSFUL:
        return ActionResult.TEMPORARY_FAILURE
    transfer.status = ImageTransferStatus.ACTIVATION_SUCCESSFUL
    state.firmware_version = transfer.identifier.decode("latin-1")
    transfer.blocks.clear()  # the meter keeps the running image, not the transfer buffer
    state.log_event(log=3, code=FIRMWARE_ACTIVATED)
    return ActionResult.SUCCESS


def image_methods() -> dict[int, Method]:
    """Methods 1..4: initiate, block transfer, verify, activate."""
    return {1: _initiate, 2: _block, 3: _verify, 4: _activate}
