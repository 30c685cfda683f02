"""A hostile stand-in on a Unix socket: answers the engine API paths trimdock asks with whatever
a test crafts (wrong JSON types, no JSON, or no answer at all).

Not a mock of the real engine in place of testing it (the engine tests use the real one): this
is the crafted input for "the socket leads to something that is not a well-behaved engine".
"""

from __future__ import annotations

import json
import re
import shutil
import socketserver
import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from trimdock.cli.main import run

# The answers of a small, healthy engine; a test replaces one path at a time.
HEALTHY: dict[str, Any] = {
    "/version": {"ApiVersion": "1.41", "Version": "20.10.24", "MinAPIVersion": "1.12"},
    "/_ping": "OK",
    "/info": {"DockerRootDir": "/nonexistent/docker", "Driver": "overlay2", "ServerVersion": "x"},
    "/images/json": [],
    "/system/df": {"Images": [], "Containers": [], "Volumes": [], "BuildCache": []},
}
_VERSIONED = re.compile(r"^/v\d+\.\d+")
# How long a hung answer holds its connection at most, so a forgotten server cannot block the
# suite; tests end far sooner (the server is stopped at the end of each test).
_HANG_LIMIT_SECONDS = 30.0


class Raw(bytes):
    """A body sent as is, not as JSON (e.g. text where JSON was expected)."""


@dataclass
class FakeEngine:
    socket_path: Path
    answers: dict[str, Any] = field(default_factory=lambda: dict(HEALTHY))
    hang: set[str] = field(default_factory=set)  # paths that are accepted and never answered
    slow: dict[str, float] = field(default_factory=dict)  # path -> seconds before the answer
    asked: threading.Event = field(default_factory=threading.Event)  # a hung path was asked
    stop: threading.Event = field(default_factory=threading.Event)

    @property
    def docker_host(self) -> str:
        return f"unix://{self.socket_path}"


def _handler(engine: FakeEngine) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            path = _VERSIONED.sub("", self.path.split("?", 1)[0])
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if path in engine.hang:
                engine.asked.set()
                engine.stop.wait(_HANG_LIMIT_SECONDS)
                self.close_connection = True
                return
            if path in engine.slow:
                engine.stop.wait(engine.slow[path])
            if path not in engine.answers:
                self._send(404, b'{"message": "not in this fake"}', "application/json")
                return
            value = engine.answers[path]
            if isinstance(value, Raw):
                self._send(200, bytes(value), "text/plain")
            elif isinstance(value, str):
                self._send(200, value.encode(), "text/plain")
            else:
                self._send(200, json.dumps(value).encode(), "application/json")

        def _send(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _answer
        do_POST = _answer
        do_HEAD = _answer
        do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # quiet; also, Unix sockets have no client address to format

    return Handler


class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


@contextmanager
def fake_engine(
    socket_path: Path,
    answers: Mapping[str, Any] | None = None,
    hang: set[str] | None = None,
    slow: Mapping[str, float] | None = None,
) -> Iterator[FakeEngine]:
    engine = FakeEngine(
        socket_path, {**HEALTHY, **(answers or {})}, set(hang or ()), dict(slow or {})
    )
    server = _Server(str(socket_path), _handler(engine))
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield engine
    finally:
        engine.stop.set()
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def socket_path(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A socket path for `fake_engine` that trimdock's engine client is pointed at (DOCKER_HOST),
    in a working folder with no settings file above it."""
    # Unix socket paths are limited to 108 bytes; pytest's tmp_path can be longer.
    directory = Path(tempfile.mkdtemp(prefix="tdfe-", dir="/tmp"))
    path = directory / "engine.sock"
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    monkeypatch.delenv("TRIMDOCK_ENGINE_TIMEOUT", raising=False)
    monkeypatch.delenv("TRIMDOCK_ENGINE_READER", raising=False)
    monkeypatch.chdir(directory)  # no settings file found upwards
    yield path
    shutil.rmtree(directory)


def one_line(capsys: pytest.CaptureFixture[str], args: list[str]) -> str:
    """The one stderr line of a run that exits 2 with nothing on stdout (no traceback)."""
    capsys.readouterr()
    assert run(args) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "internal error" not in lines[0]
    return lines[0]
