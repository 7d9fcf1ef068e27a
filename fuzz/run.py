"""Run fuzz targets under atheris (libFuzzer): ``python -m fuzz.run NAME|--all``.

``--seconds N`` bounds each target (default: the FUZZ_SECONDS environment variable, else
30). A single target runs in this process, its new corpus entries kept in
``fuzz/.work/<name>/`` next to the read-only seeds of ``fuzz/corpus/<name>/``; crashes,
hangs (``-timeout``) and memory blow-ups (``-rss_limit_mb``) are written to
``fuzz/.work/artifacts/``. ``--all`` runs every target in its own process and fails
if any of them found something. Arguments after ``--`` go to libFuzzer unchanged.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
WORK = HERE / ".work"
CORPUS = HERE / "corpus"
#: The packages whose code coverage guides the fuzzer.
INSTRUMENTED = ["dlmskit", "transports", "obis"]


def _fuzz_one(name: str, seconds: int, extra: list[str]) -> None:
    import atheris  # only the fuzzing run needs it; the targets and tests do not

    with atheris.instrument_imports(include=INSTRUMENTED):
        from fuzz.targets import TARGETS

    target = TARGETS[name]
    work = WORK / name
    work.mkdir(parents=True, exist_ok=True)
    (WORK / "artifacts").mkdir(parents=True, exist_ok=True)
    argv = [
        sys.argv[0],
        f"-max_total_time={seconds}",
        "-timeout=10",
        "-rss_limit_mb=1536",
        "-max_len=4096",
        "-print_final_stats=1",
        f"-artifact_prefix={WORK / 'artifacts'}/{name}-",
        *extra,
        str(work),
    ]
    seeds = CORPUS / name
    if seeds.is_dir():
        argv.append(str(seeds))
    atheris.Setup(argv, target.one_input)
    atheris.Fuzz()


# libFuzzer status lines: "#<execs> <event> cov: <edges> ft: <features> ..."; the last one
# counts, whether the run ended (DONE) or stopped at a finding
_STATS = re.compile(rb"#(\d+)\s+[A-Z]+\s+cov: (\d+) ft: (\d+)")


def _fuzz_all(seconds: int, extra: list[str]) -> int:
    from fuzz.targets import TARGETS

    failed: list[str] = []
    print(f"{'target':20} {'result':8} {'execs':>10} {'exec/s':>8} {'cov':>6} {'ft':>6}")
    for name in TARGETS:
        started = time.monotonic()
        proc = subprocess.run(
            [sys.executable, "-m", "fuzz.run", name, "--seconds", str(seconds), "--", *extra],
            cwd=HERE.parent,
            capture_output=True,
            check=False,
        )
        elapsed = time.monotonic() - started
        log = WORK / f"{name}.log"
        log.write_bytes(proc.stdout + proc.stderr)
        found = _STATS.findall(proc.stderr)
        execs, cov, ft = (int(g) for g in found[-1]) if found else (0, 0, 0)
        result = "ok" if proc.returncode == 0 else f"FAIL {proc.returncode}"
        if proc.returncode != 0:
            failed.append(name)
        print(f"{name:20} {result:8} {execs:10} {execs / elapsed:8.0f} {cov:6} {ft:6}")
    if failed:
        print(f"findings in {', '.join(failed)}: see fuzz/.work/<target>.log and artifacts/")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    extra: list[str] = []
    if "--" in args:
        cut = args.index("--")
        args, extra = args[:cut], args[cut + 1 :]
    parser = argparse.ArgumentParser(prog="python -m fuzz.run", description=__doc__)
    parser.add_argument("target", nargs="?", help="target name (see fuzz.TARGETS)")
    parser.add_argument("--all", action="store_true", help="run every target in turn")
    parser.add_argument(
        "--seconds", type=int, default=int(os.environ.get("FUZZ_SECONDS", "30") or 30)
    )
    options = parser.parse_args(args)
    WORK.mkdir(exist_ok=True)
    if options.all:
        return _fuzz_all(options.seconds, extra)
    if not options.target:
        parser.error("name a target or pass --all")
    _fuzz_one(options.target, options.seconds, extra)
    return 0


if __name__ == "__main__":
    sys.exit(main())
