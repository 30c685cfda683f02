"""`context --verify`: build the Dockerfile with the old and the new ignore file on the engine.

trimdock's own resolution predicts which files every COPY/ADD reads; checking that prediction
with the same code would be circular. Here the engine parses the Dockerfile and runs the
build, and the context sent to it is selected by the Docker SDK's own `.dockerignore` matcher
(what `docker-py` sends), not trimdock's. Both builds use the legacy builder (the one the
engine API offers without a BuildKit session); the images are read with trimdock's image
reader and their final file lists compared (context/filelist.py). The images built here are
removed again; their layers stay in the engine's build cache only as the engine decides.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from trimdock.context.filelist import Difference, FileState, compare, file_list
from trimdock.errors import ContextError, EngineError

# A RUN step may print nothing for minutes; the SDK's default 60 s read timeout would abort it.
BUILD_TIMEOUT_SECONDS = 3600
# The name a Dockerfile from outside the context travels under (as the docker CLI does).
OUTSIDE_DOCKERFILE = ".dockerfile.trimdock"


@dataclass(frozen=True)
class Verification:
    """The outcome of building with both ignore files."""

    builder: str  # always "legacy" (see the module docstring)
    differences: tuple[Difference, ...]
    failed: str | None = None  # the build with the new ignore file failed: the engine's message

    @property
    def identical(self) -> bool:
        return self.failed is None and not self.differences

    def to_json(self) -> dict[str, object]:
        return {
            "builder": self.builder,
            "identical": self.identical,
            "failed": self.failed,
            "differences": [d.to_json() for d in self.differences],
        }


@dataclass(frozen=True)
class BuildPlan:
    context: Path
    dockerfile: Path
    ignore_target: Path  # where the ignore file lives (or would be written)
    build_args: Mapping[str, str]


class BuildFailed(Exception):
    """The engine refused the Dockerfile (its message); not an engine fault."""


def patterns_of(text: str | None) -> list[str]:
    """The ignore patterns as the Docker SDK reads a `.dockerignore` (trimmed, no comments)."""
    if text is None:
        return []
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def verify(plan: BuildPlan, old_text: str | None, new_text: str) -> Verification:
    """Build with `old_text` (None: no ignore file) and `new_text`; compare the two images."""
    source = str(plan.dockerfile)
    client = _client(source)
    try:
        try:
            before = _built_files(client, plan, old_text)
        except BuildFailed as exc:
            raise ContextError(
                f"cannot verify: the build with the current ignore file fails ({exc})",
                source=source,
            ) from None
        try:
            after = _built_files(client, plan, new_text)
        except BuildFailed as exc:
            return Verification("legacy", (), str(exc))
        return Verification("legacy", compare(before, after))
    finally:
        client.close()


def _client(source: str) -> Any:
    try:
        import docker

        client = docker.from_env(timeout=BUILD_TIMEOUT_SECONDS)
        client.ping()
        return client
    except Exception as exc:  # docker.errors.DockerException and connection errors
        first = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
        raise EngineError(
            f"--verify needs the Docker Engine ({first}); is it running?", source=source
        ) from exc


def _built_files(client: Any, plan: BuildPlan, ignore_text: str | None) -> dict[str, FileState]:
    tag = f"trimdock-verify/{secrets.token_hex(6)}:build"
    with tempfile.TemporaryFile() as archive:
        dockerfile_name = _context_archive(plan, ignore_text, archive)
        _build(client, plan, archive, dockerfile_name, tag)
    try:
        return _image_files(tag)
    finally:
        _remove(client, tag)


def _context_archive(plan: BuildPlan, ignore_text: str | None, archive: IO[bytes]) -> str:
    """Write the build context the SDK would send with `ignore_text`; the Dockerfile's name."""
    from docker.utils.build import create_archive, exclude_paths

    root = os.path.abspath(plan.context)
    inside = _inside(plan.dockerfile, plan.context)
    extra: list[tuple[str, str]] = []
    if inside is None:
        name = OUTSIDE_DOCKERFILE
        extra.append((name, _read(plan.dockerfile)))
    else:
        name = inside
    target = _inside(plan.ignore_target, plan.context)
    if target == ".dockerignore" and ignore_text is not None:
        extra.append((".dockerignore", ignore_text))  # the file the build would find there
    try:
        files = exclude_paths(root, patterns_of(ignore_text), dockerfile=name)
        create_archive(root=root, files=sorted(files), fileobj=archive, extra_files=extra)
    except OSError as exc:
        raise ContextError(f"cannot pack the build context: {exc}", source=root) from exc
    return name


def _inside(path: Path, context: Path) -> str | None:
    try:
        rel = os.path.relpath(path.resolve(), context.resolve())
    except ValueError:
        return None
    return None if rel.startswith("..") else rel.replace(os.sep, "/")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8", errors="surrogateescape")
    except OSError as exc:
        raise ContextError(f"cannot read: {exc.strerror}", source=str(path)) from exc


def _build(client: Any, plan: BuildPlan, archive: IO[bytes], dockerfile: str, tag: str) -> None:
    import docker.errors
    import requests

    archive.seek(0)
    try:
        stream = client.api.build(
            fileobj=archive,
            custom_context=True,
            dockerfile=dockerfile,
            tag=tag,
            rm=True,
            forcerm=True,
            decode=True,
            buildargs=dict(plan.build_args),
        )
        for event in stream:
            if isinstance(event, dict) and event.get("error"):
                raise BuildFailed(str(event["error"]).strip().splitlines()[-1][:300])
    except (docker.errors.DockerException, requests.RequestException) as exc:
        # An API error here is the engine refusing the request (bad Dockerfile name, ...).
        if isinstance(exc, docker.errors.APIError) and exc.is_client_error():
            raise BuildFailed(str(exc.explanation or exc)[:300]) from exc
        raise EngineError(
            f"the engine failed to build ({exc})", source=str(plan.dockerfile)
        ) from exc


def _image_files(tag: str) -> dict[str, FileState]:
    from trimdock.image.open import open_image

    with open_image(f"docker-daemon:{tag}", verify=False) as image:
        return file_list(layer.content.entries() for layer in image.layers)


def _remove(client: Any, tag: str) -> None:
    """Remove the tag this run created (the image too, unless another tag still names it)."""
    import docker.errors
    import requests

    # Best effort: a leftover trimdock-verify/ tag is harmless and easy to spot.
    with contextlib.suppress(docker.errors.DockerException, requests.RequestException):
        client.images.remove(tag)
