"""The CI fuzz run: every target for a few seconds (about a minute in total), atheris when it
imports, hypothesis otherwise. A crash whose signature is not in fuzz/known_crashes.txt fails."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from fuzz.targets import NAMES

REPO = Path(__file__).resolve().parents[2]
# One minute for all targets together (issue 8), start-up of each fuzzing process included.
TOTAL_SECONDS = 60
PER_TARGET_SECONDS = max(1, TOTAL_SECONDS // len(NAMES) - 1)


@pytest.mark.fuzz
@pytest.mark.parametrize("target", NAMES)
def test_target_survives_a_short_fuzz_run(target: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fuzz.run",
            "--seconds",
            str(PER_TARGET_SECONDS),
            "--work",
            str(tmp_path),
            target,
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=PER_TARGET_SECONDS + 120,
        check=False,
    )
    report = proc.stdout + proc.stderr[-3000:]
    assert proc.returncode == 0, report
    assert f"{target}: " in proc.stdout and " 0 executions" not in proc.stdout, report
