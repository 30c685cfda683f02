"""`scan NAME` on the engine's save path saves the image once: the one pass over the save stream
keeps the bodies `scan` reads (`open_image(keep=scan_request())`), counted with the engine's
own `image save` events, and the report equals the layer store's and the saved archive's.
Past the request's budget, the rest comes from a second save, with one note, same result."""

from __future__ import annotations

import io
import json
import shutil
import time
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.security.images import pyold_image
from tests.support.engine import build_image, docker, save_image
from trimdock.cli.main import run
from trimdock.image.kept import BodyRequest, KeptReads
from trimdock.image.open import open_image
from trimdock.security.collect import collect
from trimdock.security.scanner import SCAN_SELECTORS, scan_request

pytestmark = pytest.mark.engine


def _jar() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as jar:
        jar.writestr(
            "META-INF/MANIFEST.MF",
            "Manifest-Version: 1.0\r\nImplementation-Title: demo\r\n"
            "Implementation-Version: 1.2.3\r\n",
        )
        jar.writestr(
            "META-INF/maven/org.example/demo/pom.properties",
            "groupId=org.example\nartifactId=demo\nversion=1.2.3\n",
        )
    return buffer.getvalue()


def _mixed_image(root: Path) -> str:
    """busybox plus one file of each other kind `scan` reads: a Go binary (big enough that the
    save pass also digests it for `layers`), a jar, npm and gem metadata, a Python METADATA,
    credential files (one deleted by a later layer, its bytes still in the image)."""
    context = root / "mixed"
    context.mkdir()
    docker_cli = shutil.which("docker")
    assert docker_cli is not None
    shutil.copy(docker_cli, context / "docker-cli")
    app = context / "app"
    (app / "node_modules/left-pad").mkdir(parents=True)
    (app / "node_modules/left-pad/package.json").write_text(
        '{"name": "left-pad", "version": "1.1.0", "license": "WTFPL"}'
    )
    (app / "gems/specifications").mkdir(parents=True)
    (app / "gems/specifications/rack-2.0.1.gemspec").write_text(
        'Gem::Specification.new do |s|\n  s.name = "rack"\n  s.version = "2.0.1"\nend\n'
    )
    (app / "lib/site-packages/six-1.10.0.dist-info").mkdir(parents=True)
    (app / "lib/site-packages/six-1.10.0.dist-info/METADATA").write_text(
        "Metadata-Version: 2.1\nName: six\nVersion: 1.10.0\nLicense: MIT\n"
    )
    (app / "demo.jar").write_bytes(_jar())
    (app / ".npmrc").write_text("//npm.example/:_authToken=npm_" + "a1B2c3D4e5" * 3 + "f6G7h8\n")
    (app / ".netrc").write_text("machine git.example login ci password Zx9qLm3Rt7Vb2Nc8\n")
    (context / "Dockerfile").write_text(
        "FROM busybox\nCOPY docker-cli /usr/local/bin/docker\nCOPY app/ /app/\nRUN rm /app/.netrc\n"
    )
    return build_image("security-saveonce", context)


@pytest.fixture(scope="module")
def images(engine: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return {
        "pyold": pyold_image(tmp_path_factory.mktemp("pyold")),
        "mixed": _mixed_image(tmp_path_factory.mktemp("mixed")),
    }


def _image_id(tag: str) -> str:
    return docker("image", "inspect", "--format", "{{.Id}}", tag).strip()


def _saves(image_id: str, action: Callable[[], None]) -> int:
    """How many times the engine saved `image_id` while `action` ran (its `save` events)."""
    since = f"{time.time():.6f}"
    action()
    time.sleep(1)  # the engine logs the event as the save ends: let it land before `until`
    until = f"{time.time():.6f}"
    listing = docker(
        "events",
        "--since",
        since,
        "--until",
        until,
        "--filter",
        "type=image",
        "--filter",
        "event=save",
        "--format",
        "{{.Actor.ID}}",
    )
    return listing.split().count(image_id)


def _scan_json(reference: str, capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    assert run(["scan", reference, "-F", "json"]) == 0
    document: dict[str, Any] = json.loads(capsys.readouterr().out)
    return document


@pytest.mark.parametrize("name", ["pyold", "mixed"])
def test_scan_on_the_save_path_saves_once_and_equals_the_store_and_the_archive(
    images: dict[str, str],
    name: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    tag = images[name]
    archive = save_image(tag)  # before counting: this may save the image itself
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "save")
    documents: list[dict[str, Any]] = []
    assert _saves(_image_id(tag), lambda: documents.append(_scan_json(tag, capsys))) == 1
    saved = documents[0]
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "store")
    assert saved == _scan_json(tag, capsys)
    # The archive's report names the archive: the same report once the names agree.
    reference = f"docker-archive:{archive}"
    from_archive = json.loads(json.dumps(_scan_json(reference, capsys)).replace(reference, tag))
    assert saved == from_archive
    kinds = {p["ecosystem"] for p in saved["packages"]}
    expected = {"Debian", "PyPI"} if name == "pyold" else {"Go", "Maven", "npm", "RubyGems"}
    assert expected <= kinds, kinds
    assert saved["secrets"]  # the deleted credentials are found in the layer that wrote them


def _hits(image: str, keep: BodyRequest[Any] | None) -> list[tuple[int, str, str, bytes]]:
    with open_image(image, keep=keep, note=lambda message: None) as img:
        collected = collect(img, SCAN_SELECTORS)
    return [(h.layer, h.path, h.kind.value, h.data) for h in collected.hits]


def test_past_the_budget_the_rest_comes_from_a_second_save_with_a_note(
    images: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    tag = images["mixed"]
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "store")
    expected = _hits(tag, None)
    total = sum(len(data) for *_, data in expected)
    # Half the bytes: the first pass keeps some files, a second save serves the others.
    request = scan_request()
    small = BodyRequest(pick=request.pick, read=request.read, budget=total // 2)
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "save")
    notes: list[str] = []
    found: list[list[tuple[int, str, str, bytes]]] = []
    kept_some: list[bool] = []

    def scan() -> None:
        with open_image(tag, keep=small, note=notes.append) as img:
            kept_some.append(
                any(
                    isinstance(layer.content, KeptReads) and layer.content.kept_reads()
                    for layer in img.layers
                )
            )
            collected = collect(img, SCAN_SELECTORS)
            found.append([(h.layer, h.path, h.kind.value, h.data) for h in collected.hits])

    assert _saves(_image_id(tag), scan) == 2
    assert found[0] == expected  # same files, same order as the single pass of the store
    assert kept_some == [True]
    assert len(notes) == 1
    assert notes[0].startswith(f"{tag}: saving the image a second time: ")
    assert notes[0].endswith(" kept from the first pass") and "\n" not in notes[0]
    # With the whole budget: one save, the same hits.
    assert _saves(_image_id(tag), lambda: found.append(_hits(tag, request))) == 1
    assert found[1] == expected
