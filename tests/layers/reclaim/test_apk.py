"""Alpine's installed database: ownership, dependencies through so: providers, the world file,
and the build-only closure it feeds."""

from __future__ import annotations

from trimdock.layers.reclaim.apk import build_apk_db, parse_installed
from trimdock.layers.reclaim.classify import FinalFile, finish, plan_reclaim
from trimdock.layers.reclaim.dpkg import recommends_only

INSTALLED = """\
C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
p:so:libc.musl-x86_64.so.1=1
F:lib
R:ld-musl-x86_64.so.1
R:libc.musl-x86_64.so.1

P:curl
V:8.5.0-r0
D:so:libc.musl-x86_64.so.1 libcurl>=8 !curl-doc
F:usr/bin
R:curl

P:libcurl
V:8.5.0-r0
D:so:libc.musl-x86_64.so.1
F:usr/lib
R:libcurl.so.4

P:gcc
V:13.2.1-r0
D:binutils libgomp
F:usr/bin
R:gcc

P:binutils
V:2.41-r0
F:usr/bin
R:ld

P:libgomp
V:13.2.1-r0
F:usr/lib
R:libgomp.so.1

P:.build-deps
V:20240101.000000
D:gcc

"""
WORLD = "curl\n.build-deps\n"


def test_parse_owners_and_dependencies() -> None:
    packages, owners = parse_installed(INSTALLED)
    assert sorted(packages) == [
        ".build-deps", "binutils", "curl", "gcc", "libcurl", "libgomp", "musl",
    ]  # fmt: skip
    assert packages["curl"].depends == (("so:libc.musl-x86_64.so.1",), ("libcurl",))
    assert packages["musl"].provides == ("so:libc.musl-x86_64.so.1",)
    assert owners["lib/ld-musl-x86_64.so.1"] == "musl"
    assert owners["usr/bin/curl"] == "curl"


def test_world_and_build_only_closure() -> None:
    db = build_apk_db(INSTALLED, WORLD)
    assert db.kind == "apk"
    assert db.auto == {"musl", "libcurl", "gcc", "binutils", "libgomp"}
    assert recommends_only(db) == frozenset()  # apk has no recommendations
    files = [
        FinalFile("usr/bin/curl", 100, 1),
        FinalFile("usr/lib/libcurl.so.4", 200, 1),
        FinalFile("lib/libc.musl-x86_64.so.1", 300, 0),
        FinalFile("usr/bin/gcc", 4000, 2),
        FinalFile("usr/bin/ld", 500, 2),
        FinalFile("usr/lib/libgomp.so.1", 60, 2),
    ]
    report = finish(plan_reclaim(files, ["a", "b", "c"], db), {})
    assert report.package_db == "apk"
    assert {p.name for p in report.build_packages} == {"gcc", "binutils", "libgomp"}
    assert {t.category: t.bytes for t in report.categories()} == {"build-tools": 4560}


def test_no_world_file_means_everything_was_asked_for() -> None:
    assert build_apk_db(INSTALLED, None).auto == frozenset()
