"""Fixture images of the security tests, built on the real engine (cached by content hash)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
from pathlib import Path

from tests.support.engine import CACHE, build_image

FIXTURES = Path(__file__).parent / "fixtures"


def _wheels(requirements: Path) -> Path:
    """The pinned wheels, downloaded once on the host (containers need no package index)."""
    wanted = [line.strip() for line in requirements.read_text().splitlines() if line.strip()]
    # One folder per requirement set: the build context (hence the image tag) holds exactly
    # these wheels.
    key = hashlib.sha256("\n".join(wanted).encode()).hexdigest()[:12]
    target = CACHE / f"security-wheels-{key}"
    target.mkdir(parents=True, exist_ok=True)
    stamp = target / ".done"
    if not stamp.exists():
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--only-binary",
                ":all:",
                "--python-version",
                "3.11",
                "--platform",
                "any",
                "--implementation",
                "py",
                "-d",
                str(target),
                *wanted,
            ],
            check=True,
        )
        stamp.write_text("\n".join(wanted))
    return target


def pyold_image(tmp_root: Path) -> str:
    """Debian slim + a venv of old PyPI releases + a deleted secret (see its Dockerfile)."""
    source = FIXTURES / "pyold"
    context = tmp_root / "pyold"
    if context.exists():
        shutil.rmtree(context)
    shutil.copytree(source, context)
    wheels = _wheels(source / "requirements.txt")
    (context / "wheels").mkdir()
    for wheel in sorted(wheels.glob("*.whl")):
        shutil.copy2(wheel, context / "wheels" / wheel.name)
    return build_image("security-pyold", context)
