"""Inventory ground truth: what the image itself reports (dpkg-query, pip list, go version)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from packageurl import PackageURL

from tests.security.images import pyold_image
from tests.support.engine import build_image, docker
from trimdock.cli.main import run
from trimdock.security.catalog.python import canonical_name

pytestmark = pytest.mark.engine


def scan_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    assert run(["scan", *args, "-F", "json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


@pytest.fixture(scope="module")
def pyold(engine: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    return pyold_image(tmp_path_factory.mktemp("ctx"))


_SCANS: dict[str, dict[str, Any]] = {}


def scan_once(capsys: pytest.CaptureFixture[str], image: str) -> dict[str, Any]:
    """One scan per image for the module: the tests read different parts of it."""
    if image not in _SCANS:
        _SCANS[image] = scan_json(capsys, image)
    return _SCANS[image]


def test_debian_packages_equal_dpkg_query(pyold: str, capsys: pytest.CaptureFixture[str]) -> None:
    oracle = docker(
        "run",
        "--rm",
        "--entrypoint",
        "dpkg-query",
        pyold,
        "-W",
        "-f",
        "${Status}\t${Package}\t${Version}\t${source:Package}\t${source:Version}\n",
    )
    expected = {
        tuple(line.split("\t")[1:])
        for line in oracle.splitlines()
        if line.startswith("install ok installed")
    }
    document = scan_once(capsys, pyold)
    found = {
        (p["name"], p["version"], p["source"]["name"], p["source"]["version"])
        for p in document["packages"]
        if p["ecosystem"] == "Debian" and not p["deleted"]
    }
    assert found == expected
    assert len(found) > 100


def test_venv_packages_equal_pip_list(pyold: str, capsys: pytest.CaptureFixture[str]) -> None:
    oracle = docker(
        "run",
        "--rm",
        "--entrypoint",
        "/opt/venv/bin/python",
        pyold,
        "-m",
        "pip",
        "list",
        "--format",
        "json",
    )
    expected = {(canonical_name(p["name"]), p["version"]) for p in json.loads(oracle)}
    document = scan_once(capsys, pyold)
    venv = [
        p
        for p in document["packages"]
        if p["ecosystem"] == "PyPI" and p["path"].startswith("/opt/venv/")
    ]
    assert {(canonical_name(p["name"]), p["version"]) for p in venv if not p["deleted"]} == (
        expected
    )
    # sqlparse's metadata was removed by the last RUN: reported, as deleted, with its layer.
    deleted = [p for p in venv if p["deleted"]]
    assert [(p["name"], p["version"]) for p in deleted] == [("sqlparse", "0.2.4")]
    assert deleted[0]["instruction"].startswith("RUN python3 -m venv")
    # pytz was installed and uninstalled in one layer: its bytes never shipped.
    assert "pytz" not in {canonical_name(p["name"]) for p in venv}


def test_os_release_and_purls(pyold: str, capsys: pytest.CaptureFixture[str]) -> None:
    document = scan_once(capsys, pyold)
    version_id = docker(
        "run",
        "--rm",
        "--entrypoint",
        "sh",
        pyold,
        "-c",
        ". /etc/os-release && echo $ID $VERSION_ID",
    ).split()
    assert [document["os"]["id"], document["os"]["version_id"]] == version_id
    curl = next(p for p in document["packages"] if p["name"] == "curl")
    purl = PackageURL.from_string(curl["purl"])
    assert (purl.type, purl.namespace, purl.name, purl.version) == (
        "deb",
        "debian",
        "curl",
        curl["version"],
    )
    assert purl.qualifiers == {"arch": "amd64", "distro": "debian-12"}
    assert curl["layer"] == 1 and curl["instruction"].startswith("RUN apt-get update")


@pytest.fixture(scope="module")
def go_image(engine: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    """busybox plus the host's docker CLI, a real Go binary whose toolchain the CLI reports."""
    context = tmp_path_factory.mktemp("goctx")
    docker_cli = shutil.which("docker")
    assert docker_cli is not None
    shutil.copy(docker_cli, context / "docker-cli")
    (context / "Dockerfile").write_text("FROM busybox\nCOPY docker-cli /usr/local/bin/docker\n")
    return build_image("security-go", context)


def test_go_binary_build_info_matches_go_version(
    go_image: str, capsys: pytest.CaptureFixture[str]
) -> None:
    go_version = subprocess.run(
        ["docker", "version", "--format", "{{.Client.GoVersion}}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    document = scan_json(capsys, go_image)
    go = [p for p in document["packages"] if p["ecosystem"] == "Go"]
    assert {p["path"] for p in go} == {"/usr/local/bin/docker"}
    stdlib = [p for p in go if p["name"] == "stdlib"]
    assert [p["version"] for p in stdlib] == [go_version.removeprefix("go")]
    assert all(p["layer"] == 1 for p in go)


def test_sbom_documents_validate(
    pyold: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    cdx = tmp_path / "bom.cdx.json"
    assert run(["scan", pyold, "--sbom", "cyclonedx", "-o", str(cdx)]) == 0
    errors = JsonStrictValidator(SchemaVersion.V1_6).validate_str(cdx.read_text())
    assert errors is None
    bom = json.loads(cdx.read_text())
    assert bom["specVersion"] == "1.6"
    names = {c["name"] for c in bom["components"]}
    assert {"curl", "Django", "sqlparse"} <= names

    spdx = tmp_path / "bom.spdx.json"
    assert run(["scan", pyold, "--sbom", "spdx", "-o", str(spdx)]) == 0
    document = parse_file(str(spdx))
    assert validate_full_spdx_document(document) == []
    assert document.creation_info.spdx_version == "SPDX-2.3"
    assert len(document.packages) == len(bom["components"]) + 1


def test_scan_json_matches_its_schema(pyold: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.test_json_schemas import validate

    validate(scan_once(capsys, pyold), "scan.json")


# The oracle for licences, computed by the image's own shell and awk: for each installed
# package, its copyright file (symbolic links followed, as a reader of the image would) when
# its first line declares the DEP-5 format, and its `License:` values, each once, in order.
LICENCE_ORACLE = r"""
dpkg-query -W -f '${db:Status-Abbrev}${Package}\n' | grep '^ii ' | cut -c4- |
while read -r p; do
  f=/usr/share/doc/$p/copyright
  [ -f "$f" ] || continue
  head -n 1 "$f" | grep -qi '^format:.*copyright-format/1.0' || continue
  printf '%s|' "$p"
  grep -i '^license:' "$f" | cut -c9- | sed 's/^[ \t]*//; s/[ \t]*$//' | grep -v '^$' |
    awk '!seen[$0]++' | paste -sd '\t' -
done
"""


def test_debian_licences_equal_the_images_dep5_files(
    pyold: str, capsys: pytest.CaptureFixture[str]
) -> None:
    oracle = docker("run", "--rm", "--entrypoint", "sh", pyold, "-c", LICENCE_ORACLE)
    expected = {}
    for line in oracle.splitlines():
        name, _, licences = line.partition("|")
        if licences:
            expected[name] = " AND ".join(licences.split("\t"))
    document = scan_once(capsys, pyold)
    found = {
        p["name"]: p["licence"]
        for p in document["packages"]
        if p["ecosystem"] == "Debian" and not p["deleted"] and p["licence"]
    }
    assert found == expected
    assert len(found) >= 10
