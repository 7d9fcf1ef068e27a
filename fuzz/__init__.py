"""Coverage-guided fuzz targets for every dlmskit decoder (not part of the installed package).

``TARGETS`` maps a target name to its :class:`~fuzz._target.Target`. Run one under
atheris with ``python -m fuzz.run NAME`` (``make fuzz`` runs them all for
``FUZZ_SECONDS`` each); ``python -m fuzz.seeds`` rewrites the seed corpora under
``fuzz/corpus/``; ``tests/test_fuzz_targets.py`` runs every target over its seeds and
mutations of them without atheris.
"""

from __future__ import annotations

from fuzz._association import CLIENT_ASSOCIATION, SERVER_ASSOCIATION
from fuzz._codec import ACSE, APDU, AXDR, OBIS, OBJECT_LIST
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
        CLIENT_ASSOCIATION,
        SERVER_ASSOCIATION,
    )
}
