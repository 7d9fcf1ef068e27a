"""The registry of fuzz targets: name -> Target, one per decoder family."""

from __future__ import annotations

from fuzz._association import CLIENT_ASSOCIATION, SERVER_ASSOCIATION
from fuzz._codec import ACSE, APDU, AXDR, COSEM_VALUES, OBIS, OBJECT_LIST
from fuzz._security import SECURITY
from fuzz._target import Target, chunks, join_chunks
from fuzz._transport import GATEWAY, HDLC_FRAME, HDLC_LINK, LOWPAN, MODE_E, WRAPPER

__all__ = ["TARGETS", "Target", "chunks", "join_chunks"]

TARGETS: dict[str, Target] = {
    target.name: target
    for target in (
        AXDR,
        APDU,
        ACSE,
        SECURITY,
        HDLC_FRAME,
        HDLC_LINK,
        WRAPPER,
        MODE_E,
        GATEWAY,
        LOWPAN,
        OBIS,
        OBJECT_LIST,
        COSEM_VALUES,
        CLIENT_ASSOCIATION,
        SERVER_ASSOCIATION,
    )
}
