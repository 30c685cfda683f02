"""Test helpers for the real Docker Engine: start it, build fixture images cached by content hash.

The docker CLI is used here on purpose: it is the independent oracle the tests compare
trimdock's own engine access (the Docker SDK) against.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
CACHE = Path(os.environ.get("TRIMDOCK_TEST_CACHE", "/var/cache/trimdock/test"))

_engine_ready = False


def ensure_engine() -> None:
    """Install/start the engine and import the base images (idempotent, once per process)."""
    global _engine_ready
    if _engine_ready:
        return
    for script in ("engine-up.sh", "base-images.sh"):
        result = subprocess.run(
            ["bash", str(SCRIPTS / script)], capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise RuntimeError(f"{script} failed:\n{result.stdout}\n{result.stderr}")
    _engine_ready = True


def docker(*args: str, input_bytes: bytes | None = None) -> str:
    """Run the docker CLI and return stdout; raise with stderr on failure."""
    result = subprocess.run(["docker", *args], input=input_bytes, capture_output=True, check=False)
    if result.returncode != 0:
        message = result.stderr.decode(errors="replace")
        raise RuntimeError(f"docker {' '.join(args)} failed: {message}")
    return result.stdout.decode(errors="replace")


def tree_digest(directory: Path, extra: str = "") -> str:
    """A hash of every file's relative path, mode and bytes under `directory`."""
    digest = hashlib.sha256(extra.encode())
    for path in sorted(directory.rglob("*")):
        rel = path.relative_to(directory).as_posix()
        digest.update(rel.encode() + b"\0")
        if path.is_symlink():
            digest.update(b"L" + os.readlink(path).encode())
        elif path.is_file():
            digest.update(oct(path.stat().st_mode & 0o777).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image_exists(ref: str) -> bool:
    return (
        subprocess.run(
            ["docker", "image", "inspect", ref], capture_output=True, check=False
        ).returncode
        == 0
    )


def build_image(name: str, context: Path, dockerfile: Path | None = None) -> str:
    """Build `context` on the real engine unless an image of the same content hash exists."""
    ensure_engine()
    dockerfile = dockerfile or context / "Dockerfile"
    tag = f"trimdock-test/{name}:{tree_digest(context, dockerfile.read_text())}"
    if not image_exists(tag):
        env = {**os.environ, "DOCKER_BUILDKIT": "0"}
        result = subprocess.run(
            ["docker", "build", "-q", "-t", tag, "-f", str(dockerfile), str(context)],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"build of {name} failed:\n{result.stdout}\n{result.stderr}")
    return tag


def save_image(tag: str) -> Path:
    """`docker save` the image once into the cache and return the archive path.

    The cache file is named after the image id, not only the tag: a tag rebuilt on a cold engine
    (or on another machine) gets new layer digests, and an archive saved from the old image must
    never stand in for it.
    """
    CACHE.mkdir(parents=True, exist_ok=True)
    image_id = docker("image", "inspect", "--format", "{{.Id}}", tag).strip()
    safe = tag.replace("/", "_").replace(":", "_")
    path = CACHE / f"{safe}-{image_id.removeprefix('sha256:')[:16]}.tar"
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        docker("save", "-o", str(tmp), tag)
        tmp.rename(path)
    return path
