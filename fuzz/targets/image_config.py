"""`image/imageconfig.parse_image_config`: the image config JSON (runtime settings, history,
DiffIDs), and the history/layer pairing the layers view computes from it.

Contract: a `ParsedConfig`, or `ImageSourceError` (a `TrimdockError`).
"""

from __future__ import annotations

from fuzz.harness import NESTING, Target
from trimdock.errors import TrimdockError
from trimdock.image.imageconfig import parse_image_config
from trimdock.image.model import pair_history_with_layers


def entry(data: bytes) -> None:
    parsed = parse_image_config(data, "fuzz-config")
    pair_history_with_layers(parsed.history, len(parsed.diff_ids))


TARGET = Target(
    name="image_config",
    entry=entry,
    expected=(TrimdockError,),
    description="image/imageconfig.parse_image_config (+ model.pair_history_with_layers)",
    dictionary=(
        *NESTING,
        b'"rootfs"',
        b'"diff_ids"',
        b'"config"',
        b'"history"',
        b'"Env"',
        b'"Labels"',
        b'"Healthcheck"',
        b'"Test"',
        b'"ExposedPorts"',
        b'"empty_layer"',
        b'"created"',
    ),
)
