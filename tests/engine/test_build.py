"""`trimdock.engine.build`: the build output read and the engine's refusals mapped (pure), then
the same on the real engine (legacy builder, busybox base)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import docker.errors
import pytest
import requests

from tests.support.engine import image_exists
from trimdock.engine.build import LOG_LINES, BuildFailed, ImageBuilder, read_output, refusal
from trimdock.engine.client import EngineClient


def _stream(*lines: str) -> list[object]:
    return [{"stream": f"{line}\n"} for line in lines]


def test_steps_and_cache_hits_are_counted_from_the_stream() -> None:
    events = [
        *_stream("Step 1/4 : FROM busybox:latest", " ---> 1a2b"),
        *_stream("Step 2/4 : COPY a /a", " ---> Using cache", " ---> 3c4d"),
        "not an event",  # the SDK yields dicts; anything else is skipped
        {"aux": {"ID": "sha256:00"}},
        *_stream("Step 3/4 : from busybox:latest", "Step 4/4 : RUN true", " ---> Running in 5e"),
        {"stream": "\n"},
    ]
    output = read_output(events)
    assert (output.steps, output.cached) == (2, 1)  # FROM, any case, is not a step


def test_a_failed_step_keeps_the_last_lines_and_the_engine_message() -> None:
    lines = [f"line {n}" for n in range(40)]
    error = {"errorDetail": {"code": 1}, "error": "The command '/bin/sh -c false' returned 1\n"}
    with pytest.raises(BuildFailed) as caught:
        read_output([*_stream(*lines), {"stream": "\n\n"}, error, *_stream("after")])
    failed = caught.value
    assert failed.log == tuple(lines[-LOG_LINES:])  # blank lines are not kept
    assert failed.message == "The command '/bin/sh -c false' returned 1"
    assert str(failed) == "\n".join([*lines[-LOG_LINES:], failed.message])
    assert failed.line == failed.message


def test_the_one_line_form_joins_a_message_of_several_lines() -> None:
    failed = BuildFailed("first\n  second \n", ("a log line",))
    assert failed.line == "first second"


def test_an_empty_error_field_is_no_failure() -> None:
    assert read_output([{"error": ""}, *_stream("Step 1/1 : FROM busybox")]).steps == 0


def _api_error(status: int, explanation: str | None) -> docker.errors.APIError:
    response = requests.Response()
    response.status_code = status
    return docker.errors.APIError("the SDK's message", response, explanation)


@pytest.mark.parametrize(
    ("status", "explanation", "expected"),
    [
        (400, "dockerfile parse error line 2: unknown instruction: FROBNICATE", "dockerfile parse"),
        (400, None, "400 Client Error"),  # no explanation: the SDK's own text
        (409, "conflict", "conflict"),
    ],
)
def test_a_client_error_answer_is_a_failed_build(
    status: int, explanation: str | None, expected: str
) -> None:
    failed = refusal(_api_error(status, explanation))
    assert failed is not None and failed.message.startswith(expected) and failed.log == ()


@pytest.mark.parametrize(
    "error",
    [
        _api_error(404, "page not found"),  # /build always exists: a wrong endpoint or API
        _api_error(500, "no space left on device"),
        docker.errors.APIError("no response"),
        requests.ConnectionError("connection refused"),
        OSError("broken pipe"),
    ],
)
def test_engine_faults_are_no_failed_build(error: Exception) -> None:
    assert refusal(error) is None


# -- on the real engine ----------------------------------------------------------------------


def _builder() -> ImageBuilder:
    return ImageBuilder(EngineClient.connect())


def _tag(name: str, text: str) -> str:
    return f"trimdock-test/engine-{name}:{hashlib.sha256(text.encode()).hexdigest()[:12]}"


def _dockerfile(tmp_path: Path, text: str) -> Path:
    (tmp_path / "ctx").mkdir()
    (tmp_path / "ctx" / "a.txt").write_text("a\n")
    path = tmp_path / "Dockerfile"  # outside the context: sent under a private name
    path.write_text(text)
    return path


@pytest.mark.engine
def test_a_build_is_counted_and_its_image_removed(engine: None, tmp_path: Path) -> None:
    text = "FROM busybox:latest\nCOPY a.txt /a.txt\nRUN cat /a.txt\n"
    dockerfile = _dockerfile(tmp_path, text)
    builder, tag = _builder(), _tag("built", text)
    try:
        build = builder.from_directory(tmp_path / "ctx", dockerfile, tag, nocache=True)
        assert (build.tag, build.steps, build.cached) == (tag, 2, 0)
        assert image_exists(tag)
        again = builder.from_directory(tmp_path / "ctx", dockerfile, tag)
        assert (again.steps, again.cached) == (2, 2)
    finally:
        builder.remove()
    assert not image_exists(tag) and builder.tags == []


@pytest.mark.engine
def test_a_failing_step_is_a_failed_build_with_its_output(engine: None, tmp_path: Path) -> None:
    text = "FROM busybox:latest\nRUN echo about to fail && false\n"
    dockerfile = _dockerfile(tmp_path, text)
    builder = _builder()
    try:
        with pytest.raises(BuildFailed) as caught:
            builder.from_directory(tmp_path / "ctx", dockerfile, _tag("step", text), nocache=True)
    finally:
        builder.remove()
    failed = caught.value
    assert "returned a non-zero code: 1" in failed.message
    assert "about to fail" in failed.log  # what the step printed before it failed
    assert any(line.startswith("Step 2/2 : RUN echo") for line in failed.log)


@pytest.mark.engine
def test_a_dockerfile_the_engine_cannot_parse_is_a_failed_build(
    engine: None, tmp_path: Path
) -> None:
    text = "FROM busybox:latest\nFROBNICATE now\n"
    dockerfile = _dockerfile(tmp_path, text)
    builder = _builder()
    try:
        with pytest.raises(BuildFailed) as caught:
            builder.from_directory(tmp_path / "ctx", dockerfile, _tag("parse", text))
    finally:
        builder.remove()
    assert "FROBNICATE" in caught.value.message.upper() and caught.value.log == ()
