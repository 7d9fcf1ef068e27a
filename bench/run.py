"""Run every benchmark in bench/ and write bench/results.json and bench/results.md.

Each ``bench/bench_*.py`` module exposes ``run() -> list[Measurement]``. Usage::

    python bench/run.py            # all benchmarks; also rewrites README's section
    python bench/run.py axdr hdlc  # only bench_axdr.py and bench_hdlc.py
    python bench/run.py --quick    # smallest sizes, one short round each: a smoke run,
                                   # written to results-quick.{json,md}
    python bench/run.py --merge scaling  # re-run some, keep the other rows of
                                         # results.json, and rewrite the README

A complete run (all modules, not quick) or a merge rewrites the performance section of
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
from collections.abc import Sequence
from typing import Any

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import readme  # noqa: E402
from _harness import Measurement, set_quick  # noqa: E402


def modules() -> list[str]:
    """Short names of every benchmark module, in run order."""
    return [path.stem.removeprefix("bench_") for path in sorted(HERE.glob("bench_*.py"))]


def merge(old: dict[str, Any], new: dict[str, Any], rerun: Sequence[str]) -> dict[str, Any]:
    """``old`` with the rows of the ``rerun`` modules replaced by those of ``new``, in
    module order; ``dates`` says when each module's rows were measured."""
    order = {short: n for n, short in enumerate(modules())}
    dates = {row["module"]: old["date"] for row in old["results"]}
    dates.update(old.get("dates", {}))
    dates.update({short: new["date"] for short in rerun})
    rows = [row for row in old["results"] if row["module"] not in rerun] + new["results"]
    rows.sort(key=lambda row: order.get(row["module"], len(order)))
    seconds = {short: old.get("module_seconds", {}).get(short) for short in dates}
    seconds.update(new.get("module_seconds", {}))
    return {
        **new,
        "date": old["date"],
        "dates": {short: dates[short] for short in sorted(dates, key=lambda m: order.get(m, 0))},
        "module_seconds": seconds,
        "failed": new["failed"],
        "results": rows,
    }


def main(argv: list[str]) -> int:
    quick = "--quick" in argv
    merging = "--merge" in argv and not quick
    wanted = [a for a in argv if not a.startswith("--")]
    unknown = set(wanted) - set(modules())
    if unknown:
        print(f"no such benchmark: {', '.join(sorted(unknown))}; known: {', '.join(modules())}")
        return 2
    set_quick(quick)
    results: list[Measurement] = []
    origin: list[str] = []
    failed: list[str] = []
    module_seconds: dict[str, float] = {}
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
        module_seconds[short] = round(time.perf_counter() - t0, 1)
        print(f"  ({module_seconds[short]} s)", flush=True)
    stem = "results-quick" if quick else "results"
    report: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "quick": quick,
        "seconds": round(time.perf_counter() - started, 1),
        "failed": failed,
        "module_seconds": module_seconds,
        "results": [
            {"module": short, **m.as_dict()} for short, m in zip(origin, results, strict=True)
        ],
    }
    if merging:
        rerun = [short for short in wanted if short not in failed]
        report = merge(json.loads((HERE / f"{stem}.json").read_text()), report, rerun)
    table = readme.table(report["results"])
    (HERE / f"{stem}.md").write_text(table)
    (HERE / f"{stem}.json").write_text(json.dumps(report, indent=2) + "\n")
    print()
    print(table)
    print(f"{len(results)} measurements in {report['seconds']} s -> bench/{stem}.json")
    if failed:
        print(f"failed: {', '.join(failed)}; README.md left as it was")
        return 1
    if not quick and (merging or not wanted):
        readme.main([str(HERE / f"{stem}.json")])
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
