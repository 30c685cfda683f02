"""The text of a `context --verify` whose build with the suggested file fails (pure)."""

from __future__ import annotations

import io

from rich.console import Console

from trimdock.context.render import _verification
from trimdock.context.verify import Verification


def test_a_failed_build_shows_its_last_lines_then_the_engine_message() -> None:
    failed = "Step 2/2 : COPY app/main.py /x/\nCOPY failed: [stat app/main.py]: no such file"
    out = io.StringIO()
    _verification(Console(file=out, width=80), Verification("legacy", (), failed))
    assert out.getvalue().splitlines() == [
        "  not verified: the build with the suggested file fails:",
        "    Step 2/2 : COPY app/main.py /x/",
        "    COPY failed: [stat app/main.py]: no such file",  # markup-like text kept as is
        "  --write-dockerignore writes only a verified file",
    ]
