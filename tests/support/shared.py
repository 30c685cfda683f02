"""Where the workplace's shared, read-only data lives (`../shared/data` beside the repository)."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def shared_data() -> Path:
    """`$TRIMDOCK_SHARED_DATA`, else `../shared/data` beside the clone, else the workplace's own."""
    for candidate in (
        os.environ.get("TRIMDOCK_SHARED_DATA", ""),
        str(REPO.parent / "shared" / "data"),
        "/work/shared/data",
    ):
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return REPO.parent / "shared" / "data"


SHARED_DATA = shared_data()
