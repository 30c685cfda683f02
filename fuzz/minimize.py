"""Shrink a crashing input while it keeps the same crash signature (delta debugging on bytes).

    python -m fuzz.minimize TARGET CRASH_FILE OUT_FILE [--seconds 120]

Engine-independent (libFuzzer's -minimize_crash re-executes the binary, which atheris does not
support well). Chunks are removed, halving the chunk size when none can go; then single bytes
are simplified towards `0`/`a`. A hang keeps each attempt at the CPU budget, so the time bound
matters there.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from fuzz import harness
from fuzz.targets import load


def same_crash(target: harness.Target, data: bytes, wanted: str) -> bool:
    try:
        harness.check(target, data)
    except harness.Crash as crash:
        return crash.signature == wanted
    return False


def minimize(target: harness.Target, data: bytes, seconds: float) -> tuple[bytes, str]:
    try:
        harness.check(target, data)
    except harness.Crash as crash:
        wanted = crash.signature
    else:
        raise SystemExit("the input does not crash the target")
    deadline = time.monotonic() + seconds
    chunk = max(1, len(data) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        removed = False
        start = 0
        while start < len(data) and time.monotonic() < deadline:
            candidate = data[:start] + data[start + chunk :]
            if same_crash(target, candidate, wanted):
                data, removed = candidate, True
            else:
                start += chunk
        if not removed:
            chunk //= 2
    for index in range(len(data)):
        if time.monotonic() >= deadline:
            break
        for simpler in (b"a", b"0", b" "):
            if data[index : index + 1] != simpler:
                candidate = data[:index] + simpler + data[index + 1 :]
                if same_crash(target, candidate, wanted):
                    data = candidate
                    break
    return data, wanted


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("target")
    parser.add_argument("crash", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seconds", type=float, default=120)
    args = parser.parse_args()
    data, signature = minimize(load(args.target), args.crash.read_bytes(), args.seconds)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"{signature}: {len(data)} bytes -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
