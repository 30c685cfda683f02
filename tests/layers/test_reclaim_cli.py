"""`layers` reclaim analysis and `diff` on crafted OCI layouts (no engine): the package
database and duplicate candidates are read from the layers that hold their visible versions,
the gates and the config keys behave like the waste gates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.image.craft import Layout, layer_tar
from trimdock.cli.main import run

DUP = bytes(range(256)) * 80  # 20,480 bytes, over the duplicate minimum

STATUS_V1 = """\
Package: base
Status: install ok installed
Essential: yes
Version: 1

Package: curl
Status: install ok installed
Version: 7.88
Depends: libcurl4
Recommends: ca-certificates

Package: libcurl4
Status: install ok installed
Version: 7.88

Package: ca-certificates
Status: install ok installed
Version: 2023

"""
EXTENDED = "Package: libcurl4\nAuto-Installed: 1\n\nPackage: ca-certificates\nAuto-Installed: 1\n"


def _layers(status: str) -> list[bytes]:
    base = layer_tar(
        [
            ("bin", None, "dir"),
            ("bin/sh", b"s" * 1000, "file"),
            ("var", None, "dir"),
            ("var/lib", None, "dir"),
            ("var/lib/dpkg", None, "dir"),
            ("var/lib/dpkg/info", None, "dir"),
            ("var/lib/dpkg/status", "Package: base\nStatus: install ok installed\n", "file"),
            ("var/lib/dpkg/info/base.list", "/bin/sh\n", "file"),
        ]
    )
    install = layer_tar(
        [
            ("var/lib/dpkg/status", status, "file"),
            ("var/lib/apt", None, "dir"),
            ("var/lib/apt/extended_states", EXTENDED, "file"),
            ("var/lib/apt/lists", None, "dir"),
            ("var/lib/apt/lists/x_Packages", b"p" * 3000, "file"),
            ("var/lib/apt/lists/lock", b"", "file"),
            ("var/lib/dpkg/info/curl.list", "/usr/bin/curl\n", "file"),
            ("var/lib/dpkg/info/libcurl4:amd64.list", "/usr/lib/libcurl.so.4\n", "file"),
            ("var/lib/dpkg/info/ca-certificates.list", "/usr/share/ca/a.crt\n", "file"),
            ("usr", None, "dir"),
            ("usr/bin", None, "dir"),
            ("usr/bin/curl", b"c" * 400, "file"),
            ("usr/lib", None, "dir"),
            ("usr/lib/libcurl.so.4", b"l" * 600, "file"),
            ("usr/share", None, "dir"),
            ("usr/share/ca", None, "dir"),
            ("usr/share/ca/a.crt", b"a" * 200, "file"),
        ]
    )
    app = layer_tar(
        [
            ("app", None, "dir"),
            ("app/.git", None, "dir"),
            ("app/.git/HEAD", b"ref: main\n", "file"),
            ("app/.git/pack", b"g" * 5000, "file"),
            ("app/data.bin", DUP, "file"),
            ("app/copy.bin", DUP, "file"),
            ("app/other.bin", bytes(len(DUP)), "file"),  # same size, other content
            ("app/link.bin", "app/data.bin", "hardlink"),  # no bytes of its own
            ("app/.env", "TOKEN=secret-value\n", "file"),
        ]
    )
    return [base, install, app]


def image(root: Path, status: str = STATUS_V1) -> str:
    layout = Layout(root)
    layout.index([layout.image(_layers(status))])
    return f"oci:{root}"


def report(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    capsys.readouterr()
    assert run([*args, "--format", "json"]) == code
    return json.loads(capsys.readouterr().out)


def test_categories_packages_and_duplicates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = report(capsys, "layers", image(tmp_path / "img"))
    reclaim = doc["reclaim"]
    found = {c["category"]: (c["bytes"], c["files"]) for c in reclaim["categories"]}
    assert found == {
        "apt-lists": (3000, 1),  # the empty lock is never advice
        "vcs": (5010, 2),
        "recommends": (200, 1),
        "duplicates": (len(DUP), 1),
        "secrets": (len("TOKEN=secret-value\n"), 1),
    }
    assert reclaim["package_db"] == "dpkg"
    assert reclaim["recommends_only_packages"] == [
        {"name": "ca-certificates", "bytes": 200, "files": 1}
    ]
    assert reclaim["secret_files"] == ["/app/.env"]
    assert reclaim["hashed_files"] == 3
    dup = next(i for i in reclaim["items"] if i["category"] == "duplicates")
    assert dup["examples"] == ["/app/data.bin"]  # /app/copy.bin sorts first and is kept
    certain = 3000 + 5010
    achievable = reclaim["achievable"]
    assert (
        achievable["achievable_bytes"]
        == doc["totals"]["size_bytes"] - doc["totals"]["wasted_bytes"] - certain
    )
    assert reclaim["certain_bytes"] == certain


def test_text_names_secrets_never_their_content(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert run(["layers", image(tmp_path / "img")]) == 0
    out = capsys.readouterr().out
    assert "What you could save" in out and "/app/.env" in out
    assert "secret-value" not in out
    assert "achievable " in out and "reclaimable " in out


def test_no_reclaim_and_gates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = image(tmp_path / "img")
    assert "reclaim" not in report(capsys, "layers", ref, "--no-reclaim")
    failed = report(capsys, "layers", ref, "--max-reclaimable", "1kB", code=1)
    assert failed["gate"]["checks"][0]["name"] == "max-reclaimable"
    assert report(capsys, "layers", ref, "--max-achievable-ratio", "100")["gate"]["passed"]
    capsys.readouterr()
    for bad in (
        ["--max-achievable-ratio", "x"],
        ["--max-reclaimable", "lots"],
        ["--max-reclaimable", "1MB", "--no-reclaim"],
        ["--max-reclaimable", "1MB", "--deleted"],
    ):
        assert run(["layers", ref, *bad]) == 2, bad
        err = capsys.readouterr().err
        assert err.startswith("trimdock: ") and err.count("\n") == 1, err


def test_config_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref = image(tmp_path / "img")
    config = tmp_path / "trimdock.toml"
    config.write_text('[layers]\npurpose = "toolchain"\nmax-reclaimable = "50%"\n')
    doc = report(capsys, "layers", ref, "--config", str(config))
    assert doc["reclaim"]["purpose"] == "toolchain" and doc["gate"]["passed"]
    config.write_text('[layers]\npurpose = "server"\n')
    capsys.readouterr()
    assert run(["layers", ref, "--config", str(config)]) == 2
    assert "purpose" in capsys.readouterr().err


def test_diff_of_two_crafted_images(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status_v2 = STATUS_V1.replace("Version: 7.88\nDepends", "Version: 7.89\nDepends")
    a, b = image(tmp_path / "a"), image(tmp_path / "b", status_v2)
    doc = report(capsys, "diff", a, b)
    assert doc["delta_bytes"] == 0
    assert [(p["name"], p["status"]) for p in doc["packages"]] == [("curl", "changed")]
    statuses = [layer["status"] for layer in doc["layers"]]
    assert statuses == ["shared", "removed", "shared", "added"]
    assert doc["files"]["changed"] == 0  # the same-size status file from another layer
    grown = report(capsys, "diff", a, b, "--max-growth", "0")
    assert grown["gate"]["passed"]
