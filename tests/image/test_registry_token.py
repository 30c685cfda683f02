"""`docker://` images behind bearer-token auth: Debian's docker-registry configured with
`auth: token`, trusting the certificate of the token service in tests/support/tokens.py, which
issues signed JWTs to users it knows. Images are pushed with skopeo (with credentials) and read
with the credentials of a DOCKER_CONFIG folder, as `docker login` leaves them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest

from tests.support.engine import build_image, save_image
from tests.support.registry import Registry, docker_config, proxy, registry
from tests.support.tokens import TokenRequest, TokenService, token_service
from trimdock.cli.main import run
from trimdock.image.open import open_image

from .test_registry import LAYERS, figures, layers_json

pytestmark = pytest.mark.engine

USERS = {"alice": "s3cret", "bob": "hunter2"}
NAMES = ("delete_dir", "opaque", "hardlinks")


class Login(Protocol):
    def __call__(self, user: str, password: str, host: str | None = None) -> None: ...


def allowed(user: str | None, repository: str) -> bool:
    """alice reads and writes everything; bob only his own repositories; nobody else anything."""
    return user == "alice" or (user == "bob" and repository.startswith("bob/"))


@pytest.fixture(scope="module")
def tokens(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TokenService]:
    with token_service(tmp_path_factory.mktemp("tokens"), USERS) as service:
        service.allowed = allowed
        yield service


@pytest.fixture(scope="module")
def guarded(
    engine: None, tmp_path_factory: pytest.TempPathFactory, tokens: TokenService
) -> Iterator[Registry]:
    with registry(tmp_path_factory.mktemp("guarded"), token=tokens) as served:
        yield served


@pytest.fixture(scope="module")
def pushed(guarded: Registry) -> dict[str, str]:
    """name -> docker:// reference in the token registry, and name-archive -> `docker save`."""
    found = {}
    for name in NAMES:
        tag = build_image(f"layers-{name}", LAYERS / name)
        found[name] = guarded.push(f"docker-daemon:{tag}", f"td/{name}:1", creds="alice:s3cret")
        found[f"{name}-archive"] = f"docker-archive:{save_image(tag)}"
    tag = build_image("layers-opaque", LAYERS / "opaque")
    found["bob"] = guarded.push(f"docker-daemon:{tag}", "bob/app:1", creds="bob:hunter2")
    return found


@pytest.fixture
def as_user(
    tokens: TokenService, guarded: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Login]:
    """`as_user(name, password)` stores credentials as `docker login` would; every test starts
    with honest long-lived tokens, no token requests seen and an empty per-layer cache (so the
    layers really are downloaded with the token)."""
    monkeypatch.setenv("TRIMDOCK_CACHE_DIR", str(tmp_path / "cache"))
    tokens.lifetime, tokens.advertised = 300, None
    tokens.requests.clear()

    def login(user: str, password: str, host: str | None = None) -> None:
        host = host or guarded.host
        folder = tmp_path / f"config-{user}-{password}-{host.replace(':', '-')}"
        monkeypatch.setenv("DOCKER_CONFIG", str(docker_config(folder, host, user, password)))

    yield login
    tokens.lifetime, tokens.advertised = 300, None


@pytest.mark.parametrize("name", NAMES)
def test_token_auth_image_equals_docker_save(
    pushed: dict[str, str],
    as_user: Login,
    tokens: TokenService,
    name: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    as_user("alice", "s3cret")
    for extra in ([], ["--deleted"]):
        remote = layers_json(capsys, pushed[name], "--insecure", *extra)
        local = layers_json(capsys, pushed[f"{name}-archive"], *extra)
        assert figures(remote) == figures(local), extra
    remote = layers_json(capsys, pushed[name], "--insecure")
    local = layers_json(capsys, pushed[f"{name}-archive"])
    assert remote["image"]["config_digest"] == local["image"]["config_digest"]
    # One token per run, asked for exactly pull on this repository, as alice.
    assert tokens.requests == [TokenRequest("alice", (f"repository:td/{name}:pull",))] * 3


def test_tokens_are_scoped_per_repository(
    pushed: dict[str, str],
    as_user: Login,
    tokens: TokenService,
    capsys: pytest.CaptureFixture[str],
) -> None:
    as_user("bob", "hunter2")
    assert layers_json(capsys, pushed["bob"], "--insecure")["totals"]["wasted_bytes"] == 100_000
    assert tokens.requests == [TokenRequest("bob", ("repository:bob/app:pull",))]
    # bob's credentials are good, but the service grants him nothing on td/: one clear line.
    assert run(["layers", pushed["opaque"], "--insecure"]) == 2
    assert capsys.readouterr().err == (
        f"trimdock: {pushed['opaque']}: access denied to td/opaque: the token service grants "
        "bob no pull access\n"
    )
    assert tokens.requests[1:] == [TokenRequest("bob", ("repository:td/opaque:pull",))]


def test_wrong_or_missing_credentials_are_one_line(
    guarded: Registry,
    pushed: dict[str, str],
    as_user: Login,
    tokens: TokenService,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    reference = pushed["opaque"]
    as_user("alice", "wrong")
    assert run(["layers", reference, "--insecure"]) == 2
    assert capsys.readouterr().err == (
        f"trimdock: {reference}: authentication required: the stored credentials were refused\n"
    )
    assert tokens.requests == []  # the service refused before issuing anything
    # No credentials: the service issues an anonymous token that grants nothing.
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "nothing"))
    assert run(["layers", reference, "--insecure"]) == 2
    assert capsys.readouterr().err == (
        f"trimdock: {reference}: authentication required: no credentials stored for "
        f"{guarded.host} (docker login {guarded.host})\n"
    )
    assert tokens.requests == [TokenRequest(None, ("repository:td/opaque:pull",))]


def read_all(reference: str, pause: float) -> int:
    """Open the image (manifest and config), wait `pause` seconds, then read every layer."""
    with open_image(reference, insecure=True) as image:
        time.sleep(pause)
        return sum(sum(1 for _ in layer.content.entries()) for layer in image.layers)


def test_an_expiring_token_is_refreshed_before_use(
    guarded: Registry,
    pushed: dict[str, str],
    as_user: Login,
    tokens: TokenService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    as_user("alice", "s3cret")
    monkeypatch.setenv("TRIMDOCK_CACHE_MAX", "0")  # every run downloads its layers
    expected = read_all(pushed["delete_dir"], 0)
    tokens.requests.clear()
    tokens.lifetime = 3  # the registry refuses the token 3 s after its issue, as advertised
    with proxy(guarded.host, lambda path: None) as watched:
        as_user("alice", "s3cret", watched.host)
        assert read_all(pushed["delete_dir"].replace(guarded.host, watched.host), 3.5) == expected
    assert len(tokens.requests) >= 2
    blobs = [path for path in watched.requests if "/blobs/" in path]
    assert blobs and len(blobs) == len(set(blobs))  # no layer request was refused and retried


def test_a_token_refused_early_is_fetched_again(
    guarded: Registry,
    pushed: dict[str, str],
    as_user: Login,
    tokens: TokenService,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    as_user("alice", "s3cret")
    monkeypatch.setenv("TRIMDOCK_CACHE_MAX", "0")  # every run downloads its layers
    expected = read_all(pushed["hardlinks"], 0)
    tokens.requests.clear()
    tokens.lifetime, tokens.advertised = 3, 300  # the service says 300 s, the registry says 3
    with proxy(guarded.host, lambda path: None) as watched:
        as_user("alice", "s3cret", watched.host)
        assert read_all(pushed["hardlinks"].replace(guarded.host, watched.host), 3.5) == expected
    assert len(tokens.requests) == 2
    blobs = [path for path in watched.requests if "/blobs/" in path]
    # The first layer request after the pause met invalid_token, then passed with a new token.
    assert len(blobs) == len(set(blobs)) + 1


def test_a_plain_http_token_realm_off_loopback_is_refused(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The registry's challenge would send the stored password in clear text across a network.
    with token_service(tmp_path / "tokens", USERS) as service:
        service.url = "http://tokens.example:8080/token"
        with registry(tmp_path / "registry", token=service) as served:
            reference = f"docker://{served.host}/td/any:1"
            assert run(["layers", reference, "--insecure"]) == 2
    assert capsys.readouterr().err == (
        f"trimdock: {reference}: the registry's token service http://tokens.example:8080/token "
        "is plain HTTP off loopback: credentials would travel in clear text\n"
    )


def test_tokens_the_registry_does_not_trust_are_one_line(
    engine: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A token service whose signing key is not the one the registry trusts: the registry
    # answers invalid_token even to a fresh token; no loop, one line.
    with token_service(tmp_path / "tokens", USERS) as service:
        with registry(tmp_path / "registry", token=service) as served:
            service.rotate_key()  # the registry keeps the old certificate
            monkeypatch.setenv(
                "DOCKER_CONFIG", str(docker_config(tmp_path / "c", served.host, "alice", "s3cret"))
            )
            reference = f"docker://{served.host}/td/any:1"
            assert run(["layers", reference, "--insecure"]) == 2
        assert len(service.requests) == 1
    assert capsys.readouterr().err == (
        f"trimdock: {reference}: the registry refused the token its token service issued "
        "(invalid_token)\n"
    )
