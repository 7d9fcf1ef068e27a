"""Framing (sans-IO: wrapper, HDLC, mode E) and trio byte pipes."""

from __future__ import annotations

from transports._channel import (
    GPRS_2G,
    LTE_4G,
    NB_IOT,
    RF_MESH_DEFAULT,
    WISUN_DEFAULT,
    ChannelModel,
    Direction,
    LossCause,
    OutageWindow,
    Transmission,
)
from transports._channel_lowpan import (
    LowpanFrame,
    LowpanReassembler,
    decode_lowpan_frame,
    fragment_datagram,
)

__all__ = [
    "GPRS_2G",
    "LTE_4G",
    "NB_IOT",
    "RF_MESH_DEFAULT",
    "WISUN_DEFAULT",
    "ChannelModel",
    "Direction",
    "LossCause",
    "LowpanFrame",
    "LowpanReassembler",
    "OutageWindow",
    "Transmission",
    "decode_lowpan_frame",
    "fragment_datagram",
]
