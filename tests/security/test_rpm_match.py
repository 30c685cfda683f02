"""rpm packages matched to the OSV records of their distribution: small records in the real
formats of Rocky Linux, AlmaLinux, Red Hat, openSUSE and SUSE (pure), then end to end on an
image holding an rpmdb.sqlite written by rpm itself."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.security.crafted import crafted_image
from tests.security.test_catalogers_more import needs_rpm, real_rpmdb
from trimdock.cli.main import run
from trimdock.security.model import Ecosystem, OsInfo, Package
from trimdock.security.vuln.database import Database
from trimdock.security.vuln.match import match_inventory
from trimdock.security.vuln.records import parse_record
from trimdock.security.vuln.rpmdistro import rpm_target

ROCKY_9 = OsInfo(id="rocky", version_id="9.3", pretty_name="Rocky Linux 9.3 (Blue Onyx)")
ALMA_9 = OsInfo(id="almalinux", version_id="9.4", pretty_name="AlmaLinux 9.4 (Seafoam Ocelot)")
RHEL_9 = OsInfo(id="rhel", version_id="9.4", pretty_name="Red Hat Enterprise Linux 9.4 (Plow)")
LEAP_155 = OsInfo(id="opensuse-leap", version_id="15.5", pretty_name="openSUSE Leap 15.5")
SLES_155 = OsInfo(id="sles", version_id="15.5", pretty_name="SUSE Linux Enterprise Server 15 SP5")
FEDORA = OsInfo(id="fedora", version_id="40", pretty_name="Fedora Linux 40")


def _rpm(name: str, version: str, source: str | None = None) -> Package:
    return Package(
        name=name,
        version=version,
        ecosystem=Ecosystem.RPM,
        purl=f"pkg:rpm/x/{name}@{version}",
        path="var/lib/rpm/rpmdb.sqlite",
        layer=0,
        source_name=source or name,
        source_version=version,
    )


def _record(rid: str, ecosystem: str, name: str, fixed: str, **extra: Any) -> dict[str, Any]:
    affected: dict[str, Any] = {
        "package": {"ecosystem": ecosystem, "name": name},
        "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": fixed}]}],
    }
    affected.update(extra.pop("affected_extra", {}))
    return {
        "schema_version": "1.6.0",
        "id": rid,
        "modified": "2024-01-10T00:00:00Z",
        "published": "2024-01-02T00:00:00Z",
        "summary": f"{name} security update",
        "affected": [affected],
        **extra,
    }


# As Rocky Linux publishes them: source package name, epoch in the fix, release-scoped.
RLSA = _record(
    "RLSA-2024:0310",
    "Rocky Linux:9",
    "openssl",
    "1:3.0.7-25.el9_3",
    aliases=["CVE-2023-5678"],
    related=["CVE-2023-5678"],
)
RLSA_8 = _record("RLSA-2024:0500", "Rocky Linux:8", "openssl", "1:1.1.1k-12.el8_9")
ALSA = _record("ALSA-2024:0310", "AlmaLinux:9", "openssl", "1:3.0.7-25.el9_3")
# Red Hat: one record per stream, binary rpm names, the CPE as the release.
RHSA_BASEOS = _record(
    "RHSA-2024:0310",
    "Red Hat:enterprise_linux:9::baseos",
    "openssl-libs",
    "1:3.0.7-25.el9_3",
    aliases=["CVE-2023-5678"],
)
RHSA_EUS = _record(
    "RHSA-2024:0400", "Red Hat:rhel_eus:9.2::baseos", "openssl-libs", "1:3.0.7-18.el9_2.2"
)
# SUSE: the source rpm, the product as the release, the binaries the fix ships.
SUSE_BINARIES = {
    "ecosystem_specific": {
        "binaries": [
            {"libopenssl1_1": "1.1.1l-150500.17.25.1", "openssl-1_1": "1.1.1l-150500.17.25.1"}
        ]
    }
}
OPENSUSE = _record(
    "openSUSE-SU-2024:0123-1",
    "openSUSE:Leap 15.5",
    "openssl-1_1",
    "1.1.1l-150500.17.25.1",
    affected_extra=SUSE_BINARIES,
)
SUSE = _record(
    "SUSE-SU-2024:0123-1",
    "SUSE:SUSE Linux Enterprise Server 15 SP5",
    "openssl-1_1",
    "1.1.1l-150500.17.25.1",
    affected_extra=SUSE_BINARIES,
)
SUSE_MODULE = _record(
    "SUSE-SU-2024:0124-1",
    "SUSE:SUSE Linux Enterprise Module for Basesystem 15 SP5",
    "openssl-1_1",
    "1.1.1l-150500.17.25.1",
)


def _db(*records: dict[str, Any]) -> Database:
    database = Database()
    for record in records:
        database.add(parse_record(record, source="test"))
    return database


RECORDS = _db(RLSA, RLSA_8, ALSA, RHSA_BASEOS, RHSA_EUS, OPENSUSE, SUSE, SUSE_MODULE)


def _ids(packages: list[Package], os: OsInfo) -> list[tuple[str, str, str | None]]:
    return [(v.package.name, v.id, v.fixed) for v in match_inventory(packages, RECORDS, os)]


def test_rocky_binary_matched_by_its_source_within_its_release() -> None:
    libs = _rpm("openssl-libs", "1:3.0.7-24.el9", source="openssl")
    assert _ids([libs], ROCKY_9) == [("openssl-libs", "RLSA-2024:0310", "1:3.0.7-25.el9_3")]


def test_alma_record_for_alma_only() -> None:
    libs = _rpm("openssl-libs", "1:3.0.7-24.el9", source="openssl")
    assert _ids([libs], ALMA_9) == [("openssl-libs", "ALSA-2024:0310", "1:3.0.7-25.el9_3")]


def test_red_hat_by_binary_name_main_stream_only() -> None:
    libs = _rpm("openssl-libs", "1:3.0.7-24.el9", source="openssl")
    assert _ids([libs], RHEL_9) == [("openssl-libs", "RHSA-2024:0310", "1:3.0.7-25.el9_3")]


def test_suse_and_opensuse_source_and_listed_binaries() -> None:
    lib = _rpm("libopenssl1_1", "1.1.1l-150500.17.22.1", source="openssl-1_1")
    assert _ids([lib], LEAP_155) == [
        ("libopenssl1_1", "openSUSE-SU-2024:0123-1", "1.1.1l-150500.17.25.1")
    ]
    assert _ids([lib], SLES_155) == [
        ("libopenssl1_1", "SUSE-SU-2024:0123-1", "1.1.1l-150500.17.25.1")
    ]


QUIET = [
    # fixed release installed, a newer one, an epoch that outranks the fix's
    (_rpm("openssl-libs", "1:3.0.7-25.el9_3", source="openssl"), ROCKY_9),
    (_rpm("openssl-libs", "1:3.0.7-27.el9", source="openssl"), ROCKY_9),
    (_rpm("openssl-libs", "2:1.0-1.el9", source="openssl"), ROCKY_9),
    # a binary of the same name in another source package: Rocky keys by source
    (_rpm("openssl", "1:3.0.7-24.el9", source="openssl-compat"), ROCKY_9),
    # a binary the SUSE fix does not ship
    (_rpm("openssl-1_1-doc", "1.1.1l-150500.17.22.1", source="openssl-1_1"), LEAP_155),
    # a distribution without known keys, and no os-release
    (_rpm("openssl-libs", "1:3.0.7-24.el9", source="openssl"), FEDORA),
]


@pytest.mark.parametrize(("package", "os"), QUIET)
def test_quiet(package: Package, os: OsInfo) -> None:
    assert _ids([package], os) == []


def test_versions_list_matches_with_or_without_a_zero_epoch() -> None:
    record = {
        "id": "ALSA-2024:0001",
        "modified": "2024-01-10T00:00:00Z",
        "affected": [
            {
                "package": {"ecosystem": "AlmaLinux:9", "name": "zlib"},
                "versions": ["0:1.2.11-40.el9", "1.2.11-39.el9"],
            }
        ],
    }
    database = _db(record)
    for version, hit in (
        ("1.2.11-40.el9", True),
        ("0:1.2.11-39.el9", True),
        ("1.2.11-41.el9", False),
    ):
        rows = match_inventory([_rpm("zlib", version)], database, ALMA_9)
        assert [r.id for r in rows] == (["ALSA-2024:0001"] if hit else [])


def test_no_os_release_no_rpm_match() -> None:
    libs = _rpm("openssl-libs", "1:3.0.7-24.el9", source="openssl")
    assert match_inventory([libs], RECORDS, None) == []


def test_targets() -> None:
    rocky = rpm_target(ROCKY_9)
    assert rocky is not None and rocky.accepts("Rocky Linux:9") and rocky.accepts("Rocky Linux")
    assert not rocky.accepts("Rocky Linux:8") and not rocky.accepts("AlmaLinux:9")
    rhel = rpm_target(RHEL_9)
    assert rhel is not None and rhel.accepts("Red Hat:enterprise_linux:9::appstream")
    assert not rhel.accepts("Red Hat:enterprise_linux:8::baseos")
    assert not rhel.accepts("Red Hat:rhel_eus:9.2::baseos")
    sles = rpm_target(SLES_155)
    assert sles is not None and sles.accepts("SUSE:Linux Enterprise Server 15 SP5")
    assert rpm_target(FEDORA) is None


def test_sample_records_are_valid_osv() -> None:
    import jsonschema

    from tests.support.shared import SHARED_DATA

    schema = json.loads((SHARED_DATA / "osv" / "schema.json").read_text())
    for record in (RLSA, RLSA_8, ALSA, RHSA_BASEOS, RHSA_EUS, OPENSUSE, SUSE, SUSE_MODULE):
        jsonschema.validate(record, schema)


# -- end to end: an rpmdb.sqlite written by rpm, in an image, and a database folder --------

SPEC = """Name: tiny-tool
Version: 1.2.3
Release: 4.el9
Epoch: 2
Summary: tiny
License: MIT
BuildArch: noarch
%description
tiny
%package libs
Summary: tiny libraries
%description libs
tiny libraries
%files
%files libs
"""


@needs_rpm
def test_scan_matches_rpm_packages_of_a_real_rpmdb(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = real_rpmdb(tmp_path, SPEC)
    image = crafted_image(
        tmp_path / "img",
        [
            [
                ("etc/os-release", b'ID="rocky"\nVERSION_ID="9.3"\nPRETTY_NAME="Rocky 9"\n', 0o644),
                ("var/lib/rpm/rpmdb.sqlite", data, 0o644),
            ]
        ],
    )
    db = tmp_path / "osv"
    db.mkdir()
    records = [
        # affects both binaries of the source tiny-tool (by source name)
        _record("RLSA-2025:0001", "Rocky Linux:9", "tiny-tool", "2:1.2.3-5.el9"),
        # quiet: the installed release is the fix; another release; a lower epoch's fix
        _record("RLSA-2025:0002", "Rocky Linux:9", "tiny-tool", "2:1.2.3-4.el9"),
        _record("RLSA-2025:0003", "Rocky Linux:8", "tiny-tool", "2:9.9-1.el8"),
        _record("RLSA-2025:0004", "Rocky Linux:9", "tiny-tool", "1:9.9-1.el9"),
        # quiet: keyed by a binary name, which Rocky does not use
        _record("RLSA-2025:0005", "Rocky Linux:9", "tiny-tool-libs", "2:9.9-1.el9"),
    ]
    for record in records:
        (db / f"{record['id'].replace(':', '_')}.json").write_text(json.dumps(record))
    assert run(["scan", image, "--db", str(db), "-F", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    rows = sorted(
        (v["package"], v["version"], v["id"], v["fixed"]) for v in document["vulnerabilities"]
    )
    assert rows == [
        ("tiny-tool", "2:1.2.3-4.el9", "RLSA-2025:0001", "2:1.2.3-5.el9"),
        ("tiny-tool-libs", "2:1.2.3-4.el9", "RLSA-2025:0001", "2:1.2.3-5.el9"),
    ]
