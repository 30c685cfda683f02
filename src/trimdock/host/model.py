"""A frozen snapshot of what an engine stores: images, layers by ChainID, containers, volumes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property

from trimdock.engine.layerdb import chain_ids as chain_ids  # re-exported: the host model's key

NONE_REPOSITORY = "<none>"


def split_reference(ref: str) -> tuple[str, str]:
    """`repo:tag` -> (repo, tag); the colon of a registry port is not a tag separator."""
    slash = ref.rfind("/")
    colon = ref.rfind(":")
    if colon > slash:
        return ref[:colon], ref[colon + 1 :]
    return ref, "latest"


def short_id(image_id: str) -> str:
    return image_id.removeprefix("sha256:")[:12]


@dataclass(frozen=True)
class Layer:
    """One layer as the engine stores it once, however many images share it."""

    chain_id: str
    diff_id: str
    size: int  # bytes of the layer's files, as the engine's layer store records them
    cache_id: str | None = None  # storage-driver directory (overlay2/<cache_id>)


@dataclass(frozen=True)
class Image:
    id: str
    tags: tuple[str, ...]
    parent: str | None
    created: datetime
    chain: tuple[str, ...]  # ChainIDs, bottom layer first
    size: int  # the engine's own figure, used only as a cross-check
    last_tagged: datetime | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def repositories(self) -> tuple[str, ...]:
        repos = dict.fromkeys(split_reference(tag)[0] for tag in self.tags)
        return tuple(repos) or (NONE_REPOSITORY,)

    @property
    def display(self) -> str:
        return ", ".join(self.tags) if self.tags else f"<none> ({short_id(self.id)})"


@dataclass(frozen=True)
class Container:
    id: str
    name: str
    image_id: str
    state: str  # created, running, paused, restarting, removing, exited, dead
    created: datetime
    finished: datetime | None
    size_rw: int
    log_path: str | None
    log_size: int
    volumes: tuple[str, ...] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    # bytes the engine keeps for the container besides the writable layer: its directory under
    # <data-root>/containers (config, hosts, the json-file log). Equal to log_size when unknown.
    files_size: int = 0
    storage_dirs: tuple[str, ...] = ()  # overlay2 directories of the writable and init layers

    @property
    def running(self) -> bool:
        return self.state in ("running", "paused", "restarting")

    @property
    def bytes(self) -> int:
        return self.size_rw + max(self.files_size, self.log_size)


@dataclass(frozen=True)
class Volume:
    name: str
    driver: str
    size: int  # -1 when the engine could not measure it
    created: datetime | None
    mountpoint: str | None
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class BuildCacheRecord:
    id: str
    type: str
    size: int
    in_use: bool
    shared: bool
    last_used: datetime | None
    description: str = ""


@dataclass(frozen=True)
class HostState:
    """Everything df and prune reason about, taken at one moment."""

    taken_at: datetime
    engine_version: str
    data_root: str
    driver: str
    images: tuple[Image, ...]
    layers: Mapping[str, Layer]
    containers: tuple[Container, ...] = ()
    volumes: tuple[Volume, ...] = ()
    build_cache: tuple[BuildCacheRecord, ...] = ()

    @cached_property
    def image_by_id(self) -> dict[str, Image]:
        return {image.id: image for image in self.images}

    @cached_property
    def children(self) -> dict[str, tuple[str, ...]]:
        kids: dict[str, list[str]] = {}
        for image in self.images:
            if image.parent and image.parent in self.image_by_id:
                kids.setdefault(image.parent, []).append(image.id)
        return {parent: tuple(ids) for parent, ids in kids.items()}

    def is_intermediate(self, image: Image) -> bool:
        """An untagged image that is the parent of another: legacy-builder step, not listed."""
        return not image.tags and image.id in self.children

    def is_dangling(self, image: Image) -> bool:
        """Untagged and nobody's parent, as `docker images -f dangling=true` shows."""
        return not image.tags and image.id not in self.children

    @cached_property
    def top_level(self) -> tuple[Image, ...]:
        return tuple(image for image in self.images if not self.is_intermediate(image))

    def layer_size(self, chain_id: str) -> int:
        layer = self.layers.get(chain_id)
        return layer.size if layer else 0
