"""The final filesystem of an image as a file list, and the difference of two lists (pure).

`context --verify` builds the Dockerfile twice (old and new ignore file) and compares what the
two images hold. Paths, kinds, sizes and permission bits are compared; times and owners are
not (every build stamps new times, and an ignore file cannot change an owner).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from trimdock.image.model import LayerEntry
from trimdock.layers.overlay import KIND_NAMES, Overlay


@dataclass(frozen=True, slots=True)
class FileState:
    kind: str  # file, dir, symlink, hardlink, other
    size: int  # bytes of a file; the target length of a symlink; 0 otherwise
    mode: int  # permission bits (0o7777)

    def to_json(self) -> dict[str, object]:
        return {"kind": self.kind, "size": self.size, "mode": f"{self.mode:04o}"}


@dataclass(frozen=True, slots=True)
class Difference:
    path: str  # absolute, as in the image
    before: FileState | None  # None: absent from the image built with the old ignore file
    after: FileState | None  # None: absent from the image built with the new one

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "before": None if self.before is None else self.before.to_json(),
            "after": None if self.after is None else self.after.to_json(),
        }


def file_list(layers: Iterable[Iterable[LayerEntry]]) -> dict[str, FileState]:
    """Every path visible in the image once its layers are applied in order (whiteouts too)."""
    overlay = Overlay()
    for entries in layers:
        overlay.apply(entries)
    return {
        "/" + path: FileState(KIND_NAMES[node.e_kind], node.e_nbytes, node.e_mode)
        for path, node in overlay.walk()
    }


def compare(
    before: Mapping[str, FileState], after: Mapping[str, FileState]
) -> tuple[Difference, ...]:
    """The paths whose presence, kind, size or mode differ, sorted by path."""
    return tuple(
        Difference(path, before.get(path), after.get(path))
        for path in sorted(before.keys() | after.keys())
        if before.get(path) != after.get(path)
    )
