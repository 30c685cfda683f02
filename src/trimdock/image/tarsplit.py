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

`read_tar_split` runs `trimdock.image.tarparse.parse` over that virtual tar: headers come from
the segments, file content reads as zeros (the parser skips it; callers read bodies from the
layer's folder). Lines are consumed as they come, one segment held at a time.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterable, Iterator
from typing import IO

from trimdock.image.model import LayerEntry
from trimdock.image.tarparse import TarFormatError, Window, parse

_SEGMENT = b'{"type":2,"payload":"'
_FILE = b'{"type":1,'
# In a JSON string a quote is escaped (`\"`), so this never matches inside a name.
_SIZE = b',"size":'


# Lines are cut from big decompressed chunks in C: a tar-split holds about 600 bytes a tar
# entry, and reading it line by line through the gzip reader costs more than parsing it.
_CHUNK = 1 << 20


def split_lines(stream: IO[bytes], chunk_size: int = _CHUNK) -> Iterator[bytes]:
    """The lines of `stream` without their line ends, read `chunk_size` bytes at a time."""
    rest = b""
    while chunk := stream.read(chunk_size):
        lines = (rest + chunk).split(b"\n")
        rest = lines.pop()
        yield from lines
    if rest:
        yield rest


class _VirtualTar(Window):
    """The tar the tar-split lines describe, forward-only."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        super().__init__()
        self._lines: Iterator[bytes] = iter(lines)
        self._segment_start = 0
        self._segment = b""
        self.size = 0  # virtual offset where the next piece begins = bytes described so far
        self._done = False

    def _next_segment(self) -> bool:
        for line in self._lines:
            if line.startswith(_SEGMENT):
                end = line.find(b'"', len(_SEGMENT))
                try:
                    data = binascii.a2b_base64(line[len(_SEGMENT) : end], strict_mode=True)
                except (binascii.Error, ValueError) as exc:
                    raise TarFormatError(f"invalid tar-split segment ({exc})") from None
                self._segment_start = self.size
                self._segment = data
                self.size += len(data)
                return True
            if line.startswith(_FILE):
                at = line.find(_SIZE)
                if at >= 0:
                    digits = line[at + len(_SIZE) : line.find(b",", at + len(_SIZE))]
                    if not digits.isdigit():
                        raise TarFormatError("invalid tar-split file size")
                    self.size += int(digits)
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


class TarSplitEntries:
    """Iterating gives every entry of the layer's tar in tar order; then `size` is the tar's
    byte size. Raises `TarFormatError` for data that is not a well-formed tar-split of a tar."""

    def __init__(self, lines: Iterable[bytes]) -> None:
        self._tar = _VirtualTar(lines)
        self.size = 0

    def __iter__(self) -> Iterator[LayerEntry]:
        for entry, _offset in parse(self._tar):
            yield entry
        self.size = self._tar.finish()


def read_tar_split(lines: Iterable[bytes]) -> tuple[tuple[LayerEntry, ...], int]:
    """Every entry of the layer's tar, in tar order, and the tar's byte size."""
    reader = TarSplitEntries(lines)
    entries = tuple(reader)
    return entries, reader.size
