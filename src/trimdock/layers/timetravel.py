"""The filesystem as it was after layer N: listing it, exporting it, recovering one path.

Nothing needs the engine. A header-only pass decides which entry of which layer is visible at
every path; a second pass streams only the layers that carry visible bytes and writes each
visible file once.

Writing is confined to the target: every path comes from the applied model (no `..`, no
absolute path, no path below a non-directory), directories are created first by us, files are
opened with O_EXCL|O_NOFOLLOW, symlinks are created last (so nothing is ever written through
one) and hard links point only at files this export wrote. Everything is written into a
temporary sibling of the target and renamed into place at the end, or removed on error.
Ownership is not restored and set-user/group-ID bits are dropped.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from trimdock.errors import ImageSourceError, UnsafePathError, UsageError
from trimdock.image.model import EntryType, Layer, LayerEntry
from trimdock.layers.overlay import (
    K_DIR,
    K_FILE,
    K_HARDLINK,
    K_SYMLINK,
    KIND_NAMES,
    Node,
    Overlay,
    unsafe_path,
)

_CHUNK = 1 << 20
_KEEP_MODE = 0o1777  # permission bits and sticky; never set-user/group-ID
# File times are set in nanoseconds through a signed 64-bit value (utimensat's range as Python
# passes it: years 1677 to 2262); a header time outside it (a PAX or base-256 mtime can be any
# size) is clamped to the nearest end instead of failing the export.
MTIME_MIN = -(2**63) // 10**9
MTIME_MAX = (2**63 - 1) // 10**9


@dataclass(frozen=True, slots=True)
class FsEntry:
    """One visible path of the filesystem at some layer."""

    path: str
    type: str
    bytes: int
    layer: int  # the layer whose entry is visible here
    mode: int
    link: str = ""  # symlink target, or the path holding a hard link's bytes


@dataclass(frozen=True, slots=True)
class ExportSummary:
    target: str
    layer: int
    directories: int
    files: int
    symlinks: int
    hardlinks: int
    bytes: int
    skipped_special: int  # devices and fifos, which need privileges to create


def check_layer_index(index: int, count: int, *, source: str | None = None) -> int:
    """A 0-based layer index; negative counts from the top (-1 is the last layer)."""
    resolved = index + count if index < 0 else index
    if not 0 <= resolved < count:
        raise UsageError(
            f"layer {index} does not exist (the image has {count} layers: 0..{count - 1})",
            source=source,
        )
    return resolved


def overlay_at(layers: Sequence[Layer], index: int, *, source: str | None = None) -> Overlay:
    """Apply layers 0..index (header-only) and return the resulting filesystem."""
    overlay = Overlay(source=source)
    for layer in layers[: index + 1]:
        overlay.apply(layer.content.entries())
    return overlay


def filesystem_at(overlay: Overlay, start: str = "") -> Iterator[FsEntry]:
    """Every visible entry (sorted, parents first), as plain values."""
    for path, node in overlay.walk(start):
        link = ""
        if node.e_kind == K_HARDLINK:
            source = node.inode_source
            link = source[1] if source else ""
        yield FsEntry(
            path=path,
            type=KIND_NAMES.get(node.e_kind, "file"),
            bytes=node.e_nbytes if node.e_kind != K_HARDLINK else 0,
            layer=node.e_layer,
            mode=node.e_mode,
            link=link,
        )


def last_visible_layer(layers: Sequence[Layer], path: str, *, source: str | None = None) -> int:
    """The last layer after which `path` was visible (for recovering deleted files)."""
    overlay = Overlay(source=source)
    found = -1
    for layer in layers:
        overlay.apply(layer.content.entries())
        if overlay.visible(path) is not None:
            found = len(overlay.layers) - 1
    if found < 0:
        raise UsageError(f"no layer of the image has {'/' + path!r}", source=source)
    return found


def normalise_request(path: str, *, source: str = "--extract") -> str:
    """An image path given by the user, as the model spells it (relative, no trailing /)."""
    parts = [part for part in path.strip().split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafePathError(f"path {path!r} must not contain '..'", source=source)
    return "/".join(parts)


# -- writing ----------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What to write, from the header-only pass.

    Keys are (layer, tar path) of the entry carrying the bytes. `content` dests take the bytes
    of the *last* entry at that path in its layer (the visible file, and hard links made by
    later layers). `inline` hard links take the bytes the path held when their own link entry
    came, in the same layer: as in a tar extraction (and the engine), a link keeps the inode
    it was made to even if a later entry of the layer replaces the path.
    """

    dirs: list[tuple[str, int]]  # (relative path, mode), parents first
    content: dict[tuple[int, str], list[str]]  # (layer, tar path) -> [rel]
    symlinks: dict[tuple[int, str], list[str]]  # (layer, tar path) -> [rel]; targets come
    # from the entries during the content pass (the trie does not keep them)
    inline: dict[tuple[int, str], list[tuple[str, str]]] = field(default_factory=dict)
    # (layer, link entry path) -> [(rel, tar path holding the bytes in that layer)]
    special: int = 0
    broken_links: int = 0


def _plan(overlay: Overlay, start: str) -> _Plan:
    plan = _Plan(dirs=[], content={}, symlinks={})
    cut = len(start) + 1 if start else 0
    for path, node in overlay.walk(start):
        if path != start:
            _plan_node(plan, path, path[cut:], node)
    return plan


def _plan_node(plan: _Plan, path: str, rel: str, node: Node) -> None:
    kind = node.e_kind
    if kind == K_DIR:
        plan.dirs.append((rel, node.e_mode & _KEEP_MODE))
    elif kind == K_SYMLINK:
        plan.symlinks.setdefault((node.e_layer, path), []).append(rel)
    elif kind == K_FILE and node.inode_source is None:
        plan.content.setdefault((node.e_layer, path), []).append(rel)
    elif kind in (K_FILE, K_HARDLINK):
        source = node.inode_source
        if source is None:
            plan.broken_links += 1
        elif source[0] == node.e_layer and source[1] != path:
            # A link made in the layer that carries the bytes: bound when its entry comes.
            plan.inline.setdefault((node.e_layer, path), []).append((rel, source[1]))
        else:
            plan.content.setdefault(source, []).append(rel)
    else:
        plan.special += 1


def export_at(
    layers: Sequence[Layer],
    index: int,
    target: Path,
    *,
    start: str = "",
    source: str | None = None,
) -> ExportSummary:
    """Write the filesystem after layer `index` (or its subtree `start`) to directory `target`.

    `target` must not exist, or be an empty directory; it is created whole or not at all.
    """
    overlay = overlay_at(layers, index, source=source)
    root = overlay.visible(start)
    if root is None:
        raise UsageError(f"{'/' + start!r} does not exist at layer {index}", source=source)
    if root.e_kind != K_DIR:
        raise UsageError(f"{'/' + start!r} is not a directory at layer {index}", source=source)
    _check_target_dir(target)
    plan = _plan(overlay, start)
    with _staging_dir(target) as tmp:
        try:
            summary = _write(layers, index, plan, tmp, str(target), source)
            os.chmod(tmp, root.e_mode & _KEEP_MODE if start else 0o755)
            if target.exists():
                target.rmdir()  # empty, checked above
            os.rename(tmp, target)
        except OSError as exc:
            raise UsageError(f"cannot write: {exc.strerror or exc}", source=str(target)) from exc
    return summary


@contextmanager
def _staging_dir(target: Path) -> Iterator[Path]:
    """A new private directory beside `target`, removed on exit unless renamed away.

    The name is chosen before the directory exists and the removal covers its creation, so an
    error, Ctrl-C or SIGTERM (any BaseException) at any moment leaves nothing behind.
    """
    path = target.parent / f".{target.name}.{secrets.token_hex(8)}.tmp"
    ours = True
    try:
        try:
            os.mkdir(path, 0o700)
        except FileExistsError as exc:
            ours = False
            raise UsageError("cannot write: temporary name taken", source=str(target)) from exc
        except OSError as exc:
            raise UsageError(f"cannot write: {exc.strerror or exc}", source=str(target)) from exc
        yield path
    finally:
        if ours:
            _remove_tree(path)


def extract_path(
    layers: Sequence[Layer],
    index: int,
    path: str,
    dest: Path,
    *,
    source: str | None = None,
) -> ExportSummary:
    """Recover `path` as it was after layer `index` into `dest`.

    A directory becomes the new directory `dest`; a file or symlink becomes `dest`, or
    `dest/<name>` when `dest` is an existing directory.
    """
    overlay = overlay_at(layers, index, source=source)
    node = overlay.visible(path)
    if node is None or not path:
        what = "the image root" if not path else repr("/" + path)
        raise UsageError(f"{what} cannot be extracted at layer {index}", source=source)
    if node.e_kind == K_DIR:
        return export_at(layers, index, dest, start=path, source=source)
    _refuse_symlink(dest)
    if dest.is_dir():
        dest = dest / path.rsplit("/", 1)[-1]
    if dest.exists() or dest.is_symlink():
        raise UsageError("already exists; not overwriting", source=str(dest))
    if not dest.parent.is_dir():
        raise UsageError("directory does not exist", source=str(dest.parent))
    name = path.rsplit("/", 1)[-1]
    plan = _Plan(dirs=[], content={}, symlinks={})
    _plan_node(plan, path, name, node)
    if not plan.symlinks and not plan.content and not plan.inline:
        raise UsageError(
            f"{'/' + path!r} is a {KIND_NAMES.get(node.e_kind, 'special file')} and cannot be "
            "extracted",
            source=source,
        )
    with _staging_dir(dest) as tmp:
        try:
            summary = _write(layers, index, plan, tmp, str(dest), source)
            os.rename(tmp / name, dest)
        except OSError as exc:
            raise UsageError(f"cannot write: {exc.strerror or exc}", source=str(dest)) from exc
    return summary


def _refuse_symlink(target: Path) -> None:
    """The one check for every destination the user names: never write through a symlink
    (it could point anywhere; `--export` and `--extract` agree)."""
    if target.is_symlink():
        raise UsageError(
            "is a symbolic link; give a real directory or a new name", source=str(target)
        )


def _check_target_dir(target: Path) -> None:
    _refuse_symlink(target)
    if target.exists() and not target.is_dir():
        raise UsageError("exists and is not a directory", source=str(target))
    if target.is_dir() and any(target.iterdir()):
        raise UsageError("directory is not empty; not overwriting", source=str(target))
    if not target.parent.is_dir():
        raise UsageError("parent directory does not exist", source=str(target.parent))


def _remove_tree(path: Path) -> None:
    if not path.exists():
        return
    # Read-only directories from the image would stop rmtree for a non-root user.
    for dirpath, dirnames, _ in os.walk(path):
        for name in dirnames:
            full = os.path.join(dirpath, name)
            if not os.path.islink(full):
                os.chmod(full, 0o700)
    shutil.rmtree(path, ignore_errors=True)


def _write(
    layers: Sequence[Layer],
    index: int,
    plan: _Plan,
    tmp: Path,
    label: str,
    source: str | None,
) -> ExportSummary:
    root = str(tmp)
    for rel, _mode in plan.dirs:
        _safe_rel(rel, label)
        os.mkdir(os.path.join(root, rel), 0o700)
    for rels in (*plan.content.values(), *plan.symlinks.values()):
        for rel in rels:
            _safe_rel(rel, label)
    for pairs in plan.inline.values():
        for rel, _target in pairs:
            _safe_rel(rel, label)
    # Paths whose bytes inline hard links need as they were when the link entry came: each
    # version is written to a holder file of its own (in a private folder of the staging
    # directory), which the links share.
    held: dict[int, set[str]] = {}
    for layer_index, _path in plan.inline:
        for _rel, target in plan.inline[(layer_index, _path)]:
            held.setdefault(layer_index, set()).add(target)
    holders_dir = os.path.join(root, f".trimdock-holders-{secrets.token_hex(8)}")
    needed_layers = {key[0] for key in (*plan.content, *plan.symlinks, *plan.inline)}
    written: set[tuple[int, str]] = set()
    symlink_targets: dict[str, str] = {}  # rel -> target; a later entry replaces an earlier one
    files = hardlinks = total = 0
    for layer_index in sorted(needed_layers):
        if layer_index > index:
            continue
        layer_held = held.get(layer_index, set())
        holders: dict[str, str] = {}
        with layers[layer_index].content.open() as items:
            for entry, reader in items:
                key = (layer_index, entry.path)
                kind = entry.type
                if kind is EntryType.SYMLINK:
                    for rel in plan.symlinks.get(key, ()):
                        symlink_targets[rel] = entry.link
                        written.add(key)
                    continue
                if kind is EntryType.HARDLINK:
                    for rel, target in plan.inline.get(key, ()):
                        holder = holders.get(target)
                        if holder is not None:
                            _replace_link(holder, os.path.join(root, rel))
                            hardlinks += 1
                            written.add(key)
                    continue
                if kind is not EntryType.FILE or reader is None:
                    continue
                dests = plan.content.get(key, [])
                if entry.path in layer_held:
                    if not holders:
                        os.makedirs(holders_dir, 0o700, exist_ok=True)
                    first = os.path.join(holders_dir, str(files))
                    holders[entry.path] = first
                    links = dests
                elif dests:
                    first, links = os.path.join(root, dests[0]), dests[1:]
                else:
                    continue
                total += _write_file(first, reader, entry, entry.mode & _KEEP_MODE)
                files += 1
                for rel in links:
                    _replace_link(first, os.path.join(root, rel))
                    hardlinks += 1
                written.add(key)
    if os.path.lexists(holders_dir):
        shutil.rmtree(holders_dir)  # the names linked elsewhere keep their bytes
    missing = (set(plan.content) | set(plan.symlinks) | set(plan.inline)) - written
    if missing:
        layer_index, tar_path = min(missing)
        raise ImageSourceError(
            f"layer {layer_index} does not carry the data of {'/' + tar_path!r} on a second read",
            source=source,
        )
    for rel, link in symlink_targets.items():
        os.symlink(link, os.path.join(root, rel))
    for rel, mode in reversed(plan.dirs):
        os.chmod(os.path.join(root, rel), mode)
    return ExportSummary(
        target=label,
        layer=index,
        directories=len(plan.dirs),
        files=files,
        symlinks=len(symlink_targets),
        hardlinks=hardlinks,
        bytes=total,
        skipped_special=plan.special + plan.broken_links,
    )


def _replace_link(existing: str, path: str) -> None:
    """Hard-link `path` to `existing`, replacing what `path` was (a later entry wins)."""
    if os.path.lexists(path):
        os.unlink(path)
    os.link(existing, path, follow_symlinks=False)


def _safe_rel(rel: str, label: str) -> None:
    # Belt and braces: the model never produces these, but a writer must not trust that.
    if not rel or unsafe_path(rel):
        raise UnsafePathError(f"refusing to write {rel!r} outside the target", source=label)


def _write_file(path: str, reader: IO[bytes], entry: LayerEntry, mode: int) -> int:
    if os.path.lexists(path):
        # The same path twice in one layer: the last entry wins (a hard link made to the
        # earlier one keeps the earlier bytes, as in a tar extraction).
        os.unlink(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, 0o600)
    written = 0
    with os.fdopen(fd, "wb") as handle:
        while True:
            chunk = reader.read(_CHUNK)
            if not chunk:
                break
            handle.write(chunk)
            written += len(chunk)
        os.fchmod(handle.fileno(), mode)
    if written != entry.size:
        raise ImageSourceError(
            f"{'/' + entry.path!r}: the layer holds {written} bytes, its header says {entry.size}"
        )
    mtime = min(max(entry.mtime, MTIME_MIN), MTIME_MAX) * 10**9
    os.utime(path, ns=(mtime, mtime), follow_symlinks=False)
    return written
