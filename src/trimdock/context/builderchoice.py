"""Which builder's walk `trimdock context` predicts, and why (pure).

The walk differs between the legacy builder and BuildKit (see walk.py), so the report must say
which one it assumes. The precedence mirrors what decides how `docker build` builds:
1. `--builder`, then `[context] builder` in the config: the user said so;
2. `DOCKER_BUILDKIT` in the environment: the docker CLI obeys it before anything else
   (parsed like Go's strconv.ParseBool, as the CLI does);
3. the engine: a Windows engine only has the legacy builder; an engine that reports BuildKit as
   its default (`Builder-Version: 2` on `/_ping`: Engine 23+, or `features.buildkit` in
   daemon.json) builds with it; otherwise a CLI with the docker-buildx plugin runs BuildKit
   (`docker build` is buildx since CLI 23), and without it the legacy builder runs (what
   Engine 20.10 and its CLI do);
4. no engine answered: BuildKit, the default since Docker 23, said to be an assumption.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from trimdock.context.walk import Builder
from trimdock.errors import UsageError

ENVIRONMENT_VARIABLE = "DOCKER_BUILDKIT"
# Go's strconv.ParseBool, which the docker CLI applies to DOCKER_BUILDKIT.
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


class Basis(StrEnum):
    """Where the choice came from (JSON `builder_basis`)."""

    OPTION = "option"
    CONFIG = "config"
    ENVIRONMENT = "environment"
    ENGINE = "engine"
    ASSUMED = "assumed"


@dataclass(frozen=True)
class EngineFacts:
    """What the engine says about itself on `/_ping`."""

    version: str
    api_version: str
    os_type: str
    builder_version: str | None  # the `Builder-Version` header: "1" legacy, "2" BuildKit


@dataclass(frozen=True)
class BuildSetup:
    """Everything the choice depends on, gathered by context/detect.py (or a test)."""

    option: Builder | None = None
    config: Builder | None = None
    config_source: str | None = None
    environment: str | None = None  # the raw value of DOCKER_BUILDKIT, None when unset
    engine: EngineFacts | None = None
    engine_problem: str | None = None  # where no engine answered (DOCKER_HOST)
    buildx: str | None = None  # path of the docker-buildx CLI plugin, None when absent


@dataclass(frozen=True)
class BuilderChoice:
    builder: Builder
    basis: Basis
    reason: str


def needs_detection(setup: BuildSetup) -> bool:
    """Whether the engine and the CLI plugins must be asked (nothing earlier decides)."""
    return setup.option is None and setup.config is None and not setup.environment


def _engine_name(engine: EngineFacts) -> str:
    return f"engine {engine.version}, API {engine.api_version},"


def choose_builder(setup: BuildSetup) -> BuilderChoice:
    if setup.option is not None:
        return BuilderChoice(setup.option, Basis.OPTION, "chosen with --builder")
    if setup.config is not None:
        where = setup.config_source or "the config"
        return BuilderChoice(setup.config, Basis.CONFIG, f"chosen in {where}")
    if setup.environment:
        value = setup.environment.strip()
        if value not in _TRUE | _FALSE:
            raise UsageError(
                f"expected a boolean (1, 0, true, false), got {setup.environment!r}",
                source=ENVIRONMENT_VARIABLE,
            )
        builder = Builder.BUILDKIT if value in _TRUE else Builder.LEGACY
        return BuilderChoice(
            builder,
            Basis.ENVIRONMENT,
            f"{ENVIRONMENT_VARIABLE}={value} makes docker build use "
            f"{'BuildKit' if builder is Builder.BUILDKIT else 'the legacy builder'}",
        )
    engine = setup.engine
    if engine is None:
        where = f" at {setup.engine_problem}" if setup.engine_problem else ""
        return BuilderChoice(
            Builder.BUILDKIT,
            Basis.ASSUMED,
            f"assumed, the default since Docker 23: no engine answered{where}",
        )
    if engine.os_type.lower() == "windows":
        return BuilderChoice(
            Builder.LEGACY, Basis.ENGINE, f"{_engine_name(engine)} runs Windows containers"
        )
    if engine.builder_version == "2":
        return BuilderChoice(
            Builder.BUILDKIT,
            Basis.ENGINE,
            f"{_engine_name(engine)} builds with BuildKit by default",
        )
    if setup.buildx is not None:
        return BuilderChoice(
            Builder.BUILDKIT,
            Basis.ENGINE,
            f"docker build runs BuildKit through the buildx plugin ({setup.buildx})",
        )
    return BuilderChoice(
        Builder.LEGACY,
        Basis.ENGINE,
        f"{_engine_name(engine)} defaults to the legacy builder; no buildx plugin is installed",
    )
