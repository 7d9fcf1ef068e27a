"""Service-specific block transfer on the server: SET datablocks and ACTION pblocks
coming in, long GET and ACTION responses going out (Green Book 9.3, "service-specific
block transfer"), one transfer at a time per association.
"""

from __future__ import annotations

import attrs

from dlmskit.apdu import (
    ActionResponseNormal,
    ActionResponseWithPblock,
    ActionResult,
    CosemAttributeDescriptor,
    CosemAttributeDescriptorWithSelection,
    CosemMethodDescriptor,
    DataAccessResult,
    GetResponseWithDatablock,
    InvokeIdAndPriority,
    SelectiveAccess,
    SetResponseLastDatablock,
)
from dlmskit.association._blocks import BlockReassembler, BlockSegmenter, payload_size
from dlmskit.association._server_access import ServerAccessService
from dlmskit.errors import DlmsError

__all__ = ["ServerBlocks", "Upload"]


@attrs.define
class Upload:
    """A SET datablock or ACTION pblock transfer from the client, in progress."""

    invoke_id: int
    descriptor: (
        CosemAttributeDescriptor
        | CosemMethodDescriptor
        | tuple[CosemAttributeDescriptorWithSelection, ...]
        | tuple[CosemMethodDescriptor, ...]
    )
    access: SelectiveAccess | None
    blocks: BlockReassembler
    #: An ACTION pblock transfer (else a SET datablock transfer).
    is_action: bool = False


@attrs.define
class Download:
    """A long GET or ACTION response going out block by block."""

    invoke_id: int
    is_get: bool
    blocks: BlockSegmenter


class ServerBlocks(ServerAccessService):
    """Block transfer state of :class:`ServerAssociation`."""

    _upload: Upload | None = None
    _download: Download | None = None

    def _clear(self) -> None:
        self._upload = None
        self._download = None
        super()._clear()

    def _start_download(
        self, iip: InvokeIdAndPriority, raw: bytes, overhead: int, *, is_get: bool
    ) -> None:
        size = payload_size(self.peer_max_pdu, overhead + self._cipher_overhead())
        self._download = Download(
            invoke_id=iip.invoke_id, is_get=is_get, blocks=BlockSegmenter(raw, size)
        )
        self._next_block(iip, 0, is_get=is_get)

    def _next_block(self, iip: InvokeIdAndPriority, acked: int, *, is_get: bool) -> None:
        download = self._download
        error: DataAccessResult | None = None
        if download is None or download.is_get != is_get:
            error = DataAccessResult.NO_LONG_GET_IN_PROGRESS
        elif download.invoke_id != iip.invoke_id or acked != download.blocks.sent:
            error = DataAccessResult.DATA_BLOCK_NUMBER_INVALID
        if error is not None or download is None:
            self._download = None
            if is_get:
                response = GetResponseWithDatablock(
                    invoke_id_and_priority=iip,
                    last_block=True,
                    block_number=acked,
                    result=error or DataAccessResult.OTHER_REASON,
                )
                self._respond(response.to_bytes())
            else:
                self._respond(
                    ActionResponseNormal(
                        invoke_id_and_priority=iip, result=ActionResult.NO_LONG_ACTION_IN_PROGRESS
                    ).to_bytes()
                )
            return
        number, last, chunk = download.blocks.next_block()
        if last:
            self._download = None
        if is_get:
            self._respond(
                GetResponseWithDatablock(
                    invoke_id_and_priority=iip, last_block=last, block_number=number, result=chunk
                ).to_bytes()
            )
        else:
            self._respond(
                ActionResponseWithPblock(
                    invoke_id_and_priority=iip, last_block=last, block_number=number, raw_data=chunk
                ).to_bytes()
            )

    def _add_block(
        self, iip: InvokeIdAndPriority, number: int, raw: bytes, last: bool, *, is_set: bool
    ) -> bytes | None:
        """Feed one SET datablock / ACTION pblock; answers the errors itself (None)."""
        upload = self._upload
        if upload is None or upload.invoke_id != iip.invoke_id or upload.is_action == is_set:
            self._upload = None
            self._block_error(iip, number, is_set, no_transfer=True)
            return None
        try:
            return upload.blocks.add(number, raw, last=last)
        except DlmsError:
            self._upload = None
            self._block_error(iip, number, is_set, no_transfer=False)
            return None

    def _block_error(
        self, iip: InvokeIdAndPriority, number: int, is_set: bool, *, no_transfer: bool
    ) -> None:
        if is_set:
            result = (
                DataAccessResult.NO_LONG_SET_IN_PROGRESS
                if no_transfer
                else DataAccessResult.DATA_BLOCK_NUMBER_INVALID
            )
            self._respond(
                SetResponseLastDatablock(
                    invoke_id_and_priority=iip, result=result, block_number=number
                ).to_bytes()
            )
        else:
            action = (
                ActionResult.NO_LONG_ACTION_IN_PROGRESS
                if no_transfer
                else ActionResult.DATA_BLOCK_UNAVAILABLE
            )
            self._respond(
                ActionResponseNormal(invoke_id_and_priority=iip, result=action).to_bytes()
            )
