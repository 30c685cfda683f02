"""Matching on small real-format OSV records (Debian, Alpine, npm, Go) written here (pure)."""

from __future__ import annotations

from typing import Any

import pytest

from trimdock.security.model import Ecosystem, OsInfo, Package
from trimdock.security.vuln.database import Database
from trimdock.security.vuln.match import match_inventory
from trimdock.security.vuln.records import parse_record
from trimdock.security.vuln.severity import Level, cvss_score, level_of_score

DEBIAN_12 = OsInfo(id="debian", version_id="12", pretty_name="Debian 12")
ALPINE_318 = OsInfo(id="alpine", version_id="3.18.4", pretty_name="Alpine 3.18")


def _db(*records: dict[str, Any]) -> Database:
    database = Database()
    for record in records:
        database.add(parse_record(record, source="test"))
    return database


def _pkg(name: str, version: str, ecosystem: Ecosystem, **kw: Any) -> Package:
    return Package(
        name=name, version=version, ecosystem=ecosystem, purl="pkg:x/y", path="p", layer=0, **kw
    )


def _record(
    rid: str, ecosystem: str, name: str, events: list[dict[str, str]], **kw: Any
) -> dict[str, Any]:
    return {
        "id": rid,
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": kw.pop("range_type", "ECOSYSTEM"), "events": events}],
                **kw.pop("affected_extra", {}),
            }
        ],
        **kw,
    }


OPENSSL = _record(
    "DSA-5532-1",
    "Debian:12",
    "openssl",
    [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}],
    aliases=["CVE-2023-5363"],
)
OPENSSL_CVE = _record(
    "DEBIAN-CVE-2023-5363",
    "Debian:12",
    "openssl",
    [{"introduced": "0"}, {"fixed": "3.0.11-1~deb12u2"}],
    aliases=["CVE-2023-5363"],
    severity=[{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
)
OPENSSL_11 = _record("DSA-0000-1", "Debian:11", "openssl", [{"introduced": "0"}, {"fixed": "9.9"}])


def test_debian_binary_matched_by_source_package_of_its_release() -> None:
    libssl = _pkg(
        "libssl3",
        "3.0.11-1~deb12u1",
        Ecosystem.DEBIAN,
        source_name="openssl",
        source_version="3.0.11-1~deb12u1",
    )
    fixed = _pkg(
        "libssl3",
        "3.0.11-1~deb12u2+b1",
        Ecosystem.DEBIAN,
        source_name="openssl",
        source_version="3.0.11-1~deb12u2",
    )
    rows = match_inventory([libssl, fixed], _db(OPENSSL, OPENSSL_CVE, OPENSSL_11), DEBIAN_12)
    # One row: both records describe CVE-2023-5363 (aliases merged); Debian:11's is not read.
    assert [(r.package.version, r.ids, r.fixed) for r in rows] == [
        (
            "3.0.11-1~deb12u1",
            ("CVE-2023-5363", "DEBIAN-CVE-2023-5363", "DSA-5532-1"),
            "3.0.11-1~deb12u2",
        ),
    ]
    assert rows[0].level is Level.CRITICAL and rows[0].score == 9.8
    assert rows[0].cves == ("CVE-2023-5363",)


def test_no_os_means_no_distribution_matches() -> None:
    libssl = _pkg("libssl3", "1", Ecosystem.DEBIAN, source_name="openssl", source_version="1")
    assert match_inventory([libssl], _db(OPENSSL), None) == []


def test_alpine_origin_and_apk_order() -> None:
    record = _record(
        "ALPINE-CVE-2023-0001",
        "Alpine:v3.18",
        "openssl",
        [{"introduced": "0"}, {"fixed": "3.1.4-r1"}],
    )
    old = _pkg(
        "libcrypto3", "3.1.4-r0", Ecosystem.ALPINE, source_name="openssl", source_version="3.1.4-r0"
    )
    new = _pkg(
        "libcrypto3", "3.1.4-r1", Ecosystem.ALPINE, source_name="openssl", source_version="3.1.4-r1"
    )
    rows = match_inventory([old, new], _db(record), ALPINE_318)
    assert [(r.package.version, r.fix_text) for r in rows] == [
        ("3.1.4-r0", "upgrade to ≥ 3.1.4-r1")
    ]


@pytest.mark.parametrize(
    ("version", "hit"),
    [
        ("1.2.2", False),
        ("1.2.3", True),
        ("1.4.0", True),
        ("1.4.1", False),
        ("2.0.0", False),
        ("2.1.0", True),
        ("2.2.0-rc.1", True),
        ("2.2.0", False),
    ],
)
def test_npm_semver_ranges_with_last_affected(version: str, hit: bool) -> None:
    record = {
        "id": "GHSA-xxxx-yyyy-zzzz",
        "modified": "2024-01-01T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "npm", "name": "@scope/lib"},
                "ranges": [
                    {
                        "type": "SEMVER",
                        "events": [
                            {"introduced": "1.2.3"},
                            {"last_affected": "1.4.0"},
                            {"introduced": "2.1.0"},
                            {"fixed": "2.2.0"},
                        ],
                    }
                ],
            }
        ],
    }
    rows = match_inventory([_pkg("@scope/lib", version, Ecosystem.NPM)], _db(record), None)
    assert bool(rows) is hit


def test_versions_list_withdrawn_and_git_ranges() -> None:
    listed = {
        "id": "GO-2024-0001",
        "modified": "x",
        "affected": [
            {
                "package": {"ecosystem": "Go", "name": "golang.org/x/net"},
                "ranges": [
                    {
                        "type": "GIT",
                        "repo": "https://example.invalid/r",
                        "events": [{"introduced": "abc"}, {"fixed": "def"}],
                    }
                ],
                "versions": ["v0.17.0"],
            }
        ],
    }
    withdrawn = {**listed, "id": "GO-2024-0002", "withdrawn": "2024-02-01T00:00:00Z"}
    git_only = {
        "id": "GO-2024-0003",
        "modified": "x",
        "affected": [
            {
                "package": {"ecosystem": "Go", "name": "golang.org/x/net"},
                "ranges": [{"type": "GIT", "events": [{"introduced": "0"}]}],
            }
        ],
    }
    rows = match_inventory(
        [_pkg("golang.org/x/net", "v0.17.0", Ecosystem.GO)], _db(listed, withdrawn, git_only), None
    )
    assert [r.id for r in rows] == ["GO-2024-0001"]


@pytest.mark.parametrize(
    ("kind", "vector", "score"),
    [
        ("CVSS_V3", "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        # By hand: 8.22*.55*.77*.62*.62 + 6.42*.22 = 2.75, rounded up.
        ("CVSS_V3", "CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N", 2.8),
        ("CVSS_V2", "AV:N/AC:L/Au:N/C:P/I:P/A:P", 7.5),
        ("CVSS_V4", "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N", 9.3),
        ("CVSS_V3", "not a vector", None),
    ],
)
def test_cvss_scores_are_computed(kind: str, vector: str, score: float | None) -> None:
    assert cvss_score(kind, vector) == score


def test_severity_words_and_scale() -> None:
    assert level_of_score(9.0) is Level.CRITICAL and level_of_score(6.9) is Level.MEDIUM
    record = parse_record(
        {"id": "GHSA-1", "database_specific": {"severity": "MODERATE"}}, source="t"
    )
    from trimdock.security.vuln.severity import record_severity

    assert record_severity(record) == (Level.MEDIUM, None)


def test_maven_range_by_maven_order_and_git_range_by_versions_only() -> None:
    from trimdock.security.vuln.match import affects

    record = parse_record(
        {
            "id": "GHSA-mjmj-j48q-9wg2",
            "affected": [
                {
                    "package": {"ecosystem": "Maven", "name": "org.yaml:snakeyaml"},
                    "ranges": [
                        {"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "2.0"}]}
                    ],
                },
                {
                    "package": {"ecosystem": "Maven", "name": "org.example:lib"},
                    "ranges": [
                        {
                            "type": "GIT",
                            "repo": "https://example.invalid/lib",
                            "events": [{"introduced": "0"}, {"fixed": "9f3c2a1"}],
                        }
                    ],
                    "versions": ["1.4"],
                },
            ],
        },
        source="test",
    )
    snake, lib = record.affected
    # Maven order: 2.0-RC1 < 2.0 (a qualifier before the release), 1.33 < 2.0 < 2.0.1.
    assert affects(snake, "1.33") == (True, "2.0")
    assert affects(snake, "2.0-RC1") == (True, "2.0")
    assert affects(snake, "2.0.0") == (False, None)
    assert affects(snake, "2.0-sp1") == (False, None)
    # GIT ranges name commits: only the `versions` list matches.
    assert affects(lib, "1.4")[0] is True
    assert affects(lib, "1.5")[0] is False
