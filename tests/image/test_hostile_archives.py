"""Hostile archives crafted byte by byte: every one ends in one clear line and exit 2, promptly,
with nothing left in the temporary folder (issue 8: items 1, 4, 5, 10, 11)."""

from __future__ import annotations

import gzip
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from trimdock.cli.main import run
from trimdock.errors import ImageSourceError
from trimdock.image import store as store_module
from trimdock.image.open import open_image
from trimdock.image.tarparse import MAX_SPECIAL, TarFormatError, Window, parse

from .hostile import (
    base256,
    docker_archive,
    end,
    file_entry,
    header,
    layer,
    oci_layout,
    padded,
    pax,
    pax_record,
)

GOOD = file_entry(b"etc/ok", b"fine\n")


@pytest.fixture(autouse=True)
def private_tmpdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A temporary folder of its own: whatever the code under test leaves there is seen."""
    folder = tmp_path / "tmpdir"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr("tempfile.tempdir", None)
    yield folder
    assert list(folder.iterdir()) == []


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = run(["layers", *args])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(capsys: pytest.CaptureFixture[str], reference: str, *args: str) -> str:
    code, _out, err = cli(capsys, reference, *args)
    assert code == 2, err
    assert err.startswith(f"trimdock: {reference}: ") and err.count("\n") == 1, err
    assert "internal error" not in err
    return err


def parse_bytes(data: bytes, *, stream: bool) -> list[str]:
    import io

    if stream:
        window = Window(stream=io.BytesIO(data))
    else:
        window = Window(read_at=lambda offset, size: data[offset : offset + size])
    return [entry.path for entry, _ in parse(window)]


# -- item 1: headers that do not advance --------------------------------------------------------

NEGATIVE = {
    "base256": GOOD + header(b"etc/bad", size=base256(-1536)) + end(),
    "pax": GOOD + pax({"size": "-1536"}) + header(b"etc/bad", size=0) + end(),
    "octal-sign": GOOD + header(b"etc/bad", size=b"-0003000\0\0\0\0") + end(),
}
MALFORMED = {
    "pax-size-text": GOOD + pax({"size": "12abc"}) + header(b"etc/bad") + end(),
    "pax-size-inf": GOOD + pax({"size": "inf"}) + header(b"etc/bad") + end(),
    "pax-length-zero": GOOD + pax({}, raw=b"0 size=1\n") + header(b"etc/bad") + end(),
    "pax-length-negative": GOOD + pax({}, raw=b"-9 size=1\n") + header(b"etc/bad") + end(),
    "pax-uid-text": GOOD + pax({"uid": "x"}) + header(b"etc/bad") + end(),
    "pax-mtime-inf": GOOD + pax({"mtime": "inf"}) + header(b"etc/bad") + end(),
    "pax-mtime-nan": GOOD + pax({"mtime": "nan"}) + header(b"etc/bad") + end(),
    "size-text": GOOD + header(b"etc/bad", size=b"zzzzzzzzzzz\0") + end(),
    "longname-huge": GOOD + header(b"././@LongLink", size=1 << 40, flag=b"L") + end(),
}


@pytest.mark.parametrize("stream", [False, True], ids=["seek", "stream"])
@pytest.mark.parametrize(
    "data", [*NEGATIVE.values(), *MALFORMED.values()], ids=[*NEGATIVE, *MALFORMED]
)
def test_the_parser_refuses_headers_that_would_not_advance(data: bytes, stream: bool) -> None:
    with pytest.raises(TarFormatError):
        parse_bytes(data, stream=stream)


def test_special_headers_are_bounded_but_normal_ones_pass() -> None:
    long_name = "d/" + "n" * 300
    data = header(b"././@LongLink", size=len(long_name) + 1, flag=b"L")
    data += padded(long_name.encode() + b"\0") + header(b"ignored") + end()
    assert parse_bytes(data, stream=True) == [long_name]
    fractional = pax({"mtime": "1700000000.25", "uid": "7"}) + header(b"f") + end()
    assert parse_bytes(fractional, stream=False) == ["f"]
    assert MAX_SPECIAL == 1 << 20
    assert pax_record("a", "b") == b"6 a=b\n"


def sources(tmp_path: Path, tar: bytes) -> list[str]:
    return [
        f"docker-archive:{docker_archive(tmp_path / 'image.tar', [tar])}",
        f"oci:{oci_layout(tmp_path / 'plain', [tar], compress=False)}",
        f"oci:{oci_layout(tmp_path / 'gzip', [tar], compress=True)}",
    ]


@pytest.mark.parametrize("verify", [True, False], ids=["verify", "no-verify"])
@pytest.mark.parametrize("kind", list(NEGATIVE))
def test_negative_sizes_are_one_line_for_every_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str, verify: bool
) -> None:
    for reference in sources(tmp_path, NEGATIVE[kind]):
        flags = [] if verify else ["--no-verify"]
        err = one_line_error(capsys, reference, *flags)
        assert "negative size" in err or "invalid" in err, err


def test_a_negative_size_in_the_outer_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = tmp_path / "outer.tar"
    archive.write_bytes(GOOD + header(b"manifest.json", size=base256(-1536)) + end())
    one_line_error(capsys, f"docker-archive:{archive}")


# -- items 4 and 5: compressed archives ---------------------------------------------------------


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_compressed_archive_is_one_line_and_leaves_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    good = docker_archive(
        tmp_path / "good.tar.gz", [layer(("a", b"x" * 5000, "file"))], compress=True
    )
    data = good.read_bytes()
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(
        data[: len(data) // 2] if damage == "truncated" else data[:10] + os.urandom(4000)
    )
    err = one_line_error(capsys, f"docker-archive:{bad}")
    assert "corrupt or truncated compressed archive" in err


def test_a_compressed_archive_is_read_without_a_named_temp_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = docker_archive(
        tmp_path / "ok.tar.gz", [layer(("a", b"hello", "file"))], compress=True
    )
    code, out, err = cli(capsys, f"docker-archive:{archive}", "--at", "0")
    assert code == 0, err
    assert "/a" in out


def test_decompression_is_bounded_by_the_free_temp_space(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # A 1 MB gzip that expands to 64 MB, against a temp file system with 20 MB free.
    bomb = tmp_path / "bomb.tar.gz"
    bomb.write_bytes(gzip.compress(bytes(64 << 20), compresslevel=1))
    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(
        store_module.shutil, "disk_usage", lambda _path: usage._replace(free=20_000_000)
    )
    err = one_line_error(capsys, f"docker-archive:{bomb}")
    assert "larger than 18.0 MB (18000000 bytes)" in err and "TMPDIR" in err


def test_the_spool_limit_keeps_a_margin() -> None:
    assert store_module.spool_limit("/") <= shutil.disk_usage("/").free


def test_an_interrupt_during_decompression_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, private_tmpdir: Path
) -> None:
    archive = docker_archive(
        tmp_path / "ok.tar.gz", [layer(("a", b"x" * 100, "file"))], compress=True
    )
    real = store_module.decompressed

    class Interrupting:
        def __init__(self, inner: Any) -> None:
            self.inner = inner
            self.calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls == 2:
                raise KeyboardInterrupt
            return bytes(self.inner.read(size))

    def interrupting(raw: Any) -> Any:
        data, kind = real(raw)
        return Interrupting(data), kind

    monkeypatch.setattr(store_module, "decompressed", interrupting)
    for exc in (KeyboardInterrupt,):
        with pytest.raises(exc), open_image(f"docker-archive:{archive}"):
            pass
    assert list(private_tmpdir.iterdir()) == []


# -- items 10 and 11: pipes, FIFOs, devices, deep JSON ------------------------------------------


def test_an_archive_through_a_pipe_is_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archive = docker_archive(tmp_path / "ok.tar", [layer(("a", b"hello", "file"))])
    read_end, write_end = os.pipe()

    def feed() -> None:
        with os.fdopen(write_end, "wb") as out:
            out.write(archive.read_bytes())

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        code, out, err = cli(capsys, f"docker-archive:/dev/fd/{read_end}", "--at", "0")
    finally:
        writer.join()
        os.close(read_end)
    assert code == 0, err
    assert "/a" in out


def test_a_fifo_nobody_writes_to_does_not_block(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fifo = tmp_path / "image.tar"
    os.mkfifo(fifo)
    err = one_line_error(capsys, f"docker-archive:{fifo}")
    assert "empty" in err


def test_a_device_is_not_an_archive(capsys: pytest.CaptureFixture[str]) -> None:
    err = one_line_error(capsys, "docker-archive:/dev/zero")
    assert "is a character device, not an archive file" in err


@pytest.mark.parametrize("member", ["manifest.json", "config"])
def test_deeply_nested_json_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], member: str
) -> None:
    import io
    import tarfile

    deep = b"[" * 100_000 + b"]" * 100_000
    archive = tmp_path / "deep.tar"
    with tarfile.open(archive, "w") as tar:
        members = {"manifest.json": deep}
        if member == "config":
            members = {
                "c.json": deep,
                "manifest.json": b'[{"Config": "c.json", "Layers": []}]',
            }
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    err = one_line_error(capsys, f"docker-archive:{archive}")
    assert "nested too deeply" in err


def test_deeply_nested_index_json_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    layout = oci_layout(tmp_path / "layout", [layer(("a", b"x", "file"))], compress=False)
    (layout / "index.json").write_bytes(b'{"a":' + b"[" * 100_000 + b"]" * 100_000 + b"}")
    err = one_line_error(capsys, f"oci:{layout}")
    assert "nested too deeply" in err


def test_image_source_error_is_raised_in_process(tmp_path: Path) -> None:
    archive = tmp_path / "bad.tar"
    archive.write_bytes(GOOD + header(b"x", size=base256(-1)) + end())
    with pytest.raises(ImageSourceError), open_image(f"docker-archive:{archive}"):
        pass
