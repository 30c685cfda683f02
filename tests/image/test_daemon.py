"""The local engine source (Docker SDK, streamed save) against the engine's own archive."""

from __future__ import annotations

import pytest

from trimdock.errors import EngineError, ImageSourceError
from trimdock.image.open import open_image

from .conftest import BuiltImage
from .snapshot import snapshot


def test_engine_image_equals_its_saved_archive(basic_image: BuiltImage) -> None:
    with open_image(f"docker-archive:{basic_image.archive}") as archived:
        expected = snapshot(archived)
        sizes = [layer.size for layer in archived.layers]
    with open_image(basic_image.tag) as image:
        assert image.source == "docker-daemon"
        assert image.config_digest == basic_image.inspect["Id"]
        assert image.repo_tags == (basic_image.tag,)
        assert [layer.size for layer in image.layers] == sizes
        assert snapshot(image) == expected


def test_daemon_transport_prefix(basic_image: BuiltImage) -> None:
    with open_image(f"docker-daemon:{basic_image.tag}") as image:
        assert [layer.diff_id for layer in image.layers] == basic_image.inspect["RootFS"]["Layers"]


def test_unknown_name_is_one_clear_error(engine: None) -> None:
    with pytest.raises(
        ImageSourceError, match=r"^trimdock-test/no-such-image:x: no such image"
    ) as e:
        open_image("trimdock-test/no-such-image:x").__enter__()
    assert "docker pull trimdock-test/no-such-image:x" in str(e.value)  # says how to get it


def test_no_engine_running(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(EngineError, match=r"^busybox: cannot reach the Docker Engine"):
        open_image("busybox").__enter__()


def test_a_broken_save_stream_is_one_line(basic_image: BuiltImage) -> None:
    import io

    from trimdock.image.daemon import _Scan, _scan_save_stream

    data = basic_image.archive.read_bytes()
    full = _Scan("img")
    _scan_save_stream(io.BytesIO(data), full)
    assert set(full.entries) == set(basic_image.inspect["RootFS"]["Layers"])
    for broken, problem in [
        (b"\x01" * 4096, "the engine's save stream is not a valid tar"),
        (data[: len(data) // 2], "corrupt or truncated layer|not a valid tar"),
    ]:
        with pytest.raises(ImageSourceError, match=problem) as caught:
            _scan_save_stream(io.BytesIO(broken), _Scan("img"))
        assert str(caught.value).startswith("img: ") and "\n" not in str(caught.value)
