"""A layer's tar headers from the engine's `tar-split.json.gz`, without the tar.

When the engine registers a layer it keeps, beside the unpacked files, every byte of the
layer's tar that is not file content: one JSON line per piece, in tar order,

    {"type":2,"payload":"<base64 raw bytes>","position":0}        a segment: headers, padding
    {"type":1,"name":"etc/passwd","size":1234,"payload":"<crc64>","position":1}   file content

(vbatts/tar-split `storage.Entry`, written by Go's encoding/json in that field order; `size` is
omitted when 0). `docker save` replays exactly this: the segments as stored, file content from
the layer's folder. So the headers parsed from the segments are the very headers of the saved
tar (same order, same hard-link targets, same whiteout files, same metadata), and the tar's
byte size is the sum of both kinds: the DiffID's preimage, byte for byte.

`TarSplitRows` gives the entries as cache rows, one segment held at a time. The engine's
disassembler writes one segment per entry (the previous file's padding, then the entry's
headers), so in the common case (one plain ustar header) the segment's tail is the header and
is read in place (`tarparse.plain_row`, 4 µs an entry). Any other segment (PAX or GNU
long-name headers, base-256 numbers, the end of the archive, anything unexpected) is handed to
`tarparse.parse` over the virtual tar the lines describe (headers from the segments, file
content as zeros) for that one entry: one reading of tar headers, and the fast path only ever
says "not mine".
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Iterator
from itertools import chain
from typing import IO

import pybase64

from trimdock.image.layercache import entries_of, row
from trimdock.image.model import EntryRow, EntryType, LayerEntry
from trimdock.image.tarparse import BLOCK, TarFormatError, Window, parse, plain_row

SEGMENT = b'{"type":2,"payload":"'  # 21 bytes
FILE = b'{"type":1,'
# In a JSON string a quote is escaped (`\"`), so this never matches inside a name.
_SIZE = b',"size":'  # 8 bytes


# Lines are cut from big decompressed chunks in C: a tar-split holds about 600 bytes a tar
# entry, and reading it line by line through the gzip reader costs more than parsing it.
_CHUNK = 1 << 20


def split_lines(stream: IO[bytes], chunk_size: int = _CHUNK) -> Iterator[bytes]:
    """The lines of `stream` without their line ends, read `chunk_size` bytes at a time."""
    return _split(stream, chunk_size, b"")


def _split(stream: IO[bytes], chunk_size: int, rest: bytes) -> Iterator[bytes]:
    while chunk := stream.read(chunk_size):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


_BOUNDARY = b"\n" + FILE


def _boundary(data: bytes, start: int, cut: int) -> int:
    """Where in `data` (whose first byte is at offset `start` and begins a line) the first file
    line at offset `cut` or later begins, or -1."""
    if start >= cut and data.startswith(FILE):
        return 0
    found = data.find(_BOUNDARY, max(cut - start - 1, 0))
    return found + 1 if found >= 0 else -1


def lines_before(stream: IO[bytes], cut: int, chunk_size: int = _CHUNK) -> Iterator[bytes]:
    """`split_lines` up to the first file line that begins at offset `cut` or later (there a
    reader may start on its own: see `TarSplitRows`)."""
    rest = b""
    start = 0  # the offset of rest's first byte
    while chunk := stream.read(chunk_size):
        data = rest + chunk
        end = _boundary(data, start, cut)
        if end >= 0:
            if end:
                yield from data[: end - 1].split(b"\n")
            return
        lines = data.split(b"\n")
        rest = lines.pop()
        start += len(data) - len(rest)
        yield from lines
    if rest:
        yield rest


def lines_from(stream: IO[bytes], cut: int, chunk_size: int = _CHUNK) -> Iterator[bytes]:
    """The lines `lines_before` leaves out; the lines before are never split."""
    rest = b""
    start = 0
    while chunk := stream.read(chunk_size):
        data = rest + chunk
        begin = _boundary(data, start, cut)
        if begin >= 0:
            lines = data[begin:].split(b"\n")
            rest = lines.pop()
            return chain(lines, _split(stream, chunk_size, rest))
        keep = data.rfind(b"\n") + 1
        rest = data[keep:]
        start += keep
    return iter(())


def _segment(line: bytes) -> bytes:
    """The raw bytes of a segment line."""
    try:
        return pybase64.b64decode(line[len(SEGMENT) : line.find(b'"', len(SEGMENT))], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise TarFormatError(f"invalid tar-split segment ({exc})") from None


def file_size(line: bytes) -> int:
    """The content size a file line records (0 when the field is left out)."""
    at = line.find(_SIZE)
    if at < 0:
        return 0
    digits = line[at + len(_SIZE) : line.find(b",", at + len(_SIZE))]
    if not digits.isdigit():
        raise TarFormatError("invalid tar-split file size")
    return int(digits)


class _VirtualTar(Window):
    """The tar the tar-split lines describe, forward-only."""

    def __init__(self, lines: Iterable[bytes], *, size: int = 0) -> None:
        super().__init__()
        self._lines: Iterator[bytes] = iter(lines)
        self._segment_start = size
        self._segment = b""
        self.size = size  # virtual offset where the next piece begins = bytes described so far
        self._done = False

    def _next_segment(self) -> bool:
        for line in self._lines:
            if line.startswith(SEGMENT):
                data = _segment(line)
                self._segment_start = self.size
                self._segment = data
                self.size += len(data)
                return True
            if line.startswith(FILE):
                self.size += file_size(line)
                continue
            if line.strip():
                raise TarFormatError("tar-split data in an unknown format")
        self._done = True
        return False

    def get(self, offset: int, size: int) -> bytes:
        while offset >= self._segment_start + len(self._segment) and self._next_segment():
            pass
        if offset < self._segment_start:
            # File content (the parser never asks for it; zeros keep the window consistent).
            return bytes(min(size, self._segment_start - offset))
        start = offset - self._segment_start
        piece = self._segment[start : start + size]
        if len(piece) < size and not self._done:
            # A header running past its segment: only corrupt or hostile data does that.
            raise TarFormatError("a tar header spans tar-split segments")
        return piece

    def finish(self) -> int:
        """Read the remaining lines (trailing padding); the tar's total size."""
        while self._next_segment():
            pass
        return self.size


class TarSplitRows:
    """Iterating gives every entry of the layer's tar as a cache row (`model.EntryRow`), in tar
    order; then `size` is the tar's byte size. The entries `parse` reads from the tar itself;
    `TarFormatError` where it would fail.

    A part of the lines can be read on its own (`trimdock.image.tarsplitpool` reads a big layer
    on two cores): `offset` and `size` give the state where the part begins (relative to any
    origin), and with `final=False` running out of lines ends the part instead of being an
    error; `offset`, `size`, `ended` (the end of the archive was read) and `global_pax` then say
    where it stopped."""

    def __init__(
        self, lines: Iterable[bytes], *, offset: int = 0, size: int = 0, final: bool = True
    ) -> None:
        self._lines = iter(lines)
        self._final = final
        self.offset = offset  # virtual offset of the next header
        self.size = size  # virtual bytes the lines read so far describe
        self.ended = False
        self.global_pax: dict[str, str] = {}

    def __iter__(self) -> Iterator[EntryRow]:
        lines = self._lines
        offset = self.offset
        size = self.size
        global_pax = self.global_pax
        decode = pybase64.b64decode
        for line in lines:
            if line.startswith(FILE):
                # `file_size`, inline: this loop runs once a line.
                at = line.find(_SIZE, 10)
                if at >= 0:
                    digits = line[at + 8 : line.find(b",", at + 8)]
                    if not digits.isdigit():
                        raise TarFormatError("invalid tar-split file size")
                    size += int(digits)
                continue
            if not line.startswith(SEGMENT):
                if line.strip():
                    raise TarFormatError("tar-split data in an unknown format")
                continue
            try:
                segment = decode(line[21 : line.find(b'"', 21)], validate=True)
            except (binascii.Error, ValueError):
                segment = _segment(line)  # says what is wrong
            at = offset - size
            if at >= 0 and len(segment) - at == BLOCK and not global_pax:
                plain = plain_row(segment[at:])
                if plain is not None:
                    found, content = plain
                    size += len(segment)
                    offset += BLOCK + ((content + BLOCK - 1) & ~(BLOCK - 1))
                    if found is not None:
                        yield found
                    continue
            # Anything else: the parser reads this entry from this segment on.
            tar = _VirtualTar(chain((line,), lines), size=size)
            step = next(parse(tar, start=offset, global_pax=global_pax), None)
            if step is None:  # the end of the archive
                self.size = tar.finish()
                self.offset = offset
                self.ended = True
                return
            entry, data_offset = step
            yield row(entry)
            size = tar.size
            offset = data_offset
            if entry.type is EntryType.FILE:
                offset += (entry.size + BLOCK - 1) & ~(BLOCK - 1)
        self.offset = offset
        self.size = size
        if self._final:
            # No end-of-archive blocks: the parser says how the data is cut short.
            next(parse(_VirtualTar((), size=size), start=offset, global_pax=global_pax), None)
            raise TarFormatError("unexpected end of data")


def read_tar_split(lines: Iterable[bytes]) -> tuple[tuple[LayerEntry, ...], int]:
    """Every entry of the layer's tar, in tar order, and the tar's byte size."""
    reader = TarSplitRows(lines)
    entries = tuple(entries_of(reader))
    return entries, reader.size
