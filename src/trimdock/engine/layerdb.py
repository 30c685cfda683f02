"""The engine's layer database: `<data-root>/image/<driver>/layerdb`, one folder per ChainID.

Each `sha256/<chain-id>/` holds `diff` (the layer's DiffID), `size` (the bytes the engine
counted when it committed the layer: moby's `directory.Size` of the diff), `cache-id` (the
storage driver's folder for the layer: `<data-root>/<driver>/<cache-id>`) and
`tar-split.json.gz` (the layer's original tar headers, which `docker save` replays). The API
exposes none of this per layer; reading it needs access to the data root (root on the engine's
host).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

from trimdock.errors import EngineError


def chain_ids(diff_ids: Iterable[str]) -> tuple[str, ...]:
    """ChainID(L0) = DiffID(L0); ChainID(L0..n) = sha256(ChainID(L0..n-1) + " " + DiffID(Ln))."""
    chain: list[str] = []
    for diff_id in diff_ids:
        if not chain:
            chain.append(diff_id)
        else:
            digest = hashlib.sha256(f"{chain[-1]} {diff_id}".encode()).hexdigest()
            chain.append(f"sha256:{digest}")
    return tuple(chain)


class LayerDb:
    def __init__(self, data_root: Path, driver: str) -> None:
        self.data_root = data_root
        self.driver = driver
        self.root = data_root / "image" / driver / "layerdb"

    def folder(self, chain_id: str) -> Path:
        return self.root / "sha256" / chain_id.removeprefix("sha256:")

    def read(self, chain_id: str, name: str) -> str:
        """A small file of a layer's folder, stripped; "" when it does not exist."""
        path = self.folder(chain_id) / name
        try:
            return path.read_text().strip()
        except PermissionError as exc:
            raise EngineError(
                "permission denied reading the engine's layer store; per-layer sizes need "
                "read access to the data root (run trimdock as root on the engine's host)",
                source=str(path),
            ) from exc
        except FileNotFoundError:
            return ""

    def size(self, chain_id: str) -> int:
        text = self.read(chain_id, "size")
        if text and not text.isdigit():
            raise EngineError(
                "the layer size is not a number", source=str(self.folder(chain_id) / "size")
            )
        return int(text or 0)

    def mount_ids(self, container_id: str) -> tuple[str, ...]:
        """The storage folders of a container's writable layer (`mount-id`, `init-id`)."""
        mounts = self.root / "mounts" / container_id
        result = []
        for name in ("mount-id", "init-id"):
            try:
                value = (mounts / name).read_text().strip()
            except OSError:
                continue
            if value:
                result.append(value)
        return tuple(result)
