"""Test doubles that run for real: a meter endpoint serving server associations.

:class:`MeterEndpoint` answers clients with the real
:class:`~dlmskit.association.ServerAssociation` over any object tree, one policy per
client SAP; :func:`serve_wrapper`, :func:`serve_hdlc` and :func:`serve_udp` put it on
loopback sockets for client tests (``nursery.start`` returns the bound port).
:func:`demo_meter` is an IS 15959-2 meter matching the client's association presets.
"""

from __future__ import annotations

from dlmskit.testing._demo import DEMO_SERVER_SYSTEM_TITLE, IST, block_load_row, demo_meter
from dlmskit.testing._server import MeterEndpoint, serve_hdlc, serve_udp, serve_wrapper

__all__ = [
    "DEMO_SERVER_SYSTEM_TITLE",
    "IST",
    "MeterEndpoint",
    "block_load_row",
    "demo_meter",
    "serve_hdlc",
    "serve_udp",
    "serve_wrapper",
]
