"""The I/O half of the builder choice: the environment, the engine's `/_ping`, the CLI plugins.

Only asked when neither `--builder`, the config nor DOCKER_BUILDKIT decides (builderchoice.py).
An unreachable engine is not an error here: `context` reads files, and says what it assumes.
"""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

from trimdock.context.builderchoice import (
    ENVIRONMENT_VARIABLE,
    BuildSetup,
    EngineFacts,
    needs_detection,
)
from trimdock.errors import EngineError

# A healthy engine answers `/_ping` in milliseconds; a missing socket fails at once. The budget
# only matters for a socket that never answers, and keeps `context` quick even then.
ENGINE_BUDGET_SECONDS = 3.0

# Where the docker CLI looks for plugins (cli-plugins/manager, Linux), after
# $DOCKER_CONFIG/cli-plugins (default ~/.docker/cli-plugins).
_SYSTEM_PLUGIN_DIRS = (
    "/usr/local/lib/docker/cli-plugins",
    "/usr/local/libexec/docker/cli-plugins",
    "/usr/lib/docker/cli-plugins",
    "/usr/libexec/docker/cli-plugins",
)


def find_buildx() -> str | None:
    config = os.environ.get("DOCKER_CONFIG") or str(Path.home() / ".docker")
    for directory in (str(Path(config) / "cli-plugins"), *_SYSTEM_PLUGIN_DIRS):
        candidate = Path(directory) / "docker-buildx"
        try:  # a home directory we may not enter (another user's HOME) is no plugin
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return str(candidate)
        except OSError:
            continue
    return None


def engine_facts() -> EngineFacts:
    """The engine's version, API version, OS and default builder, from the `/_ping` headers."""
    # Imported here: the docker SDK costs a noticeable part of a second to import, and the
    # common paths (--builder, config, DOCKER_BUILDKIT) never need it.
    from trimdock.host.engine import Engine

    engine = Engine.connect(budget=ENGINE_BUDGET_SECONDS)
    with engine.errors("ping"):
        response = engine.api.get(f"{engine.api.base_url}/_ping")
    headers = response.headers
    return EngineFacts(
        version=engine.version or headers.get("Server", "unknown"),
        api_version=headers.get("Api-Version", "unknown"),
        os_type=headers.get("Ostype", "linux"),
        builder_version=headers.get("Builder-Version"),
    )


def detect(setup: BuildSetup) -> BuildSetup:
    """`setup` completed with the environment, and the engine and plugins when they decide."""
    setup = replace(setup, environment=os.environ.get(ENVIRONMENT_VARIABLE) or None)
    if not needs_detection(setup):
        return setup
    try:
        engine: EngineFacts | None = engine_facts()
        problem = None
    except EngineError as exc:
        engine, problem = None, exc.source or str(exc)
    return replace(setup, engine=engine, engine_problem=problem, buildx=find_buildx())
