"""The headers of an image's uncached layers from their tar-splits, read on two cores.

Reading tar-split records is the cost of a first `trimdock layers NAME` (9 µs an entry: gunzip,
base64, the header fields); the analysis waits for all of it, and the second core idles. So
the work is cut in two halves by decompressed bytes (the gzip trailer gives each file's size
without reading it): this process reads the first half, a forked child the second, and the
child's rows come back as packed frames (`layercache.pack_frames`).

A layer that straddles the middle is cut at a file line (the content of one entry): the engine's
disassembler writes one segment per entry, so from a file line on, the rest can be read without
what came before (`tarsplit.TarSplitRows` with a resume state). The halves are joined only when
they agree (the first half ends where the second assumed it would, no end of archive and no
global PAX header before the cut); otherwise, and whenever the child fails in any way, that
layer is read again here, whole, so a damaged record fails with the same message either way.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import struct
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import IO, cast

from isal import igzip

from trimdock.image.layercache import HeaderEncoder, encode_rows, pack_frames
from trimdock.image.tarparse import BLOCK, TarFormatError
from trimdock.image.tarsplit import (
    TarSplitRows,
    file_size,
    lines_before,
    lines_from,
    split_lines,
)

# Below this many decompressed bytes (about 5,000 entries) one core reads everything: a fork
# and the hand-over cost more than they save.
MIN_SPLIT = 4 << 20


def decompressed_size(path: Path) -> int:
    """The size a gzip file decompresses to, from its trailer (ISIZE: modulo 4 GiB; only
    used to share work, so a wrong value costs balance, never correctness)."""
    with open(path, "rb") as raw:
        raw.seek(0, os.SEEK_END)
        if raw.tell() < 4:
            return 0
        raw.seek(-4, os.SEEK_END)
        return int(struct.unpack("<I", raw.read(4))[0])


@contextmanager
def _records(path: Path) -> Iterator[IO[bytes]]:
    """The decompressed records of a tar-split file."""
    with (
        open(path, "rb") as raw,
        cast(IO[bytes], igzip.IGzipFile(fileobj=raw, mode="rb")) as stream,  # type: ignore[no-untyped-call]
    ):
        yield stream


# What reading a tar-split can raise: the file (OSError), its records (TarFormatError), its gzip
# stream (EOFError cut short, ValueError damaged).
_READ_ERRORS = (OSError, TarFormatError, EOFError, ValueError)


class TarSplitError(Exception):
    """Layer `index` (of the paths given) cannot be read; `cause` says why."""

    def __init__(self, index: int, cause: Exception):
        super().__init__(str(cause))
        self.index = index
        self.cause = cause


def _encoded(paths: Sequence[Path], index: int) -> bytes:
    try:
        return encode_layer(paths[index])
    except _READ_ERRORS as exc:
        raise TarSplitError(index, exc) from exc


def encode_layer(path: Path) -> bytes:
    """A layer's encoded headers (`layercache` format) from its tar-split, on this core."""
    with _records(path) as records:
        rows = TarSplitRows(split_lines(records))
        return encode_rows(rows, lambda: rows.size)


@dataclass(frozen=True)
class _Tail:
    """What the child read of a cut layer: packed rows and the part's size from the cut."""

    frames: bytes
    size: int
    offset: int  # where the part assumed the next header was, relative to the cut


def read_tail(path: Path, cut: int) -> _Tail | None:
    """The part of a layer from the cut on (`lines_from`), or None when no file line follows."""
    with _records(path) as records:
        lines = lines_from(records, cut)
        first = next(lines, None)
        if first is None:
            return None
        content = file_size(first)
        offset = (content + BLOCK - 1) & ~(BLOCK - 1)
        rows = TarSplitRows(chain((first,), lines), offset=offset)
        frames = pack_frames(rows)
        return _Tail(frames, rows.size, offset)


@dataclass(frozen=True)
class _Plan:
    mine: tuple[int, ...]  # layers read whole here
    theirs: tuple[int, ...]  # layers read whole by the child
    cut: tuple[int, int] | None  # (layer, decompressed offset) read here up to it, then there


def plan(sizes: Sequence[int]) -> _Plan:
    """Which layers (by decompressed size) each core reads: the first half of the bytes here,
    the second half in the child, one layer cut where the halves meet."""
    # This process takes a little more: the child also reads past the first half to its cut.
    middle = sum(sizes) * 53 // 100
    mine: list[int] = []
    theirs: list[int] = []
    cut: tuple[int, int] | None = None
    start = 0
    for index, size in enumerate(sizes):
        if start + size <= middle:
            mine.append(index)
        elif start >= middle:
            theirs.append(index)
        else:
            cut = (index, middle - start)
        start += size
    return _Plan(tuple(mine), tuple(theirs), cut)


def encode_layers(
    paths: Sequence[Path], done: Callable[[int], None] = lambda _index: None
) -> list[bytes]:
    """Every layer's encoded headers, in order; `TarSplitError` for a layer that cannot be read
    (OSError, `TarFormatError`, or EOFError or ValueError from a damaged gzip). `done(index)`
    is called as each layer is read (for progress)."""
    try:
        sizes = [decompressed_size(path) for path in paths]
    except OSError:
        sizes = None  # one core: reading each layer in turn says which one cannot be read
    if sizes is None or sum(sizes) < MIN_SPLIT or not hasattr(os, "fork"):
        encoded = []
        for index in range(len(paths)):
            encoded.append(_encoded(paths, index))
            done(index)
        return encoded
    layout = plan(sizes)
    child = _Child.start(paths, layout)
    try:
        return _join(paths, layout, child, done)
    finally:
        if child is not None:
            child.stop()


def _join(
    paths: Sequence[Path], layout: _Plan, child: _Child | None, done: Callable[[int], None]
) -> list[bytes]:
    results: dict[int, bytes] = {}
    for index in layout.mine:
        results[index] = _encoded(paths, index)
        done(index)
    head: _Head | None = None
    if layout.cut is not None:
        index, cut = layout.cut
        try:
            head = read_head(paths[index], cut)
        except _READ_ERRORS as exc:
            raise TarSplitError(index, exc) from exc
    reply = child.reply() if child is not None else _Reply()
    for index in layout.theirs:
        read = reply.layers.get(index)
        results[index] = read if read is not None else _encoded(paths, index)
        done(index)
    if layout.cut is not None and head is not None:
        index, _ = layout.cut
        joined = join(head, reply.tail) if reply.tail_read else None
        results[index] = joined if joined is not None else _encoded(paths, index)
        done(index)
    return [results[index] for index in range(len(paths))]


@dataclass(frozen=True)
class _Head:
    """What this process read of a cut layer: the encoder holding its rows, and where the
    reading stopped."""

    encoder: HeaderEncoder
    rows: TarSplitRows


def read_head(path: Path, cut: int) -> _Head:
    """The part of a layer before the cut (`lines_before`)."""
    with _records(path) as records:
        rows = TarSplitRows(lines_before(records, cut), final=False)
        encoder = HeaderEncoder()
        for item in rows:
            encoder.add_row(item)
        return _Head(encoder, rows)


def join(head: _Head, tail: _Tail | None) -> bytes | None:
    """The whole layer's encoded headers from its two parts (`tail` None: nothing followed the
    cut), or None when the parts do not fit together and the layer must be read whole: the
    head read the end of the archive before the cut, a global PAX header came before it (the
    tail read on without its records), or the head's last entry ends elsewhere than where the
    tail began."""
    rows = head.rows
    if tail is None:
        return head.encoder.finish(rows.size) if rows.ended else None
    if rows.ended or rows.global_pax or rows.offset - rows.size != tail.offset:
        return None
    head.encoder.add_frames(tail.frames)
    return head.encoder.finish(rows.size + tail.size)


@dataclass(frozen=True)
class _Reply:
    """What the child read: whole layers by index, and the cut layer's part (`tail_read`: it
    was read; `tail` None then means nothing follows the cut). A layer or part it could not
    read is left out; an empty reply is a child that failed."""

    layers: dict[int, bytes] = field(default_factory=dict)
    tail_read: bool = False
    tail: _Tail | None = None


class _Child:
    """The forked reader of the second half; it sends one marshal'ed reply and exits."""

    def __init__(self, pid: int, reply: int) -> None:
        self._pid: int | None = pid
        self._reply = reply

    @classmethod
    def start(cls, paths: Sequence[Path], layout: _Plan) -> _Child | None:
        try:
            read_end, write_end = os.pipe()
        except OSError:
            return None  # no second process: this one reads everything
        try:
            pid = os.fork()
        except OSError:
            os.close(read_end)
            os.close(write_end)
            return None
        if pid == 0:  # the child: never returns into the caller's code
            status = 1
            try:
                os.close(read_end)
                _serve(paths, layout, write_end)
                status = 0
            finally:
                os._exit(status)
        os.close(write_end)
        return cls(pid, read_end)

    def reply(self) -> _Reply:
        """What the child read; an empty reply when it failed (the caller then reads its
        share itself)."""
        chunks = []
        with open(self._reply, "rb", closefd=False) as reply:
            while chunk := reply.read(1 << 20):
                chunks.append(chunk)
        status = self._wait()
        if status != 0 or not chunks:
            return _Reply()
        try:
            layers, tail_read, tail = marshal.loads(b"".join(chunks))
            return _Reply(
                {int(index): bytes(data) for index, data in layers.items()},
                bool(tail_read),
                None if tail is None else _Tail(*tail),
            )
        except (EOFError, ValueError, TypeError):
            return _Reply()

    def _wait(self) -> int:
        if self._pid is None:
            return -1
        _, status = os.waitpid(self._pid, 0)
        self._pid = None
        return status

    def stop(self) -> None:
        """End the child if it still runs (this process failed first) and close the pipe."""
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)
            self._wait()
        os.close(self._reply)


def _serve(paths: Sequence[Path], layout: _Plan, reply: int) -> None:
    """The child's work: its whole layers, then the cut layer's second part (a layer that fails
    is left out of the reply: the parent reads it again and reports the problem)."""
    layers: dict[int, bytes] = {}
    for index in layout.theirs:
        try:
            layers[index] = encode_layer(paths[index])
        except Exception:  # the parent re-reads it and reports
            continue
    tail_read = False
    tail: tuple[bytes, int, int] | None = None
    if layout.cut is not None:
        index, cut = layout.cut
        try:
            part = read_tail(paths[index], cut)
        except Exception:  # the parent re-reads the layer and reports
            pass
        else:
            tail_read = True
            tail = None if part is None else (part.frames, part.size, part.offset)
    data = marshal.dumps((layers, tail_read, tail))
    with open(reply, "wb") as out:
        out.write(data)
