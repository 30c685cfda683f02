"""Image references in the transport syntax of skopeo / containers-image.

docker-archive:FILE[:TAG|:@N]   a `docker save` archive (legacy or Engine >= 25 OCI-in-tar)
oci:DIR[:TAG]                    an OCI image layout directory
oci-archive:FILE[:TAG]           an OCI image layout in a tar
docker-daemon:NAME[:TAG]         the local engine
NAME[:TAG]                       the local engine
docker://[REGISTRY/]REPO[:TAG|@sha256:...]   a registry (Registry HTTP API v2)
PATH                             an existing file (archive, sniffed) or OCI layout directory
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from enum import StrEnum

from trimdock.errors import UsageError


class Transport(StrEnum):
    DOCKER_ARCHIVE = "docker-archive"
    OCI = "oci"
    OCI_ARCHIVE = "oci-archive"
    DOCKER_DAEMON = "docker-daemon"
    DOCKER = "docker"  # a registry: docker://REGISTRY/REPO:TAG
    ARCHIVE = "archive"  # a bare path: docker-archive or oci-archive, decided by its contents


@dataclass(frozen=True)
class ImageReference:
    text: str
    transport: Transport
    target: str  # a path for files and layouts, an image name for the engine
    selector: str | None = None  # tag / ref name / @index inside an archive or layout


_PATH_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.zst", ".tar.zstd", ".oci", ".tar.xz")


def _split_path(rest: str) -> tuple[str, str | None]:
    """FILE[:SELECTOR], preferring the longest prefix that exists (paths may hold colons)."""
    if os.path.exists(rest) or ":" not in rest:
        return rest, None
    positions = [i for i, char in enumerate(rest) if char == ":"]
    for pos in reversed(positions):
        if os.path.exists(rest[:pos]):
            return rest[:pos], rest[pos + 1 :] or None
    first = positions[0]
    return rest[:first], rest[first + 1 :] or None


def parse_reference(text: str) -> ImageReference:
    if not text.strip():
        raise UsageError("empty image reference")
    transport_name, sep, rest = text.partition(":")
    if sep and transport_name in {
        t.value for t in Transport if t not in (Transport.ARCHIVE, Transport.DOCKER)
    }:
        transport = Transport(transport_name)
        if not rest:
            raise UsageError(
                f"{text}: missing {'name' if transport_name.endswith('daemon') else 'path'}"
            )
        if transport is Transport.DOCKER_DAEMON:
            return ImageReference(text, transport, rest)
        path, selector = _split_path(rest)
        return ImageReference(text, transport, path, selector)
    if transport_name == "docker" and rest.startswith("//"):
        return ImageReference(text, Transport.DOCKER, rest.removeprefix("//"))
    if os.path.isdir(text):
        return ImageReference(text, Transport.OCI, text)
    if os.path.exists(text):
        return ImageReference(text, Transport.ARCHIVE, text)
    if text.startswith(("/", "./", "../", "~")) or text.endswith(_PATH_SUFFIXES):
        # Clearly meant as a file: do not send it to the engine as an image name.
        return ImageReference(text, Transport.ARCHIVE, text)
    return ImageReference(text, Transport.DOCKER_DAEMON, text)
