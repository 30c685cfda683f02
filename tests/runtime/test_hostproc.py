"""Reading a container's PID 1 from the host's /proc: trusted only when its cgroup names the
container; uids mapped back through uid_map. A fake /proc tree stands for the host's."""

from __future__ import annotations

from pathlib import Path

import pytest

from trimdock.runtime.hostproc import namespace_uid, open_host_proc

CONTAINER = "57eea72308f0792aad4ce6dd3fff968ea36c9a660e080597069ec2d6d98c9f9b"


def fake_proc(root: Path, pid: int, cgroup: str, children: dict[int, list[int]]) -> None:
    for process in {pid, *children, *(c for cs in children.values() for c in cs)}:
        task = root / str(process) / "task" / str(process)
        task.mkdir(parents=True)
        (task / "children").write_text(" ".join(map(str, children.get(process, []))) + " ")
        (root / str(process) / "stat").write_text(f"{process} (x) S 1\n")
    (root / str(pid) / "cgroup").write_text(cgroup)


@pytest.mark.parametrize(
    "cgroup",
    [
        f"0::/docker/{CONTAINER}\n",  # cgroup v2, cgroupfs driver
        f"0::/system.slice/docker-{CONTAINER}.scope\n",  # cgroup v2, systemd driver
        f"4:memory:/docker/{CONTAINER}\n1:cpu:/docker/{CONTAINER}\n",  # v1
    ],
)
def test_the_pid_of_the_container_is_trusted(tmp_path: Path, cgroup: str) -> None:
    fake_proc(tmp_path, 4242, cgroup, {4242: [4300, 4301], 4300: [4400]})
    host = open_host_proc(4242, CONTAINER, tmp_path)
    assert host is not None
    assert sorted(host.descendants()) == [4242, 4300, 4301, 4400]
    assert host.read("stat", 4400) == b"4400 (x) S 1\n"


@pytest.mark.parametrize(
    ("pid", "cgroup"),
    [
        (4242, "0::/user.slice/session-3.scope\n"),  # a remote engine's pid: some process here
        (4242, "0::/docker/0123456789ab\n"),  # a reused pid, another container
        (9999, None),  # no such process (or no access)
        (0, None),  # not running
    ],
)
def test_anything_else_falls_back(tmp_path: Path, pid: int, cgroup: str | None) -> None:
    if cgroup is not None:
        fake_proc(tmp_path, pid, cgroup, {})
    assert open_host_proc(pid, CONTAINER, tmp_path) is None


STATUS = "Name:\tapp\nUid:\t{0}\t{0}\t{0}\t{0}\nGid:\t0\t0\t0\t0\n"


@pytest.mark.parametrize(
    ("host_uid", "uid_map", "expected"),
    [
        (0, "         0          0 4294967295\n", 0),  # no user namespace
        (65534, "         0          0 4294967295\n", 65534),
        (100000, "0 100000 65536\n", 0),  # userns-remap: root inside
        (101000, "0 100000 65536\n", 1000),
        (5, "0 100000 65536\n", None),  # outside the map: cannot say
    ],
)
def test_uids_are_mapped_back_into_the_container(
    host_uid: int, uid_map: str, expected: int | None
) -> None:
    assert namespace_uid(STATUS.format(host_uid), uid_map) == expected
