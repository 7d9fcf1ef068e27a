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
from transports._gateway import (
    GatewayRequest,
    GatewayResponse,
    GatewayTag,
    decode_gateway_apdu,
    encode_gateway_apdu,
)
from transports._wisun import (
    BorderRouter,
    BorderRouterStats,
    loopback_host,
    open_border_router,
)

__all__ = [
    "BorderRouter",
    "BorderRouterStats",
    "GPRS_2G",
    "LTE_4G",
    "NB_IOT",
    "RF_MESH_DEFAULT",
    "WISUN_DEFAULT",
    "ChannelModel",
    "Direction",
    "GatewayRequest",
    "GatewayResponse",
    "GatewayTag",
    "LossCause",
    "LowpanFrame",
    "LowpanReassembler",
    "OutageWindow",
    "Transmission",
    "decode_gateway_apdu",
    "decode_lowpan_frame",
    "encode_gateway_apdu",
    "fragment_datagram",
    "loopback_host",
    "open_border_router",
]
