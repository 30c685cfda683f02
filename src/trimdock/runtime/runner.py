"""`trimdock check`'s engine side: run the image with limits, observe it, always clean up.

Everything created carries the label `trimdock.check=<run id>`; the cleanup removes by that
label (containers with their anonymous volumes, then the network), so a Ctrl-C that lands
between a create call and its answer leaks nothing either.
"""

from __future__ import annotations

import base64
import contextlib
import json
import secrets
import socket
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import docker.errors

from trimdock.errors import EngineError, UsageError
from trimdock.runtime.engine_access import Engine, parse_time
from trimdock.runtime.hostproc import HostProc, namespace_uid, open_host_proc
from trimdock.runtime.model import ImageFacts, LogFile, ReadOnlyFacts, RunFacts, StopFacts
from trimdock.runtime.procfs import argv, listening_tcp, zombie_count
from trimdock.runtime.verdicts import log_like

LABEL = "trimdock.check"
POLL_SECONDS = 0.25
CONNECT_SECONDS = 1.0
# The reaping probe: an orphan that ends after a second must be gone soon after.
ORPHAN_SECONDS = 1
# How long an exit by SIGKILL may wait for the engine's OOM flag (see `_settled`).
OOM_FLAG_WAIT = 3.0
LOG_TAIL_LINES = 5
MAX_LOG_FILES = 50


@dataclass(frozen=True)
class CheckRequest:
    image: str
    args: tuple[str, ...] = ()
    job: bool = False
    memory: int = 512 * 1000 * 1000  # decimal, as every size trimdock prints
    cpus: float = 1.0
    window: float = 10.0
    grace: float = 10.0
    health_timeout: float = 60.0
    config_file: tuple[str, str] | None = None  # (absolute host path, container path)
    read_only_run: bool = True


@dataclass
class _Samples:
    """What the observation loop gathers while the container runs."""

    peak_memory: int | None = None
    peak_cpu: float | None = None
    last_cpu: tuple[float, int] | None = None  # (monotonic time, total cpu ns)
    healthy_after: float | None = None
    health_status: str | None = None
    health_output: str = ""
    mid_sizes: dict[str, int] | None = None  # log file sizes halfway through the window


def image_facts(engine: Engine, request: CheckRequest) -> ImageFacts:
    try:
        with engine.errors("inspect image"):
            detail = engine.api.inspect_image(request.image)
    except EngineError as exc:
        if isinstance(exc.__cause__, docker.errors.NotFound):
            raise UsageError("no such image on the engine", source=request.image) from None
        raise
    config = detail.get("Config") or {}
    exposed = []
    for key in config.get("ExposedPorts") or {}:
        port, _, proto = str(key).partition("/")
        if proto in ("", "tcp") and port.isdigit():
            exposed.append(int(port))
    env = []
    for item in config.get("Env") or []:
        name, _, value = str(item).partition("=")
        env.append((name, value))
    command = request.args or tuple([*(config.get("Entrypoint") or []), *(config.get("Cmd") or [])])
    healthcheck = config.get("Healthcheck") or {}
    return ImageFacts(
        ref=request.image,
        user=str(config.get("User") or ""),
        exposed_tcp=tuple(sorted(set(exposed))),
        env=tuple(env),
        healthcheck=bool(healthcheck.get("Test")) and healthcheck.get("Test") != ["NONE"],
        stop_signal=str(config.get("StopSignal") or "SIGTERM"),
        command=tuple(str(c) for c in command),
    )


class Run:
    """One check run: the network and containers it made, and the probes against them."""

    def __init__(self, engine: Engine, request: CheckRequest) -> None:
        self.engine = engine
        self.api: Any = engine.api
        self.request = request
        self.run_id = secrets.token_hex(6)
        self.labels = {LABEL: self.run_id}
        self.network = f"trimdock-check-{self.run_id}"

    # -- lifecycle ---------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Remove every container (with its anonymous volumes) and the network of this run."""
        selector = {"label": f"{LABEL}={self.run_id}"}
        problems: list[str] = []
        try:
            for container in self.api.containers(all=True, filters=selector):
                with contextlib.suppress(docker.errors.NotFound):
                    self.api.remove_container(container["Id"], v=True, force=True)
            for network in self.api.networks(filters=selector):
                with contextlib.suppress(docker.errors.NotFound):
                    self.api.remove_network(network["Id"])
        except (docker.errors.DockerException, OSError) as exc:
            problems.append(str(exc))
        for problem in problems:
            sys.stderr.write(
                f"trimdock: warning: cleanup of run {self.run_id} incomplete: {problem}\n"
            )

    def create(self, *, read_only: bool) -> str:
        request = self.request
        binds = {}
        if request.config_file is not None:
            source, dest = request.config_file
            binds[source] = {"bind": dest, "mode": "ro"}
        host_config = self.api.create_host_config(
            mem_limit=request.memory,
            memswap_limit=request.memory,  # no swap: the limit is the limit
            nano_cpus=int(request.cpus * 1e9),
            network_mode=self.network,
            binds=binds or None,
            read_only=read_only,
            tmpfs={"/tmp": ""} if read_only else None,
            pids_limit=1024,
        )
        with self.engine.errors("create container"):
            created = self.api.create_container(
                request.image,
                command=list(request.args) or None,
                host_config=host_config,
                labels=self.labels,
                name=f"{self.network}{'-ro' if read_only else ''}",
            )
        container_id: str = created["Id"]
        with self.engine.errors("start container"):
            self.api.start(container_id)
        return container_id

    def inspect(self, container_id: str) -> dict[str, Any]:
        with self.engine.errors("inspect container"):
            detail: dict[str, Any] = self.api.inspect_container(container_id)
        return detail

    # -- probes ------------------------------------------------------------------------------

    def exec(self, container_id: str, command: list[str]) -> bytes | None:
        """stdout of `command` in the container; None when it cannot run there (no such binary)."""
        try:
            created = self.api.exec_create(container_id, command, stdout=True, stderr=False)
            output = self.api.exec_start(created["Id"])
            code = self.api.exec_inspect(created["Id"]).get("ExitCode")
        except docker.errors.APIError:
            return None
        if code in (126, 127):  # not found / not executable: the runtime's codes
            return None
        return output if isinstance(output, bytes) else None

    def _sample(self, container_id: str, samples: _Samples) -> None:
        try:
            stats = self.api.stats(container_id, stream=False, one_shot=True)
        except (docker.errors.DockerException, OSError, ValueError):
            return
        memory = stats.get("memory_stats") or {}
        used = max(int(memory.get("usage") or 0), int(memory.get("max_usage") or 0))
        if used:
            samples.peak_memory = max(samples.peak_memory or 0, used)
        total = int(((stats.get("cpu_stats") or {}).get("cpu_usage") or {}).get("total_usage") or 0)
        now = time.monotonic()
        if total and samples.last_cpu is not None:
            then, before = samples.last_cpu
            if now > then and total >= before:
                percent = (total - before) / ((now - then) * 1e9) * 100
                samples.peak_cpu = max(samples.peak_cpu or 0.0, percent)
        if total:
            samples.last_cpu = (now, total)

    def _path_size(self, container_id: str, path: str) -> tuple[int, bool] | None:
        """(size, is a directory) of a path in the container, from the archive stat header."""
        try:
            response = self.api.head(
                self.api._url("/containers/{0}/archive", container_id), params={"path": path}
            )
        except (docker.errors.DockerException, OSError):
            return None
        header = response.headers.get("X-Docker-Container-Path-Stat")
        if response.status_code != 200 or not header:
            return None
        try:
            stat = json.loads(base64.b64decode(header))
        except ValueError:
            return None
        return int(stat.get("size") or 0), bool(int(stat.get("mode") or 0) & (1 << 31))

    def _changes(self, container_id: str) -> list[tuple[str, str]]:
        kinds = {0: "C", 1: "A", 2: "D"}
        try:
            changes = self.api.diff(container_id) or []
        except docker.errors.APIError:
            return []
        return [(str(c.get("Path")), kinds.get(c.get("Kind"), "C")) for c in changes]

    def _log_sizes(self, container_id: str) -> dict[str, int]:
        sizes: dict[str, int] = {}
        candidates = [p for p, kind in self._changes(container_id) if kind != "D" and log_like(p)]
        for path in candidates[: MAX_LOG_FILES * 4]:
            found = self._path_size(container_id, path)
            if found is not None and not found[1]:
                sizes[path] = found[0]
            if len(sizes) >= MAX_LOG_FILES:
                break
        return sizes

    # -- the observation ---------------------------------------------------------------------

    def _watch(
        self, container_id: str, until: float, samples: _Samples, started: float
    ) -> dict[str, Any]:
        """Poll state, health and stats until `until` (or the exit); returns the last inspect."""
        halfway = started + (until - started) / 2
        detail = self.inspect(container_id)
        while True:
            state = detail.get("State") or {}
            health = state.get("Health")
            if health:
                samples.health_status = str(health.get("Status"))
                log = health.get("Log") or []
                if log:
                    samples.health_output = str(log[-1].get("Output") or "")
                if samples.health_status == "healthy" and samples.healthy_after is None:
                    samples.healthy_after = time.monotonic() - started
            if not state.get("Running"):
                return detail
            self._sample(container_id, samples)
            now = time.monotonic()
            if samples.mid_sizes is None and now >= halfway:
                samples.mid_sizes = self._log_sizes(container_id)
            if now >= until:
                return detail
            time.sleep(POLL_SECONDS)
            detail = self.inspect(container_id)

    def _logs(
        self, container_id: str, started_at: datetime | None
    ) -> tuple[int, int, float | None, tuple[str, ...]]:
        with self.engine.errors("container logs"):
            out = self.api.logs(container_id, stdout=True, stderr=False, timestamps=True)
            err = self.api.logs(container_id, stdout=False, stderr=True, timestamps=True)
        lines = {
            name: [line for line in data.decode("utf-8", "replace").splitlines() if line]
            for name, data in (("out", out), ("err", err))
        }
        first: float | None = None
        stamped: list[tuple[str, str]] = []
        for line in lines["out"] + lines["err"]:
            stamp, _, text = line.partition(" ")
            stamped.append((stamp, text))
            try:
                when = parse_time(stamp)
            except (ValueError, TypeError):
                continue
            if when is not None and started_at is not None:
                delay = max(0.0, (when - started_at).total_seconds())
                first = delay if first is None else min(first, delay)
        tail = tuple(text for _, text in sorted(stamped)[-LOG_TAIL_LINES:])
        return len(lines["out"]), len(lines["err"]), first, tail

    def _connect(self, detail: dict[str, Any], ports: tuple[int, ...]) -> list[tuple[int, bool]]:
        networks = (detail.get("NetworkSettings") or {}).get("Networks") or {}
        address = (networks.get(self.network) or {}).get("IPAddress")
        if not address:
            return []
        result = []
        for port in ports:
            try:
                with socket.create_connection((address, port), timeout=CONNECT_SECONDS):
                    result.append((port, True))
            except OSError:
                result.append((port, False))
        return result

    def _from_exec(
        self, container_id: str
    ) -> tuple[tuple[str, ...] | None, int | None, tuple[tuple[str, int], ...] | None]:
        """PID 1's argv, uid and the listening sockets, read with `cat` in the container."""
        cmdline = self.exec(container_id, ["cat", "/proc/1/cmdline"])
        pid1 = argv(cmdline) if cmdline is not None else None
        uid = self._uid(container_id)
        tcp = self.exec(container_id, ["sh", "-c", "cat /proc/net/tcp /proc/net/tcp6"])
        if tcp is None:
            tcp = self.exec(container_id, ["cat", "/proc/net/tcp"])
        listening = listening_tcp(tcp.decode("utf-8", "replace")) if tcp is not None else None
        return pid1, uid, listening

    def _uid(self, container_id: str) -> int | None:
        status = self.exec(container_id, ["cat", "/proc/1/status"])
        for line in (status or b"").decode("utf-8", "replace").splitlines():
            if line.startswith("Uid:"):
                fields = line.split()
                if len(fields) > 2 and fields[2].isdigit():
                    return int(fields[2])  # effective uid
        return None

    def _zombies(self, container_id: str, host: HostProc | None) -> int | None:
        probe = self.exec(container_id, ["sh", "-c", f"sleep {ORPHAN_SECONDS} & exit 0"])
        if probe is None:
            return None
        time.sleep(ORPHAN_SECONDS + 1.0)
        if host is not None:
            found = [host.read("stat", pid) for pid in host.descendants()]
            text = b"\n".join(s for s in found if s is not None).decode("utf-8", "replace")
            return zombie_count(text)
        stats = self.exec(container_id, ["sh", "-c", "cat /proc/[0-9]*/stat 2>/dev/null"])
        return None if stats is None else zombie_count(stats.decode("utf-8", "replace"))

    def _baked(self, path: str) -> tuple[int, bool] | None:
        """(size, is a directory) of `path` in the image itself: a created, never started,
        container without the config mount, so what the mount would replace."""
        with self.engine.errors("create container"):
            created = self.api.create_container(
                self.request.image, command=["true"], labels=self.labels, entrypoint=[]
            )
        try:
            return self._path_size(created["Id"], path)
        finally:
            with self.engine.errors("remove container"):
                self.api.remove_container(created["Id"], v=True, force=True)

    def _settled(self, container_id: str, state: dict[str, Any]) -> dict[str, Any]:
        """The exit state once the engine has handled the kernel's OOM event.

        The engine records the exit and the OOM kill from two separate events; a loaded
        machine can show the exit (137, SIGKILL) before `OOMKilled` turns true. Nothing but
        the kernel sends SIGKILL to a container `check` has not stopped yet, so wait briefly
        for the flag before reading the verdict from it.
        """
        deadline = time.monotonic() + OOM_FLAG_WAIT
        while int(state.get("ExitCode") or 0) == 137 and not state.get("OOMKilled"):
            if time.monotonic() >= deadline:
                break
            time.sleep(0.1)
            state = self.inspect(container_id).get("State") or {}
        return state

    def _read_only(self) -> ReadOnlyFacts:
        request = self.request
        container_id = self.create(read_only=True)
        started = time.monotonic()
        until = started + (request.health_timeout if request.job else request.window)
        detail = self._watch(container_id, until, _Samples(), started)
        state = detail.get("State") or {}
        _, _, _, tail = self._logs(container_id, None)
        running = bool(state.get("Running"))
        with self.engine.errors("remove container"):
            self.api.remove_container(container_id, v=True, force=True)
        return ReadOnlyFacts(
            stayed_up=running,
            exit_code=None if running else int(state.get("ExitCode") or 0),
            log_tail=tail,
        )

    def observe(self, image: ImageFacts, progress: Callable[[str], None]) -> RunFacts:
        request = self.request
        with self.engine.errors("create network"):
            self.api.create_network(self.network, driver="bridge", labels=self.labels)
        baked = self._baked(request.config_file[1]) if request.config_file is not None else None
        progress(f"running {request.image} for {request.window:g} s")
        container_id = self.create(read_only=False)
        started = time.monotonic()
        samples = _Samples()
        until = started + (request.health_timeout if request.job else request.window)
        detail = self._watch(container_id, until, samples, started)
        if image.healthcheck and samples.health_status == "starting":
            deadline = started + max(request.window, request.health_timeout)
            detail = self._watch(container_id, deadline, samples, started)
        state = detail.get("State") or {}
        running = bool(state.get("Running"))
        window = time.monotonic() - started
        if not running:
            state = self._settled(container_id, state)
        pid1 = uid = zombies = listening = None
        proc_source = None
        connected: list[tuple[int, bool]] = []
        if running:
            progress("probing PID 1, ports and the file system")
            host = open_host_proc(int(state.get("Pid") or 0), container_id)
            if host is not None:
                pid1, uid, listening = _from_host(host)
                proc_source = "host /proc"
            if pid1 is None or listening is None:  # no local engine: look from the inside
                inside = self._from_exec(container_id)
                if inside[0] is not None or inside[2] is not None:
                    pid1, uid, listening = inside
                    proc_source = "exec"
            connected = self._connect(detail, image.exposed_tcp)
            zombies = self._zombies(container_id, host)
        end_sizes = self._log_sizes(container_id)
        log_files = tuple(
            LogFile(path, size, size - (samples.mid_sizes or {}).get(path, 0))
            for path, size in sorted(end_sizes.items())
        )
        stop = None
        if running and not request.job:
            progress(f"stopping with a {request.grace:g} s grace period")
            began = time.monotonic()
            with self.engine.errors("stop container"):
                self.api.stop(container_id, timeout=int(request.grace))
            seconds = time.monotonic() - began
            after = self.inspect(container_id).get("State") or {}
            stop = StopFacts(
                seconds=seconds,
                exit_code=int(after.get("ExitCode") or 0),
                grace=request.grace,
                oom_killed=bool(after.get("OOMKilled")),
            )
        try:
            started_at = parse_time(state.get("StartedAt"))
        except (ValueError, TypeError):
            started_at = None
        out_lines, err_lines, first_log, tail = self._logs(container_id, started_at)
        changes = tuple(self._changes(container_id))
        read_only = None
        if request.read_only_run:
            progress("running again with --read-only")
            read_only = self._read_only()
        return RunFacts(
            job=request.job,
            window=window,
            running_at_end=running,
            exit_code=None if running else int(state.get("ExitCode") or 0),
            oom_killed=bool(state.get("OOMKilled")),
            first_log_after=first_log,
            stdout_lines=out_lines,
            stderr_lines=err_lines,
            log_tail=tail,
            health_status=samples.health_status if image.healthcheck else None,
            healthy_after=samples.healthy_after,
            health_output=samples.health_output,
            pid1=pid1,
            zombies=zombies,
            uid=uid,
            listening=listening,
            connected=tuple(connected),
            changes=changes,
            log_files=log_files,
            stop=stop,
            peak_memory=samples.peak_memory,
            memory_limit=request.memory,
            peak_cpu_percent=samples.peak_cpu,
            cpus=request.cpus,
            read_only=read_only,
            config_file=request.config_file,
            proc_source=proc_source,
            baked_config=baked,
        )


def _from_host(
    host: HostProc,
) -> tuple[tuple[str, ...] | None, int | None, tuple[tuple[str, int], ...] | None]:
    """PID 1's argv, uid and the listening sockets of its network namespace, from the host."""
    cmdline = host.read("cmdline")
    status = host.read("status")
    uid_map = host.read("uid_map")
    uid = None
    if status is not None and uid_map is not None:
        uid = namespace_uid(status.decode("utf-8", "replace"), uid_map.decode("utf-8", "replace"))
    tables = [host.read("net/tcp"), host.read("net/tcp6")]
    listening = None
    if tables[0] is not None:
        text = b"".join(t for t in tables if t is not None).decode("utf-8", "replace")
        listening = listening_tcp(text)
    return (argv(cmdline) if cmdline else None), uid, listening


def check_image(
    request: CheckRequest, progress: Callable[[str], None] = lambda _: None
) -> tuple[ImageFacts, RunFacts]:
    """Run the check; whatever ends it (an error, Ctrl-C, SIGTERM), what it made is removed."""
    engine = Engine.connect()
    image = image_facts(engine, request)
    run = Run(engine, request)
    try:
        return image, run.observe(image, progress)
    finally:
        run.cleanup()
