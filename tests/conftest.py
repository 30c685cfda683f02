from __future__ import annotations

import pytest

from tests.support.engine import ensure_engine


@pytest.fixture(scope="session")
def engine() -> None:
    """The real Docker Engine, started (and base images imported) if needed."""
    ensure_engine()
