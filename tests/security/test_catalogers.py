"""Catalogers and selection on crafted inputs: pure functions, good inputs beside bad ones."""

from __future__ import annotations

import datetime as dt
import shutil
import subprocess
from pathlib import Path

import pytest

from trimdock.image.model import EntryType, LayerEntry
from trimdock.security.catalog.apk import parse_apk_installed
from trimdock.security.catalog.dpkg import parse_dpkg_status
from trimdock.security.catalog.gobuild import go_records, parse_buildinfo
from trimdock.security.catalog.npm import parse_package_json
from trimdock.security.catalog.python import canonical_name, parse_python_metadata
from trimdock.security.collect import Kind, read_go_buildinfo, select_inventory
from trimdock.security.osrelease import end_of_life, os_info

DPKG = b"""Package: libssl3
Status: install ok installed
Architecture: amd64
Source: openssl (3.0.11-1~deb12u2)
Version: 3.0.11-1~deb12u2+b1
Description: Secure Sockets Layer toolkit
 continuation: not a field

Package: zlib1g
Status: install ok installed
Source: zlib
Version: 1:1.2.13.dfsg-1

Package: oldpkg
Status: deinstall ok config-files
Version: 1.0

Package: bash
Status: install ok installed
Version: 5.2.15-2+b2
"""


def test_dpkg_status_source_package_and_states() -> None:
    records = {r.name: r for r in parse_dpkg_status(DPKG)}
    assert set(records) == {"libssl3", "zlib1g", "bash"}  # config-files only: not installed
    assert (records["libssl3"].source_name, records["libssl3"].source_version) == (
        "openssl",
        "3.0.11-1~deb12u2",
    )
    assert (records["zlib1g"].source_name, records["zlib1g"].source_version) == (
        "zlib",
        "1:1.2.13.dfsg-1",
    )
    assert (records["bash"].source_name, records["bash"].source_version) == (
        "bash",
        "5.2.15-2+b2",
    )
    assert records["libssl3"].arch == "amd64"


def test_apk_installed() -> None:
    data = (
        b"C:Q1abc=\nP:musl\nV:1.2.4-r2\nA:x86_64\nL:MIT\no:musl\n\n"
        b"P:libcrypto3\nV:3.1.4-r1\nL:Apache-2.0\no:openssl\n\nP:broken\n"
    )
    records = parse_apk_installed(data)
    assert [(r.name, r.version, r.licence, r.source_name) for r in records] == [
        ("musl", "1.2.4-r2", "MIT", "musl"),
        ("libcrypto3", "3.1.4-r1", "Apache-2.0", "openssl"),
    ]


@pytest.mark.parametrize(
    ("metadata", "expected"),
    [
        (
            b"Metadata-Version: 2.1\nName: Foo_Bar\nVersion: 1.0\nLicense: MIT\n\nbody",
            ("Foo_Bar", "1.0", "MIT"),
        ),
        (
            b"Metadata-Version: 2.4\nName: x\nVersion: 2\nLicense-Expression: Apache-2.0 OR MIT\n",
            ("x", "2", "Apache-2.0 OR MIT"),
        ),
        (
            b"Name: y\nVersion: 3\nLicense: UNKNOWN\n"
            b"Classifier: License :: OSI Approved :: BSD License\n",
            ("y", "3", "BSD License"),
        ),
    ],
)
def test_python_metadata(metadata: bytes, expected: tuple[str, str, str]) -> None:
    [record] = parse_python_metadata(metadata)
    assert (record.name, record.version, record.licence) == expected


def test_python_metadata_without_version_is_ignored() -> None:
    assert parse_python_metadata(b"Name: x\n") == []
    assert canonical_name("Zope.Interface__x") == "zope-interface-x"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b'{"name": "@scope/pkg", "version": "1.2.3", "license": "ISC"}',
            [("@scope/pkg", "1.2.3", "ISC")],
        ),
        (b'{"name": "a", "version": "1.0.0", "license": {"type": "MIT"}}', [("a", "1.0.0", "MIT")]),
        (b'{"name": "a"}', []),
        (b"not json", []),
        (b"[1, 2]", []),
    ],
)
def test_package_json(data: bytes, expected: list[tuple[str, str, str]]) -> None:
    assert [(r.name, r.version, r.licence) for r in parse_package_json(data)] == expected


def _entry(path: str, mode: int = 0o644, size: int = 10) -> LayerEntry:
    return LayerEntry(path=path, type=EntryType.FILE, size=size, mode=mode)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("var/lib/dpkg/status", Kind.DPKG_STATUS),
        ("var/lib/dpkg/status.d/libc6", Kind.DPKG_STATUS_D),
        ("lib/apk/db/installed", Kind.APK_INSTALLED),
        ("usr/lib/os-release", Kind.OS_RELEASE),
        ("usr/lib/python3/dist-packages/six-1.16.0.dist-info/METADATA", Kind.PYTHON_METADATA),
        ("usr/lib/python3/dist-packages/foo-1.0.egg-info/PKG-INFO", Kind.PYTHON_METADATA),
        ("usr/lib/python3/dist-packages/foo-1.0.egg-info", Kind.PYTHON_METADATA),
        ("app/node_modules/left-pad/package.json", Kind.NPM_PACKAGE),
        ("node_modules/@babel/core/package.json", Kind.NPM_PACKAGE),
        ("app/node_modules/a/node_modules/b/package.json", Kind.NPM_PACKAGE),
        # Quiet: look-alikes that are not package records.
        ("var/lib/dpkg/status-old", None),
        ("var/lib/dpkg/status.d/libc6.md5sums", None),
        ("app/package.json", None),
        ("app/node_modules/left-pad/lib/package.json", None),
        ("app/node_modules/@scope/package.json", None),
        ("srv/foo.dist-info/RECORD", None),
        ("srv/METADATA", None),
        ("etc/os-release.bak", None),
    ],
)
def test_selection_by_path(path: str, kind: Kind | None) -> None:
    assert select_inventory(_entry(path)) is kind


def test_selection_of_binaries_by_mode() -> None:
    assert select_inventory(_entry("usr/local/bin/app", 0o755, 5000)) is Kind.GO_BINARY
    assert select_inventory(_entry("usr/local/bin/app", 0o644, 5000)) is None
    assert select_inventory(_entry("usr/lib/libx.so.1", 0o755, 5000)) is None


def _uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _buildinfo(version: str, modinfo: str) -> bytes:
    sentinel = b"0123456789abcdef"
    mod = sentinel + modinfo.encode() + b"\n" + sentinel[:0] + b"fedcba9876543210"
    # The trailing sentinel follows a newline: 16 bytes after it.
    header = b"\xff Go buildinf:" + bytes([8, 2]) + b"\0" * 16
    return header + _uvarint(len(version)) + version.encode() + _uvarint(len(mod)) + mod


MODINFO = (
    "path\texample.com/cmd/app\n"
    "mod\texample.com\tv1.4.0\th1:abc=\n"
    "dep\tgolang.org/x/net\tv0.17.0\th1:def=\n"
    "dep\tgithub.com/old/lib\tv1.0.0\n"
    "=>\tgithub.com/fork/lib\tv1.0.1\th1:ghi=\n"
    "build\tGOOS=linux"
)


def test_go_buildinfo_crafted_blob() -> None:
    info = parse_buildinfo(_buildinfo("go1.21.5", MODINFO))
    assert info is not None
    assert info.path == "example.com/cmd/app"
    assert [(r.name, r.version) for r in go_records(info)] == [
        ("stdlib", "1.21.5"),
        ("example.com", "v1.4.0"),
        ("golang.org/x/net", "v0.17.0"),
        ("github.com/fork/lib", "v1.0.1"),  # the replacement is what was compiled in
    ]


def test_go_buildinfo_found_in_a_stream_at_aligned_offset(tmp_path: Path) -> None:
    blob = _buildinfo("go1.22.0", MODINFO)
    # A misaligned magic first (not build info), then the real one at a 16-byte boundary.
    note = b"\x04\x00\x00\x00Go\x00\x00"
    body = b"\x7fELF" + b"\0" * 53 + note + b"\xff Go buildinf:" + b"\0" * (4096 - 79) + blob
    path = tmp_path / "bin"
    path.write_bytes(body)
    with path.open("rb") as handle:
        found = read_go_buildinfo(handle)
    assert found is not None and found.startswith(blob)
    path.write_bytes(body.replace(note, b"\0" * 8))  # an ELF file without Go's note
    with path.open("rb") as handle:
        assert read_go_buildinfo(handle) is None
    path.write_bytes(b"#!/bin/sh\necho not elf\n")
    with path.open("rb") as handle:
        assert read_go_buildinfo(handle) is None


def test_go_buildinfo_of_a_real_binary_matches_its_go_version() -> None:
    docker_cli = shutil.which("docker")
    if docker_cli is None:
        pytest.skip("no docker CLI (a Go binary with a known toolchain) on this machine")
    oracle = subprocess.run(
        [docker_cli, "version", "--format", "{{.Client.GoVersion}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()
    with open(docker_cli, "rb") as handle:
        blob = read_go_buildinfo(handle)
    assert blob is not None
    info = parse_buildinfo(blob)
    assert info is not None and info.go_version == oracle
    assert info.path  # the main package (the docker CLI is built without modules: no deps)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\n',
            ("debian", "12", dt.date(2028, 6, 30)),
        ),
        (
            b"ID=alpine\nVERSION_ID=3.18.4\nPRETTY_NAME='Alpine Linux v3.18'\n",
            ("alpine", "3.18.4", dt.date(2025, 5, 9)),
        ),
        (b'ID=ubuntu\nVERSION_ID="22.04"\n', ("ubuntu", "22.04", dt.date(2027, 6, 1))),
        (b'ID="rhel"\nVERSION_ID="9.3"\n', ("rhel", "9.3", None)),
    ],
)
def test_os_release_and_eol(text: bytes, expected: tuple[str, str, dt.date | None]) -> None:
    info = os_info(text, layer=0, path="usr/lib/os-release")
    assert info is not None
    assert (info.id, info.version_id, info.eol) == expected


def test_eol_is_a_finding_only_after_the_date() -> None:
    info = os_info(b"ID=debian\nVERSION_ID=10\n", layer=0, path="etc/os-release")
    assert info is not None and info.eol == end_of_life("debian", "10")
    assert info.is_eol(dt.date(2024, 7, 1))
    assert not info.is_eol(dt.date(2024, 6, 30))
    assert os_info(b"NAME=nothing\n", layer=0, path="etc/os-release") is None
