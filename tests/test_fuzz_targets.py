"""Every fuzz target, without atheris: seeds, truncations, mutations and random bytes.

``fuzz/`` holds coverage-guided targets run by ``make fuzz``; this keeps them from
rotting in CI, where atheris is not installed. Each target's freshly built seeds must be
accepted outright (so they still reach deep into the code), and the stored corpus, every
truncation of the seeds and a few hundred seeded random mutations may raise only the
target's allowed exceptions. A failure names the input in hex: replay it with
``TARGETS[name].one_input(bytes.fromhex(...))``.
"""

from __future__ import annotations

import importlib
import random
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

_targets: ModuleType = importlib.import_module("fuzz.targets")
TARGETS: Mapping[str, object] = _targets.TARGETS
CORPUS = ROOT / "fuzz" / "corpus"

_INTERESTING = (0x00, 0x01, 0x7E, 0x7F, 0x80, 0x81, 0x82, 0x83, 0x84, 0xC0, 0xE6, 0xFE, 0xFF)
#: Mutations a target; the association targets cost more per input.
_MUTATIONS = {"client_association": 1500, "server_association": 1500, "security": 1500}


def _mutate(rng: random.Random, data: bytes, pool: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        kind = rng.randrange(8)
        at = rng.randrange(len(out) + 1)
        if kind == 0 and out:
            out[at % len(out)] ^= 1 << rng.randrange(8)
        elif kind == 1 and out:
            out[at % len(out)] = rng.choice(_INTERESTING)
        elif kind == 2 and out:
            out[at % len(out)] = rng.randrange(256)
        elif kind == 3:
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif kind == 4 and out:
            del out[at : at + rng.randint(1, 16)]
        elif kind == 5 and out:
            end = min(len(out), at + rng.randint(1, 32))
            out[at:at] = out[at:end]
        elif kind == 6:
            other = rng.choice(pool)
            start = rng.randrange(len(other) + 1)
            out[at:] = other[start:]
        else:
            del out[at:]
    return bytes(out)


def _corpus(name: str) -> dict[str, bytes]:
    folder = CORPUS / name
    return {path.name: path.read_bytes() for path in sorted(folder.iterdir())}


def _check(one_input: Callable[[bytes], None], data: bytes, what: str) -> None:
    try:
        one_input(data)
    except BaseException as exc:
        raise AssertionError(f"{what}: {type(exc).__name__}: {exc} on {data.hex()}") from exc


def test_every_decoder_family_has_a_target() -> None:
    assert set(TARGETS) == {
        "axdr",
        "apdu",
        "acse",
        "security",
        "hdlc_frame",
        "hdlc_link",
        "wrapper",
        "mode_e",
        "gateway",
        "lowpan",
        "obis",
        "object_list",
        "cosem_values",
        "client_association",
        "server_association",
    }


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_stored_corpus_matches_the_seed_script(name: str) -> None:
    # ECDSA signatures and ephemeral keys differ between runs, so names are compared,
    # and every stored seed must still be accepted
    target = TARGETS[name]
    stored = _corpus(name)
    assert set(stored) == set(target.seeds()), "run: python -m fuzz.seeds"  # type: ignore[attr-defined]
    for seed_name, data in stored.items():
        try:
            target.run(data)  # type: ignore[attr-defined]
        except BaseException as exc:
            raise AssertionError(f"stored seed {seed_name} refused: {exc!r}") from exc


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_target_over_seeds_truncations_and_mutations(name: str) -> None:
    target = TARGETS[name]
    one_input: Callable[[bytes], None] = target.one_input  # type: ignore[attr-defined]
    seeds: dict[str, bytes] = dict(target.seeds())  # type: ignore[attr-defined]
    for seed_name, data in seeds.items():
        try:
            target.run(data)  # type: ignore[attr-defined]
        except BaseException as exc:
            raise AssertionError(f"seed {seed_name} refused: {exc!r}") from exc
    pool = list(seeds.values())
    for seed_name, data in seeds.items():
        cuts = (
            range(len(data))
            if len(data) <= 96
            else sorted(random.Random(seed_name).sample(range(len(data)), 48))
        )
        for cut in cuts:
            _check(one_input, data[:cut], f"seed {seed_name} cut at {cut}")
    rng = random.Random(f"dlmskit-fuzz-{name}")
    for i in range(_MUTATIONS.get(name, 3000)):
        _check(one_input, _mutate(rng, rng.choice(pool), pool), f"mutation {i}")
    for i in range(100):
        _check(one_input, rng.randbytes(rng.randrange(64)), f"random input {i}")
