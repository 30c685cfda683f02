"""Exact disk accounting by set arithmetic on layer ChainIDs (pure: no engine access).

A layer is stored once however many images use it, and the engine frees it only when no image
left references it. So "what removing these images frees" is a set difference, computed after
the engine's own cascade (deleting an image also deletes its untagged parents that have no
other child and no container).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from trimdock.host.model import NONE_REPOSITORY, Container, HostState, Image


def removal_closure(
    state: HostState, removed: Iterable[str], containers: Collection[Container] = ()
) -> frozenset[str]:
    """Image ids the engine deletes when asked to delete `removed` (without force)."""
    gone = set(removed)
    used = {container.image_id for container in containers}
    changed = True
    while changed:
        changed = False
        for image in state.images:
            if image.id in gone or image.tags or image.id in used:
                continue
            kids = state.children.get(image.id)
            if kids and all(kid in gone for kid in kids):
                gone.add(image.id)
                changed = True
    return frozenset(gone)


def layers_of(images: Iterable[Image]) -> set[str]:
    chain: set[str] = set()
    for image in images:
        chain.update(image.chain)
    return chain


def freed_layers(state: HostState, gone: Collection[str]) -> frozenset[str]:
    """ChainIDs no longer referenced once the images in `gone` (a closure) are deleted."""
    removed = layers_of(state.image_by_id[i] for i in gone if i in state.image_by_id)
    kept = layers_of(image for image in state.images if image.id not in gone)
    return frozenset(removed - kept)


def bytes_of(state: HostState, chain_ids: Iterable[str]) -> int:
    return sum(state.layer_size(chain_id) for chain_id in set(chain_ids))


def image_bytes(state: HostState, image: Image) -> int:
    return bytes_of(state, image.chain)


def unique_bytes(state: HostState, image_ids: Iterable[str]) -> int:
    """What deleting exactly these images (and the engine's cascade) would free."""
    gone = removal_closure(state, image_ids, state.containers)
    return bytes_of(state, freed_layers(state, gone))


@dataclass(frozen=True)
class ImageUsage:
    image: Image
    size: int  # all its layers
    unique: int  # freed by deleting it alone
    shared: int  # size - unique: layers another image also holds
    containers: int


@dataclass(frozen=True)
class RepositoryUsage:
    repository: str
    images: tuple[ImageUsage, ...]  # newest first
    size: int  # distinct layers of all its images, each counted once
    unique: int  # freed by deleting the whole repository


def image_usage(state: HostState) -> tuple[ImageUsage, ...]:
    counts: dict[str, int] = {}
    for container in state.containers:
        counts[container.image_id] = counts.get(container.image_id, 0) + 1
    return tuple(
        ImageUsage(
            image=image,
            size=(size := image_bytes(state, image)),
            unique=(unique := unique_bytes(state, [image.id])),
            shared=size - unique,
            containers=counts.get(image.id, 0),
        )
        for image in state.top_level
    )


def repository_usage(state: HostState, usages: Iterable[ImageUsage]) -> tuple[RepositoryUsage, ...]:
    groups: dict[str, list[ImageUsage]] = {}
    for usage in usages:
        for repo in usage.image.repositories:
            groups.setdefault(repo, []).append(usage)
    result = []
    for repo, members in groups.items():
        members.sort(key=lambda u: u.image.created, reverse=True)
        ids = [u.image.id for u in members]
        result.append(
            RepositoryUsage(
                repository=repo,
                images=tuple(members),
                size=bytes_of(state, layers_of(u.image for u in members)),
                unique=unique_bytes(state, ids),
            )
        )
    return tuple(result)


@dataclass(frozen=True)
class Totals:
    images: int
    image_bytes: int  # distinct layers of every image, each counted once
    containers: int
    container_bytes: int  # writable layers
    log_bytes: int
    container_files_bytes: int  # the containers' own directories: config, hosts, json-file log
    volumes: int
    volume_bytes: int
    build_cache_bytes: int

    @property
    def total(self) -> int:
        return (
            self.image_bytes
            + self.container_bytes
            + self.container_files_bytes
            + self.volume_bytes
            + self.build_cache_bytes
        )


def totals(state: HostState) -> Totals:
    return Totals(
        images=len(state.top_level),
        image_bytes=bytes_of(state, layers_of(state.images)),
        containers=len(state.containers),
        container_bytes=sum(c.size_rw for c in state.containers),
        log_bytes=sum(c.log_size for c in state.containers),
        container_files_bytes=sum(max(c.files_size, c.log_size) for c in state.containers),
        volumes=len(state.volumes),
        volume_bytes=sum(max(v.size, 0) for v in state.volumes),
        build_cache_bytes=sum(r.size for r in state.build_cache),
    )


def is_none_repository(repo: str) -> bool:
    return repo == NONE_REPOSITORY
