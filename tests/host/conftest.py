from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.host.fake_engine import socket_path  # noqa: F401 - a fixture, for the tests here
from tests.host.family import Family, cleanup, make_family


@pytest.fixture(scope="session")
def family(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Family]:
    """One family for read-only tests (df, dry runs): never pruned for real."""
    made = make_family(tmp_path_factory.mktemp("family"))
    yield made
    cleanup(made)


@pytest.fixture
def fresh_family(engine: None, tmp_path: Path) -> Iterator[Family]:
    """A family of its own for a test that really removes things."""
    made = make_family(tmp_path)
    yield made
    cleanup(made)
