"""allowed-bases without a base label: the image's layers are compared with those of the
named base image on the local engine (an image built FROM debian:bookworm-slim starts with
its layers; busybox's do not begin it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.engine import build_image, docker
from trimdock.cli.main import run
from trimdock.security.bases import built_on, local_base_layers


@pytest.fixture(scope="module")
def on_debian(tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("bases")
    (context / "Dockerfile").write_text("FROM debian:bookworm-slim\nRUN echo built > /built\n")
    return build_image("security-bases", context)


def _allowed_bases_violations(
    image: str, bases: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> list[dict[str, object]]:
    config = tmp_path / "trimdock.toml"
    config.write_text(f"[scan.policy]\nallowed-bases = {bases}\n")
    run(["scan", f"docker-daemon:{image}", "--config", str(config), "-F", "json"])
    policy = json.loads(capsys.readouterr().out)["policy"]
    return [v for v in policy["violations"] if v["rule"] == "allowed-bases"]


def test_base_proved_by_layers_of_the_local_base(
    on_debian: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The oracle: the engine's own record of both images' layers.
    mine = json.loads(docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", on_debian))
    base = json.loads(
        docker("image", "inspect", "--format", "{{json .RootFS.Layers}}", "debian:bookworm-slim")
    )
    assert mine[: len(base)] == base
    assert local_base_layers(["debian:bookworm-slim", "debian:*"]) == {
        "debian:bookworm-slim": tuple(base)
    }
    assert _allowed_bases_violations(on_debian, '["debian:bookworm-slim"]', tmp_path, capsys) == []
    wrong = _allowed_bases_violations(on_debian, '["busybox:latest"]', tmp_path, capsys)
    assert len(wrong) == 1 and "no org.opencontainers.image.base.name" in str(wrong[0])
    # A glob cannot be looked up: without a label it proves nothing.
    assert len(_allowed_bases_violations(on_debian, '["debian:*"]', tmp_path, capsys)) == 1


def test_built_on_is_a_prefix_test() -> None:
    bases = {"b": ("sha256:1", "sha256:2")}
    assert built_on(("sha256:1", "sha256:2", "sha256:3"), bases) == "b"
    assert built_on(("sha256:1", "sha256:2"), bases) == "b"
    assert built_on(("sha256:1",), bases) is None
    assert built_on(("sha256:2", "sha256:1", "sha256:3"), bases) is None
