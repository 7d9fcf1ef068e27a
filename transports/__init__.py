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
from transports._channel_stream import ChannelStream, open_channel_stream
from transports._gateway import (
    GatewayRequest,
    GatewayResponse,
    GatewayTag,
    decode_gateway_apdu,
    encode_gateway_apdu,
)
from transports._gateway_mux import (
    GatewayMeterTransport,
    GatewayMultiplexer,
    open_gateway_multiplexer,
)
from transports._hdlc_address import HdlcAddress, decode_address
from transports._hdlc_connection import (
    LLC_REQUEST,
    LLC_RESPONSE,
    TRANSITIONS,
    HdlcConnection,
    HdlcRole,
    HdlcState,
    HdlcStats,
    HdlcTrigger,
)
from transports._hdlc_crc import crc16, crc16_bytes
from transports._hdlc_events import NEED_DATA, ApduReceived, Connected, Disconnected, NeedData
from transports._hdlc_frame import (
    HdlcFrame,
    HdlcFrameReader,
    HdlcFrameType,
    decode_frame,
    encode_frame,
)
from transports._hdlc_parameters import HdlcParameters
from transports._hdlc_stream import (
    HdlcStreamTransport,
    accept_hdlc,
    open_hdlc,
    open_tcp_hdlc,
    serve_tcp_hdlc,
)
from transports._interface import ApduTransport, LinkAddress
from transports._mesh import (
    DataConcentrator,
    DcuStats,
    MeshMeter,
    open_data_concentrator,
)
from transports._mesh_link import MeshMeterLink
from transports._mode_e import (
    BAUD_RATES,
    ModeEAcknowledged,
    ModeEClient,
    ModeEIdentification,
    ModeEMeter,
    ModeERequest,
    ModeEState,
    baud_character,
)
from transports._serial import (
    SIGN_ON_LINE,
    LineSettings,
    SerialStream,
    answer_mode_e,
    open_optical_probe,
    open_serial,
    open_serial_hdlc,
    sign_on_mode_e,
)
from transports._tcp import WrapperStreamTransport, open_tcp_wrapper, serve_tcp_wrapper
from transports._tcp_server import WrapperSocketTransport, serve_tcp_wrapper_sockets
from transports._udp import UdpEndpoint, UdpPeerTransport, open_udp_endpoint
from transports._wisun import (
    BorderRouter,
    BorderRouterStats,
    loopback_host,
    open_border_router,
)
from transports._wrapper import (
    DEFAULT_MAX_APDU,
    WRAPPER_HEADER_SIZE,
    WRAPPER_VERSION,
    Wpdu,
    WrapperFramer,
    decode_wpdu,
    encode_wpdu,
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
    "ChannelStream",
    "DataConcentrator",
    "DcuStats",
    "Direction",
    "GatewayMeterTransport",
    "GatewayMultiplexer",
    "GatewayRequest",
    "GatewayResponse",
    "GatewayTag",
    "LossCause",
    "LowpanFrame",
    "LowpanReassembler",
    "MeshMeter",
    "MeshMeterLink",
    "OutageWindow",
    "Transmission",
    "decode_gateway_apdu",
    "decode_lowpan_frame",
    "encode_gateway_apdu",
    "fragment_datagram",
    "loopback_host",
    "open_channel_stream",
    "open_data_concentrator",
    "open_gateway_multiplexer",
    "open_border_router",
    "LLC_REQUEST",
    "LLC_RESPONSE",
    "TRANSITIONS",
    "HdlcAddress",
    "decode_address",
    "HdlcConnection",
    "HdlcRole",
    "HdlcState",
    "HdlcStats",
    "HdlcTrigger",
    "crc16",
    "crc16_bytes",
    "NEED_DATA",
    "ApduReceived",
    "Connected",
    "Disconnected",
    "NeedData",
    "HdlcFrame",
    "HdlcFrameReader",
    "HdlcFrameType",
    "decode_frame",
    "encode_frame",
    "HdlcParameters",
    "HdlcStreamTransport",
    "accept_hdlc",
    "open_hdlc",
    "open_tcp_hdlc",
    "serve_tcp_hdlc",
    "ApduTransport",
    "LinkAddress",
    "BAUD_RATES",
    "ModeEAcknowledged",
    "ModeEClient",
    "ModeEIdentification",
    "ModeEMeter",
    "ModeERequest",
    "ModeEState",
    "baud_character",
    "SerialStream",
    "SIGN_ON_LINE",
    "LineSettings",
    "answer_mode_e",
    "open_optical_probe",
    "open_serial",
    "open_serial_hdlc",
    "sign_on_mode_e",
    "WrapperStreamTransport",
    "open_tcp_wrapper",
    "serve_tcp_wrapper",
    "WrapperSocketTransport",
    "serve_tcp_wrapper_sockets",
    "UdpEndpoint",
    "UdpPeerTransport",
    "open_udp_endpoint",
    "DEFAULT_MAX_APDU",
    "WRAPPER_HEADER_SIZE",
    "WRAPPER_VERSION",
    "Wpdu",
    "WrapperFramer",
    "decode_wpdu",
    "encode_wpdu",
]
