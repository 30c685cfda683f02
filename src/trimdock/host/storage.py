"""Measure the engine's storage directories, to check predictions against what really went.

Bytes are counted as the engine counts a layer (moby `directory.Size`): apparent sizes of every
non-directory entry, each inode once. Allocated blocks are recorded beside them.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

# Per storage area: which subdirectory holds the content (overlay2 `merged` is a mount of the
# same files, `work` is scratch space: walking them would double-count).
AREAS = ("overlay2", "containers", "volumes")
_SKIP = {"merged", "work"}


@dataclass(frozen=True)
class Usage:
    bytes: int = 0
    blocks_bytes: int = 0

    def __add__(self, other: Usage) -> Usage:
        return Usage(self.bytes + other.bytes, self.blocks_bytes + other.blocks_bytes)


@dataclass(frozen=True)
class StorageSnapshot:
    """`area/name` -> usage, for every top-level directory of the measured areas."""

    entries: Mapping[str, Usage] = field(default_factory=dict)

    def vanished(self, later: StorageSnapshot) -> dict[str, Usage]:
        return {key: usage for key, usage in self.entries.items() if key not in later.entries}


def directory_usage(path: Path) -> Usage:
    """Bytes under `path` like `directory.Size`: no directories, hard links once, one device."""
    seen: set[int] = set()
    total = 0
    blocks = 0
    try:
        device = path.lstat().st_dev
    except OSError:
        return Usage()
    stack = [str(path)]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    try:
                        info = entry.stat(follow_symlinks=False)
                    except OSError:
                        continue
                    if stat.S_ISDIR(info.st_mode):
                        if info.st_dev == device and not (
                            current == str(path) and entry.name in _SKIP
                        ):
                            stack.append(entry.path)
                        continue
                    if info.st_ino in seen:
                        continue
                    seen.add(info.st_ino)
                    total += info.st_size
                    blocks += info.st_blocks * 512
        except OSError:
            continue
    return Usage(total, blocks)


def snapshot(data_root: Path, areas: Iterable[str] = AREAS) -> StorageSnapshot:
    entries: dict[str, Usage] = {}
    for area in areas:
        base = data_root / area
        try:
            names = os.listdir(base)
        except OSError:
            continue
        for name in names:
            if area == "overlay2" and name == "l":  # short-name symlinks, not content
                continue
            if area == "volumes" and name == "metadata.db":
                continue
            entries[f"{area}/{name}"] = directory_usage(base / name)
    return StorageSnapshot(entries)


def readable(data_root: Path) -> bool:
    return os.access(data_root / "overlay2", os.R_OK | os.X_OK)
