"""Reading what the classifier needs from an image: the final filesystem's files (from the
applied overlay, no I/O), the package database's files, and digests of duplicate candidates.

File bodies are read only for those: dpkg's `status` and `info/*.list`, apt's
`extended_states`, and files that share their size with another unclassified file. Each
needed layer is streamed once per step, and only the bodies wanted are read (on seekable
uncompressed archives everything else is skipped by seeking). A layer that kept bodies and
digests from the source's own first pass (`trimdock.image.kept`: the engine's save stream)
serves them without being read again.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from trimdock.image.kept import KeptBodies, content_digest, database_file
from trimdock.image.model import EntryType, Image, Layer
from trimdock.layers.overlay import K_DIR, K_FILE, K_SYMLINK, Node, Overlay
from trimdock.layers.reclaim.apk import INSTALLED, WORLD, build_apk_db
from trimdock.layers.reclaim.classify import (
    FinalFile,
    Plan,
    ReclaimOptions,
    ReclaimReport,
    finish,
    plan_reclaim,
)
from trimdock.layers.reclaim.dpkg import EXTENDED_STATES, STATUS, DpkgDb, build_db

# A package database file bigger than this is not a real one (Debian's status is a few MB):
# it is ignored rather than read into memory.
MAX_DATABASE_FILE = 64 << 20


def read_text(reader: IO[bytes]) -> str | None:
    data = reader.read(MAX_DATABASE_FILE + 1)
    if len(data) > MAX_DATABASE_FILE:
        return None
    return data.decode("utf-8", "replace")


def final_files(overlay: Overlay) -> tuple[list[FinalFile], dict[str, int]]:
    """Visible regular files and symlinks (hard links carry no bytes of their own), and the
    package database's files among them, with the layer each comes from."""
    files: list[FinalFile] = []
    database: dict[str, int] = {}
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
                if kind == K_FILE and database_file(child_path):
                    database[child_path] = child.e_layer
    return files, database


def read_bodies(
    layers: Sequence[Layer],
    wanted: Mapping[str, int],
    consume: Callable[[str, IO[bytes]], None],
) -> None:
    """Stream each layer that holds a wanted path's visible entry and hand `consume` the body
    of that path.

    A layer is read only up to its last wanted entry: the engine writes each path once per
    layer, so once every wanted path has been seen the rest of the layer (often most of it)
    is skipped. A crafted layer naming a path twice gets its first copy read here (the
    overlay keeps the last): that can only change advice, never the exact figures."""
    by_layer: dict[int, set[str]] = defaultdict(set)
    for path, layer in wanted.items():
        by_layer[layer].add(path)
    for index in sorted(by_layer):
        paths = set(by_layer[index])
        content = layers[index].content
        if isinstance(content, KeptBodies):
            for path in sorted(paths):
                body = content.kept_body(path)
                if body is not None:
                    consume(path, io.BytesIO(body))
                    paths.discard(path)
            if not paths:
                continue
        with content.open() as entries:
            for entry, reader in entries:
                if reader is not None and entry.type is EntryType.FILE and entry.path in paths:
                    consume(entry.path, reader)
                    paths.discard(entry.path)
                    if not paths:
                        break


def package_db(img: Image, wanted: Mapping[str, int]) -> DpkgDb | None:
    """dpkg's (or apk's) database as the final filesystem holds it (`wanted`: its files and
    the layers they come from); None without one."""
    if STATUS not in wanted:
        return apk_db(img, wanted)
    texts: dict[str, str] = {}

    def keep(path: str, reader: IO[bytes]) -> None:
        text = read_text(reader)
        if text is not None:
            texts[path] = text

    read_bodies(img.layers, wanted, keep)
    status = texts.pop(STATUS, "")
    extended = texts.pop(EXTENDED_STATES, None)
    return build_db(status, extended, texts)


def apk_db(img: Image, wanted: Mapping[str, int]) -> DpkgDb | None:
    """apk's installed database and world file; None without an installed database."""
    if INSTALLED not in wanted:
        return None
    texts: dict[str, str] = {}

    def keep(path: str, reader: IO[bytes]) -> None:
        text = read_text(reader)
        if text is not None:
            texts[path] = text

    read_bodies(
        img.layers, {p: layer for p, layer in wanted.items() if p in (INSTALLED, WORLD)}, keep
    )
    return build_apk_db(texts.get(INSTALLED, ""), texts.get(WORLD))


def candidate_digests(img: Image, plan: Plan) -> dict[str, str]:
    """A content digest of every duplicate candidate (files sharing their size with another).

    XXH3-128, not a cryptographic hash: duplicates are advice ("likely"), nothing trusts the
    digest, and it runs at memory speed where sha256 would double the report's time on an
    image with a few large identical files."""
    candidates = plan.candidate_paths
    wanted = {file.path: file.layer for file in plan.files if file.path in candidates}
    digests: dict[str, str] = {}
    for path, layer in list(wanted.items()):
        content = img.layers[layer].content
        kept = content.kept_digest(path) if isinstance(content, KeptBodies) else None
        if kept is not None:
            digests[path] = kept
            del wanted[path]

    def digest(path: str, reader: IO[bytes]) -> None:
        digests[path] = content_digest(reader)

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
    files, database = final_files(overlay)
    db = package_db(img, database)
    base = options or ReclaimOptions()
    options = ReclaimOptions(
        purpose=base.purpose,
        runtime=base.runtime or runtime_of(img),
        workdir=base.workdir or img.config.working_dir,
        duplicate_min=base.duplicate_min,
    )
    plan = plan_reclaim(files, [layer.instruction for layer in img.layers], db, options)
    report = finish(plan, candidate_digests(img, plan))
    return ReclaimDetails(report, files, db)


def reclaim_image(
    img: Image, overlay: Overlay, options: ReclaimOptions | None = None
) -> ReclaimReport:
    """Classify the final filesystem of `img` (already applied to `overlay`)."""
    return reclaim_details(img, overlay, options).report
