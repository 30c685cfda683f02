"""rpm (a real rpmdb.sqlite made by rpm itself, and crafted header blobs), Java archives, gems,
npm lock files, DEP-5 copyright licences, and the selection gate (no engine)."""

from __future__ import annotations

import io
import json
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tests.security.crafted import crafted_image
from trimdock.cli.main import run
from trimdock.image.model import EntryType, LayerEntry
from trimdock.security.catalog.copyright import dep5_licences
from trimdock.security.catalog.gems import parse_gemspec
from trimdock.security.catalog.java import parse_java_archive
from trimdock.security.catalog.npm import parse_package_lock
from trimdock.security.catalog.records import Record
from trimdock.security.catalog.rpm import parse_header, parse_rpmdb_sqlite, record_of
from trimdock.security.collect import INVENTORY, Kind, select_inventory
from trimdock.security.secrets import SECRETS, select_secret_files

# -- rpm ---------------------------------------------------------------------------------------

SPEC = """Name: tiny-tool
Version: 1.2.3
Release: 4.el9
Epoch: 2
Summary: tiny
License: MIT AND Apache-2.0
BuildArch: noarch
%description
tiny
%files
"""


def real_rpmdb(tmp_path: Path, spec: str = SPEC) -> bytes:
    """An rpmdb.sqlite written by rpm (Debian's rpm package, installed by scripts/scan-tools.sh)
    holding the packages rpmbuild builds from `spec`."""
    top = tmp_path / "rpmbuild"
    (top / "SPECS").mkdir(parents=True)
    (top / "SPECS" / "tiny.spec").write_text(spec)
    sqlite = ["--define", "_db_backend sqlite"]
    subprocess.run(
        ["rpmbuild", "--define", f"_topdir {top}", *sqlite, "-bb", str(top / "SPECS/tiny.spec")],
        check=True,
        capture_output=True,
    )
    packages = [str(p) for p in sorted((top / "RPMS" / "noarch").glob("*.rpm"))]
    db = tmp_path / "db"
    db.mkdir()
    subprocess.run(["rpm", *sqlite, "--dbpath", str(db), "--initdb"], check=True)
    subprocess.run(
        ["rpm", *sqlite, "--dbpath", str(db), "-i", "--nodeps", "--justdb", *packages],
        check=True,
        capture_output=True,
    )
    return (db / "rpmdb.sqlite").read_bytes()


needs_rpm = pytest.mark.skipif(
    shutil.which("rpmbuild") is None, reason="rpm tools missing: run scripts/scan-tools.sh"
)


@needs_rpm
def test_rpmdb_sqlite_written_by_rpm_matches_rpm_query(tmp_path: Path) -> None:
    data = real_rpmdb(tmp_path)
    # The oracle: rpm's own query of the same database.
    query = subprocess.run(
        [
            "rpm",
            "--define",
            "_db_backend sqlite",
            "--dbpath",
            str(tmp_path / "db"),
            "-qa",
            "--qf",
            "%{NAME}|%{EPOCH}:%{VERSION}-%{RELEASE}|%{ARCH}|%{LICENSE}\\n",
        ],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    expected = [tuple(line.split("|")) for line in query.splitlines()]
    got = [(r.name, r.version, r.arch, r.licence) for r in parse_rpmdb_sqlite(data)]
    assert got == expected == [("tiny-tool", "2:1.2.3-4.el9", "noarch", "MIT AND Apache-2.0")]


def _header(entries: list[tuple[int, int, bytes, int]]) -> bytes:
    """A header blob per rpm's format: il, dl, index entries (tag, type, offset, count), store."""
    index = b""
    store = b""
    for tag, kind, value, count in entries:
        index += struct.pack(">IIII", tag, kind, len(store), count)
        store += value
    return struct.pack(">II", len(entries), len(store)) + index + store


def test_crafted_header_blob() -> None:
    blob = _header(
        [
            (1000, 6, b"openssl-libs\0", 1),
            (1001, 6, b"3.0.7\0", 1),
            (1002, 6, b"27.el9\0", 1),
            (1003, 4, struct.pack(">I", 1), 1),
            (1014, 6, b"ASL 2.0\0", 1),
            (1022, 6, b"x86_64\0", 1),
            (1044, 6, b"openssl-3.0.7-27.el9.src.rpm\0", 1),
        ]
    )
    assert record_of(parse_header(blob)) == Record(
        name="openssl-libs",
        version="1:3.0.7-27.el9",
        licence="ASL 2.0",
        source_name="openssl",
        source_version="1:3.0.7-27.el9",
        arch="x86_64",
    )
    # No epoch tag: no epoch prefix; damaged blobs give nothing.
    plain = _header([(1000, 6, b"bash\0", 1), (1001, 6, b"5.1.8\0", 1)])
    assert record_of(parse_header(plain)) == Record(
        "bash", "5.1.8", source_name="bash", source_version="5.1.8"
    )
    assert parse_header(blob[:20]) == {}
    assert parse_header(b"\xff\xff\xff\xff" + blob[4:]) == {}
    assert parse_rpmdb_sqlite(b"not a database") == []


# -- Java --------------------------------------------------------------------------------------


def _zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _pom(group: str, artifact: str, version: str) -> bytes:
    return (
        f"#Generated by Maven\ngroupId={group}\nartifactId={artifact}\nversion={version}\n".encode()
    )


def test_java_archive_pom_properties_manifest_and_nested() -> None:
    inner = _zip(
        {"META-INF/maven/org.yaml/snakeyaml/pom.properties": _pom("org.yaml", "snakeyaml", "1.33")}
    )
    manifest_only = _zip(
        {
            "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\r\nImplementation-Title: tool\r\n"
            b"Implementation-Version: 4.5\r\nImplementation-Vendor-Id: com.example\r\n"
        }
    )
    deeper = _zip({"lib/x.jar": inner})  # two levels down: not read
    outer = _zip(
        {
            "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\nImplementation-Version: 9\n",
            "META-INF/maven/com.example/app/pom.properties": _pom("com.example", "app", "1.0.0"),
            "BOOT-INF/lib/snakeyaml-1.33.jar": inner,
            "BOOT-INF/lib/tool.jar": manifest_only,
            "BOOT-INF/lib/deeper.jar": deeper,
            "BOOT-INF/lib/broken.jar": b"PK not a zip",
        }
    )
    got = sorted((r.name, r.version) for r in parse_java_archive(outer))
    assert got == [
        ("com.example:app", "1.0.0"),
        ("com.example:tool", "4.5"),
        ("org.yaml:snakeyaml", "1.33"),
    ]
    assert parse_java_archive(b"garbage") == []
    # A manifest without a version names nothing.
    assert parse_java_archive(_zip({"META-INF/MANIFEST.MF": b"Implementation-Title: x\n"})) == []


# -- Ruby, npm locks, DEP-5 ----------------------------------------------------------------------

GEMSPEC = b"""# -*- encoding: utf-8 -*-
# stub: rack 2.2.3 ruby lib

Gem::Specification.new do |s|
  s.name = "rack".freeze
  s.version = "2.2.3"
  s.licenses = ["MIT".freeze]
  s.summary = "a modular Ruby webserver interface".freeze
end
"""


def test_gemspec() -> None:
    assert parse_gemspec(GEMSPEC) == [Record("rack", "2.2.3", licence="MIT")]
    assert parse_gemspec(b"Gem::Specification.new do |s|\n  s.name = 'x'\nend\n") == []


LOCK_V3: dict[str, Any] = {
    "name": "app",
    "version": "1.0.0",
    "lockfileVersion": 3,
    "packages": {
        "": {"name": "app", "version": "1.0.0"},
        "node_modules/lodash": {"version": "4.17.20", "license": "MIT"},
        "node_modules/@babel/core": {"version": "7.1.0"},
        "node_modules/a/node_modules/lodash": {"version": "4.17.11"},
        "packages/lib": {"name": "lib", "version": "0.1.0"},
        "node_modules/lib": {"resolved": "packages/lib", "link": True},
    },
}


def test_package_lock_v2_v3() -> None:
    got = sorted(
        (r.name, r.version, r.licence) for r in parse_package_lock(json.dumps(LOCK_V3).encode())
    )
    assert got == [
        ("@babel/core", "7.1.0", ""),
        ("lib", "0.1.0", ""),
        ("lodash", "4.17.11", ""),
        ("lodash", "4.17.20", "MIT"),
    ]
    v1 = {"lockfileVersion": 1, "dependencies": {"lodash": {"version": "4.17.20"}}}
    assert parse_package_lock(json.dumps(v1).encode()) == []
    assert parse_package_lock(b"{broken") == []


DEP5 = b"""Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: zlib

Files: *
Copyright: 1995-2022 Jean-loup Gailly and Mark Adler
License: Zlib
 This software is provided 'as-is', without any express or implied warranty.

Files: debian/*
License: GPL-2+ or Zlib
"""


def test_dep5_licences() -> None:
    assert dep5_licences(DEP5) == "Zlib AND GPL-2+ or Zlib"
    # Free-form copyright files give no licence (unknown), never a guess.
    assert dep5_licences(b"This is Debian's prepackaged version of foo.\nLicense: GPL\n") == ""


# -- selection ---------------------------------------------------------------------------------


def _entry(path: str, mode: int = 0o644, size: int = 2000) -> LayerEntry:
    return LayerEntry(path, EntryType.FILE, size, mode, 0, 0, 0)


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("var/lib/rpm/rpmdb.sqlite", Kind.RPM_SQLITE),
        ("usr/lib/sysimage/rpm/rpmdb.sqlite", Kind.RPM_SQLITE),
        ("var/lib/rpm/Packages", Kind.RPM_BDB),
        ("var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", None),
        ("opt/app/app.jar", Kind.JAVA_ARCHIVE),
        ("usr/local/tomcat/webapps/ROOT.war", Kind.JAVA_ARCHIVE),
        ("usr/local/bundle/specifications/rack-2.2.3.gemspec", Kind.GEMSPEC),
        ("app/rack.gemspec", None),
        ("app/package-lock.json", Kind.NPM_LOCK),
        ("app/node_modules/.package-lock.json", None),
        ("app/node_modules/x/package-lock.json", None),
        ("usr/share/doc/zlib1g/copyright", Kind.DPKG_COPYRIGHT),
        ("usr/share/doc/zlib1g/examples/copyright", None),
        ("var/lib/dpkg/status.d/base", Kind.DPKG_STATUS_D),
        ("usr/lib/python3/dist-packages/six-1.16.0.egg-info", Kind.PYTHON_METADATA),
        ("data/small/d1/f1", None),
    ],
)
def test_new_selection_by_path(path: str, kind: Kind | None) -> None:
    assert select_inventory(_entry(path)) is kind


GATE_TABLE = [
    "etc/os-release",
    "usr/lib/os-release",
    "var/lib/dpkg/status",
    "var/lib/dpkg/status.d/base",
    "lib/apk/db/installed",
    "var/lib/rpm/rpmdb.sqlite",
    "var/lib/rpm/Packages",
    "usr/share/doc/zlib1g/copyright",
    "usr/lib/python3/site-packages/six-1.16.0.dist-info/METADATA",
    "usr/lib/python3/site-packages/x-1.egg-info/PKG-INFO",
    "usr/lib/python3/dist-packages/six-1.16.0.egg-info",
    "app/node_modules/@s/x/package.json",
    "app/package-lock.json",
    "opt/a.jar",
    "opt/a.ear",
    "usr/local/bundle/specifications/rack-2.2.3.gemspec",
    "root/.npmrc",
    "app/.env",
    "app/.env.production",
    "home/u/.docker/config.json",
    "app/settings.yaml",
    "srv/id_rsa",
    "app/certs/server.pem",
]


@pytest.mark.parametrize("path", GATE_TABLE)
def test_gate_admits_every_file_a_selector_takes(path: str) -> None:
    for mode in (0o644, 0o755):
        entry = _entry(path, mode)
        for selector, pick in ((INVENTORY, select_inventory), (SECRETS, select_secret_files)):
            if pick(entry) is not None:
                assert selector.gate(entry), (path, oct(mode))
    assert select_inventory(_entry(path)) or select_secret_files(_entry(path))


def test_gate_admits_executables_for_go_binaries() -> None:
    entry = _entry("usr/local/bin/app", 0o755, 5000)
    assert INVENTORY.gate(entry) and select_inventory(entry) is Kind.GO_BINARY
    assert not INVENTORY.gate(_entry("data/small/d1/f1"))


# -- through the scan ------------------------------------------------------------------------


def test_scan_reads_new_catalogers_and_notes_unread_rpm_bdb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    copyright_free = b"This package was debianized by someone.\n"
    status = b"Package: zlib1g\nStatus: install ok installed\nVersion: 1:1.2.13\n\n" + (
        b"Package: tzdata\nStatus: install ok installed\nVersion: 2024a\n"
    )
    jar = _zip(
        {"META-INF/maven/org.yaml/snakeyaml/pom.properties": _pom("org.yaml", "snakeyaml", "1.33")}
    )
    image = crafted_image(
        tmp_path / "img",
        [
            [
                ("etc/os-release", b'ID=debian\nVERSION_ID="12"\nPRETTY_NAME="Debian 12"\n', 0o644),
                ("usr/share/doc/zlib1g/copyright", DEP5, 0o644),
                ("usr/share/doc/tzdata/copyright", copyright_free, 0o644),
                ("usr/share/doc/unlisted/copyright", DEP5, 0o644),
                ("var/lib/dpkg/status", status, 0o644),
            ],
            [
                ("opt/app.jar", jar, 0o644),
                ("usr/local/bundle/specifications/rack-2.2.3.gemspec", GEMSPEC, 0o644),
                ("app/package-lock.json", json.dumps(LOCK_V3).encode(), 0o644),
                ("var/lib/rpm/Packages", b"\0" * 4096, 0o644),
            ],
        ],
    )
    assert run(["scan", image, "-F", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    packages = {(p["ecosystem"], p["name"], p["version"]): p for p in document["packages"]}
    assert packages["Debian", "zlib1g", "1:1.2.13"]["licence"] == "Zlib AND GPL-2+ or Zlib"
    assert packages["Debian", "tzdata", "2024a"]["licence"] is None
    assert not any(name == "unlisted" for _, name, _ in packages)
    snake = packages["Maven", "org.yaml:snakeyaml", "1.33"]
    assert snake["purl"] == "pkg:maven/org.yaml/snakeyaml@1.33" and snake["layer"] == 1
    assert packages["RubyGems", "rack", "2.2.3"]["purl"] == "pkg:gem/rack@2.2.3"
    assert packages["npm", "@babel/core", "7.1.0"]["purl"] == "pkg:npm/%40babel/core@7.1.0"
    assert document["notes"] == [
        "var/lib/rpm/Packages (layer 1): an rpm Berkeley DB database is not read; "
        "its packages are not in the inventory"
    ]


@needs_rpm
def test_scan_reads_a_real_rpmdb_in_a_layer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = real_rpmdb(tmp_path)
    image = crafted_image(
        tmp_path / "img",
        [
            [
                ("etc/os-release", b'ID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky 9"\n', 0o644),
                ("var/lib/rpm/rpmdb.sqlite", data, 0o644),
            ]
        ],
    )
    assert run(["scan", image, "-F", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    (package,) = document["packages"]
    assert (package["ecosystem"], package["name"], package["version"]) == (
        "RPM",
        "tiny-tool",
        "2:1.2.3-4.el9",
    )
    assert package["purl"] == "pkg:rpm/rocky/tiny-tool@2:1.2.3-4.el9?arch=noarch&distro=rocky-9.3"
    assert package["licence"] == "MIT AND Apache-2.0"


@pytest.mark.parametrize("path", [*GATE_TABLE, "data/small/d1/f1", "usr/bin/app", "a/b.txt"])
def test_one_function_picker_equals_gate_then_selectors(path: str) -> None:
    from trimdock.security.collect import _Gate

    gate = _Gate((INVENTORY, SECRETS))
    picker = gate.picker()
    for mode in (0o644, 0o755):
        entry = _entry(path, mode)
        expected = None
        if gate.admits(entry):
            expected = select_inventory(entry) or select_secret_files(entry)
        assert picker(entry) is expected


def test_go_note_past_the_first_page_is_still_found() -> None:
    """A note segment past 4 KiB (the program headers say where) is read up to 64 KiB."""
    from trimdock.security.collect import GO_BUILDINFO_MAGIC, read_go_buildinfo

    header = bytearray(64)
    header[:4] = b"\x7fELF"
    header[4], header[5] = 2, 1  # 64-bit, little-endian
    struct.pack_into("<Q", header, 32, 64)  # e_phoff
    struct.pack_into("<HH", header, 54, 56, 1)  # e_phentsize, e_phnum
    note_at = 8192
    note = b"\x04\x00\x00\x00\x10\x00\x00\x00\x04\x00\x00\x00Go\x00\x00" + b"x" * 16
    phdr = struct.pack("<II", 4, 0) + struct.pack("<QQQQQQ", note_at, 0, 0, len(note), 0, 4)
    blob = GO_BUILDINFO_MAGIC + b"\x08\x02" + bytes(16) + b"\x05go1.2"
    body = bytes(header) + phdr
    body += bytes(note_at - len(body)) + note
    body += bytes(-len(body) % 16 + 16 * 4) + blob + bytes(64)
    assert (read_go_buildinfo(io.BytesIO(body)) or b"").startswith(GO_BUILDINFO_MAGIC)
    # The same file without the note segment: not a Go binary, and only a page is looked at.
    plain = bytes(header) + struct.pack("<II", 1, 0) + phdr[8:] + body[len(header) + 56 :]
    assert read_go_buildinfo(io.BytesIO(plain.replace(b"Go\x00\x00", b"No\x00\x00"))) is None
