"""dpkg/apt database parsing and the recommends-only closure."""

from __future__ import annotations

import pytest

from trimdock.layers.reclaim.dpkg import (
    build_db,
    list_package,
    parse_extended_states,
    parse_relations,
    parse_status,
    recommends_only,
)


def _para(name: str, depends: str = "", recommends: str = "", **extra: str) -> str:
    lines = [f"Package: {name}", "Status: install ok installed", "Installed-Size: 10"]
    if depends:
        lines.append(f"Depends: {depends}")
    if recommends:
        lines.append(f"Recommends: {recommends}")
    lines += [f"{k.replace('_', '-')}: {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n\n"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", ()),
        ("libc6 (>= 2.34)", (("libc6",),)),
        ("a, b | c:any (<< 2), d [amd64]", (("a",), ("b", "c"), ("d",))),
        ("perl:any, libfoo <!nocheck>", (("perl",), ("libfoo",))),
        ("G++-12", (("g++-12",),)),
    ],
)
def test_relations(value: str, expected: tuple[tuple[str, ...], ...]) -> None:
    assert parse_relations(value) == expected


def test_status_keeps_installed_only_and_joins_pre_depends() -> None:
    text = (
        _para("a", depends="b", Pre_Depends="c")
        + "Package: gone\nStatus: deinstall ok config-files\n\n"
        + "Package: half\nStatus: install ok half-configured\n\n"
        + _para("b")
        + _para("c", Essential="yes")
    )
    packages = parse_status(text)
    assert sorted(packages) == ["a", "b", "c"]
    assert packages["a"].depends == (("c",), ("b",))
    assert packages["c"].essential
    assert packages["a"].installed_kib == 10


def test_extended_states() -> None:
    text = (
        "Package: a\nArchitecture: amd64\nAuto-Installed: 1\n\n"
        "Package: b\nArchitecture: amd64\nAuto-Installed: 0\n\n"
        "Package: c\nAuto-Installed: 1\n"
    )
    assert parse_extended_states(text) == frozenset({"a", "c"})


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("var/lib/dpkg/info/libc6:amd64.list", "libc6"),
        ("var/lib/dpkg/info/curl.list", "curl"),
        ("var/lib/dpkg/info/curl.md5sums", None),
        ("var/lib/dpkg/info/sub/x.list", None),
        ("etc/x.list", None),
    ],
)
def test_list_package(path: str, name: str | None) -> None:
    assert list_package(path) == name


def test_recommends_only_closure() -> None:
    # curl (manual) depends on libcurl4 (auto) which depends on a|b; ca-certificates and
    # openssl came only as recommendations; openssl is also reached through nothing else.
    status = (
        _para("base", Priority="required")
        + _para("curl", depends="libcurl4", recommends="ca-certificates")
        + _para("libcurl4", depends="libnghttp2-14 | libalt, virtual-ssl")
        + _para("libnghttp2-14")
        + _para("libalt")
        + _para("libssl3", Provides="virtual-ssl")
        + _para("ca-certificates", depends="openssl")
        + _para("openssl")
        + _para("orphan-required", Priority="required")  # the archive's priority: no root
        + _para("kept", Protected="yes")
    )
    auto = "".join(
        f"Package: {n}\nAuto-Installed: 1\n\n"
        for n in (
            "libcurl4",
            "libnghttp2-14",
            "libalt",
            "libssl3",
            "ca-certificates",
            "openssl",
            "orphan-required",
            "kept",
        )
    )
    db = build_db(status, auto, {})
    assert recommends_only(db) == frozenset({"ca-certificates", "openssl", "orphan-required"})


def test_no_extended_states_means_everything_is_manual() -> None:
    db = build_db(_para("a", recommends="b") + _para("b"), None, {})
    assert recommends_only(db) == frozenset()


def test_owners_from_lists_with_usrmerge_alias() -> None:
    db = build_db(
        _para("bash") + _para("coreutils"),
        None,
        {
            "var/lib/dpkg/info/bash.list": "/.\n/bin\n/bin/bash\n/usr/share/doc/bash/copyright\n",
            "var/lib/dpkg/info/coreutils:amd64.list": "/bin/ls\n/bin/bash\n",
            "var/lib/dpkg/info/removed.list": "/bin/removed\n",
        },
    )
    assert db.owners["bin/bash"] == "bash"  # first owner wins
    assert db.owners["usr/bin/bash"] == "bash"
    assert db.owners["usr/bin/ls"] == "coreutils"
    assert "bin/removed" not in db.owners  # a list of a package that is not installed
    assert "" not in db.owners and "." not in db.owners
