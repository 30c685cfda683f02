"""`scan`'s service: open nothing, decide nothing about output; run the analyses on an image."""

from __future__ import annotations

from dataclasses import dataclass

from trimdock.image.model import Image
from trimdock.security.collect import collect, select_inventory
from trimdock.security.inventory import build_inventory
from trimdock.security.model import Inventory


@dataclass(frozen=True)
class ScanResult:
    """Everything `trimdock scan` found in one image."""

    image: Image
    inventory: Inventory


def scan_image(image: Image) -> ScanResult:
    """One streamed pass over the layers, then the pure analyses."""
    collected = collect(image, (select_inventory,))
    return ScanResult(image=image, inventory=build_inventory(image, collected))
