"""The contract every fuzz target checks, shared by the atheris and hypothesis engines.

A parser fed arbitrary bytes must either return a result or raise the error its module
documents (a `TrimdockError` for user-facing entry points). Anything else is a crash: another
exception type, `RecursionError`, `MemoryError`, an input that burns more than `HANG_CPU_SECONDS`
of CPU, or a result larger than `MAX_OUTPUT` (an expansion bomb). A crash is identified by a
*signature*, the exception type plus the innermost trimdock frame, so that one bug found through
many inputs counts once and a known bug can be skipped while fuzzing goes on for new ones.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import re
import signal
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

FUZZ_DIR = Path(__file__).resolve().parent
CORPUS_DIR = FUZZ_DIR / "corpus"
CRASHES_DIR = FUZZ_DIR / "crashes"
KNOWN_CRASHES = FUZZ_DIR / "known_crashes.txt"

# CPU seconds one input may take. Every target input is at most a few KiB (see Target.max_len);
# on those the parsers answer in milliseconds, so a full second of CPU means super-linear work
# (backtracking, exponential expansion, an endless loop). CPU time, not wall time: the machine is
# shared and a busy neighbour must not produce false hangs.
# FUZZ_HANG_SECONDS lowers it for minimising a hang (each attempt otherwise costs the budget).
HANG_CPU_SECONDS = float(os.environ.get("FUZZ_HANG_SECONDS", "2.0"))
# Characters/items a result may hold. Inputs are at most 64 KiB; a 1 MiB result means the parser
# multiplied its input (the ARG expansion bomb of issue 8, item 2).
MAX_OUTPUT = 1 << 20
# Separates the documents of a multi-document input (an archive's manifest, config, layers...).
SEPARATOR = b"\n%%\n"
# `#N` in a document stands for the sha256 hex digest of document N (N > the current one), so
# the fuzzer can build archives whose digests check out without forging sha256.
_DIGEST_TOKEN = re.compile(rb"#(\d)")


# Dictionary entries for JSON readers: deep nesting is a classic way to break a recursive parser,
# and the mutators rarely repeat a bracket a thousand times on their own.
NESTING = (b"[" * 64, b'{"a":' * 32, b'{"a":[' * 32)


class ContractViolation(Exception):
    """A target's own check failed: oversized output, more entries than bytes allow..."""

    def __init__(self, kind: str, detail: str) -> None:
        self.kind = kind
        super().__init__(f"{kind}: {detail}")


class Hang(BaseException):
    """Raised from the CPU-time alarm. A BaseException so `except Exception` in the code under
    test cannot swallow it."""


class Crash(Exception):
    """An input broke the contract; `signature` names the bug, `__cause__` is the original."""

    def __init__(self, target: str, signature: str, description: str) -> None:
        self.target = target
        self.signature = signature
        super().__init__(f"[{target}] {signature}: {description}")


@dataclass(frozen=True)
class Target:
    """One fuzz target: a pure entry point from bytes, and the errors its contract allows."""

    name: str
    entry: Callable[[bytes], None]
    expected: tuple[type[BaseException], ...]
    description: str
    max_len: int = 4096
    dictionary: tuple[bytes, ...] = field(default=())


def check_output_size(what: str, size: int) -> None:
    if size > MAX_OUTPUT:
        raise ContractViolation("oversized-output", f"{what} has {size} characters/items")


def split_documents(data: bytes, limit: int = 10) -> list[bytes]:
    """At most `limit` documents; `#N` tokens resolved to the digest of document N (N later)."""
    docs = data.split(SEPARATOR, limit - 1)
    resolved: list[bytes] = [b""] * len(docs)
    hexes: list[str] = [""] * len(docs)
    for index in range(len(docs) - 1, -1, -1):

        def digest_of(match: re.Match[bytes], index: int = index) -> bytes:
            other = int(match.group(1))
            if index < other < len(docs):
                return hexes[other].encode()
            return match.group(0)

        resolved[index] = _DIGEST_TOKEN.sub(digest_of, docs[index])
        hexes[index] = hashlib.sha256(resolved[index]).hexdigest()
    return resolved


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise Hang(f"more than {HANG_CPU_SECONDS} s of CPU on one input")


@contextmanager
def cpu_budget(seconds: float = HANG_CPU_SECONDS) -> Iterator[None]:
    """Raise `Hang` in the main thread once the process used `seconds` more CPU time.

    SIGPROF (profiling timer): libFuzzer owns SIGALRM for its own wall-clock -timeout. Python's
    regex engine checks for signals while it backtracks, so a catastrophic pattern is caught too.
    """
    previous = signal.signal(signal.SIGPROF, _on_alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def _package_dir() -> str:
    # Found without importing trimdock: atheris must instrument it when a target imports it.
    spec = importlib.util.find_spec("trimdock")
    assert spec is not None and spec.submodule_search_locations
    return os.path.realpath(next(iter(spec.submodule_search_locations))) + os.sep


def _innermost_trimdock_frame(tb: TracebackType | None) -> str:
    package = _package_dir()
    for frame in reversed(traceback.extract_tb(tb)):
        path = os.path.realpath(frame.filename)
        if path.startswith(package):
            module = path[len(package) :].removesuffix(".py").replace(os.sep, ".")
            return f"{module}:{frame.name}"
    return "outside-trimdock"


def signature(exc: BaseException) -> str:
    """`ExceptionType@module:function` of the innermost trimdock frame (a bug's identity)."""
    if isinstance(exc, ContractViolation):
        return f"{exc.kind}@fuzz-check"
    return f"{type(exc).__name__}@{_innermost_trimdock_frame(exc.__traceback__)}"


def check(target: Target, data: bytes, cpu_seconds: float = HANG_CPU_SECONDS) -> None:
    """Run one input; raise `Crash` (from the original exception) if it breaks the contract."""
    try:
        with cpu_budget(cpu_seconds):
            target.entry(data)
    except target.expected:
        return
    except (Exception, Hang) as exc:
        first_line = (str(exc).splitlines() or [""])[0][:200]
        raise Crash(target.name, signature(exc), f"{type(exc).__name__}: {first_line}") from exc


def known_signatures(target: str) -> set[str]:
    """Signatures already reported for `target` (fuzz/known_crashes.txt: target, signature,
    reproducer, tab-separated). Fuzzing skips them to look for new bugs; remove a line once its
    fix is merged so the fuzzers guard the fix."""
    known = {sig for sig in os.environ.get("FUZZ_EXTRA_KNOWN", "").split(",") if sig}
    if not KNOWN_CRASHES.exists():
        return known
    for line in KNOWN_CRASHES.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            fields = line.split("\t")
            if len(fields) >= 2 and fields[0] == target:
                known.add(fields[1])
    return known


def seeds(target: str) -> list[bytes]:
    folder = CORPUS_DIR / target
    if not folder.is_dir():
        return []
    return [path.read_bytes() for path in sorted(folder.iterdir()) if path.is_file()]
