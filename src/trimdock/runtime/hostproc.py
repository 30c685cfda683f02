"""The container's processes seen from the host's /proc, for images without `cat` or `sh`.

A distroless image has nothing to exec, but when the engine runs on this machine its PID 1 is
a process here (`State.Pid`): its cmdline, status and network namespace's sockets are readable
from /proc/<pid>/. The process is only trusted when its cgroup names the container, so a
remote engine (whose pid means nothing here) or a reused pid falls back to exec.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

PROC = Path("/proc")
# Bound the walk of the process tree (a fork bomb under pids_limit still ends here).
MAX_PROCESSES = 4096


@dataclass(frozen=True)
class HostProc:
    """PID 1 of one container, read from the host."""

    pid: int
    root: Path = PROC

    def read(self, name: str, pid: int | None = None) -> bytes | None:
        try:
            return (self.root / str(pid or self.pid) / name).read_bytes()
        except OSError:
            return None

    def descendants(self) -> list[int]:
        """PID 1 and every process under it (from task/*/children), PID 1 first."""
        found = [self.pid]
        index = 0
        while index < len(found) and len(found) < MAX_PROCESSES:
            tasks = self.root / str(found[index]) / "task"
            index += 1
            try:
                threads = list(tasks.iterdir())
            except OSError:
                continue  # ended meanwhile
            for thread in threads:
                try:
                    children = (thread / "children").read_text()
                except OSError:
                    continue
                found += [int(c) for c in children.split() if int(c) not in found]
        return found[:MAX_PROCESSES]


def open_host_proc(pid: int, container_id: str, root: Path = PROC) -> HostProc | None:
    """The container's PID 1 on this host, or None (remote engine, no access, not running)."""
    if pid <= 0 or not container_id:
        return None
    try:
        cgroup = (root / str(pid) / "cgroup").read_text()
    except OSError:
        return None
    if container_id not in cgroup:
        return None
    return HostProc(pid, root)


def namespace_uid(status: str, uid_map: str) -> int | None:
    """The effective uid in /proc/<pid>/status, mapped back into the container's user namespace
    through uid_map (`inside outside count` lines), so a remapped root still reads as 0."""
    host: int | None = None
    for line in status.splitlines():
        if line.startswith("Uid:"):
            fields = line.split()
            if len(fields) > 2 and fields[2].isdigit():
                host = int(fields[2])
    if host is None:
        return None
    for line in uid_map.splitlines():
        fields = line.split()
        if len(fields) == 3 and all(f.isdigit() for f in fields):
            inside, outside, count = map(int, fields)
            if outside <= host < outside + count:
                return inside + host - outside
    return host if not uid_map.strip() else None
