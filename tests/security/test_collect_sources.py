"""One pass, whatever the source: the engine's layer store is read in a single pass (headers and
the selected files' bytes together), and it, the engine's save path and the saved archive of
the same image select and read exactly the same files."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.images import pyold_image
from tests.support.engine import save_image
from trimdock.image.kept import KeptBodies
from trimdock.image.open import open_image
from trimdock.security.collect import INVENTORY, _lazy_bodies, collect
from trimdock.security.secrets import SECRETS

pytestmark = pytest.mark.engine

Hit = tuple[int, str, str, bytes, bool]


def _hits(reference: str) -> tuple[list[Hit], list[bool], list[bool]]:
    with open_image(reference) as image:
        collected = collect(image, (INVENTORY, SECRETS))
        lazy = [_lazy_bodies(image, layer.content) for layer in image.layers]
        kept = [isinstance(layer.content, KeptBodies) for layer in image.layers]
        hits = sorted(
            (h.layer, h.path, h.kind.value, h.data, collected.visible(h)) for h in collected.hits
        )
    return hits, lazy, kept


def test_engine_store_save_path_and_archive_read_the_same_files(
    engine: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    image = pyold_image(tmp_path)
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "store")
    store, lazy, kept = _hits(image)
    assert all(lazy) and not any(kept)  # the layer store: one pass per layer
    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "save")
    saved, lazy, kept = _hits(image)
    assert not any(lazy) and all(kept)  # the save path: headers first, then one more save
    archive, lazy, _ = _hits(f"docker-archive:{save_image(image)}")
    assert not any(lazy)
    assert store == saved == archive
    kinds = {kind for _, _, kind, _, _ in store}
    assert {"os-release", "dpkg-status", "python-metadata"} <= kinds
