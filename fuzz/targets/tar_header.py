"""`image/tarparse.parse`: the layer tar header parser, over a positional window (how seekable
uncompressed layers are read) and over a forward-only stream (compressed layers, pipes).

Contract: entries, or `TarFormatError` (the module's documented error; `image/layer.py` turns it
into `ImageSourceError`). Each entry takes at least one 512-byte header, so more entries than
blocks means the parser went backwards (an endless loop on hostile input).
"""

from __future__ import annotations

import io

from fuzz.harness import ContractViolation, Target
from trimdock.image.tarparse import BLOCK, FileReader, TarFormatError, Window, parse


def _walk(window: Window, data: bytes, *, read_files: bool) -> None:
    limit = len(data) // BLOCK + 1
    for count, (entry, offset) in enumerate(parse(window), start=1):
        if count > limit:
            raise ContractViolation(
                "tar-endless", f"more than {limit} entries from {len(data)} bytes"
            )
        if offset < 0 or entry.size < 0:
            raise ContractViolation("tar-negative", f"entry {entry.path!r} at {offset}")
        if read_files and entry.size and entry.size <= len(data):
            FileReader(window, offset, entry.size).read()


def with_checksums(data: bytes) -> bytes:
    """`data` with the checksum of every non-zero 512-byte block made right, so mutations reach
    the fields behind the checksum test (a random header almost never passes it)."""
    out = bytearray(data)
    for start in range(0, len(out) - BLOCK + 1, BLOCK):
        block = out[start : start + BLOCK]
        if any(block):
            block[148:156] = b" " * 8
            out[start + 148 : start + 156] = b"%06o\0 " % (sum(block) & 0o777777)
    return bytes(out)


def entry(data: bytes) -> None:
    # Both variants always run: the raw one usually stops at its checksum.
    failure: TarFormatError | None = None
    for variant in (data, with_checksums(data)):
        try:
            _entry(variant)
        except TarFormatError as exc:
            failure = exc
    if failure is not None:
        raise failure


def _entry(data: bytes) -> None:
    def read_at(offset: int, size: int) -> bytes:
        # Like layer.py's read_at over a RangeFile: a negative position is clamped to 0.
        start = max(0, offset)
        return data[start : start + size]

    _walk(Window(read_at=read_at), data, read_files=True)
    _walk(Window(stream=io.BytesIO(data)), data, read_files=False)


TARGET = Target(
    name="tar_header",
    entry=entry,
    expected=(TarFormatError,),
    description="image/tarparse.parse (positional and stream windows)",
    max_len=16384,
    dictionary=(
        b"ustar\x00",
        b"ustar  \x00",
        b"path=",
        b"size=",
        b"linkpath=",
        b"mtime=",
        b"uid=",
        b"GNU.sparse",
        b"././@LongLink",
    ),
)
