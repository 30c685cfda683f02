"""The build-context example: the written .dockerignore shrinks the context MB -> kB, v3 builds.

The context size is read from the engine itself: the legacy builder prints "Sending build
context to Docker daemon  4.1MB" before it starts, which is the number a user sees.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.engine import REPO, docker, ensure_engine
from trimdock.cli.main import run

pytestmark = pytest.mark.engine
EXAMPLE = REPO / "examples" / "build-context"
UNITS = {"B": 1, "kB": 1000, "KB": 1000, "MB": 1000**2, "GB": 1000**3}


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not (EXAMPLE / "v3" / "docs").is_dir():
        subprocess.run([sys.executable, str(REPO / "examples" / "prepare.py")], check=True)
    target = tmp_path_factory.mktemp("example")
    for version in ("v1", "v3"):
        shutil.copytree(EXAMPLE / version, target / version)
    return target


def engine_context_bytes(context: Path, tag: str) -> int:
    """Build with the legacy builder and return the context size the CLI says it sent."""
    ensure_engine()
    result = subprocess.run(
        ["docker", "build", "-t", tag, str(context)],
        capture_output=True,
        text=True,
        env={**os.environ, "DOCKER_BUILDKIT": "0"},
        check=False,
    )
    assert result.returncode == 0, result.stderr
    found = re.search(
        r"Sending build context to Docker daemon\s+([\d.]+)\s*([kKMG]?B)", result.stdout
    )
    assert found, result.stdout
    return int(float(found.group(1)) * UNITS[found.group(2)])


def test_written_dockerignore_shrinks_v3_context_to_kilobytes_and_it_still_builds(
    engine: None, example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    v3 = example / "v3"
    (v3 / ".dockerignore").unlink()  # start from no ignore file at all
    before = engine_context_bytes(v3, "trimdock-test/context-v3:before")
    code = run(["context", str(v3), "--builder", "legacy", "--write-dockerignore", "-F", "json"])
    data = json.loads(capsys.readouterr().out)
    suggestion = data["suggestion"]
    assert suggestion["proven"] and all(p["holds"] for p in suggestion["proof"])
    assert code == 1 or code == 0
    after = engine_context_bytes(v3, "trimdock-test/context-v3:after")
    assert before > 3_000_000 and suggestion["before"]["bytes"] > 3_000_000
    assert after < 10_000 and suggestion["after"]["bytes"] < 10_000
    # trimdock's count of sent bytes agrees with the engine's within tar overhead.
    assert abs(suggestion["before"]["bytes"] - before) < 0.05 * before
    out = docker("run", "--rm", "trimdock-test/context-v3:after", "cat", "/app/app/main.sh")
    assert "greeter starting" in out
    docker("rmi", "-f", "trimdock-test/context-v3:before", "trimdock-test/context-v3:after")


def test_v1_copy_all_is_reported_and_nothing_it_uses_is_excluded(
    example: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run(["context", str(example / "v1"), "--suggest", "-F", "json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    final_copy = [f for f in data["findings"] if f["rule"] == "TD508"]
    assert final_copy and final_copy[0]["evidence"]["bytes"] > 3_000_000
    assert data["final_stage_broad_copies"][0]["path"].startswith("docs/")
    # `COPY . .` uses everything: the proven suggestion may not drop a single byte.
    assert data["suggestion"]["after"] == data["suggestion"]["before"]
