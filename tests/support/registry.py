"""A real registry on loopback for tests: Debian's `docker-registry` (the distribution
registry), optionally with htpasswd basic auth, and a TCP proxy that can drop connections."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.tokens import TokenService


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Registry:
    host: str  # 127.0.0.1:PORT
    process: subprocess.Popen[bytes]

    def push(self, source: str, repo: str, *, creds: str | None = None) -> str:
        """`skopeo copy` an image in (e.g. docker-daemon:TAG); returns docker://HOST/REPO."""
        target = f"docker://{self.host}/{repo}"
        args = ["skopeo", "copy", "-q", "--dest-tls-verify=false", source, target]
        if creds:
            args[3:3] = ["--dest-creds", creds]
        subprocess.run(args, check=True, capture_output=True)
        return target


@contextlib.contextmanager
def registry(
    root: Path,
    *,
    htpasswd: tuple[str, str] | None = None,
    token: TokenService | None = None,
) -> Iterator[Registry]:
    """A registry on a free loopback port: open, with htpasswd basic auth, or with `auth: token`
    trusting `token` (tests/support/tokens.py). Its log is `root/registry.log`."""
    binary = shutil.which("docker-registry")
    if binary is None:
        raise RuntimeError("docker-registry is missing: bash scripts/registry-deps.sh")
    root.mkdir(parents=True, exist_ok=True)
    port = free_port()
    auth = ""
    if htpasswd:
        password_file = root / "htpasswd"
        done = subprocess.run(
            ["htpasswd", "-Bbn", *htpasswd], capture_output=True, text=True, check=True
        )
        password_file.write_text(done.stdout)
        auth = f"auth:\n  htpasswd:\n    realm: trimdock-test\n    path: {password_file}\n"
    if token:
        auth = token.registry_config()
    config = root / "config.yml"
    config.write_text(
        "version: 0.1\nlog:\n  level: info\n"
        f"storage:\n  filesystem:\n    rootdirectory: {root / 'data'}\n"
        f"http:\n  addr: 127.0.0.1:{port}\n{auth}"
    )
    with open(root / "registry.log", "ab") as log:
        process = subprocess.Popen(
            [binary, "serve", str(config)],
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/v2/", timeout=1)
                break
            except urllib.error.HTTPError:
                break  # 401: up, with auth
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("docker-registry did not start") from None
                time.sleep(0.1)
        yield Registry(f"127.0.0.1:{port}", process)
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Proxy:
    """Forwards 127.0.0.1:port to a registry; `cut(path)` says after how many response bytes
    to drop the connection of a request for `path` (None: never)."""

    host: str
    upstream: int
    cut: Callable[[str], int | None] = lambda path: None
    refuse: Callable[[str], int | None] = lambda path: None  # answer this status instead
    requests: list[str] = field(default_factory=list)


@contextlib.contextmanager
def proxy(
    upstream: str,
    cut: Callable[[str], int | None],
    refuse: Callable[[str], int | None] = lambda path: None,
) -> Iterator[Proxy]:
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.1)
    state = Proxy(
        f"127.0.0.1:{server.getsockname()[1]}", int(upstream.rsplit(":", 1)[1]), cut, refuse
    )
    stop = threading.Event()

    def serve(client: socket.socket) -> None:
        # One request per connection ("Connection: close"), so a response ends at EOF.
        with client, socket.create_connection(("127.0.0.1", state.upstream)) as up:
            client.settimeout(10)
            try:
                head = client.recv(1 << 16)
            except OSError:
                return
            if not head:
                return
            line = head.split(b"\r\n", 1)[0].decode(errors="replace")
            path = line.split(" ")[1] if " " in line else ""
            state.requests.append(path)
            status = state.refuse(path)
            if status is not None:
                client.sendall(
                    f"HTTP/1.1 {status} Refused\r\nRetry-After: 0\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n".encode()
                )
                return
            head = head.replace(b"Connection: keep-alive", b"Connection: close")
            up.sendall(head)
            limit = state.cut(path)
            sent = 0
            while True:
                try:
                    data = up.recv(1 << 16)
                except OSError:
                    return
                if not data:
                    return
                if limit is not None and sent + len(data) > limit:
                    with contextlib.suppress(OSError):
                        client.sendall(data[: max(0, limit - sent)])
                    return  # drop the connection mid-response
                try:
                    client.sendall(data)
                except OSError:
                    return
                sent += len(data)

    def accept() -> None:
        while not stop.is_set():
            try:
                client, _ = server.accept()
            except TimeoutError:
                continue
            threading.Thread(target=serve, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        stop.set()
        thread.join()
        server.close()


def docker_config(folder: Path, host: str, user: str, password: str) -> Path:
    """A ~/.docker/config.json holding `user:password` for `host` (as `docker login` writes)."""
    import base64
    import json

    folder.mkdir(parents=True, exist_ok=True)
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    (folder / "config.json").write_text(json.dumps({"auths": {host: {"auth": token}}}))
    os.chmod(folder / "config.json", 0o600)
    return folder
