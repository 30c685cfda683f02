"""The README's `trimdock scan` example is a real run: rerun it on the fixture image it names."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.security.images import pyold_image

pytestmark = pytest.mark.engine

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_scan_example(engine: None, tmp_path: Path) -> None:
    text = README.read_text()
    block = re.search(r"```\n\$ (trimdock scan [^\n]+)\n(.*?)```", text, re.S)
    assert block, "README has no trimdock scan example"
    command, expected = block.group(1), block.group(2)
    words = shlex.split(command)
    # The tag is the fixture's content hash: building it here gives the same name.
    assert pyold_image(tmp_path) == words[2]
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb"}
    result = subprocess.run(
        [sys.executable, "-m", "trimdock", *words[1:]],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr

    def stable(lines: str) -> list[str]:
        # Debian's point releases move the package count; everything else must match.
        return [line for line in lines.splitlines() if not line.startswith("Packages ")]

    assert stable(result.stdout) == stable(expected)
