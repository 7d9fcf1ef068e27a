"""Write the seed corpora: ``python -m fuzz.seeds`` (re)creates ``fuzz/corpus/<target>/``.

Each target builds its seeds from golden vectors (dlms-facts.md) and from APDUs and
frames this package encodes; this script only puts them on disk, one small file a seed,
for atheris to start from. Files of seeds that no longer exist are removed; a stored seed
the target still accepts is kept, so seeds with ECDSA signatures do not change each run.
"""

from __future__ import annotations

import sys
from pathlib import Path

from fuzz.targets import TARGETS, Target

CORPUS = Path(__file__).resolve().parent / "corpus"


def _still_accepted(target: Target, path: Path) -> bool:
    try:
        target.run(path.read_bytes())
    except Exception:
        return False
    return True


def write(root: Path = CORPUS) -> dict[str, int]:
    """Write every target's seeds under ``root``; return the number of seeds a target."""
    counts: dict[str, int] = {}
    for name, target in TARGETS.items():
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        seeds = target.seeds()
        for seed_name, data in seeds.items():
            path = folder / seed_name
            if path.exists() and (path.read_bytes() == data or _still_accepted(target, path)):
                continue  # signatures and ephemeral keys differ run to run: keep the old
            path.write_bytes(data)
        for stale in folder.iterdir():
            if stale.name not in seeds:
                stale.unlink()
        counts[name] = len(seeds)
    return counts


def main() -> int:
    for name, count in write().items():
        print(f"{name:20} {count:3} seeds")
    return 0


if __name__ == "__main__":
    sys.exit(main())
