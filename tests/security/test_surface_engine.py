"""Surface and secrets of a real image against what the image itself says (find), and the
false positives of the secret detectors on a Debian + Python image (only the planted ones)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.security.images import pyold_image
from tests.support.engine import docker
from trimdock.cli.main import run

pytestmark = pytest.mark.engine


@pytest.fixture(scope="module")
def pyold(engine: None, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, Any]]:
    image = pyold_image(tmp_path_factory.mktemp("ctx"))
    out = tmp_path_factory.mktemp("out") / "scan.json"
    assert run(["scan", image, "-F", "json", "-o", str(out)]) == 0
    return image, json.loads(out.read_text())


def _find(image: str, *predicate: str) -> set[str]:
    listing = docker(
        "run", "--rm", "--user", "0", "--entrypoint", "find", image, "/", "-xdev", *predicate
    )
    return set(listing.split())


def test_setuid_files_equal_find(pyold: tuple[str, dict[str, Any]]) -> None:
    image, document = pyold
    found = {i["path"] for i in document["surface"] if i["category"] == "setuid"}
    assert found == _find(image, "-type", "f", "-perm", "/6000")
    assert found  # Debian ships su, passwd, mount...


def test_world_writable_equals_find_outside_tmp(pyold: tuple[str, dict[str, Any]]) -> None:
    image, document = pyold
    found = {i["path"] for i in document["surface"] if i["category"] == "world-writable"}
    expected = {
        p
        for p in _find(image, "-perm", "-0002", "!", "-type", "l")
        if not p.startswith(("/tmp", "/var/tmp", "/dev", "/run", "/proc", "/sys", "/var/lock"))
    }
    assert found == expected


def test_tools_and_user(pyold: tuple[str, dict[str, Any]]) -> None:
    _, document = pyold
    tools = {(i["category"], i["detail"]) for i in document["surface"]}
    assert {
        ("shell", "bash"),
        ("package-manager", "apt-get"),
        ("network-tool", "curl"),
        ("package-manager", "pip"),
    } <= tools
    assert ("root-user", "app") not in tools
    assert not any(i["category"] == "root-user" for i in document["surface"])  # USER app


def test_only_the_planted_secrets_are_found(pyold: tuple[str, dict[str, Any]]) -> None:
    _, document = pyold
    found = {(s["kind"], s["where"], s["path"], s["deleted"]) for s in document["secrets"]}
    assert found == {
        # The RUN that wrote the file records the values in the history too.
        ("AWS access key id", "history", "history[4]", False),
        ("AWS secret access key", "history", "history[4]", False),
        ("AWS access key id", "file", "/root/credentials", True),
        ("AWS secret access key", "file", "/root/credentials", True),
    }
