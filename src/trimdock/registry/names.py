"""`docker://[REGISTRY/]REPO[:TAG|@sha256:HEX]` as skopeo names images.

The first path component is a registry when it has a `.` or a `:` or is `localhost`; else the
registry is Docker Hub (`registry-1.docker.io`, credentials under `docker.io`/`index.docker.io`)
and a one-component repository gets `library/`. No tag and no digest means `:latest`.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from trimdock.errors import UsageError

HUB = "docker.io"
HUB_API = "registry-1.docker.io"
_REPO = re.compile(
    r"^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$"
)
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


@dataclass(frozen=True)
class RegistryName:
    text: str  # as the user wrote it
    registry: str  # host[:port] as named (docker.io for Docker Hub)
    repository: str
    tag: str | None
    digest: str | None

    @property
    def api_host(self) -> str:
        return HUB_API if self.registry == HUB else self.registry

    @property
    def reference(self) -> str:
        """What to ask the manifest endpoint for: the digest if given, else the tag."""
        return self.digest or self.tag or "latest"

    @property
    def loopback(self) -> bool:
        host = self.registry.rsplit(":", 1)[0] if not self.registry.endswith("]") else self.registry
        return is_loopback_host(host)


def is_loopback_host(host: str) -> bool:
    """`localhost`, 127.0.0.0/8 or ::1 (brackets allowed), with no port."""
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_registry_name(text: str) -> RegistryName:
    rest = text.removeprefix("docker://")

    def bad(problem: str) -> UsageError:
        return UsageError(
            f"{text}: {problem} (expected docker://[REGISTRY/]REPO[:TAG|@sha256:...])"
        )

    name, _, digest = rest.partition("@")
    if digest and not _DIGEST.match(digest):
        raise bad(f"invalid digest {digest!r}")
    first, slash, remainder = name.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first, remainder
    else:
        registry, path = HUB, name
    tag = None
    last = path.rsplit("/", 1)[-1]
    if ":" in last:
        path, _, tag = path.rpartition(":")
        if not _TAG.match(tag):
            raise bad(f"invalid tag {tag!r}")
    if registry == HUB and "/" not in path:
        path = f"library/{path}"
    if not path or not _REPO.match(path):
        raise bad(f"invalid repository {path!r}")
    if tag is None and not digest:
        tag = "latest"
    return RegistryName(text, registry, path, tag, digest or None)
