"""Run every fuzz target (or those named) for N seconds each and report executions and crashes.

    python -m fuzz.run --seconds 300 [--engine auto|atheris|hypothesis] [--strict] [TARGET...]

The atheris engine (coverage-guided libFuzzer) is used when `atheris` imports; otherwise the
hypothesis engine (random and seed-spliced inputs, shrinking, no coverage feedback) with the same
entry points. Exit status 1 when a crash whose signature is not in fuzz/known_crashes.txt was
found (`--strict`: any crash). New crashes are copied to fuzz/crashes/<target>/ with --save.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from fuzz import harness
from fuzz.targets import NAMES, load

REPO = harness.FUZZ_DIR.parent
# libFuzzer's own wall-clock timeout per input: a backstop for a hang in C code that never
# returns to the interpreter (the CPU budget in harness.py catches Python-level hangs first).
WALL_TIMEOUT_SECONDS = 30
# libFuzzer's RSS limit: parsers of KiB-sized inputs need tens of MiB; 2 GiB is an explosion.
RSS_LIMIT_MB = 2048


@dataclass
class Result:
    target: str
    engine: str
    executions: int = 0
    seconds: float = 0.0
    crashes: list[tuple[str, Path | None]] = field(default_factory=list)
    known_skipped: str = ""

    def line(self) -> str:
        found = ", ".join(sig for sig, _ in self.crashes) or "none"
        known = f"; known skipped: {self.known_skipped}" if self.known_skipped else ""
        return (
            f"{self.target}: {self.executions} executions in {self.seconds:.0f} s "
            f"({self.engine}); new crashes: {found}{known}"
        )


def atheris_available() -> bool:
    return importlib.util.find_spec("atheris") is not None


def _env(strict: bool, extra_known: list[str]) -> dict[str, str]:
    env = dict(os.environ)
    env["FUZZ_EXTRA_KNOWN"] = ",".join(extra_known)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH", "")]))
    env["FUZZ_STRICT"] = "1" if strict else "0"
    return env


def run_atheris(
    name: str, seconds: int, work: Path, strict: bool, extra_known: list[str]
) -> Result:
    result = Result(name, "atheris")
    work.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "fuzz.atheris_main",
            name,
            str(work),
            f"-max_total_time={seconds}",
            f"-timeout={WALL_TIMEOUT_SECONDS}",
            f"-rss_limit_mb={RSS_LIMIT_MB}",
        ],
        cwd=REPO,
        env=_env(strict, extra_known),
        capture_output=True,
        text=True,
        errors="replace",
        timeout=seconds + 5 * WALL_TIMEOUT_SECONDS + 60,
        check=False,
    )
    result.seconds = time.monotonic() - start
    log = proc.stderr
    (work / "log.txt").write_text(log)
    runs = (
        re.findall(r"stat::number_of_executed_units:\s*(\d+)", log)
        or re.findall(r"Done (\d+) runs", log)
        or re.findall(r"^#(\d+)\s", log, re.M)
    )
    result.executions = int(runs[-1]) if runs else 0
    known = re.findall(r"^FUZZ-KNOWN (.*)$", log, re.M)
    result.known_skipped = known[-1] if known else ""
    if proc.returncode != 0:
        sig = re.findall(r"^FUZZ-CRASH (\S+)", log, re.M)
        artifact = re.findall(r"Test unit written to (\S+)", log)
        if "ALARM: working on the last Unit" in log:
            sig = sig or ["wall-timeout@libFuzzer"]
        elif "out-of-memory" in log:
            sig = sig or ["out-of-memory@libFuzzer"]
        result.crashes.append(
            (
                sig[-1] if sig else f"exit-{proc.returncode}",
                Path(artifact[-1]) if artifact else None,
            )
        )
    return result


def run_hypothesis(
    name: str, seconds: int, work: Path, strict: bool, extra_known: list[str]
) -> Result:
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    target = load(name)
    result = Result(name, "hypothesis")
    known = set(extra_known) | (set() if strict else harness.known_signatures(name))
    corpus = harness.seeds(name) or [b""]
    spliced = st.tuples(
        st.sampled_from(corpus), st.integers(0, target.max_len), st.binary(max_size=64)
    ).map(lambda t: (t[0][: t[1]] + t[2] + t[0][t[1] :])[: target.max_len])
    inputs = st.one_of(st.sampled_from(corpus), st.binary(max_size=target.max_len), spliced)
    failing: list[bytes] = []
    skipped: dict[str, int] = {}

    @settings(
        max_examples=200,
        deadline=None,
        database=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs)
    def prop(data: bytes) -> None:
        result.executions += 1
        try:
            harness.check(target, data)
        except harness.Crash as crash:
            if crash.signature in known:
                skipped[crash.signature] = skipped.get(crash.signature, 0) + 1
                return
            failing.append(data)
            raise

    start = time.monotonic()
    for seed in corpus:  # every seed first, as libFuzzer does
        result.executions += 1
        try:
            harness.check(target, seed)
        except harness.Crash as crash:
            if crash.signature not in known:
                failing.append(seed)
                result.crashes.append((crash.signature, None))
                break
    while not result.crashes and time.monotonic() - start < seconds:
        try:
            prop()
        except harness.Crash as crash:
            result.crashes.append((crash.signature, None))
    result.seconds = time.monotonic() - start
    result.known_skipped = str(skipped) if skipped else ""
    if result.crashes and failing:
        work.mkdir(parents=True, exist_ok=True)
        path = work / f"crash-{hashlib.sha1(failing[-1]).hexdigest()}"
        path.write_bytes(failing[-1])
        result.crashes[-1] = (result.crashes[-1][0], path)
    return result


def save_crash(result: Result) -> None:
    for sig, artifact in result.crashes:
        if artifact is None or not artifact.exists():
            continue
        folder = harness.CRASHES_DIR / result.target
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", sig).strip("-")
        shutil.copyfile(artifact, folder / f"{slug}.bin")


def run_target(
    engine: str, name: str, seconds: int, work: Path, args: argparse.Namespace
) -> Result:
    """One target for `seconds`; with --keep-going a crash's signature is skipped from then on
    and the session restarts (keeping its working corpus) until the time is used."""
    runner = run_atheris if engine == "atheris" else run_hypothesis
    total = Result(name, engine)
    found: list[str] = []
    start = time.monotonic()
    while True:
        left = int(seconds - (time.monotonic() - start))
        if left < 1:
            break
        result = runner(name, left, work, args.strict, found)
        total.executions += result.executions
        total.known_skipped = result.known_skipped or total.known_skipped
        for sig, artifact in result.crashes:
            kept = artifact
            if artifact is not None and artifact.exists():
                kept = artifact.with_name(f"{len(found):02d}-{artifact.name}")
                artifact.rename(kept)
            total.crashes.append((sig, kept))
            found.append(sig)
        if not result.crashes or not args.keep_going:
            break
    total.seconds = time.monotonic() - start
    return total


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", default=list(NAMES))
    parser.add_argument("--seconds", type=int, default=60, help="per target")
    parser.add_argument(
        "--engine",
        choices=("auto", "atheris", "hypothesis"),
        default=os.environ.get("FUZZ_ENGINE", "auto"),
        help="default: $FUZZ_ENGINE, else atheris when it imports",
    )
    parser.add_argument("--strict", action="store_true", help="known crashes count too")
    parser.add_argument("--save", action="store_true", help="copy new crashes to fuzz/crashes/")
    parser.add_argument(
        "--keep-going", action="store_true", help="after a crash, skip its signature and go on"
    )
    parser.add_argument("--work", type=Path, help="working corpus/artifacts (default: a temp dir)")
    args = parser.parse_args(argv)
    engine = args.engine
    if engine == "auto":
        engine = "atheris" if atheris_available() else "hypothesis"
    base = args.work or Path(tempfile.mkdtemp(prefix="trimdock-fuzz-"))
    failed = False
    try:
        for name in args.targets:
            load(name)  # an unknown name fails before any run
            result = run_target(engine, name, args.seconds, base / name, args)
            print(result.line(), flush=True)
            for sig, artifact in result.crashes:
                print(f"  crash {sig}: {artifact}", flush=True)
            if args.save:
                save_crash(result)
            failed = failed or bool(result.crashes)
    finally:
        if args.work is None:
            shutil.rmtree(base, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
