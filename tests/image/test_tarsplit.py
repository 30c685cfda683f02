"""The engine's tar-split records give exactly the headers and size of the tar they describe."""

from __future__ import annotations

import base64
import io
import json
import tarfile

import pytest

from trimdock.image.tarparse import TarFormatError, Window, parse
from trimdock.image.tarsplit import lines_before, lines_from, read_tar_split, split_lines


def make_tar(fmt: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt) as tar:

        def add(name: str, kind: bytes, data: bytes = b"", **extra: object) -> None:
            info = tarfile.TarInfo(name)
            info.type = kind
            info.size = len(data)
            info.mtime = 1_700_000_000
            for key, value in extra.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if data else None)

        add("etc", tarfile.DIRTYPE, mode=0o755)
        add("etc/passwd", tarfile.REGTYPE, b"root:x:0:0\n" * 50, uid=0, gid=0)
        add("etc/.wh.shadow", tarfile.REGTYPE)
        add("opt/.wh..wh..opq", tarfile.REGTYPE)
        add("etc/link", tarfile.LNKTYPE, linkname="etc/passwd")
        add("bin/sh", tarfile.SYMTYPE, linkname="busybox")
        add("long/" + "n" * 150 + "/file", tarfile.REGTYPE, b"x" * 513)
        add("empty", tarfile.REGTYPE)
        add("dev/null", tarfile.CHRTYPE, devmajor=1, devminor=3)
    return buffer.getvalue()


def tar_split_lines(tar: bytes) -> list[bytes]:
    """What the engine records for `tar` (vbatts/tar-split's disassembler, in effect): the raw
    bytes up to each member's data as a segment, then the member's content as a file entry."""
    lines = []
    position = 0
    done = 0

    def line(**fields: object) -> None:
        nonlocal position
        lines.append(json.dumps({**fields, "position": position}, separators=(",", ":")).encode())
        position += 1

    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        for member in archive.getmembers():
            segment = tar[done : member.offset_data]
            line(type=2, payload=base64.b64encode(segment).decode())
            size = member.size if member.isreg() else 0
            entry: dict[str, object] = {"type": 1, "name": member.name}
            if size:
                entry["size"] = size
            line(**entry, payload=None)
            done = member.offset_data + size
    line(type=2, payload=base64.b64encode(tar[done:]).decode())
    return [item + b"\n" for item in lines]


@pytest.mark.parametrize("fmt", [tarfile.USTAR_FORMAT, tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_headers_and_size_equal_the_tar(fmt: int) -> None:
    tar = make_tar(fmt) if fmt != tarfile.USTAR_FORMAT else make_tar_ustar()
    expected = tuple(entry for entry, _ in parse(Window(stream=io.BytesIO(tar))))
    entries, size = read_tar_split(tar_split_lines(tar))
    assert entries == expected
    assert size == len(tar)
    assert {e.path for e in entries} >= {"etc/.wh.shadow", "opt/.wh..wh..opq", "etc/link"}


def make_tar_ustar() -> bytes:
    # USTAR cannot hold the 150-character directory name; the rest is the same.
    buffer = io.BytesIO()
    with (
        tarfile.open(fileobj=io.BytesIO(make_tar(tarfile.GNU_FORMAT))) as source,
        tarfile.open(fileobj=buffer, mode="w", format=tarfile.USTAR_FORMAT) as tar,
    ):
        for member in source.getmembers():
            if len(member.name) < 100:
                tar.addfile(member, source.extractfile(member) if member.isreg() else None)
    return buffer.getvalue()


def test_an_empty_layer() -> None:
    tar = bytes(1024)
    assert read_tar_split(tar_split_lines(tar)) == ((), 1024)


def test_go_field_order_and_omitted_size() -> None:
    # Byte for byte what the engine writes (Go's encoding/json of storage.Entry).
    tar = make_tar(tarfile.GNU_FORMAT)
    lines = [
        line.replace(b'"payload":null', b'"payload":"3q2+7wAAAAA="')
        for line in tar_split_lines(tar)
    ]
    assert lines[3].startswith(b'{"type":1,"name":"etc/passwd","size":550,"payload":"')
    entries, size = read_tar_split(lines)
    assert size == len(tar) and len(entries) == 9


@pytest.mark.parametrize(
    ("damage", "problem"),
    [
        (lambda lines: [*lines[:3], b"{}\n", *lines[3:]], "unknown format"),
        (lambda lines: [lines[0].replace(b'"payload":"', b'"payload":"!!'), *lines[1:]], "invalid"),
        (lambda lines: lines[:5], "unexpected end of data"),
        (lambda lines: [lines[0][: 21 + 400] + b'","position":0}\n', *lines[1:]], "spans"),
        (
            lambda lines: [line.replace(b'"size":550', b'"size":5x0') for line in lines],
            "file size",
        ),
    ],
)
def test_damaged_records_are_format_errors(damage: object, problem: str) -> None:
    lines = tar_split_lines(make_tar(tarfile.GNU_FORMAT))
    with pytest.raises(TarFormatError, match=problem):
        read_tar_split(damage(lines))  # type: ignore[operator]


@pytest.mark.parametrize("chunk_size", [1, 7, 512, 1 << 20])
def test_lines_cut_from_chunks_read_the_same_as_whole_lines(chunk_size: int) -> None:
    lines = tar_split_lines(make_tar(tarfile.PAX_FORMAT))  # each line ends in a newline
    stream = io.BytesIO(b"".join(lines))
    assert read_tar_split(split_lines(stream, chunk_size)) == read_tar_split(lines)


def tricky_tar(fmt: int, **options: object) -> bytes:
    """Headers the fast reading must hand to the parser, between plain ones."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=fmt, **options) as tar:  # type: ignore[call-overload]

        def add(name: str, data: bytes = b"", **extra: object) -> None:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_700_000_000
            for key, value in extra.items():
                setattr(info, key, value)
            tar.addfile(info, io.BytesIO(data) if data else None)

        add("plain/a", b"a" * 700)
        add("./dot/b", b"b")
        add("big-uid", b"c", uid=8**8, gid=8**9)  # base-256 (GNU) or a PAX record
        add("dev/sda", type=tarfile.BLKTYPE, devmajor=8, devminor=1)
        add("p" * 90 + "/" + "q" * 90, b"split between prefix and name")
        add("later/link", type=tarfile.LNKTYPE, linkname="./plain/a")
        add("plain/c", b"d" * 513, mtime=1_700_000_000.5)
        add("üñí/côdé", b"e")
        add("plain/d")
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "options"),
    [
        (tarfile.GNU_FORMAT, {}),
        (tarfile.PAX_FORMAT, {}),
        # A global PAX header first: its records hold for every entry after it.
        (tarfile.PAX_FORMAT, {"pax_headers": {"uid": "4242", "comment": "global"}}),
    ],
)
def test_rows_read_every_header_as_the_parser_does(fmt: int, options: dict[str, object]) -> None:
    tar = tricky_tar(fmt, **options)
    expected = tuple(entry for entry, _ in parse(Window(stream=io.BytesIO(tar))))
    assert read_tar_split(tar_split_lines(tar)) == (expected, len(tar))
    assert len(expected) == 9
    if options:
        assert {entry.uid for entry in expected if entry.path != "big-uid"} == {4242}


def reference_cut(lines: list[bytes], cut: int) -> tuple[list[bytes], list[bytes]]:
    """The lines before the first file line starting at offset `cut` or later, and the rest."""
    at = 0
    for number, line in enumerate(lines):
        if at >= cut and line.startswith(b'{"type":1,'):
            return lines[:number], lines[number:]
        at += len(line) + 1
    return lines, []


@pytest.mark.parametrize("chunk_size", [7, 64, 1 << 20])
def test_a_cut_splits_the_lines_where_a_file_line_begins(chunk_size: int) -> None:
    data = b"".join(tar_split_lines(make_tar(tarfile.PAX_FORMAT)))
    lines = list(split_lines(io.BytesIO(data)))
    for cut in [0, 1, *range(5, len(data) + 2, 53)]:
        before = list(lines_before(io.BytesIO(data), cut, chunk_size))
        after = list(lines_from(io.BytesIO(data), cut, chunk_size))
        assert (before, after) == reference_cut(lines, cut), cut
