"""OCI image layouts (directory, oci-archive, and the layout inside Engine >= 25 archives)."""

from __future__ import annotations

from trimdock.image.model import Image
from trimdock.image.store import Store


def load_oci_layout(
    store: Store,
    *,
    reference: str,
    source: str,
    wanted: str | None,
    platform: str | None,
    verify: bool,
    allow_fallback: bool,
) -> Image | None:
    """Not implemented yet: fall back to manifest.json."""
    return None
