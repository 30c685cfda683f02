"""Reading what the classifier needs from an image: the final filesystem's files (from the
applied overlay, no I/O), the package database's files, and digests of duplicate candidates.

File bodies are read only for those: dpkg's `status` and `info/*.list`, apt's
`extended_states`, and files that share their size with another unclassified file. Each
needed layer is streamed once per step, and only the bodies wanted are read (on seekable
uncompressed archives everything else is skipped by seeking).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

import xxhash

from trimdock.image.model import EntryType, Image, Layer
from trimdock.layers.overlay import K_DIR, K_FILE, K_SYMLINK, Node, Overlay
from trimdock.layers.reclaim.classify import (
    FinalFile,
    Plan,
    ReclaimOptions,
    ReclaimReport,
    finish,
    plan_reclaim,
)
from trimdock.layers.reclaim.dpkg import EXTENDED_STATES, INFO_DIR, STATUS, DpkgDb, build_db

_CHUNK = 1 << 20


def final_files(overlay: Overlay) -> tuple[list[FinalFile], dict[str, int]]:
    """Visible regular files and symlinks (hard links carry no bytes of their own), and the
    layer whose entry is visible at each path."""
    files: list[FinalFile] = []
    stack: list[tuple[str, Node]] = [("", overlay.root)]
    while stack:
        path, node = stack.pop()
        kids = node.kids
        if not kids:
            continue
        for name, child in kids.items():
            if child.e_layer < 0:
                continue
            child_path = f"{path}/{name}" if path else name
            kind = child.e_kind
            if kind == K_DIR:
                stack.append((child_path, child))
            elif kind in (K_FILE, K_SYMLINK):
                files.append(FinalFile(child_path, child.e_nbytes, child.e_layer))
    layers = {file.path: file.layer for file in files}
    return files, layers


def read_bodies(
    layers: Sequence[Layer],
    wanted: Mapping[str, int],
    consume: Callable[[str, IO[bytes]], None],
) -> None:
    """Stream each layer that holds a wanted path's visible entry and hand `consume` the body
    of that path (several entries at one path in a layer: the last one wins, as in the
    overlay, because each is consumed in order)."""
    by_layer: dict[int, set[str]] = defaultdict(set)
    for path, layer in wanted.items():
        by_layer[layer].add(path)
    for index in sorted(by_layer):
        paths = by_layer[index]
        with layers[index].content.open() as entries:
            for entry, reader in entries:
                if reader is not None and entry.type is EntryType.FILE and entry.path in paths:
                    consume(entry.path, reader)


def package_db(img: Image, visible: Mapping[str, int]) -> DpkgDb | None:
    """dpkg's database as the final filesystem holds it; None without a status file."""
    if STATUS not in visible:
        return None
    wanted = {
        path: layer
        for path, layer in visible.items()
        if path in (STATUS, EXTENDED_STATES)
        or (
            path.startswith(INFO_DIR)
            and path.endswith(".list")
            and "/" not in path[len(INFO_DIR) :]
        )
    }
    texts: dict[str, str] = {}

    def keep(path: str, reader: IO[bytes]) -> None:
        texts[path] = reader.read().decode("utf-8", "replace")

    read_bodies(img.layers, wanted, keep)
    status = texts.pop(STATUS, "")
    extended = texts.pop(EXTENDED_STATES, None)
    return build_db(status, extended, texts)


def candidate_digests(img: Image, plan: Plan, visible: Mapping[str, int]) -> dict[str, str]:
    """A content digest of every duplicate candidate (files sharing their size with another).

    XXH3-128, not a cryptographic hash: duplicates are advice ("likely"), nothing trusts the
    digest, and it runs at memory speed where sha256 would double the report's time on an
    image with a few large identical files."""
    wanted = {path: visible[path] for path in plan.candidate_paths}
    digests: dict[str, str] = {}

    def digest(path: str, reader: IO[bytes]) -> None:
        hasher = xxhash.xxh3_128()
        while chunk := reader.read(_CHUNK):
            hasher.update(chunk)
        digests[path] = hasher.hexdigest()

    if wanted:
        read_bodies(img.layers, wanted, digest)
    return digests


def runtime_of(img: Image) -> tuple[str, ...]:
    config = img.config
    return (*(config.entrypoint or ()), *(config.cmd or ()))


@dataclass(frozen=True)
class ReclaimDetails:
    """The report and what it was computed from (the diff compares these)."""

    report: ReclaimReport
    files: list[FinalFile]
    db: DpkgDb | None


def reclaim_details(
    img: Image, overlay: Overlay, options: ReclaimOptions | None = None
) -> ReclaimDetails:
    """Classify the final filesystem of `img` (already applied to `overlay`)."""
    files, visible = final_files(overlay)
    db = package_db(img, visible)
    base = options or ReclaimOptions()
    options = ReclaimOptions(
        purpose=base.purpose,
        runtime=base.runtime or runtime_of(img),
        duplicate_min=base.duplicate_min,
    )
    plan = plan_reclaim(files, [layer.instruction for layer in img.layers], db, options)
    report = finish(plan, candidate_digests(img, plan, visible))
    return ReclaimDetails(report, files, db)


def reclaim_image(
    img: Image, overlay: Overlay, options: ReclaimOptions | None = None
) -> ReclaimReport:
    """Classify the final filesystem of `img` (already applied to `overlay`)."""
    return reclaim_details(img, overlay, options).report
