from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "fuzz: runs the fuzz targets (fuzz/, docs/fuzzing.md); part of the default run"
    )
