"""`scan`'s service: one streamed pass over the layers, then the pure analyses."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from trimdock.image.kept import BodyRequest
from trimdock.image.model import Image
from trimdock.layers.overlay import K_DIR, Node, Overlay
from trimdock.security.collect import (
    INVENTORY,
    Collected,
    Kind,
    Selector,
    body_request,
    collect,
)
from trimdock.security.inventory import build_inventory
from trimdock.security.model import Inventory
from trimdock.security.secrets import (
    SECRET_FILE_LIMIT,
    SECRETS,
    Secret,
    find_in_text,
    is_text,
)
from trimdock.security.surface import SurfaceItem, analyse_surface

if TYPE_CHECKING:
    # The matcher is imported when a database is given (see scan_image).
    from trimdock.security.vuln.database import Database
    from trimdock.security.vuln.match import Vulnerability


# The files `scan` reads: one tuple for the pass and for what the source keeps for it.
SCAN_SELECTORS: tuple[Selector, ...] = (INVENTORY, SECRETS)


def scan_request() -> BodyRequest[Kind]:
    """The file bodies `scan_image` will read, to pass as `open_image(keep=...)`: the
    engine's save path then keeps them from its only pass (no second `docker save`)."""
    return body_request(SCAN_SELECTORS)


@dataclass(frozen=True)
class ScanResult:
    """Everything `trimdock scan` found in one image. `vulnerabilities` is None when no
    database was available (nothing was checked, which is not the same as nothing found)."""

    image: Image
    inventory: Inventory
    surface: tuple[SurfaceItem, ...]
    secrets: tuple[Secret, ...]
    vulnerabilities: tuple[Vulnerability, ...] | None


def scan_image(image: Image, database: Database | None) -> ScanResult:
    collected = collect(image, SCAN_SELECTORS)
    inventory = build_inventory(image, collected)
    if database is not None:
        from trimdock.security.vuln.match import match_inventory
    vulnerabilities = (
        None
        if database is None
        else tuple(match_inventory(inventory.packages, database, inventory.os))
    )
    return ScanResult(
        image=image,
        inventory=inventory,
        surface=tuple(analyse_surface(visible_directories(collected.overlay), image.config)),
        secrets=tuple(config_secrets(image) + file_secrets(collected)),
        vulnerabilities=vulnerabilities,
    )


def config_secrets(image: Image) -> list[Secret]:
    """Secrets in ENV and LABEL values and in the history's commands (each value once)."""
    found: list[Secret] = []
    seen: set[str] = set()
    sources: list[tuple[str, str, str]] = []
    for item in image.config.env:
        name = item.partition("=")[0]
        sources.append(("env", name, item))
    for key, value in image.config.labels:
        sources.append(("label", key, f"{key}={value}"))
    for index, entry in enumerate(image.history):
        sources.append(("history", f"history[{index}]", entry.created_by))
    for where, name, text in sources:
        for kind, _line, value in find_in_text(text):
            if value in seen:
                continue
            seen.add(value)
            found.append(Secret(kind, where, name, -1, 0, value))
    return found


def file_secrets(collected: Collected) -> list[Secret]:
    found: list[Secret] = []
    # A file has one kind, and the inventory's come first: an application's npm lock file is
    # read for packages and searched here too (its `resolved` URLs can carry credentials).
    candidates = collected.of(Kind.SECRET_CANDIDATE) + [
        hit for hit in collected.of(Kind.NPM_LOCK) if hit.size <= SECRET_FILE_LIMIT
    ]
    for hit in candidates:
        if not is_text(hit.data):
            continue
        text = hit.data.decode("utf-8", "replace")
        deleted = not collected.visible(hit)
        for kind, line, value in find_in_text(text):
            found.append(Secret(kind, "file", hit.path, hit.layer, line, value, deleted))
    return found


def visible_directories(overlay: Overlay) -> Iterator[tuple[str, dict[str, Node]]]:
    """Every visible folder of the final filesystem with its entries (hidden ones included,
    marked by a negative layer), unordered: `Overlay.walk` sorts each folder and builds every
    path, which the surface analysis does not need."""
    stack: list[tuple[str, Node]] = [("", overlay.root)]
    while stack:
        path, node = stack.pop()
        kids = node.kids
        if not kids:
            continue
        yield path, kids
        prefix = f"{path}/" if path else ""
        for name, child in kids.items():
            if child.kids and child.e_layer >= 0 and child.e_kind == K_DIR:
                stack.append((prefix + name, child))
