"""`context --verify`: build the Dockerfile with the old and the new ignore file on the engine.

trimdock's own resolution predicts which files every COPY/ADD reads; checking that prediction
with the same code would be circular. Here the engine parses the Dockerfile and runs the
build, and the context sent to it is selected by the Docker SDK's own `.dockerignore` matcher
(what `docker-py` sends), not trimdock's. Both builds use the legacy builder (the one the
engine API offers without a BuildKit session, through `trimdock.engine.build`); the images
are read with trimdock's image reader and their final file lists compared
(context/filelist.py). The images built here are removed again; their layers stay in the
engine's build cache only as the engine decides.
"""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from trimdock.context.filelist import Difference, FileState, compare, file_list
from trimdock.engine.build import BuildFailed, ImageBuilder
from trimdock.engine.client import EngineClient
from trimdock.errors import ContextError

# The name a Dockerfile from outside the context travels under (as the docker CLI does).
OUTSIDE_DOCKERFILE = ".dockerfile.trimdock"


@dataclass(frozen=True)
class Verification:
    """The outcome of building with both ignore files."""

    builder: str  # always "legacy" (see the module docstring)
    differences: tuple[Difference, ...]
    # The build with the new ignore file failed: its last output lines and the engine's message.
    failed: str | None = None

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


def patterns_of(text: str | None) -> list[str]:
    """The ignore patterns as the Docker SDK reads a `.dockerignore` (trimmed, no comments)."""
    if text is None:
        return []
    stripped = (line.strip() for line in text.splitlines())
    return [line for line in stripped if line and not line.startswith("#")]


def verify(plan: BuildPlan, old_text: str | None, new_text: str) -> Verification:
    """Build with `old_text` (None: no ignore file) and `new_text`; compare the two images."""
    client = EngineClient.connect()
    builder = ImageBuilder(client)
    try:
        try:
            before = _built_files(builder, plan, old_text)
        except BuildFailed as exc:
            raise ContextError(
                f"cannot verify: the build with the current ignore file fails ({exc.line})",
                source=str(plan.dockerfile),
            ) from None
        try:
            after = _built_files(builder, plan, new_text)
        except BuildFailed as exc:
            return Verification("legacy", (), str(exc))
        return Verification("legacy", compare(before, after))
    finally:
        client.close()


def _built_files(
    builder: ImageBuilder, plan: BuildPlan, ignore_text: str | None
) -> dict[str, FileState]:
    tag = f"trimdock-verify/{secrets.token_hex(6)}:build"
    try:
        with tempfile.TemporaryFile() as archive:
            name = _context_archive(plan, ignore_text, archive)
            builder.from_archive(archive, name, tag, build_args=plan.build_args)
        return _image_files(tag)
    finally:
        builder.remove()  # the image is read: keep at most one on the engine at a time


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


def _image_files(tag: str) -> dict[str, FileState]:
    from trimdock.image.open import open_image

    with open_image(f"docker-daemon:{tag}", verify=False) as image:
        return file_list(layer.content.entries() for layer in image.layers)
