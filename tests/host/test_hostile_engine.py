"""An engine socket that answers nonsense, or nothing: one clear line naming it, exit 2."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.host.fake_engine import Raw, fake_engine, one_line
from trimdock.cli.main import run
from trimdock.engine import client as engine_module

IMAGE_ID = "sha256:" + "ab" * 32


WRONG_ANSWERS: dict[str, tuple[dict[str, Any], str]] = {
    "version not an object": ({"/version": ["1.41"]}, ""),
    "api version a number": ({"/version": {"ApiVersion": 141}}, ""),
    "api version not dotted numbers": ({"/version": {"ApiVersion": "one.four"}}, ""),
    "info a list": ({"/info": []}, "engine info: expected an object, got a list"),
    "root dir a number": ({"/info": {"DockerRootDir": 5}}, "DockerRootDir is a number"),
    "images an object": ({"/images/json": {"Id": "x"}}, "expected a list, got an object"),
    "image a number": ({"/images/json": [7]}, "expected an object, got a number"),
    "image id a list": ({"/images/json": [{"Id": ["x"]}]}, "Id is a list, expected a string"),
    "layers a string": (
        {
            "/images/json": [{"Id": IMAGE_ID}],
            f"/images/{IMAGE_ID}/json": {"Id": IMAGE_ID, "RootFS": {"Layers": "sha256:1"}},
        },
        "Layers is a string, expected a list of strings",
    ),
    "created a float": (
        {
            "/images/json": [{"Id": IMAGE_ID}],
            f"/images/{IMAGE_ID}/json": {"Id": IMAGE_ID, "Created": 1.5},
        },
        "Created: not a timestamp",
    ),
    "df not json": ({"/system/df": Raw(b"<html>proxy error</html>")}, "disk usage"),
    "volume size a string": (
        {"/system/df": {"Volumes": [{"Name": "v", "UsageData": {"Size": "big"}}]}},
        "Size is a string, expected an integer",
    ),
    "volume time garbage": (
        {"/system/df": {"Volumes": [{"Name": "v", "CreatedAt": "yesterday"}]}},
        "CreatedAt: not a timestamp",
    ),
    "cache flag a string": (
        {"/system/df": {"BuildCache": [{"ID": "c", "InUse": "yes"}]}},
        "InUse is a string, expected true or false",
    ),
    "labels not strings": (
        {"/system/df": {"Volumes": [{"Name": "v", "Labels": {"a": {"b": 1}}}]}},
        "Labels has a value that is not a string",
    ),
    "container id escapes": (
        {
            "/system/df": {"Containers": [{"Id": "c1"}]},
            "/containers/c1/json": {"Id": "../../../etc"},
        },
        "is not a container id",
    ),
}


@pytest.mark.parametrize("case", sorted(WRONG_ANSWERS))
def test_wrongly_typed_answers_are_one_line(
    case: str, socket_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers, message = WRONG_ANSWERS[case]
    with fake_engine(socket_path, answers):
        line = one_line(capsys, ["df"])
    assert line.startswith(f"trimdock: unix://{socket_path}: "), line
    assert message in line


def test_healthy_fake_is_accepted(socket_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The baseline the cases above break: the same fake with well-typed answers works.
    with fake_engine(socket_path):
        assert run(["df", "--format", "json"]) == 0
    assert '"images"' in capsys.readouterr().out


def test_socket_that_never_answers_fails_fast(
    socket_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine_module, "CONNECT_TIMEOUT_SECONDS", 0.3)
    with fake_engine(socket_path, hang={"/version", "/_ping"}):
        line = one_line(capsys, ["df"])
    assert line == (
        f"trimdock: unix://{socket_path}: the engine did not answer within 0.3 s "
        "(a hung dockerd, or not an engine socket?)"
    )


def test_a_slow_request_outlasts_the_connect_timeout(
    socket_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The short limit is for connecting only: `system df` on a big host, a removal, a build
    # cache prune may take far longer and must keep working.
    monkeypatch.setattr(engine_module, "CONNECT_TIMEOUT_SECONDS", 0.2)
    with fake_engine(socket_path, slow={"/system/df": 0.6}):
        assert run(["df", "--format", "json"]) == 0
    assert '"images"' in capsys.readouterr().out


def test_request_timeout_comes_from_the_environment(
    socket_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIMDOCK_ENGINE_TIMEOUT", "0.3")
    with fake_engine(socket_path, hang={"/system/df"}):
        line = one_line(capsys, ["df"])
    assert "did not answer within 0.3 s" in line
    assert "TRIMDOCK_ENGINE_TIMEOUT sets the limit" in line


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan", "inf"])
def test_bad_timeout_variable(
    value: str,
    socket_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIMDOCK_ENGINE_TIMEOUT", value)
    line = one_line(capsys, ["df"])
    assert line.startswith("trimdock: TRIMDOCK_ENGINE_TIMEOUT: expected a positive number")


@pytest.mark.parametrize(
    "host", ["tcp://[::1", "tcp://127.0.0.1:99999", "gopher://engine", "tcp://[::1]:x"]
)
def test_malformed_docker_host(
    host: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", host)
    monkeypatch.chdir(tmp_path)
    line = one_line(capsys, ["df"])
    assert line.startswith(f"trimdock: {host}: invalid DOCKER_HOST: "), line


def test_image_sources_share_the_engine_error_mapping(
    socket_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # `layers NAME` reaches the engine through the same client as `df`: the same timeout and
    # the same description, with the image the user asked for named as the input.
    monkeypatch.setattr(engine_module, "CONNECT_TIMEOUT_SECONDS", 0.3)
    with fake_engine(socket_path, hang={"/version", "/_ping"}):
        line = one_line(capsys, ["layers", "trimdock-test/anything:1"])
    assert line == (
        f"trimdock: trimdock-test/anything:1: cannot reach the Docker Engine at "
        f"unix://{socket_path}: the engine did not answer within 0.3 s "
        "(a hung dockerd, or not an engine socket?)"
    )
