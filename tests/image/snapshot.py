"""What a user would compare between two forms of the same image."""

from __future__ import annotations

from trimdock.image.model import Image


def snapshot(image: Image) -> dict[str, object]:
    """Everything a user would compare between two forms of the same image."""
    layers = []
    for layer in image.layers:
        entries = list(layer.content.entries())
        with layer.content.open() as stream:
            contents = {e.path: r.read() for e, r in stream if r is not None}
        layers.append((layer.diff_id, layer.instruction, entries, contents))
    return {
        "layers": layers,
        "history": [(h.created_by, h.empty_layer) for h in image.history],
        "config": image.config,
        "matches": image.history_matches_layers,
    }
