"""Image references: parsing `registry/repo:tag@digest` and what we know about base images."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ImageRef:
    registry: str  # "" for Docker Hub
    repository: str  # e.g. "library/debian" is written "debian"
    tag: str | None
    digest: str | None

    @property
    def name(self) -> str:
        """The last path component: `eclipse-temurin` in `docker.io/library/eclipse-temurin`."""
        return self.repository.rsplit("/", 1)[-1]


def parse_image(reference: str) -> ImageRef:
    digest = None
    if "@" in reference:
        reference, digest = reference.split("@", 1)
    registry = ""
    first, _, rest = reference.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        registry, reference = first, rest
    tag = None
    last_slash = reference.rfind("/")
    colon = reference.rfind(":")
    if colon > last_slash:
        reference, tag = reference[:colon], reference[colon + 1 :]
    return ImageRef(registry, reference, tag, digest)


_HUB_ALIASES = ("docker.io", "index.docker.io", "registry-1.docker.io", "hub.docker.com")


def canonical_image(reference: str, *, default_tag: bool = True) -> str:
    """The fully qualified form the engine uses: `debian:12-slim` is
    `docker.io/library/debian:12-slim`, `user/app` is `docker.io/user/app:latest` (no tag added
    with `default_tag=False`). Globs pass through, so a policy pattern and a FROM line are
    compared in the same form."""
    ref = parse_image(reference)
    registry = "docker.io" if not ref.registry or ref.registry in _HUB_ALIASES else ref.registry
    repository = ref.repository
    if registry == "docker.io" and "/" not in repository:
        repository = f"library/{repository}"
    tag = ref.tag if ref.tag is not None else ("" if ref.digest or not default_tag else "latest")
    text = f"{registry}/{repository}" + (f":{tag}" if tag else "")
    return text + (f"@{ref.digest}" if ref.digest else "")


SDK_IMAGES = frozenset(
    {"golang", "maven", "gradle", "gcc", "rust", "buildpack-deps", "sbt", "leiningen", "swift",
     "haskell", "elixir", "clojure", "mono"}
)  # fmt: skip


def is_sdk(ref: ImageRef) -> bool:
    tag = ref.tag or ""
    if ref.name in SDK_IMAGES:
        return True
    if ref.repository.endswith("dotnet/sdk") or ref.name.endswith("-sdk"):
        return True
    if ref.name in ("openjdk", "eclipse-temurin", "amazoncorretto", "ibmjava", "sapmachine"):
        return "jre" not in tag
    return bool(re.search(r"(^|-)jdk", tag))


_SLIM_FAMILIES = {"debian": "slim", "python": "slim", "node": "slim", "ruby": "slim",
                  "perl": "slim", "php": "alpine", "openjdk": "slim"}  # fmt: skip


def slim_variant(ref: ImageRef) -> str | None:
    """The smaller variant of a known full-distro base image, or None."""
    if ref.registry or ref.digest:
        return None
    family = ref.name
    if family not in _SLIM_FAMILIES or "/" in ref.repository:
        return None
    tag = ref.tag or "latest"
    if any(marker in tag for marker in ("slim", "alpine", "distroless", "minimal", "busybox")):
        return None
    if family == "debian":
        return f"debian:{tag}-slim" if tag != "latest" else "debian:stable-slim"
    suffix = _SLIM_FAMILIES[family]
    return f"{family}:{tag}-{suffix}" if tag != "latest" else f"{family}:{suffix}"
