"""A fast tar header parser for layer blobs (ustar, POSIX pax, GNU long names, base-256).

`tarfile` costs about 25 µs per entry; layers have hundreds of thousands of entries. This parser
reads headers through a window of bytes addressed by absolute offset: on a seekable blob the
window is refilled with positional reads (file data is skipped by moving the offset, several
small entries share one read), on a stream it advances forward (skipped data is read and
discarded, so hashers below still see every byte). Each header's checksum is verified.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import IO
from zlib import adler32

from trimdock.image.model import EntryRow, EntryType, LayerEntry
from trimdock.image.tarentry import normalise_path

BLOCK = 512
WINDOW = 64 << 10
# The largest PAX or GNU long-name/long-link record accepted: Go's archive/tar (what the engine
# extracts layers with) refuses special headers above 1 MiB (`maxSpecialFileSize`), so a larger
# one is hostile; reading it whole would also cost memory.
MAX_SPECIAL = 1 << 20
_ZERO = bytes(BLOCK)
_CHECKSUM_SPACES = 8 * 0x20

_TYPES: dict[bytes, EntryType] = {
    b"0": EntryType.FILE,
    b"\0": EntryType.FILE,
    b"7": EntryType.FILE,
    b"5": EntryType.DIR,
    b"2": EntryType.SYMLINK,
    b"1": EntryType.HARDLINK,
    b"3": EntryType.CHAR,
    b"4": EntryType.BLOCK,
    b"6": EntryType.FIFO,
}


class TarFormatError(Exception):
    """The bytes are not a well-formed tar stream (corrupt or truncated)."""


class Window:
    """Bytes of a tar blob by absolute offset, from positional reads or a forward-only stream."""

    def __init__(
        self,
        *,
        read_at: Callable[[int, int], bytes] | None = None,
        stream: IO[bytes] | None = None,
    ) -> None:
        self._read_at = read_at
        self._stream = stream
        self._buf = b""
        self._start = 0

    @property
    def positional(self) -> bool:
        return self._read_at is not None

    def get(self, offset: int, size: int) -> bytes:
        start = self._start
        if start <= offset and offset + size <= start + len(self._buf):
            return self._buf[offset - start : offset + size - start]
        if self._read_at is not None:
            self._buf = self._read_at(offset, max(size, WINDOW))
            self._start = offset
            return self._buf[:size]
        return self._advance(offset, size)

    def _advance(self, offset: int, size: int) -> bytes:
        assert self._stream is not None
        end = self._start + len(self._buf)
        if offset < self._start:
            raise TarFormatError("tar stream went backwards")
        keep = self._buf[offset - self._start :] if offset < end else b""
        skip = offset - end
        while skip > 0:
            chunk = self._stream.read(min(skip, 1 << 20))
            if not chunk:
                break
            skip -= len(chunk)
        parts = [keep]
        need = size - len(keep)
        while need > 0:
            chunk = self._stream.read(max(need, WINDOW))
            if not chunk:
                break
            parts.append(chunk)
            need -= len(chunk)
        self._buf = b"".join(parts) if len(parts) > 1 else keep
        self._start = offset
        return self._buf[:size]


def _number(field: bytes) -> int:
    if field and field[0] & 0x80:
        # GNU base-256: big-endian two's complement in the remaining bytes.
        value = int.from_bytes(field, "big", signed=field[0] == 0xFF)
        return value & ~(0x80 << (8 * (len(field) - 1))) if field[0] != 0xFF else value
    text = field.split(b"\0", 1)[0].strip()
    if not text:
        return 0
    try:
        return int(text, 8)
    except ValueError:
        raise TarFormatError(f"invalid number {field!r} in a tar header") from None


def _pax_int(records: dict[str, str], key: str, default: int) -> int:
    """A decimal PAX number (size, uid, gid); anything else is a format error, not a crash."""
    text = records.get(key)
    if text is None:
        return default
    value = text.strip()
    if not value.isdigit() or not value.isascii():
        raise TarFormatError(f"invalid pax {key} {text[:40]!r}")
    return int(value)


def _pax_mtime(records: dict[str, str], default: int) -> int:
    """A PAX mtime (decimal seconds, maybe fractional and negative), truncated to an int.

    `inf`, `nan`, exponents and the like are refused: only the form POSIX allows is read.
    """
    text = records.get("mtime")
    if text is None:
        return default
    value = text.strip()
    digits = value.removeprefix("-")
    whole, _, fraction = digits.partition(".")
    if not (whole or fraction) or not (whole + fraction).isdigit() or not digits.isascii():
        raise TarFormatError(f"invalid pax mtime {text[:40]!r}")
    seconds = int(whole or "0")
    return -seconds if value.startswith("-") else seconds


def _string(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax_records(data: bytes) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos)
        if space < 0:
            raise TarFormatError("invalid pax header")
        try:
            length = int(data[pos:space])
        except ValueError:
            raise TarFormatError("invalid pax header") from None
        if length <= 0 or pos + length > len(data):
            raise TarFormatError("invalid pax header")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


# Entry types a plain header may have (no PAX, GNU long-name or sparse headers), by flag byte:
# as the `EntryType` an entry holds, or its value, as a cache row stores it.
PLAIN_TYPES: dict[int, EntryType] = {
    ord("0"): EntryType.FILE,
    0: EntryType.FILE,
    ord("7"): EntryType.FILE,
    ord("5"): EntryType.DIR,
    ord("2"): EntryType.SYMLINK,
    ord("1"): EntryType.HARDLINK,
    ord("6"): EntryType.FIFO,
}
PLAIN_VALUES: dict[int, str] = {flag: kind.value for flag, kind in PLAIN_TYPES.items()}
_USTAR = b"ustar\0"
_new = tuple.__new__


def plain_row(
    block: bytes, kinds: Mapping[int, str] = PLAIN_VALUES
) -> tuple[EntryRow | None, int] | None:
    """A plain ustar/GNU header's row (None for the root entry) and content size, or None when
    the header is anything else: `parse` then reads it (and says what is wrong with it).

    For readers that know where each header is without walking the tar (tar-split segments);
    the fields are read exactly as `parse` reads a header that has no PAX or long-name record.
    `kinds` gives the row's type (`PLAIN_TYPES` makes the row a `LayerEntry`'s fields)."""
    kind = kinds.get(block[156])  # devices and special headers: not here
    if kind is None:
        return None
    try:
        stored = int(block[148:156].rstrip(b"\0 ") or b"0", 8)
        size = int(block[124:136].rstrip(b"\0 ") or b"0", 8)
        mode = int(block[100:108].rstrip(b"\0 ") or b"0", 8)
        uid = int(block[108:116].rstrip(b"\0 ") or b"0", 8)
        gid = int(block[116:124].rstrip(b"\0 ") or b"0", 8)
        mtime = int(block[136:148].rstrip(b"\0 ") or b"0", 8)
    except ValueError:
        return None  # base-256 or junk: the parser's slow path
    if size < 0:
        return None  # `int` reads a sign: the parser refuses the header
    # The header checksum, as `parse` checks it (Adler-32's low half is 1 + the byte sum).
    if (stored + sum(block[148:156]) - _CHECKSUM_SPACES - (adler32(block) & 0xFFFF) + 1) % 65521:
        return None
    name = block[0:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
    if block[345] and block[257:263] == _USTAR:
        prefix = block[345:500].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
        name = prefix + "/" + name
    path = normalise_path(name)
    if kind == "file":
        content = size
        link = ""
    else:
        content = size = 0
        if kind == "hardlink" or kind == "symlink":
            link = block[157:257].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            if kind == "hardlink":
                link = normalise_path(link)
        else:
            link = ""
    if not path:
        return None, content
    return (path, kind, size, mode & 0o7777, uid, gid, mtime, link, 0, 0), content


def parse(
    window: Window, *, start: int = 0, global_pax: dict[str, str] | None = None
) -> Iterator[tuple[LayerEntry, int]]:
    """Every entry of the tar in `window` with the offset of its data, in tar order.

    The root directory entry is skipped. Raises `TarFormatError` on a bad checksum, a
    truncated header or data, or an unsupported (GNU sparse) entry. A caller that parses a tar
    in turns with a faster reader of its own passes the offset of the next header (`start`) and
    the global PAX records seen so far (`global_pax`, updated in place).
    """
    offset = start
    pax: dict[str, str] = {}
    if global_pax is None:
        global_pax = {}
    long_name: str | None = None
    long_link: str | None = None
    while True:
        block = window.get(offset, BLOCK)
        if len(block) < BLOCK:
            if offset == start == 0 and not block:
                raise TarFormatError("empty layer (no tar data)")
            raise TarFormatError("unexpected end of data")
        if not pax and long_name is None and long_link is None and not global_pax:
            plain = plain_row(block, PLAIN_TYPES)
            if plain is not None:  # the common header, read in one go
                found, content = plain
                data_offset = offset + BLOCK
                if found is not None:
                    yield _new(LayerEntry, found), data_offset
                offset = data_offset + ((content + BLOCK - 1) & ~(BLOCK - 1))
                continue
        if block == _ZERO:
            return
        try:
            # Fast path: plain octal fields (NUL/space padded); base-256 goes the slow way.
            stored = int(block[148:156].rstrip(b"\0 ") or b"0", 8)
            size = int(block[124:136].rstrip(b"\0 ") or b"0", 8)
        except ValueError:
            stored = _number(block[148:156])
            size = _number(block[124:136])
        # The header checksum is the byte sum with the checksum field read as spaces; Adler-32's
        # low half is 1 + that byte sum mod 65521, computed in C (sum() costs 2.5 µs a header).
        byte_sum = (adler32(block) & 0xFFFF) - 1
        if (stored + sum(block[148:156]) - _CHECKSUM_SPACES - byte_sum) % 65521:
            raise TarFormatError(f"bad checksum in the tar header at offset {offset}")
        if size < 0:
            # Base-256 allows negative numbers; a negative size would move the parser backwards
            # (an endless loop over the same headers).
            raise TarFormatError(f"negative size in the tar header at offset {offset}")
        flag = block[156:157]
        data_offset = offset + BLOCK
        following = data_offset + ((size + BLOCK - 1) & ~(BLOCK - 1))
        if flag in (b"x", b"X", b"g", b"L", b"K"):
            if size > MAX_SPECIAL:
                raise TarFormatError(
                    f"a pax or long-name header of {size} bytes at offset {offset} "
                    f"(the limit is {MAX_SPECIAL})"
                )
            data = window.get(data_offset, size)
            if len(data) < size:
                raise TarFormatError("unexpected end of data")
            if flag == b"g":
                global_pax.update(_pax_records(data))
            elif flag == b"L":
                long_name = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            elif flag == b"K":
                long_link = data.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")
            else:
                pax = _pax_records(data)
            offset = following
            continue
        if flag == b"S" or (pax and any(key.startswith("GNU.sparse") for key in pax)):
            raise TarFormatError("GNU sparse files are not supported")
        kind = _TYPES.get(flag, EntryType.FILE)
        if pax or global_pax:
            merged = {**global_pax, **pax} if global_pax else pax
            if "size" in merged:
                size = _pax_int(merged, "size", size)
                following = data_offset + ((size + BLOCK - 1) & ~(BLOCK - 1))
        else:
            merged = pax
        if long_name is not None:
            name = long_name
        elif "path" in merged:
            name = merged["path"]
        else:
            name = _string(block[0:100])
            if block[257:263] == _USTAR and block[345] != 0:
                name = _string(block[345:500]) + "/" + name
        if kind is EntryType.HARDLINK or kind is EntryType.SYMLINK:
            if long_link is not None:
                link = long_link
            elif "linkpath" in merged:
                link = merged["linkpath"]
            else:
                link = _string(block[157:257])
            if kind is EntryType.HARDLINK:
                link = normalise_path(link)
        else:
            link = ""
        path = normalise_path(name)
        # Only regular (and unknown) entries carry data in the archive.
        next_offset = following if kind is EntryType.FILE or flag not in _TYPES else data_offset
        if path:
            try:
                mode = int(block[100:108].rstrip(b"\0 ") or b"0", 8)
                uid = int(block[108:116].rstrip(b"\0 ") or b"0", 8)
                gid = int(block[116:124].rstrip(b"\0 ") or b"0", 8)
                mtime = int(block[136:148].rstrip(b"\0 ") or b"0", 8)
            except ValueError:
                mode = _number(block[100:108])
                uid = _number(block[108:116])
                gid = _number(block[116:124])
                mtime = _number(block[136:148])
            if merged:
                uid = _pax_int(merged, "uid", uid)
                gid = _pax_int(merged, "gid", gid)
                mtime = _pax_mtime(merged, mtime)
            device = flag == b"3" or flag == b"4"
            entry = LayerEntry(
                path,
                kind,
                size if kind is EntryType.FILE else 0,
                mode & 0o7777,
                uid,
                gid,
                mtime,
                link,
                _number(block[329:337]) if device else 0,
                _number(block[337:345]) if device else 0,
            )
            yield entry, data_offset
        pax = {}
        long_name = long_link = None
        # Every header strictly advances (size >= 0 above): a stream window cannot serve an
        # offset twice, and a seekable blob is never re-read in a loop.
        assert next_offset > offset
        offset = next_offset


class FileReader:
    """The bytes of one regular file of a layer, read through the window (valid until the
    parser moves on to the next entry when the window is a stream)."""

    def __init__(self, window: Window, offset: int, size: int) -> None:
        self._window = window
        self._pos = offset
        self._end = offset + size

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        remaining = self._end - self._pos
        if size is None or size < 0 or size > remaining:
            size = remaining
        if size <= 0:
            return b""
        if not self._window.positional and size > (1 << 20):
            # Streams: bounded chunks, so a huge file never sits in memory at once.
            parts = []
            while size > 0:
                part = self.read(min(size, 1 << 20))
                if not part:
                    break
                parts.append(part)
                size -= len(part)
            return b"".join(parts)
        data = self._window.get(self._pos, size)
        if len(data) < size:
            raise TarFormatError("unexpected end of data in a file")
        self._pos += len(data)
        return data

    def close(self) -> None:
        pass
