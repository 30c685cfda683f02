"""Independent computations the engine tests compare trimdock against.

Nothing here imports trimdock: layer sizes come from `docker save` tar members, ChainIDs are
recomputed from the docker CLI's inspect output, and freed storage is counted with `find`.
"""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

from tests.support.engine import docker

LAYERDB = Path("/var/lib/docker/image/overlay2/layerdb")


def chain_of(diff_ids: list[str]) -> list[str]:
    chain: list[str] = []
    for diff_id in diff_ids:
        chain.append(
            diff_id
            if not chain
            else "sha256:" + hashlib.sha256(f"{chain[-1]} {diff_id}".encode()).hexdigest()
        )
    return chain


def saved_layers(tag: str, workdir: Path) -> dict[str, int]:
    """DiffID (sha256 of the layer tar) -> file bytes in it, from a fresh `docker save`.

    The engine counts a layer as the apparent size of every non-directory entry, hard links once:
    in tar terms regular files plus the length of each symlink target (hard-link members are 0).
    """
    archive = workdir / (tag.replace("/", "_").replace(":", "_") + ".tar")
    docker("save", "-o", str(archive), tag)
    result: dict[str, int] = {}
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))  # type: ignore[arg-type]
        for layer_path in manifest[0]["Layers"]:
            member = outer.getmember(layer_path)
            if member.issym():  # a repeated layer points to an earlier copy
                continue
            raw = outer.extractfile(member)
            assert raw is not None
            data = raw.read()
            diff_id = "sha256:" + hashlib.sha256(data).hexdigest()
            size = 0
            with tarfile.open(fileobj=io.BytesIO(data)) as inner:
                for entry in inner:
                    if entry.isreg():
                        size += entry.size
                    elif entry.issym():
                        size += len(entry.linkname.encode())
            result[diff_id] = size
    return result


def all_images() -> list[dict[str, object]]:
    ids = docker("images", "-aq", "--no-trunc").split()
    found: list[dict[str, object]] = json.loads(docker("image", "inspect", *sorted(set(ids))))
    return found


def cache_dir(chain_id: str) -> Path:
    cache_id = (LAYERDB / "sha256" / chain_id.removeprefix("sha256:") / "cache-id").read_text()
    return Path("/var/lib/docker/overlay2") / cache_id.strip()


def apparent_bytes(path: Path) -> int:
    """`find` over the tree: non-directories, each inode once (as the engine counts)."""
    if not path.exists():
        return 0
    out = subprocess.run(
        ["find", str(path), "-xdev", "!", "-type", "d", "-printf", "%i %s\n"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    seen: dict[str, int] = {}
    for line in out.splitlines():
        inode, size = line.split()
        seen[inode] = int(size)
    return sum(seen.values())
