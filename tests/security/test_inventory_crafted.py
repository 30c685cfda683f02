"""Inventory attribution on crafted images: the layer that added a package, packages a later
layer removed, distroless status.d, apk, npm, and the EOL finding (no engine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.security.crafted import crafted_image
from trimdock.cli.main import run

STATUS_1 = b"""Package: base-files
Status: install ok installed
Version: 12.4

Package: telnet
Status: install ok installed
Source: inetutils
Version: 2.4-2
"""
STATUS_2 = b"""Package: base-files
Status: install ok installed
Version: 12.4

Package: curl
Status: install ok installed
Version: 7.88.1-10
"""


def _scan(image: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    assert run(["scan", image, "-F", "json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


def test_dpkg_database_rewritten_by_later_layers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = crafted_image(
        tmp_path / "img",
        [
            [
                ("etc/os-release", b'ID=debian\nVERSION_ID="10"\nPRETTY_NAME="Debian 10"\n', 0o644),
                ("var/lib/dpkg/status", STATUS_1, 0o644),
            ],
            [("var/lib/dpkg/status", STATUS_2, 0o644)],
        ],
        history=["ADD rootfs /", "RUN apt-get purge telnet && apt-get install curl"],
    )
    document = _scan(image, capsys)
    rows = {(p["name"], p["layer"], p["deleted"]) for p in document["packages"]}
    assert rows == {("base-files", 0, False), ("telnet", 0, True), ("curl", 1, False)}
    telnet = next(p for p in document["packages"] if p["name"] == "telnet")
    assert telnet["source"] == {"name": "inetutils", "version": "2.4-2"}
    # Debian 10 ended in 2024: the base is a finding.
    eol = [f for f in document["findings"] if f["rule"] == "TD902"]
    assert [f["message"] for f in eol] == [
        "Debian 10 reached end of life on 2024-06-30 (per Debian's distro-info-data 0.58+deb12u7)"
    ]


def test_distroless_apk_and_npm(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = crafted_image(
        tmp_path / "img",
        [
            [
                (
                    "var/lib/dpkg/status.d/libc6",
                    b"Package: libc6\nVersion: 2.36-9\nArchitecture: amd64\nSource: glibc\n",
                    0o644,
                ),
                ("var/lib/dpkg/status.d/libc6.md5sums", b"abc  lib/x\n", 0o644),
                ("lib/apk/db/installed", b"P:musl\nV:1.2.4-r2\nL:MIT\no:musl\n\n", 0o644),
            ],
            [
                (
                    "app/node_modules/@babel/core/package.json",
                    b'{"name": "@babel/core", "version": "7.22.0", "license": "MIT"}',
                    0o644,
                ),
                (
                    "app/node_modules/left-pad/package.json",
                    b'{"name": "left-pad", "version": "1.3.0", "license": "WTFPL"}',
                    0o644,
                ),
            ],
            [("app/node_modules/.wh.left-pad", b"", 0o644)],
        ],
    )
    document = _scan(image, capsys)
    rows = {
        (p["ecosystem"], p["name"], p["version"], p["layer"], p["deleted"], p["purl"])
        for p in document["packages"]
    }
    assert rows == {
        ("Debian", "libc6", "2.36-9", 0, False, "pkg:deb/debian/libc6@2.36-9?arch=amd64"),
        ("Alpine", "musl", "1.2.4-r2", 0, False, "pkg:apk/alpine/musl@1.2.4-r2"),
        ("npm", "@babel/core", "7.22.0", 1, False, "pkg:npm/%40babel/core@7.22.0"),
        ("npm", "left-pad", "1.3.0", 1, True, "pkg:npm/left-pad@1.3.0"),
    }


def test_policy_document_matches_its_schema(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.test_json_schemas import validate

    config = tmp_path / "trimdock.toml"
    config.write_text("[scan.policy]\nforbid-eol = true\nrequire-non-root = true\n")
    image = crafted_image(
        tmp_path / "img",
        [[("etc/os-release", b"ID=debian\nVERSION_ID=9\n", 0o644)]],
    )
    assert run(["scan", image, "--config", str(config), "-F", "json"]) == 1
    document = json.loads(capsys.readouterr().out)
    assert document["policy"]["passed"] is False
    assert {v["rule"] for v in document["policy"]["violations"]} == {
        "forbid-eol",
        "forbidden root-user",
    }
    validate(document, "scan.json")
