from __future__ import annotations

import pytest

from tests.support.engine import ensure_engine


@pytest.fixture(scope="session")
def engine() -> None:
    """The real Docker Engine, started (and base images imported) if needed."""
    ensure_engine()


@pytest.fixture(autouse=True, scope="session")
def _own_result_cache(tmp_path_factory: pytest.TempPathFactory) -> None:
    """The suite's per-layer result cache lives in its own temporary folder, never the user's."""
    import os

    os.environ.setdefault("TRIMDOCK_CACHE_DIR", str(tmp_path_factory.mktemp("result-cache")))
