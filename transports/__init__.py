"""Framing (sans-IO: wrapper, HDLC, mode E) and trio byte pipes."""
