"""Benchmark: `trimdock context` on a 200,000-file context with 50 patterns vs the engine.

The peer is the engine receiving the same context: `docker build` (legacy builder, the one this
engine has) of a trivial Dockerfile, timed from the start of the command until the daemon prints
"Step 1/" (the context has been walked, archived, sent and unpacked by then). trimdock's time is
the full report (`trimdock context DIR --format json`) in a fresh process. Both run with a warm
page cache; the median of --runs runs (default 1: one engine run takes minutes here).
Target: ratio <= 0.1 (one walk of the context, linear-time matching; 0.25 before).

Run: .venv/bin/python bench/context_bench.py [--files 200000] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
TARGET = 0.1  # issue 8: trimdock context at most a tenth of the engine receiving the context

PATTERNS = [
    "# 50 patterns of the kinds real projects use",
    ".git",
    ".hg",
    ".svn",
    "node_modules",
    "**/node_modules",
    "dist",
    "build",
    "target",
    "out",
    "coverage",
    ".cache",
    ".venv",
    "venv",
    "**/__pycache__",
    "**/*.pyc",
    "**/*.pyo",
    "*.egg-info",
    ".pytest_cache",
    ".mypy_cache",
    "**/*.log",
    "**/*.tmp",
    "**/*.swp",
    "**/.DS_Store",
    "*.md",
    "!README.md",
    "docs",
    "!docs/index.md",
    "tests/fixtures/large",
    "**/*.bak",
    "d19?",
    "d18[0-4]",
    "d17*/f00[0-4]*",
    "!d170/f0001.txt",
    "**/secret*",
    ".env",
    ".env.*",
    "*.pem",
    "*.key",
    "**/id_rsa",
    "Dockerfile*",
    "docker-compose*.yml",
    ".dockerignore",
    "**/tmp",
    "**/.idea",
    "**/.vscode",
    "*.iml",
    "logs",
    "**/*.orig",
    "**/*.rej",
    "d16*/**/*.gz",
]
DOCKERFILE = "FROM busybox:latest\nCOPY d000/f0001.txt /app/\nCOPY d001/ /app/d001/\n"


def make_context(root: Path, files: int) -> None:
    marker = root / ".complete"
    if marker.exists() and marker.read_text() == str(files):
        return
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    per_dir = 1000
    payload = bytes(range(256)) * 2
    for index in range(files):
        directory = root / f"d{index // per_dir:03d}"
        if index % per_dir == 0:
            directory.mkdir()
        name = f"f{index % per_dir:04d}" + (".log" if index % 97 == 0 else ".txt")
        with open(directory / name, "wb") as handle:
            handle.write(payload[: 64 + index % 400])
    patterns = [p for p in PATTERNS if not p.startswith("#")]
    assert len(patterns) == 50, len(patterns)
    (root / ".dockerignore").write_text("\n".join(PATTERNS) + "\n")
    (root / "Dockerfile").write_text(DOCKERFILE)
    marker.write_text(str(files))


def time_engine(root: Path) -> float:
    """Seconds until the legacy builder starts step 1 (context walked, sent and unpacked)."""
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    started = time.perf_counter()
    proc = subprocess.Popen(
        ["docker", "build", "--no-cache", "-t", "trimdock-bench/context:latest", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    assert proc.stdout is not None
    seen: float | None = None
    for line in proc.stdout:
        if seen is None and line.startswith("Step 1/"):
            seen = time.perf_counter() - started
    if proc.wait() != 0 or seen is None:
        raise RuntimeError("docker build failed")
    return seen


def time_trimdock(root: Path) -> tuple[float, dict[str, object]]:
    out = RESULTS / "context-report.json"
    started = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "trimdock",
            "context",
            str(root),
            "--builder",
            "legacy",
            "--format",
            "json",
            "--output",
            str(out),
            "--fail-on",
            "none",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return elapsed, json.loads(out.read_text())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--dir", type=Path, default=Path("/var/tmp/trimdock-bench/context"))
    args = parser.parse_args()
    RESULTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(["bash", str(REPO / "scripts" / "engine-up.sh")], check=True)
    subprocess.run(["bash", str(REPO / "scripts" / "base-images.sh")], check=True)
    make_context(args.dir, args.files)
    time_trimdock(args.dir)  # warm-up: page cache and Python imports (the engine is warm)
    engine = [time_engine(args.dir) for _ in range(args.runs)]
    runs = [time_trimdock(args.dir) for _ in range(args.runs)]
    mine = [t for t, _ in runs]
    report = runs[-1][1]
    engine_s, trimdock_s = statistics.median(engine), statistics.median(mine)
    ratio = trimdock_s / engine_s
    summary = {
        "files": args.files,
        "patterns": 50,
        "sent": report["sent"],
        "excluded": report["excluded"],
        "engine_receive_seconds": round(engine_s, 3),
        "trimdock_report_seconds": round(trimdock_s, 3),
        "ratio": round(ratio, 3),
        "target": TARGET,
    }
    (RESULTS / "context_bench.json").write_text(json.dumps(summary, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(
        f"trimdock context: {trimdock_s:.2f} s; engine receiving the context: {engine_s:.2f} s; "
        f"ratio {ratio:.2f} (target <= {TARGET}) -> {'PASS' if ratio <= TARGET else 'FAIL'}"
    )
    subprocess.run(
        ["docker", "rmi", "-f", "trimdock-bench/context:latest"], capture_output=True, check=False
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
