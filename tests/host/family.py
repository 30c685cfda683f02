"""A family of images on the real engine, under a unique repository prefix and label per run.

Layers share by construction: app:v1..v3 are built on one busybox base with one common layer
(the legacy builder's cache shares it), `other` is unrelated apart from the base, and rebuilding
`tmp:latest` leaves a dangling image. Every object carries the run's label, so prune tests scope
themselves to it and never touch other engineers' images.
"""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.engine import docker, ensure_engine

LABEL_KEY = "trimdock.test.run"


@dataclass
class Family:
    run: str
    prefix: str
    label: str
    tags: dict[str, str] = field(default_factory=dict)  # name -> repo:tag
    ids: dict[str, str] = field(default_factory=dict)  # name -> image id
    containers: dict[str, str] = field(default_factory=dict)  # role -> container id
    volumes: dict[str, str] = field(default_factory=dict)  # role -> volume name

    def repo(self, name: str) -> str:
        return f"{self.prefix}/{name}"


def _build(context: Path, dockerfile: str, tag: str) -> str:
    path = context / f"Dockerfile.{uuid.uuid4().hex[:6]}"
    path.write_text(dockerfile)
    env = {**os.environ, "DOCKER_BUILDKIT": "0"}
    result = subprocess.run(
        ["docker", "build", "-q", "-t", tag, "-f", str(path), str(context)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"build {tag} failed: {result.stderr}")
    return result.stdout.strip().splitlines()[-1]


def make_family(workdir: Path, *, containers: bool = True) -> Family:
    ensure_engine()
    run = uuid.uuid4().hex[:10]
    family = Family(run=run, prefix=f"tdhost-{run}", label=f"{LABEL_KEY}={run}")
    context = workdir / f"ctx-{run}"
    context.mkdir(parents=True)
    sizes = {"common": 800_000, "v1": 200_000, "v2": 400_000, "v3": 600_000}
    sizes |= {"other": 1_000_000, "tmpa": 150_000, "tmpb": 100_000}
    for name, size in sizes.items():
        (context / f"{name}.bin").write_bytes(os.urandom(size))
    head = f"FROM busybox:latest\nLABEL {family.label}\n"
    for version in ("v1", "v2", "v3"):
        tag = f"{family.repo('app')}:{version}"
        family.tags[version] = tag
        family.ids[version] = _build(
            context, head + f"COPY common.bin /common.bin\nCOPY {version}.bin /app.bin\n", tag
        )
    # A symlink and a hard link (copy-up of a lower file): sizes must count the inode once.
    family.tags["other"] = f"{family.repo('other')}:1"
    family.ids["other"] = _build(
        context,
        head + "COPY other.bin /other.bin\nRUN ln -s /other.bin /link && ln /other.bin /hard\n",
        family.tags["other"],
    )
    family.tags["tmp"] = f"{family.repo('tmp')}:latest"
    family.ids["dangling"] = _build(context, head + "COPY tmpa.bin /t.bin\n", family.tags["tmp"])
    family.ids["tmp"] = _build(context, head + "COPY tmpb.bin /t.bin\n", family.tags["tmp"])
    if containers:
        _make_containers(family)
    return family


def _make_containers(family: Family) -> None:
    label = ["--label", family.label]
    used = f"{family.prefix}-used"
    orphan = f"{family.prefix}-orphan"
    for name in (used, orphan):
        docker("volume", "create", *label, name)
    family.volumes = {"used": used, "orphan": orphan}
    docker(
        "run", "--rm", *label, "-v", f"{orphan}:/data", "busybox:latest",
        "dd", "if=/dev/urandom", "of=/data/blob", "bs=1000", "count=200",
    )  # fmt: skip
    family.containers["running"] = docker(
        "run", "-d", *label, "--name", f"{family.prefix}-running", family.tags["v3"],
        "sleep", "900",
    ).strip()  # fmt: skip
    script = (
        "dd if=/dev/urandom of=/scratch bs=1000 count=300 2>/dev/null; "
        "dd if=/dev/urandom of=/data/blob bs=1000 count=100 2>/dev/null; "
        "i=0; while [ $i -lt 2000 ]; do echo log line $i of the stopped container; "
        "i=$((i+1)); done; "
        "if [ -f /data/keep ]; then exec sleep 900; fi"
    )
    family.containers["stopped"] = docker(
        "run", "-d", *label, "--name", f"{family.prefix}-stopped", "-v", f"{used}:/data",
        family.tags["v2"], "sh", "-c", script,
    ).strip()  # fmt: skip
    docker("wait", family.containers["stopped"])


def cleanup(family: Family) -> None:
    """Remove only this run's objects (by label), best effort."""
    for cid in docker("ps", "-aq", "--filter", f"label={family.label}").split():
        subprocess.run(["docker", "rm", "-f", cid], capture_output=True, check=False)
    ids = docker("images", "-aq", "--no-trunc", "--filter", f"label={family.label}").split()
    tags = [
        tag
        for tag in docker("images", "--format", "{{.Repository}}:{{.Tag}}").split()
        if tag.startswith(family.prefix + "/")
    ]
    for ref in tags + ids:
        subprocess.run(["docker", "rmi", ref], capture_output=True, check=False)
    for name in docker("volume", "ls", "-q", "--filter", f"label={family.label}").split():
        subprocess.run(["docker", "volume", "rm", name], capture_output=True, check=False)


def inspect(kind: str, *refs: str) -> list[dict[str, object]]:
    result: list[dict[str, object]] = json.loads(docker(kind, "inspect", *refs))
    return result
