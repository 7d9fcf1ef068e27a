"""The examples run as a user runs them, and say what they claim."""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent


def test_read_profile_example_agrees_with_the_ground_truth() -> None:
    out = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "read_profile.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert "97 block load rows" in out.stdout
    assert "288 readings compared with the simulator's ground truth: 0 differ" in out.stdout
