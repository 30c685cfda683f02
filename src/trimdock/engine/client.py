"""Connecting to the engine, with timeouts, and the one mapping of its failures to errors.

Every caller (the `docker save` image source, the layer-store source, `df`/`prune`, shell
completion) connects through `EngineClient.connect` and wraps each request in
`EngineClient.errors`, so a missing socket, a hung dockerd or a refused request reads the same
whichever command met it.
"""

from __future__ import annotations

import math
import os
import socket
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import docker
import docker.errors
import requests
import urllib3.exceptions

from trimdock.errors import EngineError, ImageSourceError, UsageError

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


def _timed_out(exc: BaseException) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(
            cause,
            (requests.exceptions.Timeout, urllib3.exceptions.TimeoutError, socket.timeout),
        ):
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
    except docker.errors.NotFound as exc:
        if image is None:
            raise EngineError(f"{what}: {exc.explanation or exc}", source=host) from exc
        raise ImageSourceError(not_found(image), source=image) from exc
    except docker.errors.APIError as exc:
        if image is None:
            raise EngineError(f"{what}: {exc.explanation or exc}", source=host) from exc
        raise EngineError(f"the engine failed to {what} ({_short(exc)})", source=image) from exc
    except requests.exceptions.JSONDecodeError as exc:
        raise EngineError(
            f"unexpected answer from the engine to {what}: not JSON ({exc})", source=image or host
        ) from exc
    except (docker.errors.DockerException, requests.exceptions.RequestException, OSError) as exc:
        problem = describe_connection_error(exc, host, timeout)
        if image is None:
            raise EngineError(problem, source=host) from exc
        if problem.startswith("cannot reach the Docker Engine"):
            problem = problem.removeprefix("cannot reach the Docker Engine: ")
        raise EngineError(
            f"cannot reach the Docker Engine at {host}: {problem}", source=image
        ) from exc
    except ValueError as exc:  # e.g. the SDK parsing an API version that is not "1.41"
        raise EngineError(
            f"unexpected answer from the engine to {what}: {exc}", source=image or host
        ) from exc


class EngineClient:
    """One connection to the engine (a `docker.APIClient` with trimdock's timeouts).

    `image` is the reference an image source was asked for: errors then name it (see
    `engine_errors`).
    """

    def __init__(self, api: docker.APIClient, host: str, *, image: str | None = None) -> None:
        self.api = api
        self.host = host
        self.image = image
        self.timeout = float(api.timeout)

    @classmethod
    def connect(cls, budget: float | None = None, *, image: str | None = None) -> EngineClient:
        """Connect and ping with the short connect timeout, then allow each request the long
        one (`request_timeout()`); `budget` caps both (shell completion answers in a second)."""
        host = host_label()
        timeout = request_timeout() if budget is None else budget
        connect_timeout = CONNECT_TIMEOUT_SECONDS if budget is None else budget
        try:
            docker.utils.parse_host(host)
        except (docker.errors.DockerException, ValueError) as exc:
            raise EngineError(f"invalid DOCKER_HOST: {exc}", source=image or host) from exc
        with engine_errors(host, "connect", connect_timeout, image=image):
            client = docker.from_env(timeout=connect_timeout)  # asks /version
            api: docker.APIClient = client.api
            api.ping()
        api.timeout = timeout
        return cls(api, host, image=image)

    @property
    def local(self) -> bool:
        """Whether the engine is reached through a socket file, so runs on this machine."""
        return socket_path(self.host) is not None

    def storage(self) -> tuple[Path, str]:
        """The engine's data root and storage driver (`docker info`)."""
        with self.errors("engine info"):
            info = self.api.info()
        if not isinstance(info, dict):
            raise EngineError("unexpected answer from the engine to engine info", source=self.host)
        root, driver = info.get("DockerRootDir"), info.get("Driver")
        return Path(root if isinstance(root, str) and root else "/var/lib/docker"), (
            driver if isinstance(driver, str) else ""
        )

    def errors(self, what: str) -> AbstractContextManager[None]:
        return engine_errors(self.host, what, self.timeout, image=self.image)

    def close(self) -> None:
        self.api.close()
