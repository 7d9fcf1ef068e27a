"""The import rules of DESIGN.md, checked on the source tree.

Data flows up, imports point down: ``obis`` imports nothing of ours; the sans-IO core
imports only ``obis``, ``attrs``, ``cryptography`` and the standard library, and never
sockets, threads, trio, wall-clock time or randomness; applications (``simulators``,
``hes``) use only public names; the module graph is acyclic.
"""

from __future__ import annotations

import ast
import pathlib
import sys
from collections.abc import Iterator

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
PACKAGES = ("obis", "dlmskit", "transports", "simulators", "hes")
STDLIB = set(sys.stdlib_module_names)
# Standard-library modules the sans-IO core must not use: I/O, concurrency, clocks, chance.
CORE_FORBIDDEN_STDLIB = {
    "socket",
    "selectors",
    "select",
    "asyncio",
    "threading",
    "multiprocessing",
    "subprocess",
    "random",
    "logging.config",
}


def _module_name(path: pathlib.Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _sources() -> Iterator[tuple[str, pathlib.Path]]:
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            yield _module_name(path), path


def _type_checking_only(tree: ast.Module) -> set[int]:
    """Ids of nodes with no import-time edge: ``if TYPE_CHECKING:`` blocks, and a module
    ``__getattr__`` (PEP 562), which loads an upper layer lazily on first use only."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        lazy = isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
        if lazy or (isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)):
            for child in node.body:
                for sub in ast.walk(child):
                    skipped.add(id(sub))
    return skipped


def _imports(name: str, path: pathlib.Path) -> Iterator[tuple[str, int]]:
    """Every absolute module name imported at run time by a file, with its line number."""
    tree = ast.parse(path.read_text(), str(path))
    skipped = _type_checking_only(tree)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split(".")
                if not is_package:
                    base = base[:-1]
                if node.level > 1:
                    base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            yield module, node.lineno
            for alias in node.names:
                yield f"{module}.{alias.name}", node.lineno


def _is_core(module: str) -> bool:
    return module.startswith("dlmskit") and not (
        module.startswith("dlmskit.client") or module.startswith("dlmskit.testing")
    )


SOURCES = dict(_sources())


def _top(module: str) -> str:
    return module.split(".")[0]


def test_tree_is_found() -> None:
    assert "dlmskit.axdr" in SOURCES
    assert "obis" in SOURCES


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if m.startswith("obis")))
def test_obis_imports_nothing_of_ours(module: str) -> None:
    for imported, line in _imports(module, SOURCES[module]):
        top = _top(imported)
        assert top not in PACKAGES or top == "obis", f"{module}:{line} imports {imported}"


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if _is_core(m)))
def test_core_is_sans_io(module: str) -> None:
    allowed_third_party = {"attrs", "cryptography", "obis", "dlmskit", "typing_extensions"}
    for imported, line in _imports(module, SOURCES[module]):
        top = _top(imported)
        if top == "dlmskit":
            assert _is_core(imported), f"{module}:{line} imports {imported} from the I/O layer"
            continue
        if top in STDLIB:
            assert imported not in CORE_FORBIDDEN_STDLIB and top not in CORE_FORBIDDEN_STDLIB, (
                f"{module}:{line} imports {imported}"
            )
            assert imported not in {"time.time", "time.sleep"}, f"{module}:{line} uses {imported}"
            continue
        assert top in allowed_third_party, f"{module}:{line} imports {imported}"


@pytest.mark.parametrize("module", sorted(m for m in SOURCES if _is_core(m)))
def test_core_reads_no_wall_clock(module: str) -> None:
    tree = ast.parse(SOURCES[module].read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            call = f"{node.value.id}.{node.attr}"
            assert call not in {"time.time", "time.sleep", "datetime.now", "date.today"}, (
                f"{module}:{node.lineno} reads the clock via {call}"
            )


@pytest.mark.parametrize(
    "module", sorted(m for m in SOURCES if _top(m) in {"transports", "dlmskit", "obis"})
)
def test_lower_layers_do_not_import_applications(module: str) -> None:
    for imported, line in _imports(module, SOURCES[module]):
        assert _top(imported) not in {"simulators", "hes"}, f"{module}:{line} imports {imported}"


@pytest.mark.parametrize(
    "module", sorted(m for m in SOURCES if _top(m) in {"simulators", "hes", "transports"})
)
def test_applications_use_public_names_only(module: str) -> None:
    own = _top(module)
    for imported, line in _imports(module, SOURCES[module]):
        parts = imported.split(".")
        if parts[0] not in PACKAGES or parts[0] == own:
            continue
        private = [p for p in parts[1:] if p.startswith("_") and not p.startswith("__")]
        assert not private, f"{module}:{line} reaches into private {imported}"


def test_module_graph_is_acyclic() -> None:
    graph: dict[str, set[str]] = {m: set() for m in SOURCES}
    for module, path in SOURCES.items():
        for imported, _line in _imports(module, path):
            # Resolve "pkg.mod.Name" to the longest known module prefix.
            parts = imported.split(".")
            while parts and ".".join(parts) not in SOURCES:
                parts.pop()
            target = ".".join(parts)
            # A package __init__ importing its own children is how re-exports work.
            if target and target != module and not target.startswith(module + "."):
                graph[module].add(target)
    white, grey, black = 0, 1, 2
    colour = dict.fromkeys(graph, white)
    stack: list[str] = []

    def visit(node: str) -> None:
        colour[node] = grey
        stack.append(node)
        for nxt in sorted(graph[node]):
            if colour[nxt] == grey:
                cycle = [*stack[stack.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if colour[nxt] == white:
                visit(nxt)
        stack.pop()
        colour[node] = black

    for node in sorted(graph):
        if colour[node] == white:
            visit(node)


def test_importing_the_core_loads_no_io_library() -> None:
    import subprocess

    code = (
        "import sys, dlmskit, dlmskit.axdr, dlmskit.apdu, dlmskit.security, "
        "dlmskit.association, dlmskit.cosem, obis\n"
        "bad = sorted(m for m in ('trio', 'serial', 'sqlite3') if m in sys.modules)\n"
        "print(','.join(bad))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == ""
