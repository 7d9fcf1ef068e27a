"""The framers are sans-IO: their modules import no trio, sockets, serial ports, threads,
clocks or randomness (DESIGN.md, "Sans-IO")."""

from __future__ import annotations

import ast
import pathlib

import pytest

import transports

SANS_IO = [
    "_hdlc_address.py",
    "_hdlc_connection.py",
    "_hdlc_crc.py",
    "_hdlc_events.py",
    "_hdlc_frame.py",
    "_hdlc_parameters.py",
    "_hdlc_state.py",
    "_mode_e.py",
    "_wrapper.py",
]
FORBIDDEN = {"trio", "socket", "serial", "threading", "time", "random", "asyncio", "select"}
ALLOWED_ROOTS = {"__future__", "attrs", "binascii", "collections", "dlmskit", "enum", "transports"}


@pytest.mark.parametrize("name", SANS_IO)
def test_framer_modules_import_no_io(name: str) -> None:
    path = pathlib.Path(transports.__file__).parent / name
    tree = ast.parse(path.read_text())
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            roots.add(node.module.split(".")[0])
    assert not roots & FORBIDDEN, f"{name} imports {roots & FORBIDDEN}"
    assert roots <= ALLOWED_ROOTS, f"{name} imports {roots - ALLOWED_ROOTS}"
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dlmskit"):
            assert node.module == "dlmskit.errors", f"{name} reaches into {node.module}"
