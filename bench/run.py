"""Run every benchmark in bench/ and write bench/results.json and bench/results.md.

Each ``bench/bench_*.py`` module exposes ``run() -> list[Measurement]``. Usage::

    python bench/run.py            # all benchmarks
    python bench/run.py axdr hdlc  # only bench_axdr.py and bench_hdlc.py
"""

from __future__ import annotations

import importlib
import json
import pathlib
import platform
import sys

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _harness import Measurement  # noqa: E402


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def markdown(results: list[Measurement]) -> str:
    lines = [
        "| benchmark | unit | dlmskit | peer | peer figure | ratio | target |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    for m in results:
        target = "" if m.target is None else f"≥ {m.target:g}×"
        mark = "" if m.meets_target is None else (" ✓" if m.meets_target else " ✗")
        lines.append(
            f"| {m.name} | {m.unit} | {_fmt(m.ours)} | {m.peer_name} | {_fmt(m.peer)} "
            f"| {m.ratio:.2f}×{mark} | {target} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    wanted = set(argv)
    results: list[Measurement] = []
    for path in sorted(HERE.glob("bench_*.py")):
        short = path.stem.removeprefix("bench_")
        if wanted and short not in wanted:
            continue
        module = importlib.import_module(path.stem)
        print(f"running {path.name} ...", flush=True)
        for m in module.run():
            results.append(m)
            print(
                f"  {m.name}: {_fmt(m.ours)} vs {m.peer_name} {_fmt(m.peer)} {m.unit}"
                f" -> {m.ratio:.2f}x",
                flush=True,
            )
    table = markdown(results)
    (HERE / "results.md").write_text(table)
    (HERE / "results.json").write_text(
        json.dumps(
            {
                "python": platform.python_version(),
                "machine": platform.machine(),
                "results": [m.as_dict() for m in results],
            },
            indent=2,
        )
    )
    print()
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
