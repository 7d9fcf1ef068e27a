"""Run every benchmark in bench/ and write bench/results.json and bench/results.md.

Each ``bench/bench_*.py`` module exposes ``run() -> list[Measurement]``. Usage::

    python bench/run.py            # all benchmarks; also rewrites README's section
    python bench/run.py axdr hdlc  # only bench_axdr.py and bench_hdlc.py
    python bench/run.py --quick    # smallest sizes, one short round each: a smoke run,
                                   # written to results-quick.{json,md}

Only a complete run (all modules, not quick) rewrites the performance section of
README.md (see ``bench/readme.py``).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import os
import pathlib
import platform
import sys
import time
import traceback

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import readme  # noqa: E402
from _harness import Measurement, set_quick  # noqa: E402


def markdown(results: list[Measurement]) -> str:
    return readme.table([m.as_dict() for m in results])


def modules() -> list[str]:
    """Short names of every benchmark module, in run order."""
    return [path.stem.removeprefix("bench_") for path in sorted(HERE.glob("bench_*.py"))]


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    wanted = [a for a in argv if not a.startswith("--")]
    unknown = set(wanted) - set(modules())
    if unknown:
        print(f"no such benchmark: {', '.join(sorted(unknown))}; known: {', '.join(modules())}")
        return 2
    set_quick(quick)
    results: list[Measurement] = []
    origin: list[str] = []
    failed: list[str] = []
    started = time.perf_counter()
    for short in modules():
        if wanted and short not in wanted:
            continue
        print(f"running bench_{short}.py ...", flush=True)
        t0 = time.perf_counter()
        try:
            measured = importlib.import_module(f"bench_{short}").run()
        except Exception:  # one broken benchmark must not lose the others
            traceback.print_exc()
            failed.append(short)
            continue
        for m in measured:
            results.append(m)
            origin.append(short)
            print(
                f"  {m.name}: {readme.fmt(m.ours)} vs {m.peer_name} {readme.fmt(m.peer)} "
                f"{m.unit} -> {m.ratio:.2f}x",
                flush=True,
            )
        print(f"  ({time.perf_counter() - t0:.1f} s)", flush=True)
    stem = "results-quick" if quick else "results"
    report = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "quick": quick,
        "seconds": round(time.perf_counter() - started, 1),
        "failed": failed,
        "results": [
            {"module": short, **m.as_dict()} for short, m in zip(origin, results, strict=True)
        ],
    }
    table = markdown(results)
    (HERE / f"{stem}.md").write_text(table)
    (HERE / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table)
    print(f"{len(results)} measurements in {report['seconds']} s -> bench/{stem}.json")
    if failed:
        print(f"failed: {', '.join(failed)}; README.md left as it was")
        return 1
    if not quick and not wanted:
        readme.main([str(HERE / f"{stem}.json")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
