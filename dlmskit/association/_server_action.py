"""ACTION on the server: normal, with pblocks, with a list, and a list in pblocks
(Green Book 9.3, ACTION service; IEC 62056-5-3).

A list whose parameters pass the server's PDU arrives as ACTION-Request-With-List-And-
First-Pblock and ACTION-Request-With-Pblock blocks carrying the encoded ``SEQUENCE OF
Data``; a list response longer than the client's PDU goes out as ACTION-Response-With-
Pblock blocks carrying the encoded ``SEQUENCE OF Action-Response-With-Optional-Data``.
"""

from __future__ import annotations

from dlmskit.apdu import (
    ABSENT,
    ActionRequestNextPblock,
    ActionRequestNormal,
    ActionRequestWithFirstPblock,
    ActionRequestWithList,
    ActionRequestWithListAndFirstPblock,
    ActionRequestWithPblock,
    ActionResponseNextPblock,
    ActionResponseNormal,
    ActionResponseWithList,
    ActionResponseWithOptionalData,
    ActionResponseWithPblock,
    ActionResult,
    Conformance,
    CosemMethodDescriptor,
    InvokeIdAndPriority,
    ServiceErrorKind,
    StateError,
)
from dlmskit.association._blocks import BlockReassembler
from dlmskit.association._server_base import Refused
from dlmskit.association._server_blocks import ServerBlocks, Upload
from dlmskit.association._values import (
    decode_data,
    decode_data_list,
    encode_data,
)
from dlmskit.axdr import Data
from dlmskit.errors import DlmsError

__all__ = ["ServerActions"]


class ServerActions(ServerBlocks):
    """The ACTION service of :class:`ServerAssociation`."""

    def _on_action(
        self,
        apdu: ActionRequestNormal
        | ActionRequestWithFirstPblock
        | ActionRequestWithPblock
        | ActionRequestNextPblock
        | ActionRequestWithListAndFirstPblock,
    ) -> None:
        self._require(Conformance.ACTION)
        iip = apdu.invoke_id_and_priority
        if isinstance(apdu, ActionRequestNextPblock):
            self._next_block(iip, apdu.block_number, is_get=False)
            return
        if isinstance(apdu, ActionRequestNormal):
            self._upload = None
            parameters = None if apdu.parameters is ABSENT else apdu.parameters
            self._answer_action(iip, apdu.method_descriptor, parameters)
            return
        self._require(Conformance.BLOCK_TRANSFER_WITH_ACTION)
        if isinstance(apdu, ActionRequestWithFirstPblock | ActionRequestWithListAndFirstPblock):
            descriptor: CosemMethodDescriptor | tuple[CosemMethodDescriptor, ...]
            if isinstance(apdu, ActionRequestWithListAndFirstPblock):
                self._require(Conformance.MULTIPLE_REFERENCES)
                if not apdu.method_descriptors:
                    raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.OTHER_REASON)
                descriptor = apdu.method_descriptors
            else:
                descriptor = apdu.method_descriptor
            self._upload = Upload(
                invoke_id=iip.invoke_id,
                descriptor=descriptor,
                access=None,
                blocks=BlockReassembler(
                    max_size=self.max_reassembled_size, max_blocks=self.max_blocks
                ),
                is_action=True,
            )
        whole = self._add_block(
            iip, apdu.block_number, apdu.raw_data, apdu.last_block, is_set=False
        )
        if whole is None:
            if self._upload is not None:
                self._respond(
                    ActionResponseNextPblock(
                        invoke_id_and_priority=iip, block_number=apdu.block_number
                    ).to_bytes()
                )
            return
        upload, self._upload = self._upload, None
        assert upload is not None
        if isinstance(upload.descriptor, tuple):
            methods = tuple(d for d in upload.descriptor if isinstance(d, CosemMethodDescriptor))
            try:
                values = decode_data_list(whole, len(methods), self.max_depth)
            except DlmsError:
                self._answer_action_list(
                    iip, [(ActionResult.TYPE_UNMATCHED, None) for _ in methods]
                )
                return
            self._answer_action_list(
                iip, [self._invoke(m, v) for m, v in zip(methods, values, strict=True)]
            )
            return
        assert isinstance(upload.descriptor, CosemMethodDescriptor)
        try:
            parameters = decode_data(whole, self.max_depth)
        except DlmsError:
            self._respond(
                ActionResponseNormal(
                    invoke_id_and_priority=iip, result=ActionResult.TYPE_UNMATCHED
                ).to_bytes()
            )
            return
        self._answer_action(iip, upload.descriptor, parameters)

    def _on_action_with_list(self, apdu: ActionRequestWithList) -> None:
        self._require(Conformance.ACTION)
        self._require(Conformance.MULTIPLE_REFERENCES)
        self._upload = self._download = None
        if len(apdu.parameters) != len(apdu.method_descriptors):
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.OTHER_REASON)
        self._answer_action_list(
            apdu.invoke_id_and_priority,
            [
                self._invoke(descriptor, parameters)
                for descriptor, parameters in zip(
                    apdu.method_descriptors, apdu.parameters, strict=True
                )
            ],
        )

    def _answer_action_list(
        self, iip: InvokeIdAndPriority, outcomes: list[tuple[ActionResult, Data | None]]
    ) -> None:
        """ACTION-Response-With-List, or its encoding in pblocks when it is too long."""
        self._download = None
        response = ActionResponseWithList(
            invoke_id_and_priority=iip,
            responses=[
                ActionResponseWithOptionalData(
                    result=result, return_parameters=ABSENT if data is None else data
                )
                for result, data in outcomes
            ],
        ).to_bytes()
        if self._sent_whole(response, Conformance.BLOCK_TRANSFER_WITH_ACTION):
            return
        if Conformance.BLOCK_TRANSFER_WITH_ACTION not in self.conformance:
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.PDU_TOO_LONG)
        header = ActionResponseWithPblock(
            invoke_id_and_priority=iip, last_block=False, block_number=1, raw_data=b""
        ).to_bytes()
        # the pblocks carry what follows "C7 03 iip": SEQUENCE OF the optional-data results
        self._start_download(iip, response[3:], len(header) - 1, is_get=False)

    def _answer_action(
        self, iip: InvokeIdAndPriority, descriptor: CosemMethodDescriptor, parameters: Data | None
    ) -> None:
        self._download = None
        result, data = self._invoke(descriptor, parameters)
        response = ActionResponseNormal(
            invoke_id_and_priority=iip,
            result=result,
            return_parameters=ABSENT if data is None else data,
        ).to_bytes()
        if self._sent_whole(response, Conformance.BLOCK_TRANSFER_WITH_ACTION):
            return
        if result != ActionResult.SUCCESS or data is None:
            raise Refused(StateError.SERVICE_NOT_ALLOWED, ServiceErrorKind.PDU_TOO_LONG)
        self._require(Conformance.BLOCK_TRANSFER_WITH_ACTION)
        header = ActionResponseWithPblock(
            invoke_id_and_priority=iip, last_block=False, block_number=1, raw_data=b""
        ).to_bytes()
        self._start_download(iip, encode_data(data), len(header) - 1, is_get=False)
