"""Fixture images for the image sources, built once on the real engine (cached by content hash)."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.host.fake_engine import socket_path  # noqa: F401 - a fixture, for the tests here
from tests.support.engine import REPO, build_image, docker, save_image

from .craft import engine25_archive

FIXTURES = REPO / "tests" / "image" / "fixtures"


@dataclass(frozen=True)
class BuiltImage:
    tag: str
    archive: Path  # the engine's own `docker save` (legacy form on Engine 20.10)
    inspect: dict  # type: ignore[type-arg]


@pytest.fixture(scope="session")
def basic_image(engine: None) -> BuiltImage:
    tag = build_image("image-basic", FIXTURES / "basic")
    inspect = json.loads(docker("image", "inspect", tag))[0]
    return BuiltImage(tag=tag, archive=save_image(tag), inspect=inspect)


@dataclass(frozen=True)
class OciForms:
    """The same image as skopeo writes it in every OCI form, plus an Engine >= 25 archive."""

    gzip_dir: str
    zstd_dir: str
    oci_archive: str
    engine25_archive: str


def skopeo(*args: str) -> None:
    subprocess.run(["skopeo", "copy", "-q", *args], check=True, capture_output=True)


@pytest.fixture(scope="session")
def oci_forms(basic_image: BuiltImage, tmp_path_factory: pytest.TempPathFactory) -> OciForms:
    root = tmp_path_factory.mktemp("oci-forms")
    source = f"docker-archive:{basic_image.archive}"
    skopeo(source, f"oci:{root / 'gzip'}:v1", "--dest-compress-format", "gzip")
    skopeo(source, f"oci:{root / 'zstd'}:v1", "--dest-compress-format", "zstd")
    skopeo(source, f"oci-archive:{root / 'image.oci.tar'}:v1")
    archive = engine25_archive(basic_image.archive, root / "engine25.tar")
    return OciForms(
        gzip_dir=f"oci:{root / 'gzip'}:v1",
        zstd_dir=f"oci:{root / 'zstd'}",
        oci_archive=f"oci-archive:{root / 'image.oci.tar'}",
        engine25_archive=str(archive),
    )
