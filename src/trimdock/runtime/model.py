"""What `trimdock check` observed and what it concluded: frozen facts in, verdicts out.

The runner (runner.py) is the only part that talks to the engine; it fills `ImageFacts` and
`RunFacts`. Every verdict is a pure function of these (verdicts.py), so the rules are tested
without an engine and the engine tests only check that the facts are right.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from trimdock.runtime.check_rules import RULE_OF


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"  # the check could not be made (no shell to exec, the container exited)


@dataclass(frozen=True)
class CheckResult:
    check: str  # stable id, e.g. "stop-signal"; config `allow` and JSON consumers use it
    title: str
    verdict: Verdict
    message: str
    evidence: tuple[tuple[str, Any], ...] = ()

    @property
    def rule_id(self) -> str:
        """The check's id in the TD registry (TD8nn): SARIF, `explain` and `allow` use it."""
        return RULE_OF[self.check]


@dataclass(frozen=True)
class ImageFacts:
    """The image's own configuration (`docker image inspect`)."""

    ref: str
    user: str
    exposed_tcp: tuple[int, ...]
    env: tuple[tuple[str, str], ...]
    healthcheck: bool
    stop_signal: str
    command: tuple[str, ...]  # entrypoint + cmd (or the ARGS given), as run


@dataclass(frozen=True)
class LogFile:
    path: str
    size: int  # bytes at the end of the observation window
    growth: int  # bytes added during the window's second half


@dataclass(frozen=True)
class StopFacts:
    seconds: float
    exit_code: int
    grace: float
    oom_killed: bool = False


@dataclass(frozen=True)
class ReadOnlyFacts:
    """The second run, with `--read-only` and a tmpfs on /tmp."""

    stayed_up: bool
    exit_code: int | None
    log_tail: tuple[str, ...]


@dataclass(frozen=True)
class RunFacts:
    job: bool
    window: float  # seconds observed
    running_at_end: bool
    exit_code: int | None  # when it exited during the window
    oom_killed: bool
    first_log_after: float | None  # seconds from start to the first line on stdout/stderr
    stdout_lines: int
    stderr_lines: int
    log_tail: tuple[str, ...]
    health_status: str | None  # None: no HEALTHCHECK
    healthy_after: float | None
    health_output: str
    pid1: tuple[str, ...] | None  # argv of PID 1; None when it could not be read
    zombies: int | None  # zombies left after the reaping probe; None: no shell to probe with
    uid: int | None  # effective uid of the main process; None: unknown
    listening: tuple[tuple[str, int], ...] | None  # (address, port); None: unknown
    connected: tuple[tuple[int, bool], ...]  # exposed port -> a connect from the host worked
    changes: tuple[tuple[str, str], ...]  # (path, "A"|"C"|"D") from the container's diff
    log_files: tuple[LogFile, ...]
    stop: StopFacts | None
    peak_memory: int | None
    memory_limit: int
    peak_cpu_percent: float | None
    cpus: float
    read_only: ReadOnlyFacts | None
    config_file: tuple[str, str] | None  # (host path, container path) mounted read-only
    # Where PID 1 and the sockets were read: "host /proc" (local engine), "exec" (cat in the
    # container) or None (neither: unknown).
    proc_source: str | None = None
    # With --config-file: (size, is a directory) of what the image has at DEST; None: nothing.
    baked_config: tuple[int, bool] | None = None
