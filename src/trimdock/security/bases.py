"""The layers of the local base images a policy names (I/O: the Docker Engine).

An image built `FROM base` starts with the base's layers, so when an image carries no
`org.opencontainers.image.base.*` label, the policy can still prove its base: the image's
DiffIDs begin with those of an allowed base present on the local engine. Only plain names
(`debian:bookworm-slim`, no glob characters, not a digest) can be looked up.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

_GLOB = frozenset("*?[")


def resolvable(pattern: str) -> bool:
    return not pattern.startswith("sha256:") and not (_GLOB & set(pattern))


def local_base_layers(patterns: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """DiffIDs of each plainly named base found on the engine; names the engine does not know
    (or an unreachable engine) are left out: they prove nothing, they are not an error."""
    names = [p for p in patterns if resolvable(p)]
    if not names:
        return {}
    try:
        import docker

        client: Any = docker.from_env()
    except Exception:  # docker.errors.DockerException and connection errors
        return {}
    found: dict[str, tuple[str, ...]] = {}
    try:
        for name in names:
            try:
                layers = client.images.get(name).attrs.get("RootFS", {}).get("Layers") or []
            except Exception:  # not found, engine errors: this name proves nothing
                continue
            if layers:
                found[name] = tuple(str(layer) for layer in layers)
    finally:
        client.close()
    return found


def built_on(diff_ids: tuple[str, ...], bases: dict[str, tuple[str, ...]]) -> str | None:
    """The first base whose layers begin the image's layers (pure), or None."""
    for name, layers in bases.items():
        if len(layers) <= len(diff_ids) and diff_ids[: len(layers)] == layers:
            return name
    return None
