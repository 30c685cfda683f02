"""Fixture images for the image sources, built once on the real engine (cached by content hash)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.engine import REPO, build_image, docker, save_image

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
