"""Image transfer (class 18, Blue Book 4.4.6): a firmware upgrade accepted, verified and
activated by a simulated meter.

The state machine is :class:`dlmskit.cosem.ImageTransfer`, created for a meter when a
client initiates a transfer (an idle meter answers from one shared, never-initiated
object). The simulator's image format is the firmware payload followed by its SHA-256,
so verification means something (a corrupted or incomplete image fails it). Activation
makes the image identifier the meter's firmware version, logs event 157 ("new firmware
activated") in the transaction events and releases the transfer buffer.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from dlmskit.apdu import ActionResult, DataAccessResult, SelectiveAccess
from dlmskit.axdr import Data
from dlmskit.cosem import ImageTransfer, ImageTransferStatus, local_context
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
_DIGEST = 32


def build_image(payload: bytes) -> bytes:
    """An image the simulator verifies: ``payload`` followed by its SHA-256."""
    return payload + hashlib.sha256(payload).digest()


def _digest_ok(identifier: bytes, image: bytes) -> bool:
    if len(image) < _DIGEST:
        return False
    payload, digest = image[:-_DIGEST], image[-_DIGEST:]
    return hmac.compare_digest(hashlib.sha256(payload).digest(), digest)


def _new(state: MeterState | None) -> ImageTransfer:
    def activated(identifier: bytes, image: bytes) -> None:
        if state is not None:
            state.firmware_version = identifier.decode("latin-1")
            state.log_event(log=3, code=FIRMWARE_ACTIVATED)

    return ImageTransfer(
        IMAGE_TRANSFER,
        block_size=IMAGE_BLOCK_SIZE,
        max_image_size=MAX_IMAGE_SIZE,
        verify=_digest_ok,
        activate=activated,
    )


#: What every meter that no client asked for an upgrade answers.
_IDLE: Final = _new(None)


Getter = Callable[["MeterState", SelectiveAccess | None], Data | DataAccessResult]
Method = Callable[["MeterState", Data | None], ActionResult]


def _getter(index: int) -> Getter:
    def get(state: MeterState, access: SelectiveAccess | None) -> Data | DataAccessResult:
        transfer = state.image if state.image is not None else _IDLE
        return transfer.get_attribute(local_context(), index, access)

    return get


def image_attributes() -> dict[int, Getter]:
    """Getters of attributes 2..7: (state, selective access) -> value."""
    return {index: _getter(index) for index in range(2, 8)}


def _method(index: int) -> Method:
    def invoke(state: MeterState, parameters: Data | None) -> ActionResult:
        if state.image is None:
            if index != 1:
                return ActionResult.TEMPORARY_FAILURE  # nothing initiated
            state.image = _new(state)
        transfer = state.image
        result, _ = transfer.invoke(local_context(), index, parameters)
        if transfer.status is ImageTransferStatus.ACTIVATION_SUCCESSFUL:
            # the meter keeps the running image, not the transfer buffer
            done = _new(state)
            done.identifier = transfer.identifier
            done.status = ImageTransferStatus.ACTIVATION_SUCCESSFUL
            state.image = done
        return result

    return invoke


def image_methods() -> dict[int, Method]:
    """Methods 1..4: initiate, block transfer, verify, activate."""
    return {index: _method(index) for index in range(1, 5)}
