"""Which builder `context` predicts: the pure precedence table, the real engine, and no engine."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.support.engine import docker, ensure_engine
from trimdock.cli.main import run
from trimdock.context.builderchoice import (
    Basis,
    BuildSetup,
    EngineFacts,
    choose_builder,
    needs_detection,
)
from trimdock.context.detect import detect
from trimdock.context.walk import Builder
from trimdock.errors import UsageError

B, L = Builder.BUILDKIT, Builder.LEGACY
OLD = EngineFacts("20.10.24+dfsg1", "1.41", "linux", None)
OLD_WITH_FEATURE = EngineFacts("20.10.24", "1.41", "linux", "2")
NEW = EngineFacts("27.3.1", "1.47", "linux", "2")
WINDOWS = EngineFacts("27.3.1", "1.47", "windows", "1")
BUILDX = "/usr/libexec/docker/cli-plugins/docker-buildx"


@pytest.mark.parametrize(
    ("setup", "builder", "basis"),
    [
        (BuildSetup(option=L, config=B, environment="1", engine=NEW), L, Basis.OPTION),
        (BuildSetup(config=L, environment="1", engine=NEW), L, Basis.CONFIG),
        (BuildSetup(environment="0", engine=NEW, buildx=BUILDX), L, Basis.ENVIRONMENT),
        (BuildSetup(environment="false", engine=NEW), L, Basis.ENVIRONMENT),
        (BuildSetup(environment="1", engine=OLD), B, Basis.ENVIRONMENT),
        (BuildSetup(environment="True", engine=OLD), B, Basis.ENVIRONMENT),
        (BuildSetup(engine=OLD), L, Basis.ENGINE),  # Debian 12's docker.io, no buildx
        (BuildSetup(engine=OLD, buildx=BUILDX), B, Basis.ENGINE),
        (BuildSetup(engine=OLD_WITH_FEATURE), B, Basis.ENGINE),  # features.buildkit
        (BuildSetup(engine=NEW), B, Basis.ENGINE),
        (BuildSetup(engine=WINDOWS, buildx=BUILDX), L, Basis.ENGINE),
        (BuildSetup(engine_problem="unix:///var/run/docker.sock"), B, Basis.ASSUMED),
        (BuildSetup(), B, Basis.ASSUMED),
    ],
)
def test_precedence(setup: BuildSetup, builder: Builder, basis: Basis) -> None:
    choice = choose_builder(setup)
    assert (choice.builder, choice.basis) == (builder, basis)
    assert choice.reason


def test_reasons_name_what_decided() -> None:
    assert "20.10.24+dfsg1" in choose_builder(BuildSetup(engine=OLD)).reason
    assert "no buildx" in choose_builder(BuildSetup(engine=OLD)).reason
    assert BUILDX in choose_builder(BuildSetup(engine=OLD, buildx=BUILDX)).reason
    assumed = choose_builder(BuildSetup(engine_problem="unix:///x.sock")).reason
    assert assumed.startswith("assumed") and "unix:///x.sock" in assumed
    assert choose_builder(BuildSetup(environment="0")).reason.startswith("DOCKER_BUILDKIT=0")


def test_a_docker_buildkit_value_the_cli_refuses_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="DOCKER_BUILDKIT"):
        choose_builder(BuildSetup(environment="yes"))


def test_the_engine_is_asked_only_when_nothing_earlier_decides() -> None:
    assert needs_detection(BuildSetup())
    assert not needs_detection(BuildSetup(option=L))
    assert not needs_detection(BuildSetup(config=B))
    assert not needs_detection(BuildSetup(environment="0"))


def _docker_build_uses() -> Builder:
    """The oracle: what `docker build` really runs here, told by its progress output (the legacy
    builder prints `Step 1/1 :`, BuildKit `#1 [internal] ...`)."""
    result = subprocess.run(
        ["docker", "build", "-"],
        input=b"FROM busybox:latest\n",
        capture_output=True,
        check=True,
    )
    output = (result.stdout + result.stderr).decode(errors="replace")
    return L if "Step 1/1 :" in output else B


def test_detected_builder_is_what_docker_build_uses_on_this_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ensure_engine()
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)
    expected = _docker_build_uses()
    setup = detect(BuildSetup())
    assert setup.engine is not None
    server = docker("version", "--format", "{{.Server.Version}} {{.Server.APIVersion}}").split()
    assert [setup.engine.version, setup.engine.api_version] == server
    choice = choose_builder(setup)
    assert (choice.builder, choice.basis) == (expected, Basis.ENGINE)
    assert setup.engine.version in choice.reason or choice.builder is B


def test_cli_says_which_walk_and_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ensure_engine()
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    assert run(["context", str(tmp_path), "--format", "json", "--failure-threshold", "none"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["builder"], data["builder_basis"]) == (_docker_build_uses().value, "engine")
    assert (
        run(
            [
                "context",
                str(tmp_path),
                "--builder",
                "buildkit",
                "--format",
                "json",
                "--failure-threshold",
                "none",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    assert (data["builder"], data["builder_basis"]) == ("buildkit", "option")
    assert data["builder_reason"] == "chosen with --builder"
    monkeypatch.setenv("DOCKER_BUILDKIT", "0")
    assert run(["context", str(tmp_path), "--failure-threshold", "none"]) == 0
    shown = capsys.readouterr().out
    assert "builder:     legacy (DOCKER_BUILDKIT=0 makes docker build use" in shown


def test_without_an_engine_the_report_says_what_it_assumes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    socket = f"unix://{tmp_path}/no-engine.sock"
    monkeypatch.setenv("DOCKER_HOST", socket)
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)
    (tmp_path / "Dockerfile").write_text("FROM busybox\n")
    assert run(["context", str(tmp_path), "--no-color", "--failure-threshold", "none"]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "builder:     buildkit (assumed, the default since Docker 23" in captured.out
    assert run(["context", str(tmp_path), "--format", "json", "--failure-threshold", "none"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["builder"], data["builder_basis"]) == ("buildkit", "assumed")
    assert socket in data["builder_reason"]
