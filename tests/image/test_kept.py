"""What the save stream's one pass keeps for a `BodyRequest` (no engine: a crafted save stream
through the same parser): every picked file's read by its position (both copies of a path a
layer holds twice), bodies also kept for `layers` or digested for it (one body, both uses),
and nothing past the budget."""

from __future__ import annotations

import io
import tarfile
from typing import Any

from tests.security.crafted import tar_of
from trimdock.image.daemon import _Scan, _scan_save_stream
from trimdock.image.kept import BodyRequest, DigestingReader, content_digest
from trimdock.image.tarparse import Window, parse
from trimdock.security.collect import body_request
from trimdock.security.scanner import SCAN_SELECTORS

STATUS = b"Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b7\n\n"
OS_RELEASE = b'ID=debian\nVERSION_ID="12"\n'
BIG_EXE = bytes(range(256)) * 80  # 20 KiB, executable, not ELF: picked, read finds nothing
MEMBERS: list[tuple[str, bytes | None, int]] = [
    ("etc", None, 0o755),
    ("etc/os-release", OS_RELEASE, 0o644),
    ("var/lib/dpkg/status", STATUS, 0o644),
    ("usr/bin/tool", BIG_EXE, 0o755),
    ("usr/share/big.dat", b"x" * 20_000, 0o644),  # digested for `layers`, not picked
    ("app/.env", b"API_TOKEN=first\n", 0o644),
    ("app/.env", b"API_TOKEN=second\n", 0o644),  # the same path twice in one layer
]


def _save_stream(layer: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as outer:
        info = tarfile.TarInfo("0123abcd/layer.tar")
        info.size = len(layer)
        outer.addfile(info, io.BytesIO(layer))
    return buffer.getvalue()


def _scan(request: BodyRequest[Any] | None) -> _Scan:
    scan = _Scan("crafted", request)
    _scan_save_stream(io.BytesIO(_save_stream(tar_of(MEMBERS))), scan)
    assert len(scan.kept) == 1
    return scan


def _positions() -> dict[str, list[int]]:
    found: dict[str, list[int]] = {}
    for position, (entry, _) in enumerate(parse(Window(stream=io.BytesIO(tar_of(MEMBERS))))):
        found.setdefault(entry.path, []).append(position)
    return found


def test_every_picked_file_is_kept_by_position_with_what_collect_reads() -> None:
    scan = _scan(body_request(SCAN_SELECTORS))
    (kept,) = scan.kept.values()
    at = _positions()
    assert kept.reads == {
        at["etc/os-release"][0]: OS_RELEASE,
        at["var/lib/dpkg/status"][0]: STATUS,
        at["usr/bin/tool"][0]: None,  # looked at, not a Go binary
        at["app/.env"][0]: b"API_TOKEN=first\n",
        at["app/.env"][1]: b"API_TOKEN=second\n",
    }
    assert scan.reads_dropped == 0
    assert scan.reads_total == sum(len(data or b"") for data in kept.reads.values())
    # What `layers` keeps is unchanged by the request: the database body, whole digests.
    assert kept.bodies == {"var/lib/dpkg/status": STATUS}
    assert kept.digests == {
        "usr/bin/tool": content_digest(io.BytesIO(BIG_EXE)),
        "usr/share/big.dat": content_digest(io.BytesIO(b"x" * 20_000)),
    }


def test_without_a_request_only_what_layers_needs_is_kept() -> None:
    (kept,) = _scan(None).kept.values()
    assert kept.reads == {}
    assert kept.bodies == {"var/lib/dpkg/status": STATUS}
    assert set(kept.digests) == {"usr/bin/tool", "usr/share/big.dat"}


def test_reads_past_the_budget_are_dropped_not_kept() -> None:
    request = body_request(SCAN_SELECTORS)
    small = BodyRequest(pick=request.pick, read=request.read, budget=len(OS_RELEASE) + 20)
    scan = _scan(small)
    (kept,) = scan.kept.values()
    at = _positions()
    # os-release fits, the dpkg status does not; the empty read and the first .env still fit.
    assert kept.reads == {
        at["etc/os-release"][0]: OS_RELEASE,
        at["usr/bin/tool"][0]: None,
        at["app/.env"][0]: b"API_TOKEN=first\n",
    }
    assert scan.reads_dropped == 2
    assert scan.reads_total <= small.budget


def test_a_digesting_reader_hashes_the_whole_body_whatever_was_read_first() -> None:
    body = bytes(range(256)) * 10_000
    for first in (0, 1, 4096, len(body), len(body) + 1):
        reader = DigestingReader(io.BytesIO(body))
        assert reader.read(first) == body[:first]
        assert reader.finish() == content_digest(io.BytesIO(body))
