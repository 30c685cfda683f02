"""`docker://` images from a real registry on loopback (Debian's docker-registry, images pushed
with skopeo): the same figures as the engine's own archive, auth, platforms, failures."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.engine import build_image, save_image
from tests.support.registry import Registry, docker_config, proxy, registry
from trimdock.cli.main import run
from trimdock.errors import ImageSourceError, UsageError
from trimdock.image.open import open_image
from trimdock.registry.names import parse_registry_name

from .test_bad_input import multi_platform

pytestmark = pytest.mark.engine

LAYERS = Path(__file__).parents[1] / "layers" / "fixtures"


@pytest.fixture(scope="module")
def plain(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with registry(tmp_path_factory.mktemp("registry")) as served:
        yield served


@pytest.fixture(scope="module")
def pushed(plain: Registry) -> dict[str, str]:
    """name -> (docker:// reference) for fixture images of tests/layers, and their archives."""
    found = {}
    for name in ("delete_dir", "opaque", "hardlinks"):
        tag = build_image(f"layers-{name}", LAYERS / name)
        found[name] = plain.push(f"docker-daemon:{tag}", f"td/{name}:1")
        found[f"{name}-archive"] = f"docker-archive:{save_image(tag)}"
    return found


def layers_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    capsys.readouterr()
    code = run(["layers", *args, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)  # type: ignore[no-any-return]


def figures(document: dict) -> dict:  # type: ignore[type-arg]
    """Everything the analysis computed (the image's identity and the tar sizes aside: the
    registry holds gzip layers, whose tar size is only known once read)."""
    result = {key: value for key, value in document.items() if key != "image"}
    if "layers" in document:
        result["layers"] = [
            {k: v for k, v in layer.items() if k != "tar_bytes"} for layer in document["layers"]
        ]
    return result


@pytest.mark.parametrize("name", ["delete_dir", "opaque", "hardlinks"])
def test_registry_image_equals_the_engine_archive(
    pushed: dict[str, str], name: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for extra in ([], ["--deleted"], ["--at", "1"]):
        remote = layers_json(capsys, pushed[name], "--insecure", *extra)
        local = layers_json(capsys, pushed[f"{name}-archive"], *extra)
        assert figures(remote) == figures(local), extra
    document = layers_json(capsys, pushed[name], "--insecure")
    assert document["image"]["source"] == "docker"
    archive = layers_json(capsys, pushed[f"{name}-archive"])
    assert document["image"]["config_digest"] == archive["image"]["config_digest"]


def test_by_digest_and_extract(
    pushed: dict[str, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    inspected = subprocess.run(
        ["skopeo", "inspect", "--tls-verify=false", pushed["delete_dir"]],
        capture_output=True,
        text=True,
        check=True,
    )
    digest = json.loads(inspected.stdout)["Digest"]
    by_digest = pushed["delete_dir"].rsplit(":", 1)[0] + "@" + digest
    assert figures(layers_json(capsys, by_digest, "--insecure")) == figures(
        layers_json(capsys, pushed["delete_dir"], "--insecure")
    )
    assert (
        run(["layers", by_digest, "--insecure", "--extract", "/d/sub/c", "--to", str(tmp_path)])
        == 0
    )
    assert (tmp_path / "c").read_bytes() == b"\0" * 30_000


def test_the_second_analysis_downloads_nothing(
    plain: Registry,
    pushed: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIMDOCK_CACHE_DIR", str(tmp_path / "cache"))
    with proxy(plain.host, lambda path: None) as watched:
        reference = pushed["opaque"].replace(plain.host, watched.host)
        first = layers_json(capsys, reference, "--insecure")
        blobs_first = [p for p in watched.requests if "/blobs/" in p]
        watched.requests.clear()
        second = layers_json(capsys, reference, "--insecure")
    assert len(blobs_first) == 1 + len(first["layers"])  # the config and every layer
    assert [p for p in watched.requests if "/blobs/" in p] == []
    assert figures(second) == figures(first)


def test_platform_from_an_index(plain: Registry, tmp_path: Path) -> None:
    layout = multi_platform(tmp_path)
    reference = f"docker://{plain.host}/td/multi:1"
    subprocess.run(
        [
            "skopeo",
            "copy",
            "-q",
            "--all",
            "--dest-tls-verify=false",
            f"oci:{layout.root}:multi",
            reference,
        ],
        check=True,
        capture_output=True,
    )
    for platform, path in (("linux/arm64", "arm64"), ("linux/amd64", "amd64")):
        with open_image(reference, platform=platform, insecure=True) as image:
            assert next(image.layers[0].content.entries()).path == path
    with pytest.raises(
        ImageSourceError,
        match=r"platform linux/s390x is not in the index \(available: linux/amd64, linux/arm64\)",
    ):
        open_image(reference, platform="linux/s390x", insecure=True).__enter__()


# -- auth ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def locked(engine: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with registry(tmp_path_factory.mktemp("locked"), htpasswd=("alice", "s3cret")) as served:
        yield served


def test_basic_auth_from_the_docker_config(
    locked: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tag = build_image("layers-opaque", LAYERS / "opaque")
    reference = locked.push(f"docker-daemon:{tag}", "td/opaque:1", creds="alice:s3cret")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "none"))
    assert run(["layers", reference, "--insecure"]) == 2
    assert capsys.readouterr().err == (
        f"trimdock: {reference}: authentication required: no credentials stored for "
        f"{locked.host} (docker login {locked.host})\n"
    )
    monkeypatch.setenv(
        "DOCKER_CONFIG", str(docker_config(tmp_path / "bad", locked.host, "alice", "no"))
    )
    assert run(["layers", reference, "--insecure"]) == 2
    assert "the stored credentials were refused" in capsys.readouterr().err
    monkeypatch.setenv(
        "DOCKER_CONFIG", str(docker_config(tmp_path / "good", locked.host, "alice", "s3cret"))
    )
    assert layers_json(capsys, reference, "--insecure")["totals"]["wasted_bytes"] == 100_000


# -- failures --------------------------------------------------------------------------------


def test_missing_image_and_repository(
    plain: Registry, pushed: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    for reference in (
        f"docker://{plain.host}/td/opaque:nope",
        f"docker://{plain.host}/td/nothing:1",
    ):
        assert run(["layers", reference, "--insecure"]) == 2
        assert capsys.readouterr().err == (
            f"trimdock: {reference}: no such image in the registry (404 Not Found)\n"
        )


def test_a_connection_dropped_mid_blob_is_resumed(
    plain: Registry,
    pushed: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIMDOCK_CACHE_MAX", "0")
    dropped: set[str] = set()

    def once(path: str) -> int | None:
        if "/blobs/" in path and path not in dropped:
            dropped.add(path)
            return 1500  # headers and the first bytes, then the connection goes
        return None

    expected = figures(layers_json(capsys, pushed["delete_dir"], "--insecure"))
    with proxy(plain.host, once) as flaky:
        reference = pushed["delete_dir"].replace(plain.host, flaky.host)
        assert figures(layers_json(capsys, reference, "--insecure")) == expected
    assert dropped  # the drops did happen


def test_a_registry_that_always_drops_is_one_line(
    plain: Registry,
    pushed: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIMDOCK_CACHE_MAX", "0")
    monkeypatch.setattr("trimdock.registry.client.BACKOFF_SECONDS", 0.01)
    with proxy(plain.host, lambda path: 2000 if "/blobs/" in path else None) as broken:
        reference = pushed["delete_dir"].replace(plain.host, broken.host)
        assert run(["layers", reference, "--insecure"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trimdock: {reference}: ") and err.count("\n") == 1
    assert "broke" in err


def test_busy_and_failing_registries_are_retried_then_one_line(
    plain: Registry,
    pushed: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TRIMDOCK_CACHE_MAX", "0")
    monkeypatch.setattr("trimdock.registry.client.BACKOFF_SECONDS", 0.01)
    expected = figures(layers_json(capsys, pushed["opaque"], "--insecure"))
    answers = iter([429, 503, 502])

    def busy(path: str) -> int | None:
        return next(answers, None)  # the first three requests fail, the rest pass

    with proxy(plain.host, lambda path: None, busy) as flaky:
        reference = pushed["opaque"].replace(plain.host, flaky.host)
        assert figures(layers_json(capsys, reference, "--insecure")) == expected
    with proxy(plain.host, lambda path: None, lambda path: 503) as down:
        reference = pushed["opaque"].replace(plain.host, down.host)
        assert run(["layers", reference, "--insecure"]) == 2
        assert len(down.requests) == 4  # ATTEMPTS
    assert capsys.readouterr().err == (
        f"trimdock: {reference}: the registry kept failing (503) after 4 attempts\n"
    )


def test_insecure_is_for_loopback_only_and_https_is_the_default(
    plain: Registry, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UsageError, match="only allowed for a registry on loopback"):
        open_image("docker://registry.example:5000/app:1", insecure=True).__enter__()
    reference = f"docker://{plain.host}/td/opaque:1"
    assert run(["layers", reference]) == 2
    assert "a plain HTTP registry on loopback needs --insecure" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "registry", "repository", "reference"),
    [
        ("docker://busybox", "docker.io", "library/busybox", "latest"),
        ("docker://docker.io/library/debian:12", "docker.io", "library/debian", "12"),
        ("docker://ghcr.io/org/app:v1.2", "ghcr.io", "org/app", "v1.2"),
        ("docker://localhost:5000/app", "localhost:5000", "app", "latest"),
        (
            "docker://127.0.0.1:5000/a/b@sha256:" + "a" * 64,
            "127.0.0.1:5000",
            "a/b",
            "sha256:" + "a" * 64,
        ),
        ("docker://user/app:1", "docker.io", "user/app", "1"),
    ],
)
def test_registry_names(text: str, registry: str, repository: str, reference: str) -> None:
    name = parse_registry_name(text)
    assert (name.registry, name.repository, name.reference) == (registry, repository, reference)


@pytest.mark.parametrize(
    "text", ["docker://", "docker://UPPER/x", "docker://a/b@sha256:12", "docker://a:b:c"]
)
def test_bad_registry_names(text: str) -> None:
    with pytest.raises(UsageError):
        parse_registry_name(text)


def test_credentials_from_a_credential_helper(
    locked: Registry,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `credHelpers` names docker-credential-<name>, asked with the registry on stdin.
    tag = build_image("layers-opaque", LAYERS / "opaque")
    reference = locked.push(f"docker-daemon:{tag}", "td/helped:1", creds="alice:s3cret")
    helper = tmp_path / "bin" / "docker-credential-trimdocktest"
    helper.parent.mkdir()
    helper.write_text(
        "#!/bin/sh\n"
        'read host; echo "$host" > "$(dirname "$0")/asked"\n'
        'echo \'{"ServerURL": "\'$host\'", "Username": "alice", "Secret": "s3cret"}\'\n'
    )
    helper.chmod(0o755)
    monkeypatch.setenv("PATH", f"{helper.parent}:{os.environ['PATH']}")
    config = tmp_path / "config"
    config.mkdir()
    (config / "config.json").write_text(json.dumps({"credHelpers": {locked.host: "trimdocktest"}}))
    monkeypatch.setenv("DOCKER_CONFIG", str(config))
    assert layers_json(capsys, reference, "--insecure")["totals"]["wasted_bytes"] == 100_000
    assert (helper.parent / "asked").read_text().strip() == locked.host


def test_diff_reads_registry_images_over_loopback_plain_http(
    pushed: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    # diff takes the same --insecure as layers and scan: registry and archive sides agree.
    capsys.readouterr()
    a, b = pushed["delete_dir"], pushed["opaque"]
    assert run(["diff", a, b, "--insecure", "-F", "json"]) == 0
    remote = json.loads(capsys.readouterr().out)
    archives = (pushed["delete_dir-archive"], pushed["opaque-archive"])
    assert run(["diff", *archives, "-F", "json"]) == 0
    local = json.loads(capsys.readouterr().out)
    assert remote["files"] == local["files"] and remote["packages"] == local["packages"]
    assert run(["diff", a, b, "-F", "json"]) == 2  # plain HTTP only when asked for
    assert "--insecure" in capsys.readouterr().err
