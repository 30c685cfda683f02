"""The Registry HTTP API v2 over `requests`: auth challenges, retries, verified documents,
and layer blobs streamed with transparent resumption.

* Auth: a request is first sent as it is; a 401 names the scheme. `Bearer` gets a token from
  the realm (with the stored credentials, if any, as basic auth; scope `repository:R:pull`);
  `Basic` sends the stored credentials. One retry after authenticating. A token is fetched
  again before it expires (`expires_in`, bearer.py) and whenever the registry refuses it (a
  long analysis outlives short-lived tokens). A plain-HTTP realm is only used on loopback:
  the stored password goes to it.
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
import time
import urllib.parse
from typing import Any

import requests
import urllib3.exceptions

from trimdock.errors import ImageSourceError, UsageError
from trimdock.registry.auth import Credentials, credentials_for
from trimdock.registry.bearer import Challenge, Token, parse_challenge, parse_token_answer
from trimdock.registry.names import RegistryName, is_loopback_host

ATTEMPTS = 4
BACKOFF_SECONDS = 0.5
TIMEOUT = (10.0, 60.0)  # connect, read
MAX_DOCUMENT = 4 << 20
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


# What requests/urllib3 nest inside "HTTPConnectionPool(...): Max retries exceeded ...", in the
# words a user acts on; the first that matches anywhere in the chain of causes wins.
_NETWORK_PROBLEMS = (
    (("Connection refused",), "connection refused"),
    (("Name or service not known", "Temporary failure in name resolution", "nodename nor"),
     "the host name does not resolve"),
    (("timed out", "Timeout"), f"no answer within {TIMEOUT[0]:g} s"),
    (("Connection reset", "Connection aborted", "RemoteDisconnected", "IncompleteRead"),
     "the connection was dropped"),
    (("No route to host", "Network is unreachable"), "no route to the host"),
)  # fmt: skip


def network_problem(exc: BaseException) -> str:
    """One short phrase for a failed request (not the library's nested repr)."""
    texts: list[str] = []
    cause: BaseException | None = exc
    while cause is not None and len(texts) < 10:
        texts.append(f"{type(cause).__name__}: {cause}")
        cause = cause.__cause__ or cause.__context__
    joined = " | ".join(texts)
    for needles, phrase in _NETWORK_PROBLEMS:
        if any(needle in joined for needle in needles):
            return phrase
    return _short(exc)


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
        self._token: Token | None = None
        self._token_query: dict[str, str] = {}  # the bearer challenge's realm and parameters

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
            if self._token is not None and self._token.due(time.monotonic()):
                self._fetch_token()
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
                        f"({network_problem(exc)})"
                    ) from exc
                time.sleep(delay)
                delay *= 2
                continue
            challenge = parse_challenge(response.headers.get("WWW-Authenticate", ""))
            if response.status_code == 401 and not authenticated:
                response.close()
                self._authenticate(challenge)
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
                raise self._status_error(response.status_code, path, challenge)
            return response
        raise AssertionError("unreachable")  # the last attempt returns or raises

    def _status_error(
        self, status: int, path: str, challenge: Challenge | None = None
    ) -> ImageSourceError:
        what = "image" if path.startswith("manifests/") else f"blob {path.rsplit('/', 1)[-1][:19]}"
        credentials = self._credentials_once()
        error = challenge.error if challenge else ""
        if status == 401 and credentials and error == "insufficient_scope":
            # The token service took the credentials but granted no pull on this repository.
            return self.error(
                f"access denied to {self.name.repository}: the token service grants "
                f"{credentials.username} no pull access"
            )
        if status == 401 and error == "invalid_token":
            return self.error(
                "the registry refused the token its token service issued (invalid_token)"
            )
        if status == 401:
            how = (
                "the stored credentials were refused"
                if credentials
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

    def _authenticate(self, challenge: Challenge) -> None:
        credentials = self._credentials_once()
        if challenge.scheme == "basic":
            if credentials is None:
                raise self._status_error(401, "manifests/")
            self._authorization = requests.auth._basic_auth_str(
                credentials.username, credentials.password
            )
            return
        if challenge.scheme != "bearer":
            raise self.error(f"unsupported authentication scheme {challenge.scheme!r}")
        fields = dict(challenge.params)
        fields.pop("error", None)
        fields.pop("error_description", None)
        realm = fields.get("realm", "")
        parts = urllib.parse.urlsplit(realm)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise self.error("the registry's bearer challenge has no usable realm")
        if parts.scheme == "http" and not is_loopback_host(parts.hostname):
            raise self.error(
                f"the registry's token service {realm} is plain HTTP off loopback: "
                "credentials would travel in clear text"
            )
        # The registry names the scope it wants (pull on this repository); without one, ask
        # for exactly that: a token is never broader than this image needs.
        fields.setdefault("scope", f"repository:{self.name.repository}:pull")
        self._token_query = fields
        self._fetch_token()

    def _fetch_token(self) -> None:
        query = dict(self._token_query)
        realm = query.pop("realm")
        credentials = self._credentials_once()
        auth = (credentials.username, credentials.password) if credentials else None
        requested_at = time.monotonic()
        try:
            answer = self.session.get(realm, params=query, auth=auth, timeout=TIMEOUT)
        except requests.exceptions.RequestException as exc:
            raise self.error(f"cannot get a token from {realm} ({_short(exc)})") from exc
        if answer.status_code in (401, 403):
            raise self._status_error(answer.status_code, "manifests/")
        try:
            token = parse_token_answer(answer.json(), requested_at)
        except ValueError:
            token = None
        if token is None:
            raise self.error(f"the token service {realm} gave no token ({answer.status_code})")
        self._token = token
        self._authorization = f"Bearer {token.value}"

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
