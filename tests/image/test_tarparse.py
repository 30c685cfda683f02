"""The fast header parser against Python's tarfile, on every header format a layer can use."""

from __future__ import annotations

import io
import tarfile

import pytest

from trimdock.image.tarentry import entry_from_tarinfo
from trimdock.image.tarparse import FileReader, TarFormatError, Window, parse


def build(fmt: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:

        def add(
            name: str, kind: bytes = tarfile.REGTYPE, data: bytes = b"", **attrs: object
        ) -> None:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.size = len(data) if kind == tarfile.REGTYPE else 0
            info.mtime = 1_700_000_000
            info.mode = 0o644
            for key, value in attrs.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if kind == tarfile.REGTYPE else None)

        add("./", tarfile.DIRTYPE, mode=0o755)
        add("usr/", tarfile.DIRTYPE, mode=0o755)
        add("usr/" + "long-directory-name/" * 8 + "file.txt", data=b"long name\n")
        add("usr/" + "x" * 120, data=b"longer than 100 chars, no slash")
        add("usr/link-" + "y" * 110, tarfile.SYMTYPE, linkname="../" + "t" * 120)
        add("usr/hard", tarfile.LNKTYPE, linkname="./usr/" + "x" * 120)
        add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3, mode=0o666)
        add("usr/big-ids", data=b"ids", uid=3_000_000, gid=70_000, mode=0o4755)
        add("usr/ünïcode", data=b"utf-8 name")
        add("usr/.wh..wh..opq")
        add("usr/empty")
    return buffer.getvalue()


@pytest.mark.parametrize("fmt", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_parser_agrees_with_tarfile(fmt: int) -> None:
    try:
        data = build(fmt)
    except ValueError:
        pytest.skip("format cannot hold these names")
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        expected = [e for e in (entry_from_tarinfo(i) for i in tar) if e is not None]
    positional = Window(read_at=lambda offset, size: data[offset : offset + size])
    streamed = Window(stream=io.BytesIO(data))
    for window in (positional, streamed):
        parsed = [entry for entry, _ in parse(window)]
        assert parsed == expected


def test_file_reader_returns_the_bytes() -> None:
    data = build(tarfile.PAX_FORMAT)
    window = Window(stream=io.BytesIO(data))
    contents = {
        entry.path: FileReader(window, offset, entry.size).read()
        for entry, offset in parse(window)
        if entry.size
    }
    assert contents["usr/ünïcode"] == b"utf-8 name"
    assert contents["usr/big-ids"] == b"ids"


def test_bad_checksum_and_truncation_are_errors() -> None:
    data = bytearray(build(tarfile.PAX_FORMAT))
    data[5] ^= 0x01
    with pytest.raises(TarFormatError, match="bad checksum"):
        list(parse(Window(stream=io.BytesIO(bytes(data)))))
    whole = build(tarfile.PAX_FORMAT)
    with pytest.raises(TarFormatError, match="unexpected end"):
        list(parse(Window(stream=io.BytesIO(whole[:1536]))))
    with pytest.raises(TarFormatError, match="empty layer"):
        list(parse(Window(stream=io.BytesIO(b""))))
