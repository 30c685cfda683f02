"""The Registry HTTP API v2 over `requests`: auth challenges, retries, verified documents,
and layer blobs streamed with transparent resumption.

* Auth: a request is first sent as it is; a 401 names the scheme. `Bearer` gets a token from
  the realm (with the stored credentials, if any, as basic auth; scope `repository:R:pull`);
  `Basic` sends the stored credentials. One retry after authenticating.
* Retries: 429, 5xx and connection failures are retried with exponential backoff (0.5 s
  doubling, at most `ATTEMPTS` tries, a server's `Retry-After` honoured up to 10 s).
* 401/403/404 are one clear line naming the reference; never a traceback.
* Blobs stream (`BlobReader`): a connection dropped mid-blob is resumed with an HTTP range
  request from the byte reached (at most `ATTEMPTS` times); the caller's hashers see one
  continuous stream, so the digest check covers every byte.
* Plain HTTP (`insecure`) only for registries on loopback.
"""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any

import requests
import urllib3.exceptions

from trimdock.errors import ImageSourceError, UsageError
from trimdock.registry.auth import Credentials, credentials_for
from trimdock.registry.names import RegistryName

ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
TIMEOUT = (10.0, 60.0)  # connect, read
MAX_DOCUMENT = 4 << 20
_CHALLENGE = re.compile(r'(\w+)="([^"]*)"')
_RETRY = {429, 500, 502, 503, 504}
_TRANSIENT: tuple[type[BaseException], ...] = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    urllib3.exceptions.ProtocolError,
    urllib3.exceptions.ReadTimeoutError,
    ConnectionError,
    TimeoutError,
)


def _short(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


class RegistryClient:
    def __init__(self, name: RegistryName, *, insecure: bool = False) -> None:
        if insecure and not name.loopback:
            raise UsageError(
                f"{name.text}: --insecure (plain HTTP) is only allowed for a registry on "
                "loopback (localhost, 127.0.0.1, ::1)"
            )
        self.name = name
        self.insecure = insecure
        scheme = "http" if insecure else "https"
        self.base = f"{scheme}://{name.api_host}/v2/{name.repository}/"
        self.session = requests.Session()
        self.session.headers["User-Agent"] = "trimdock"
        self._credentials: Credentials | None = None
        self._credentials_read = False
        self._authorization: str | None = None

    def close(self) -> None:
        self.session.close()

    # -- requests ------------------------------------------------------------------------------

    def error(self, problem: str) -> ImageSourceError:
        return ImageSourceError(problem, source=self.name.text)

    def _credentials_once(self) -> Credentials | None:
        if not self._credentials_read:
            self._credentials = credentials_for(self.name.registry)
            self._credentials_read = True
        return self._credentials

    def request(
        self, path: str, *, accept: str | None = None, stream: bool = False, offset: int = 0
    ) -> requests.Response:
        """GET `path` (relative to the repository), authenticated and retried; 2xx only."""
        url = self.base + path
        authenticated = False
        delay = BACKOFF_SECONDS
        for attempt in range(1, ATTEMPTS + 1):
            headers: dict[str, str] = {}
            if accept:
                headers["Accept"] = accept
            if offset:
                headers["Range"] = f"bytes={offset}-"
            if self._authorization:
                headers["Authorization"] = self._authorization
            try:
                response = self.session.get(url, headers=headers, stream=stream, timeout=TIMEOUT)
            except requests.exceptions.SSLError as exc:
                hint = (
                    " (a plain HTTP registry on loopback needs --insecure)"
                    if self.name.loopback
                    else ""
                )
                raise self.error(
                    f"TLS error talking to {self.name.api_host}{hint}: {_short(exc)}"
                ) from exc
            except _TRANSIENT as exc:
                if attempt == ATTEMPTS:
                    raise self.error(
                        f"cannot reach the registry {self.name.api_host} after {attempt} attempts "
                        f"({_short(exc)})"
                    ) from exc
                time.sleep(delay)
                delay *= 2
                continue
            if response.status_code == 401 and not authenticated:
                response.close()
                self._authenticate(response)
                authenticated = True
                continue
            if response.status_code in _RETRY and attempt < ATTEMPTS:
                wait = _retry_after(response, delay)
                response.close()
                time.sleep(wait)
                delay *= 2
                continue
            if response.status_code >= 400:
                response.close()
                raise self._status_error(response.status_code, path)
            return response
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _status_error(self, status: int, path: str) -> ImageSourceError:
        what = "image" if path.startswith("manifests/") else f"blob {path.rsplit('/', 1)[-1][:19]}"
        if status == 401:
            how = (
                "the stored credentials were refused"
                if self._credentials_once()
                else f"no credentials stored for {self.name.registry} "
                f"(docker login {self.name.registry})"
            )
            return self.error(f"authentication required: {how}")
        if status == 403:
            return self.error(f"access denied to {self.name.repository} (403 Forbidden)")
        if status == 404:
            return self.error(f"no such {what} in the registry (404 Not Found)")
        if status in _RETRY:
            return self.error(f"the registry kept failing ({status}) after {ATTEMPTS} attempts")
        return self.error(f"the registry answered {status} for the {what}")

    def _authenticate(self, response: requests.Response) -> None:
        challenge = response.headers.get("WWW-Authenticate", "")
        scheme, _, params = challenge.partition(" ")
        credentials = self._credentials_once()
        if scheme.lower() == "basic":
            if credentials is None:
                raise self._status_error(401, "manifests/")
            self._authorization = requests.auth._basic_auth_str(
                credentials.username, credentials.password
            )
            return
        if scheme.lower() != "bearer":
            raise self.error(f"unsupported authentication scheme {scheme!r}")
        fields = dict(_CHALLENGE.findall(params))
        realm = fields.pop("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise self.error("the registry's bearer challenge has no usable realm")
        fields.setdefault("scope", f"repository:{self.name.repository}:pull")
        auth = (credentials.username, credentials.password) if credentials else None
        try:
            answer = self.session.get(realm, params=fields, auth=auth, timeout=TIMEOUT)
        except requests.exceptions.RequestException as exc:
            raise self.error(f"cannot get a token from {realm} ({_short(exc)})") from exc
        if answer.status_code in (401, 403):
            raise self._status_error(answer.status_code, "manifests/")
        try:
            document = answer.json()
            token = document.get("token") or document.get("access_token")
        except (ValueError, AttributeError):
            token = None
        if not isinstance(token, str) or not token:
            raise self.error(f"the token service {realm} gave no token ({answer.status_code})")
        self._authorization = f"Bearer {token}"

    # -- documents and blobs -------------------------------------------------------------------

    def document(
        self, path: str, *, accept: str | None = None, digest: str | None = None
    ) -> tuple[bytes, str]:
        """A manifest or config: its bytes and media type, its digest checked when known."""
        for attempt in range(1, ATTEMPTS + 1):
            response = self.request(path, accept=accept, stream=True)
            with response:
                try:
                    data = response.raw.read(MAX_DOCUMENT + 1, decode_content=True)
                    break
                except _TRANSIENT as exc:
                    if attempt == ATTEMPTS:
                        raise self.error(
                            f"the connection broke {attempt} times while reading {path[:26]} "
                            f"({_short(exc)})"
                        ) from exc
            time.sleep(BACKOFF_SECONDS * attempt)
        if len(data) > MAX_DOCUMENT:
            raise self.error(f"{path} is larger than {MAX_DOCUMENT} bytes")
        actual = "sha256:" + hashlib.sha256(data).hexdigest()
        expected = digest or response.headers.get("Docker-Content-Digest")
        if expected and expected.startswith("sha256:") and expected != actual:
            raise self.error(f"{path} does not match its digest {expected} (content is {actual})")
        media_type = response.headers.get("Content-Type", "").split(";")[0].strip()
        return data, media_type

    def blob(self, digest: str, size: int | None) -> BlobReader:
        return BlobReader(self, digest, size)


def _retry_after(response: requests.Response, default: float) -> float:
    text = response.headers.get("Retry-After", "")
    return min(float(text), 10.0) if text.isdigit() else default


class BlobReader:
    """A layer blob as a readable stream, resumed with range requests when a connection drops."""

    def __init__(self, client: RegistryClient, digest: str, size: int | None) -> None:
        self._client = client
        self._path = f"blobs/{digest}"
        self._size = size
        self._offset = 0
        self._resumes = 0
        self._response = client.request(self._path, stream=True)

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while True:
            try:
                data = self._response.raw.read(None if size is None or size < 0 else size)
            except _TRANSIENT as exc:
                self._resume(exc)
                continue
            if not data and self._size is not None and self._offset < self._size:
                self._resume(None)
                continue
            self._offset += len(data)
            return bytes(data)

    def _resume(self, exc: BaseException | None) -> None:
        self._response.close()
        self._resumes += 1
        if self._resumes > ATTEMPTS:
            why = _short(exc) if exc else "the connection closed early"
            raise self._client.error(
                f"{self._path[:26]}: the download broke {ATTEMPTS + 1} times ({why}) at byte "
                f"{self._offset}"
            )
        time.sleep(BACKOFF_SECONDS * self._resumes)
        response = self._client.request(self._path, stream=True, offset=self._offset)
        if response.status_code != 206:
            response.close()
            raise self._client.error(
                f"{self._path[:26]}: the connection broke at byte {self._offset} and the "
                "registry cannot resume it (no range support)"
            )
        self._response = response

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> BlobReader:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
