"""The shipped example images (examples/), built once on the engine for the HTML and UI tests."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.engine import build_image

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
SHIPPED = [f"{example}-{variant}" for example in ("archive", "build-context") for variant in
           ("v1", "v2", "v3")]  # fmt: skip


def example_image(example: str) -> str:
    """The tag of the built example `archive-v1`, `build-context-v3`, ..."""
    if not (EXAMPLES / "archive" / "v3" / "sdk.tar.gz").is_file():
        subprocess.run([sys.executable, str(EXAMPLES / "prepare.py")], check=True)
    name, variant = example.rsplit("-", 1)
    return build_image(f"example-{example}", EXAMPLES / name / variant)
