"""Hand-made layers: `LayerEntry` sequences, and in-memory layers with file bytes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from io import BytesIO
from typing import IO

from trimdock.image.model import EntryType, HistoryEntry, Image, ImageConfig, Layer, LayerEntry


def f(path: str, size: int, *, mode: int = 0o644, mtime: int = 1) -> LayerEntry:
    return LayerEntry(path, EntryType.FILE, size, mode, mtime=mtime)


def d(path: str, *, mode: int = 0o755) -> LayerEntry:
    return LayerEntry(path, EntryType.DIR, 0, mode)


def wh(path: str) -> LayerEntry:
    parent, _, name = path.rpartition("/")
    return f(f"{parent}/.wh.{name}" if parent else f".wh.{name}", 0)


def opq(directory: str) -> LayerEntry:
    return f(f"{directory}/.wh..wh..opq", 0)


def ln(path: str, target: str) -> LayerEntry:
    return LayerEntry(path, EntryType.HARDLINK, 0, 0o644, link=target)


def sym(path: str, target: str) -> LayerEntry:
    return LayerEntry(path, EntryType.SYMLINK, 0, 0o777, link=target)


@dataclass(frozen=True)
class MemoryLayer:
    """A `LayerContent` over entries with their bytes (b"" for non-files)."""

    items: tuple[tuple[LayerEntry, bytes], ...]

    def entries(self) -> Iterator[LayerEntry]:
        for entry, _ in self.items:
            yield entry

    @contextmanager
    def _open(self) -> Iterator[Iterator[tuple[LayerEntry, IO[bytes] | None]]]:
        def gen() -> Iterator[tuple[LayerEntry, IO[bytes] | None]]:
            for entry, data in self.items:
                yield entry, BytesIO(data) if entry.type is EntryType.FILE else None

        yield gen()

    def open(self) -> AbstractContextManager[Iterator[tuple[LayerEntry, IO[bytes] | None]]]:
        return self._open()


def content(path: str, data: bytes, *, mode: int = 0o644) -> tuple[LayerEntry, bytes]:
    return f(path, len(data), mode=mode), data


def entry(e: LayerEntry) -> tuple[LayerEntry, bytes]:
    return e, b""


def image(
    layers: Sequence[Sequence[tuple[LayerEntry, bytes]]], commands: Sequence[str] = ()
) -> Image:
    """An image of in-memory layers; `commands[i]` is layer i's RUN (default `step i`)."""
    names = list(commands) or [f"step {i}" for i in range(len(layers))]
    history = tuple(HistoryEntry(created_by=f"/bin/sh -c {name}") for name in names)
    return Image(
        reference="memory:test",
        source="memory",
        config_digest="sha256:0",
        config=ImageConfig(),
        history=history,
        layers=tuple(
            Layer(index=i, diff_id=f"sha256:{i}", content=MemoryLayer(tuple(items)), history=h)
            for i, (items, h) in enumerate(zip(layers, history, strict=True))
        ),
    )
