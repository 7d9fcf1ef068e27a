"""Image transfer (class 18; Blue Book 4.4.6): firmware download on the server side.

Flow: the client reads image_block_size, calls image_transfer_initiate(identifier,
size), sends blocks with image_block_transfer(number, value), reads
image_transferred_blocks_status / image_first_not_transferred_block_number to find
gaps, then image_verify and image_activate. Verification and activation are hooks (a
simulator checks a hash or signature, swaps its firmware version); a hook raising, or
returning ``False``, fails the step and sets the matching failed status.
"""

from __future__ import annotations

import enum
from collections.abc import Callable

from dlmskit.apdu import ActionResult
from dlmskit.association import RequestContext
from dlmskit.axdr import Array, BitString, Data, DoubleLongUnsigned, Enum, OctetString, Structure
from dlmskit.cosem._model_base import CosemObject, method_failed
from obis import ObisLike

__all__ = ["ImageTransfer", "ImageTransferStatus"]


class ImageTransferStatus(enum.IntEnum):
    """Image transfer attribute 6 image_transfer_status."""

    NOT_INITIATED = 0
    INITIATED = 1
    VERIFICATION_INITIATED = 2
    VERIFICATION_SUCCESSFUL = 3
    VERIFICATION_FAILED = 4
    ACTIVATION_INITIATED = 5
    ACTIVATION_SUCCESSFUL = 6
    ACTIVATION_FAILED = 7


#: (image identifier, image) -> accepted?
ImageCheck = Callable[[bytes, bytes], bool]
#: (image identifier, image) -> None; raise to fail.
ImageActivation = Callable[[bytes, bytes], None]


class ImageTransfer(CosemObject):
    """Image transfer (class 18, version 0) with a bounded in-memory image."""

    def __init__(
        self,
        logical_name: ObisLike = "0.0.44.0.0.255",
        *,
        block_size: int = 192,
        max_image_size: int = 4 * 1024 * 1024,
        enabled: bool = True,
        verify: ImageCheck | None = None,
        activate: ImageActivation | None = None,
    ) -> None:
        super().__init__(logical_name, class_id=18, version=0)
        if block_size <= 0 or max_image_size <= 0:
            raise ValueError("block_size and max_image_size must be positive")
        self.block_size = block_size
        self.max_image_size = max_image_size
        self.verify_hook = verify
        self.activate_hook = activate
        self.status = ImageTransferStatus.NOT_INITIATED
        self.identifier = b""
        self.image = bytearray()
        self._received: list[bool] = []
        self[2] = DoubleLongUnsigned(block_size)
        self.bind(3, lambda ctx, sa: BitString.from_bits(self._received))
        self.bind(4, lambda ctx, sa: DoubleLongUnsigned(self.first_not_transferred_block))
        self[5] = enabled
        self.bind(6, lambda ctx, sa: Enum(self.status))
        self.bind(7, lambda ctx, sa: self._to_activate())
        for index, method in enumerate(
            (self._initiate, self._block_transfer, self._verify, self._activate), start=1
        ):
            self.implement(index, method)

    @property
    def enabled(self) -> bool:
        return self[5] is True

    @property
    def block_count(self) -> int:
        return len(self._received)

    @property
    def first_not_transferred_block(self) -> int:
        """The lowest missing block number (the block count when none is missing)."""
        for number, received in enumerate(self._received):
            if not received:
                return number
        return len(self._received)

    def _to_activate(self) -> Array:
        if self.status < ImageTransferStatus.VERIFICATION_SUCCESSFUL or (
            self.status is ImageTransferStatus.VERIFICATION_FAILED
        ):
            return Array()
        return Array(
            (
                Structure(
                    (
                        DoubleLongUnsigned(len(self.image)),
                        OctetString(self.identifier),
                        OctetString(b""),
                    )
                ),
            )
        )

    def initiate(self, identifier: bytes, size: int) -> None:
        """Start (or restart) a transfer of ``size`` octets."""
        if not self.enabled:
            raise method_failed(ActionResult.TEMPORARY_FAILURE, "image transfer disabled")
        if not 0 < size <= self.max_image_size:
            raise method_failed(ActionResult.OTHER_REASON, "image size out of range")
        self.identifier = identifier
        self.image = bytearray(size)
        self._received = [False] * (-(-size // self.block_size))
        self.status = ImageTransferStatus.INITIATED

    def transfer_block(self, number: int, value: bytes) -> None:
        """Store block ``number`` (0-based); every block but the last is full size."""
        if self.status is not ImageTransferStatus.INITIATED:
            raise method_failed(ActionResult.TEMPORARY_FAILURE, "no transfer initiated")
        if not 0 <= number < len(self._received):
            raise method_failed(ActionResult.OTHER_REASON, "block number out of range")
        start = number * self.block_size
        expected = min(self.block_size, len(self.image) - start)
        if len(value) != expected:
            raise method_failed(ActionResult.OTHER_REASON, f"block {number} needs {expected}")
        self.image[start : start + expected] = value
        self._received[number] = True

    def verify(self) -> bool:
        """Check completeness, then the verify hook; sets the verification status."""
        if self.status not in (
            ImageTransferStatus.INITIATED,
            ImageTransferStatus.VERIFICATION_FAILED,
            ImageTransferStatus.VERIFICATION_SUCCESSFUL,
        ):
            raise method_failed(ActionResult.TEMPORARY_FAILURE, "nothing to verify")
        self.status = ImageTransferStatus.VERIFICATION_INITIATED
        try:
            ok = self.first_not_transferred_block == len(self._received) and (
                self.verify_hook is None or self.verify_hook(self.identifier, bytes(self.image))
            )
        except Exception:
            ok = False
        self.status = (
            ImageTransferStatus.VERIFICATION_SUCCESSFUL
            if ok
            else ImageTransferStatus.VERIFICATION_FAILED
        )
        return ok

    def activate(self) -> None:
        """Activate a verified image (verifying first if needed) through the hook."""
        if self.status is ImageTransferStatus.INITIATED and not self.verify():
            raise method_failed(ActionResult.OTHER_REASON, "image verification failed")
        if self.status is not ImageTransferStatus.VERIFICATION_SUCCESSFUL:
            raise method_failed(ActionResult.TEMPORARY_FAILURE, "no verified image")
        self.status = ImageTransferStatus.ACTIVATION_INITIATED
        try:
            if self.activate_hook is not None:
                self.activate_hook(self.identifier, bytes(self.image))
        except Exception:
            self.status = ImageTransferStatus.ACTIVATION_FAILED
            raise method_failed(ActionResult.OTHER_REASON, "activation failed") from None
        self.status = ImageTransferStatus.ACTIVATION_SUCCESSFUL

    def _initiate(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if (
            not isinstance(parameters, Structure)
            or len(parameters) != 2
            or not isinstance(parameters[0], bytes)
            or isinstance(parameters[1], bool)
            or not isinstance(parameters[1], int)
        ):
            raise method_failed(ActionResult.TYPE_UNMATCHED, "{image_identifier, image_size}")
        self.initiate(bytes(parameters[0]), int(parameters[1]))
        return None

    def _block_transfer(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if (
            not isinstance(parameters, Structure)
            or len(parameters) != 2
            or isinstance(parameters[0], bool)
            or not isinstance(parameters[0], int)
            or not isinstance(parameters[1], bytes)
        ):
            raise method_failed(ActionResult.TYPE_UNMATCHED, "{block_number, block_value}")
        self.transfer_block(int(parameters[0]), bytes(parameters[1]))
        return None

    def _verify(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        if not self.verify():
            raise method_failed(ActionResult.OTHER_REASON, "image verification failed")
        return None

    def _activate(self, ctx: RequestContext, parameters: Data | None) -> Data | None:
        self.activate()
        return None
