"""An engine name asked over the engine's socket without the Docker SDK (ping, info, inspect:
trimdock.engine.client): what a socket that is not a well-behaved engine answers becomes one
line naming the image, as through the SDK.

The healthy path is the real engine's (tests/layers/test_store.py, tests/cli/test_startup.py);
here the socket leads to a crafted stand-in (tests/host/fake_engine.py) or to a server that
does not speak HTTP.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.host.fake_engine import Raw, fake_engine, one_line

IMAGE = "trimdock-test/anything:1"
INSPECT = f"/images/{IMAGE}/json"


def test_an_unknown_image_says_how_to_get_it(
    socket_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with fake_engine(socket_path):  # answers 404 to the inspect
        line = one_line(capsys, ["layers", IMAGE])
    assert line.startswith(f"trimdock: {IMAGE}: no such image on the local engine: ")
    assert f"docker pull {IMAGE}" in line


def test_an_inspect_that_is_not_json(socket_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with fake_engine(socket_path, {INSPECT: Raw(b"<html>proxy error</html>")}):
        line = one_line(capsys, ["layers", IMAGE])
    assert line.startswith(
        f"trimdock: {IMAGE}: unexpected answer from the engine to inspect the image: not JSON ("
    ), line


def test_an_info_that_is_not_an_object(
    socket_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = {INSPECT: {"Id": "sha256:" + "ab" * 32, "RootFS": {"Layers": []}}, "/info": []}
    with fake_engine(socket_path, answers):
        line = one_line(capsys, ["layers", IMAGE])
    assert line == (
        f"trimdock: unix://{socket_path}: unexpected answer from the engine to engine info"
    )


def test_an_inspect_that_never_comes(
    socket_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TRIMDOCK_ENGINE_TIMEOUT", "0.3")
    with fake_engine(socket_path, hang={INSPECT}):
        line = one_line(capsys, ["layers", IMAGE])
    assert line == (
        f"trimdock: {IMAGE}: cannot reach the Docker Engine at unix://{socket_path}: "
        "the engine did not answer within 0.3 s "
        "(a hung dockerd, or not an engine socket?; TRIMDOCK_ENGINE_TIMEOUT sets the limit)"
    )


@contextmanager
def not_http(path: Path, answer: bytes) -> Iterator[None]:
    """A socket server that reads a request, writes `answer` (not HTTP) and hangs up."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen()
    server.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            with connection:
                connection.settimeout(5)
                connection.recv(65536)
                connection.sendall(answer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        server.close()


@pytest.mark.parametrize(
    ("answer", "problem"),
    [
        (b"", "Remote end closed connection without response"),
        (b"SSH-2.0-OpenSSH_9.2\r\n", "the answer is not HTTP ('SSH-2.0-OpenSSH_9.2')"),
    ],
)
def test_a_socket_that_does_not_speak_http(
    answer: bytes, problem: str, socket_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with not_http(socket_path, answer):
        line = one_line(capsys, ["layers", IMAGE])
    assert line.startswith(
        f"trimdock: {IMAGE}: cannot reach the Docker Engine at unix://{socket_path}: "
    ), line
    assert problem in line
