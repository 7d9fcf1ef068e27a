"""The trio client: talk to meters, receive their pushes.

::

    async with dlmskit.connect("tcp://10.0.0.7:4059",
                               association=Association.meter_reader()) as meter:
        rows = await meter.read_profile("1.0.99.1.0.255", start, end)

:func:`connect` opens any transport of :mod:`transports` (the wrapper over TCP or UDP,
HDLC over TCP, a serial line or an optical probe, or a transport the meter opened to
us) and runs the sans-IO :class:`~dlmskit.association.ClientAssociation` over it, with
an AARQ or pre-established (:meth:`Association.push`). A request that times out is
given up without ending the association (its late answer is discarded); on datagram
links it is first re-sent, protected afresh. :func:`listen` receives notifications over
TCP and UDP, deciphered, verified, replay-checked and tied to the meter that sent them.
The ``dlmskit`` command (``dlmskit.client._cli``) is built on both.
"""

from __future__ import annotations

from dlmskit.client._association import (
    DEFAULT_CLIENT_SYSTEM_TITLE,
    GREEN_BOOK_AK,
    GREEN_BOOK_EK,
    TEST_HLS_SECRET,
    TEST_LLS_SECRET,
    Association,
)
from dlmskit.client._connect import connect
from dlmskit.client._errors import (
    AssociationRefused,
    AuthenticationFailure,
    MeterTimeout,
    result_name,
)
from dlmskit.client._frame_counter import with_frame_counter
from dlmskit.client._link import LinkSettings, Target, parse_target
from dlmskit.client._listen import MeterKeys, Push, PushListener, RejectedPush, listen
from dlmskit.client._meter import AttributeRef, Meter
from dlmskit.client._operations import (
    DISCONNECT_CONTROL,
    IMAGE_TRANSFER,
    ImageTransferReport,
)
from dlmskit.client._reads import scaler_profile_of

__all__ = [
    "DEFAULT_CLIENT_SYSTEM_TITLE",
    "DISCONNECT_CONTROL",
    "GREEN_BOOK_AK",
    "GREEN_BOOK_EK",
    "IMAGE_TRANSFER",
    "TEST_HLS_SECRET",
    "TEST_LLS_SECRET",
    "Association",
    "AssociationRefused",
    "AttributeRef",
    "AuthenticationFailure",
    "ImageTransferReport",
    "LinkSettings",
    "Meter",
    "MeterKeys",
    "MeterTimeout",
    "Push",
    "PushListener",
    "RejectedPush",
    "Target",
    "connect",
    "listen",
    "parse_target",
    "result_name",
    "scaler_profile_of",
    "with_frame_counter",
]
