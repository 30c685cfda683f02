"""`fix --verify`'s engine I/O: building a Dockerfile text (through `trimdock.engine.build`,
the legacy builder), reading the final filesystem of what was built, and the context copies
the rebuild measure edits."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trimdock.engine.build import Build, ImageBuilder
from trimdock.errors import EngineError
from trimdock.host.engine import Engine
from trimdock.image.model import LayerEntry
from trimdock.image.open import open_image
from trimdock.layers.analysis import summarize
from trimdock.layers.overlay import K_DIR, Overlay

# dpkg's list of the files of each installed package: read to tell which lost paths belonged
# to a package the fixed image no longer installs.
DPKG_INFO = "var/lib/dpkg/info/"


@dataclass(frozen=True)
class Filesystem:
    """The final filesystem of an image: every visible path (absolute) with its size (-1 for
    a directory), the image's figures, and dpkg's file lists by package."""

    paths: dict[str, int]
    size: int
    layers: int
    wasted: int
    dpkg_lists: dict[str, tuple[str, ...]]
    layer_of: dict[str, int]  # the (0-based) layer each visible path comes from
    # The instruction that made each layer, from the image's history ("" when unknown).
    steps: tuple[str, ...] = ()


class Builder:
    """Builds on one engine connection (`trimdock.engine.build`) and reads what it built."""

    def __init__(self) -> None:
        self.engine = Engine.connect()
        self.images = ImageBuilder(self.engine.client)

    def build(self, context: Path, dockerfile_text: str, tag: str, *, nocache: bool) -> Build:
        """Build `dockerfile_text` with `context`; the Dockerfile is written outside the
        context (the SDK sends it under a private name), so the user's files are never
        touched. `BuildFailed` when the engine refuses it."""
        with tempfile.TemporaryDirectory(prefix="trimdock-fix-") as scratch:
            dockerfile = Path(scratch) / "Dockerfile"
            dockerfile.write_text(dockerfile_text, encoding="utf-8")
            return self.images.from_directory(context, dockerfile, tag, nocache=nocache)

    def filesystem(self, tag: str, *, dpkg: bool) -> Filesystem:
        """Every visible path of the image and its waste, from the image's own layers."""
        overlay = Overlay(source=tag)
        lists: dict[tuple[int, str], bytes] = {}
        with open_image(f"docker-daemon:{tag}") as image:
            for index, layer in enumerate(image.layers):
                with layer.content.open() as entries:
                    overlay.apply(_collect(entries, index, lists, dpkg))
            count = len(image.layers)
            steps = tuple(layer.instruction if layer.history else "" for layer in image.layers)
        analysis = summarize(overlay, top=0)
        paths: dict[str, int] = {}
        dpkg_lists: dict[str, tuple[str, ...]] = {}
        layer_of: dict[str, int] = {}
        for path, node in overlay.walk():
            paths[f"/{path}"] = -1 if node.e_kind == K_DIR else node.e_nbytes
            layer_of[f"/{path}"] = node.e_layer
            content = lists.get((node.e_layer, path))
            if content is not None:
                package = path[len(DPKG_INFO) : -len(".list")]
                names = content.decode("utf-8", "replace").splitlines()
                dpkg_lists[package] = tuple(n for n in names if n and n != "/.")
        return Filesystem(paths, analysis.size, count, analysis.wasted, dpkg_lists, layer_of, steps)

    def layer_count(self, reference: str) -> int:
        """Layers of a local image (0 when the engine does not have it)."""
        try:
            answer = self.engine.api.inspect_image(reference)
            return len(answer.get("RootFS", {}).get("Layers", []))
        except Exception:  # not there or not readable: nothing counts as the base's
            return 0

    def remove(self) -> None:
        """Remove the images this builder tagged (never any other)."""
        self.images.remove()


def _collect(
    entries: Iterator[tuple[LayerEntry, Any]],
    index: int,
    lists: dict[tuple[int, str], bytes],
    dpkg: bool,
) -> Iterator[LayerEntry]:
    for entry, handle in entries:
        path = entry.path
        if dpkg and handle is not None and path.startswith(DPKG_INFO) and path.endswith(".list"):
            lists[(index, path)] = handle.read(16 * 1024 * 1024)
        yield entry


@dataclass(frozen=True)
class Touched:
    """A copy of the build context with one file edited, for the rebuild measure."""

    directory: Path
    file: str


def _link_or_copy(source: str, destination: str) -> None:
    try:
        os.link(source, destination)  # a big context costs no copy
    except OSError:
        shutil.copy2(source, destination)


def _replace(path: Path, data: bytes) -> None:
    """A fresh file at `path` (a hard link is unlinked first: the user's file stays)."""
    if path.exists() or path.is_symlink():
        path.unlink()
    path.write_bytes(data)


def context_copy(
    context: Path, scratch: Path, ignore: tuple[str, str] | None = None, name: str = "context"
) -> Path:
    """A copy of the context (hard links where possible), with `ignore` = (path relative to the
    context, text) written as its ignore file."""
    target = scratch / name
    try:
        shutil.copytree(context, target, symlinks=True, copy_function=_link_or_copy)
        if ignore is not None:
            _replace(target / ignore[0], ignore[1].encode("utf-8"))
    except OSError as exc:
        raise EngineError(f"cannot copy the build context: {exc}", source=str(context)) from exc
    return target


def touched_copy(
    context: Path, relative: str, scratch: Path, ignore: tuple[str, str] | None = None
) -> Touched:
    """A copy of the context in which `relative` has one more line: the edit a developer
    makes. The edited file is a fresh copy, never a link, so the user's file is not touched."""
    target = context_copy(context, scratch, ignore, name=f"touched-{bool(ignore)}")
    try:
        edited = target / relative
        original = edited.read_bytes()
        _replace(edited, original + b"\n# edited by trimdock fix --verify\n")
    except OSError as exc:
        raise EngineError(f"cannot copy the build context: {exc}", source=str(context)) from exc
    return Touched(target, relative)
