"""The verdict of every check, from the facts alone (no engine here)."""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Callable

from trimdock.report.units import human_bytes
from trimdock.runtime.envdefaults import env_defaults
from trimdock.runtime.model import CheckResult, ImageFacts, RunFacts, Verdict
from trimdock.runtime.procfs import loopback

# Real inits that forward signals and reap orphans (docker run --init is docker-init = tini).
INITS = frozenset({"tini", "docker-init", "dumb-init", "catatonit", "s6-svscan", "s6-rc-init",
                   "runit", "runsvdir", "supervisord", "systemd", "init", "sinit"})  # fmt: skip
SHELLS = frozenset({"sh", "ash", "bash", "dash", "zsh", "ksh", "busybox"})
# Memory use above this share of the limit leaves no room for a load peak.
MEMORY_HEADROOM = 0.9
# What the read-only run may write without it being a finding: the tmpfs it was given.
TMPFS = ("/tmp",)

Check = Callable[[ImageFacts, RunFacts], CheckResult | None]


def _result(
    check: str, title: str, verdict: Verdict, message: str, **evidence: object
) -> CheckResult:
    return CheckResult(check, title, verdict, message, tuple(evidence.items()))


def _why_unknown(run: RunFacts, what: str) -> str:
    if not run.running_at_end:
        return "not running at the end of the window"
    return f"no host /proc (remote engine) and no cat in the image to read {what}"


def startup(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "Starts and stays up" if not run.job else "Job exits 0"
    evidence = {"window_seconds": round(run.window, 1), "log_tail": list(run.log_tail)}
    if run.oom_killed:
        return _result("startup", title, Verdict.FAIL, "killed at the memory limit", **evidence)
    if run.job:
        if run.running_at_end:
            return _result(
                "startup",
                title,
                Verdict.FAIL,
                f"still running after {run.window:.0f} s",
                **evidence,
            )
        verdict = Verdict.PASS if run.exit_code == 0 else Verdict.FAIL
        return _result("startup", title, verdict, f"exited with code {run.exit_code}", **evidence)
    if run.running_at_end:
        return _result("startup", title, Verdict.PASS, f"running after {run.window:.0f} s")
    hint = " (a job image? use --job)" if run.exit_code == 0 else ""
    return _result(
        "startup", title, Verdict.FAIL, f"exited with code {run.exit_code}{hint}", **evidence
    )


def first_log(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "Time to first log line"
    if run.first_log_after is None:
        return _result("first-log", title, Verdict.WARN, "nothing logged during the check")
    seconds = round(run.first_log_after, 2)
    return _result(
        "first-log", title, Verdict.PASS, f"first line after {seconds:.2f} s", seconds=seconds
    )


def health(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "Health check passes"
    if run.health_status is None:
        return _result(
            "health", title, Verdict.WARN, "no HEALTHCHECK: the platform cannot probe the app"
        )
    output = run.health_output.strip()[-300:]
    if run.health_status == "healthy" and run.healthy_after is not None:
        seconds = round(run.healthy_after, 1)
        return _result("health", title, Verdict.PASS, f"healthy after {seconds} s", seconds=seconds)
    if run.health_status == "unhealthy":
        return _result("health", title, Verdict.FAIL, "unhealthy", output=output)
    return _result(
        "health", title, Verdict.WARN, f"still {run.health_status} at the end", output=output
    )


def stop_signal(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "Stops on SIGTERM"
    if run.job:
        return _result("stop-signal", title, Verdict.UNKNOWN, "job image: not stopped")
    stop = run.stop
    if stop is None:
        return _result("stop-signal", title, Verdict.UNKNOWN, "exited before the stop")
    evidence = {
        "signal": image.stop_signal,
        "exit_code": stop.exit_code,
        "seconds": round(stop.seconds, 2),
        "grace_seconds": stop.grace,
    }
    if stop.exit_code == 137 and not stop.oom_killed:
        return _result(
            "stop-signal",
            title,
            Verdict.FAIL,
            f"{image.stop_signal} ignored: SIGKILL (137) after {stop.seconds:.1f} s",
            **evidence,
        )
    return _result(
        "stop-signal",
        title,
        Verdict.PASS,
        f"{image.stop_signal} ended it in {stop.seconds:.1f} s (exit code {stop.exit_code})",
        **evidence,
    )


def pid1(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "PID 1 is the app or an init"
    if run.pid1 is None:
        return _result("pid1", title, Verdict.UNKNOWN, _why_unknown(run, "/proc/1/cmdline"))
    name = posixpath.basename(run.pid1[0]) if run.pid1 else "?"
    evidence: dict[str, object] = {"argv": list(run.pid1), "source": run.proc_source}
    if run.zombies is not None:
        evidence["zombies_after_probe"] = run.zombies
    if run.zombies:
        return _result(
            "pid1",
            title,
            Verdict.FAIL,
            f"{name} does not reap orphans: {run.zombies} zombie(s) left",
            **evidence,
        )
    if name in INITS:
        return _result("pid1", title, Verdict.PASS, f"init {name}", **evidence)
    if name in SHELLS and len(run.pid1) > 1 and run.pid1[1] == "-c":
        return _result(
            "pid1",
            title,
            Verdict.WARN,
            f"{name} -c wraps the app: signals stop at the shell",
            **evidence,
        )
    note = "" if run.zombies is not None else " (no shell to probe reaping)"
    return _result("pid1", title, Verdict.PASS, f"{name}{note}", **evidence)


def logs_stdout(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "Logs reach stdout/stderr"
    evidence = {"stdout_lines": run.stdout_lines, "stderr_lines": run.stderr_lines}
    if run.stdout_lines + run.stderr_lines == 0:
        return _result(
            "logs-stdout", title, Verdict.FAIL, "nothing on stdout or stderr", **evidence
        )
    return _result(
        "logs-stdout",
        title,
        Verdict.PASS,
        f"{run.stdout_lines} line(s) on stdout, {run.stderr_lines} on stderr",
        **evidence,
    )


def log_files(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "No log files in the container"
    if not run.log_files:
        return _result("log-files", title, Verdict.PASS, "no log-like file written")
    files = [{"path": f.path, "size": f.size, "growth": f.growth} for f in run.log_files]
    shown = _some([f"{f.path} ({human_bytes(f.size)})" for f in run.log_files])
    return _result("log-files", title, Verdict.WARN, f"uncollected: {shown}", files=files)


def _some(items: list[str], most: int = 2) -> str:
    """The first items and how many more: a text line stays within 80 columns."""
    shown = ", ".join(items[:most])
    return shown + (f" +{len(items) - most} more" if len(items) > most else "")


def _root(user: str) -> bool:
    name = user.split(":", 1)[0]
    return name in ("", "0", "root")


def user(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "Runs as non-root"
    if run.uid is not None:
        verdict = Verdict.FAIL if run.uid == 0 else Verdict.PASS
        return _result(
            "user", title, verdict, f"PID 1 runs as uid {run.uid}", uid=run.uid, user=image.user
        )
    verdict = Verdict.FAIL if _root(image.user) else Verdict.PASS
    shown = image.user or "(none: root)"
    return _result("user", title, verdict, f"USER {shown}", user=image.user)


def written_paths(run: RunFacts) -> list[str]:
    """Paths the first run added or changed, leaves only (a changed parent directory is implied
    by its children), outside the tmpfs the read-only run gets."""
    paths = sorted(p for p, kind in run.changes if kind in ("A", "C"))
    leaves = [
        p
        for i, p in enumerate(paths)
        if not (i + 1 < len(paths) and paths[i + 1].startswith(p.rstrip("/") + "/"))
    ]
    return [p for p in leaves if not any(p == t or p.startswith(t + "/") for t in TMPFS)]


def read_only(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "Runs with a read-only root"
    ro = run.read_only
    written = written_paths(run)
    if ro is None:
        return _result("read-only", title, Verdict.UNKNOWN, "not tried", written=written)
    ok = ro.stayed_up if not run.job else ro.exit_code == 0
    if ok:
        return _result("read-only", title, Verdict.PASS, "works with --read-only + tmpfs /tmp")
    shown = _some(written) or "nothing in the first run's diff"
    return _result(
        "read-only",
        title,
        Verdict.WARN,
        f"fails read-only (exit code {ro.exit_code}); wrote {shown}",
        written=written,
        exit_code=ro.exit_code,
        log_tail=list(ro.log_tail),
    )


def exposed_ports(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "EXPOSEd ports are listened on"
    if not image.exposed_tcp:
        return _result("exposed-ports", title, Verdict.PASS, "no EXPOSE")
    if not run.connected:
        return _result("exposed-ports", title, Verdict.UNKNOWN, "not running: no connect")
    closed = [port for port, ok in run.connected if not ok]
    evidence = {"exposed": list(image.exposed_tcp), "closed": closed}
    if closed:
        ports = ", ".join(map(str, closed))
        return _result(
            "exposed-ports", title, Verdict.FAIL, f"nothing accepts on {ports}", **evidence
        )
    ports = ", ".join(map(str, image.exposed_tcp))
    return _result("exposed-ports", title, Verdict.PASS, f"accepts on {ports}", **evidence)


def other_ports(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "No undeclared listening port"
    if run.listening is None:
        return _result("other-ports", title, Verdict.UNKNOWN, _why_unknown(run, "/proc/net/tcp"))
    declared = set(image.exposed_tcp)
    extra = sorted(
        {port for address, port in run.listening if port not in declared and not loopback(address)}
    )
    listening = [f"{address}:{port}" for address, port in run.listening]
    if extra:
        ports = ", ".join(map(str, extra))
        return _result(
            "other-ports",
            title,
            Verdict.WARN,
            f"listens on {ports}, not in EXPOSE",
            undeclared=extra,
            listening=listening,
            source=run.proc_source,
        )
    return _result(
        "other-ports", title, Verdict.PASS, "none", listening=listening, source=run.proc_source
    )


def env(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "No secrets or environment-specific ENV defaults"
    found = env_defaults(image.env)
    if not found:
        return _result("env-defaults", title, Verdict.PASS, "none")
    items = [{"name": f.name, "kind": f.kind, "reason": f.reason} for f in found]
    secret = any(f.kind == "secret" for f in found)
    names = _some([f.name for f in found], 3)
    return _result(
        "env-defaults",
        title,
        Verdict.FAIL if secret else Verdict.WARN,
        f"set by the platform, not ENV: {names}",
        variables=items,
    )


def config_file(image: ImageFacts, run: RunFacts) -> CheckResult | None:
    if run.config_file is None:
        return None
    title = "Starts with a mounted config file"
    source, dest = run.config_file
    ok = ((run.exit_code == 0) if run.job else run.running_at_end) and not run.oom_killed
    verdict = Verdict.PASS if ok else Verdict.FAIL
    baked = run.baked_config
    if baked is None:
        replaced = "no baked file"
    elif baked[1]:
        replaced = "a directory in the image"
    else:
        replaced = f"baked file ({human_bytes(baked[0])}) replaced"
    started = ("exited 0" if run.job else "started") if ok else "did not start"
    message = f"{dest}: {replaced}, {started}" + (" with it" if ok else "")
    return _result(
        "config-file",
        title,
        verdict,
        message,
        source=source,
        destination=dest,
        replaced_baked_file=baked is not None and not baked[1],
        baked_size=baked[0] if baked is not None and not baked[1] else None,
        started=ok,
    )


def resources(image: ImageFacts, run: RunFacts) -> CheckResult:
    title = "Peak memory and CPU"
    evidence = {
        "peak_memory": run.peak_memory,
        "memory_limit": run.memory_limit,
        "peak_cpu_percent": None if run.peak_cpu_percent is None else round(run.peak_cpu_percent),
        "cpus": run.cpus,
    }
    limit = human_bytes(run.memory_limit)
    if run.oom_killed:  # also when it died before the first stats sample
        return _result("resources", title, Verdict.FAIL, f"killed at the {limit} limit", **evidence)
    if run.exit_code == 137:  # SIGKILL before `check` stopped it: only the kernel sends that
        return _result(
            "resources", title, Verdict.WARN,
            "killed by SIGKILL before it was stopped, with no OOM kill on record: "
            f"the kernel's OOM killer at the {limit} limit is the usual cause",
            **evidence,
        )  # fmt: skip
    if run.peak_memory is None:
        return _result("resources", title, Verdict.UNKNOWN, "no stats", **evidence)
    cpu = "" if run.peak_cpu_percent is None else f", CPU {run.peak_cpu_percent:.0f}% of a core"
    share = run.peak_memory / run.memory_limit * 100
    message = f"memory {human_bytes(run.peak_memory)} ({share:.0f}% of {limit}){cpu}"
    if run.peak_memory > MEMORY_HEADROOM * run.memory_limit:
        return _result("resources", title, Verdict.WARN, message + ": near the limit", **evidence)
    return _result("resources", title, Verdict.PASS, message, **evidence)


CHECKS: tuple[Check, ...] = (startup, first_log, health, stop_signal, pid1, logs_stdout,
                             log_files, user, read_only, exposed_ports, other_ports, env,
                             config_file, resources)  # fmt: skip
CHECK_IDS = ("startup", "first-log", "health", "stop-signal", "pid1", "logs-stdout", "log-files",
             "user", "read-only", "exposed-ports", "other-ports", "env-defaults", "config-file",
             "resources")  # fmt: skip


def judge(image: ImageFacts, run: RunFacts) -> tuple[CheckResult, ...]:
    results = (check(image, run) for check in CHECKS)
    return tuple(r for r in results if r is not None)


_LOG_PATTERNS = ("*.log", "/var/log/*")


def log_like(path: str) -> bool:
    """`*.log` anywhere, or anything under /var/log."""
    return any(fnmatch.fnmatchcase(path, p) for p in _LOG_PATTERNS)
