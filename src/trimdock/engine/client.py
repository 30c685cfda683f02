"""Connecting to the engine, with timeouts, and the one mapping of its failures to errors.

Every caller (the `docker save` image source, the layer-store source, `df`/`prune`, shell
completion) connects through `EngineClient.connect` and wraps each request in
`EngineClient.errors`, so a missing socket, a hung dockerd or a refused request reads the same
whichever command met it.

Requests go through the Docker SDK (`EngineClient.api`), created on first use: importing it
(requests, urllib3) costs about 0.1 s, a fifth of a `layers NAME` run, and that run only needs
three small JSON answers from a local engine (ping, `docker info`, the image's inspect; shell
completion lists the images). On a local socket those come through `http.client`
(`_LocalSocket`); the error mapping is the same.
"""

from __future__ import annotations

import http.client
import json
import math
import os
import socket
import sys
import urllib.parse
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimdock.errors import EngineError, ImageSourceError, UsageError

if TYPE_CHECKING:
    import docker

# Connecting: `/version` and `/_ping` are answered by dockerd from memory (no storage walk), in
# milliseconds on a healthy engine. 10 s leaves room for a loaded CI machine and still reports a
# socket that accepts and never answers (a hung dockerd, the wrong socket) quickly instead of
# after minutes.
CONNECT_TIMEOUT_SECONDS = 10.0
# Every later request: listing and inspecting images, `system df` (which sizes every volume)
# and removals can take minutes on a big host. A bound still, so a hung engine ends the run;
# TRIMDOCK_ENGINE_TIMEOUT (seconds) raises or lowers it. For a save stream it bounds each read.
REQUEST_TIMEOUT_SECONDS = 300.0
TIMEOUT_VARIABLE = "TRIMDOCK_ENGINE_TIMEOUT"
DEFAULT_HOST = "unix:///var/run/docker.sock"


def host_label() -> str:
    return os.environ.get("DOCKER_HOST") or DEFAULT_HOST


def socket_path(host: str) -> str | None:
    """The socket file of a `unix://` host (a local engine), else None."""
    if host.startswith("unix://"):
        return host.removeprefix("unix://")
    return None


def request_timeout() -> float:
    """REQUEST_TIMEOUT_SECONDS, or the positive number of seconds in TRIMDOCK_ENGINE_TIMEOUT."""
    text = os.environ.get(TIMEOUT_VARIABLE)
    if text is None or not text.strip():
        return REQUEST_TIMEOUT_SECONDS
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise UsageError(
            f"expected a positive number of seconds, got {text!r}", source=TIMEOUT_VARIABLE
        )
    return value


def _loaded(
    *names: str, also: type[BaseException] | None = None
) -> tuple[type[BaseException], ...]:
    """The named exception classes whose modules are imported. The SDK stack is imported only
    when a command needs it (module docstring): an error of a module never imported cannot have
    been raised, so the mapping below never imports the SDK just to look at an error."""
    found: list[type[BaseException]] = [] if also is None else [also]
    for name in names:
        module_name, _, attribute = name.rpartition(".")
        module = sys.modules.get(module_name)
        if module is not None:
            found.append(getattr(module, attribute))
    return tuple(found)


def _timed_out(exc: BaseException) -> bool:
    timeouts = _loaded(
        "requests.exceptions.Timeout", "urllib3.exceptions.TimeoutError", also=socket.timeout
    )
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, timeouts):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def describe_connection_error(exc: BaseException, host: str, timeout: float) -> str:
    """Turn the SDK's nested connection errors into one sentence a user can act on."""
    text = str(exc)
    if _timed_out(exc):
        hint = "" if timeout == CONNECT_TIMEOUT_SECONDS else f"; {TIMEOUT_VARIABLE} sets the limit"
        return (
            f"the engine did not answer within {timeout:g} s "
            f"(a hung dockerd, or not an engine socket?{hint})"
        )
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, http.client.HTTPException) and not isinstance(cause, OSError):
            answer = str(cause).strip()[:80]
            return f"the answer is not HTTP ({answer!r}): not an engine socket?"
        if isinstance(cause, PermissionError) or "Permission denied" in str(cause):
            return (
                "permission denied on the engine socket "
                "(run as root or as a member of the socket's group, e.g. docker)"
            )
        if isinstance(cause, FileNotFoundError) or "No such file or directory" in str(cause):
            return "no engine socket there: is dockerd running? (bash scripts/engine-up.sh)"
        if isinstance(cause, ConnectionRefusedError) or "Connection refused" in str(cause):
            return "connection refused: is dockerd running? (bash scripts/engine-up.sh)"
        cause = cause.__cause__ or cause.__context__
    path = socket_path(host)
    if path and not os.path.exists(path):
        return "no engine socket there: is dockerd running? (bash scripts/engine-up.sh)"
    if path and not os.access(path, os.R_OK | os.W_OK):
        return "permission denied on the engine socket (run as root or join its group)"
    return f"cannot reach the Docker Engine: {text.splitlines()[0] if text else type(exc).__name__}"


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def not_found(image: str) -> str:
    """Say how to get a missing image, not only that it is missing."""
    name = image.removeprefix("docker-daemon:")
    return (
        f"no such image on the local engine: pull it first (docker pull {name}), "
        f"read it from its registry (docker://{name}) "
        "or give a saved archive (docker-archive:FILE, oci:DIR)"
    )


class EngineAnswer(Exception):
    """The engine answered a request made over `_LocalSocket` with an HTTP error status."""

    def __init__(self, status: int, reason: str, explanation: str) -> None:
        super().__init__(
            f"{status} {reason}: {explanation}" if explanation else f"{status} {reason}"
        )
        self.status = status
        self.explanation = explanation


class NotJson(ValueError):
    """An answer over `_LocalSocket` that is not the JSON document the API promises."""


@contextmanager
def engine_errors(
    host: str,
    what: str,
    timeout: float = REQUEST_TIMEOUT_SECONDS,
    *,
    image: str | None = None,
) -> Iterator[None]:
    """Map every failure of an engine request to one `TrimdockError` line.

    Host commands name the engine (`host`) as the input at fault. An image source passes the
    user's `image` reference instead: the line then names the image, says which engine could
    not be reached, and a 404 becomes "no such image" (`ImageSourceError`).
    """
    try:
        yield
    except Exception as exc:
        error = _engine_error(exc, host, what, timeout, image)
        if error is None:
            raise
        raise error from exc


def _engine_error(
    exc: Exception, host: str, what: str, timeout: float, image: str | None
) -> Exception | None:
    """The one-line error for `exc` (see `engine_errors`), or None for one it does not know."""
    not_found_errors = _loaded("docker.errors.NotFound")
    if isinstance(exc, not_found_errors) or (isinstance(exc, EngineAnswer) and exc.status == 404):
        if image is None:
            return EngineError(f"{what}: {_explanation(exc)}", source=host)
        return ImageSourceError(not_found(image), source=image)
    if isinstance(exc, _loaded("docker.errors.APIError", also=EngineAnswer)):
        if image is None:
            return EngineError(f"{what}: {_explanation(exc)}", source=host)
        return EngineError(f"the engine failed to {what} ({_short(exc)})", source=image)
    if isinstance(exc, _loaded("requests.exceptions.JSONDecodeError", also=NotJson)):
        return EngineError(
            f"unexpected answer from the engine to {what}: not JSON ({exc})", source=image or host
        )
    connection_errors = _loaded(
        "docker.errors.DockerException", "requests.exceptions.RequestException", also=OSError
    )
    if isinstance(exc, (http.client.HTTPException, *connection_errors)):
        problem = describe_connection_error(exc, host, timeout)
        if image is None:
            return EngineError(problem, source=host)
        if problem.startswith("cannot reach the Docker Engine"):
            problem = problem.removeprefix("cannot reach the Docker Engine: ")
        return EngineError(f"cannot reach the Docker Engine at {host}: {problem}", source=image)
    if isinstance(exc, ValueError):  # e.g. the SDK parsing an API version that is not "1.41"
        return EngineError(
            f"unexpected answer from the engine to {what}: {exc}", source=image or host
        )
    return None


def _explanation(exc: Exception) -> str:
    explanation = getattr(exc, "explanation", None)
    return str(explanation or exc)


class _LocalSocket:
    """GET requests with JSON answers to an engine on a Unix socket, with the standard library
    (module docstring: the few requests of a `layers NAME` run do not import the SDK)."""

    def __init__(self, path: str) -> None:
        self.path = path

    def get(self, url: str, timeout: float) -> Any:
        """The JSON answer to `GET url` (unversioned: the engine's own API version, the one the
        SDK negotiates too); `EngineAnswer` for an error status."""
        connection = _UnixConnection(self.path, timeout)
        try:
            connection.request("GET", url, headers={"Accept": "application/json"})
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        if response.status >= 400:
            raise EngineAnswer(response.status, response.reason, _message(body))
        if url == "/_ping":
            return body.decode("utf-8", "replace")
        try:
            return json.loads(body)
        except ValueError as exc:
            raise NotJson(f"{exc}") from exc


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self._path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


def _message(body: bytes) -> str:
    """The engine's `{"message": ...}` of an error answer, else its text (as the SDK says it)."""
    text = body.decode("utf-8", "replace").strip()
    try:
        document = json.loads(text)
    except ValueError:
        return text
    if isinstance(document, dict) and isinstance(document.get("message"), str):
        return str(document["message"])
    return text


class EngineClient:
    """One connection to the engine, with trimdock's timeouts: the Docker SDK's client (`api`,
    connected on first use) and, on a local socket, the requests of the image sources without
    it (`inspect_image`, `info`, `images`; module docstring).

    `image` is the reference an image source was asked for: errors then name it (see
    `engine_errors`).
    """

    def __init__(
        self, host: str, *, timeout: float, connect_timeout: float, image: str | None = None
    ) -> None:
        self.host = host
        self.image = image
        self.timeout = timeout
        self._connect_timeout = connect_timeout
        self._api: docker.APIClient | None = None
        path = socket_path(host)
        self._socket = _LocalSocket(path) if path else None

    @classmethod
    def connect(cls, budget: float | None = None, *, image: str | None = None) -> EngineClient:
        """Connect and ping with the short connect timeout, then allow each request the long
        one (`request_timeout()`); `budget` caps both (shell completion answers in a second)."""
        host = host_label()
        client = cls(
            host,
            timeout=request_timeout() if budget is None else budget,
            connect_timeout=CONNECT_TIMEOUT_SECONDS if budget is None else budget,
            image=image,
        )
        if client._socket is None:
            client._connect_sdk()
        else:
            with engine_errors(host, "connect", client._connect_timeout, image=image):
                client._socket.get("/_ping", client._connect_timeout)
        return client

    @property
    def api(self) -> docker.APIClient:
        """The Docker SDK's client, connected on first use."""
        if self._api is None:
            self._api = self._connect_sdk()
        return self._api

    def _connect_sdk(self) -> docker.APIClient:
        """Connect the SDK's client: it asks /version and pings, with the connect timeout."""
        import docker  # 0.1 s of imports, only for the requests that need it (module docstring)
        import docker.errors

        image = self.image
        try:
            docker.utils.parse_host(self.host)
        except (docker.errors.DockerException, ValueError) as exc:
            raise EngineError(f"invalid DOCKER_HOST: {exc}", source=image or self.host) from exc
        with engine_errors(self.host, "connect", self._connect_timeout, image=image):
            client = docker.from_env(timeout=self._connect_timeout)  # asks /version
            api: docker.APIClient = client.api
            api.ping()
        api.timeout = self.timeout
        self._api = api
        return api

    @property
    def local(self) -> bool:
        """Whether the engine is reached through a socket file, so runs on this machine."""
        return socket_path(self.host) is not None

    def inspect_image(self, name: str) -> Any:
        """The engine's inspect of image `name` (wrap the call in `errors`, as for `api`)."""
        if self._socket is None:
            return self.api.inspect_image(name)
        # Quoted as the SDK quotes it: a name keeps its `/` and `:`.
        return self._socket.get(f"/images/{urllib.parse.quote(name, safe='/:')}/json", self.timeout)

    def info(self) -> Any:
        """The engine's `docker info` answer (wrap the call in `errors`, as for `api`)."""
        if self._socket is None:
            return self.api.info()
        return self._socket.get("/info", self.timeout)

    def images(self) -> Any:
        """The engine's list of tagged images, `docker images` (wrap the call in `errors`)."""
        if self._socket is None:
            return self.api.images()
        return self._socket.get("/images/json", self.timeout)

    def storage(self) -> tuple[Path, str]:
        """The engine's data root and storage driver (`docker info`)."""
        with self.errors("engine info"):
            info = self.info()
        if not isinstance(info, dict):
            raise EngineError("unexpected answer from the engine to engine info", source=self.host)
        root, driver = info.get("DockerRootDir"), info.get("Driver")
        return Path(root if isinstance(root, str) and root else "/var/lib/docker"), (
            driver if isinstance(driver, str) else ""
        )

    def errors(self, what: str) -> AbstractContextManager[None]:
        return engine_errors(self.host, what, self.timeout, image=self.image)

    def close(self) -> None:
        if self._api is not None:
            self._api.close()
