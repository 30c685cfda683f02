"""`trimdock explore IMAGE`: the layers and the file tree at any layer, in the terminal."""

from __future__ import annotations

import gc
import sys

import typer

from trimdock.cli.common import ImageArgument, InsecureOption, NoVerifyOption, PlatformOption
from trimdock.errors import UsageError
from trimdock.image.open import open_image
from trimdock.layers.analysis import analyze_layers
from trimdock.layers.overlay import Overlay
from trimdock.layers.reclaim.classify import ReclaimOptions
from trimdock.layers.reclaim.collect import reclaim_image
from trimdock.ui.model import ExploreModel


def register(app: typer.Typer) -> None:
    app.command("explore")(explore)


def explore(
    image: ImageArgument,
    platform: PlatformOption = None,
    no_verify: NoVerifyOption = False,
    insecure: InsecureOption = False,
) -> None:
    """Browse the layers and the file tree at any layer, with what each layer added, changed,
    removed and wasted (keys: ? for help, q to quit)."""
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError(
            "needs a terminal on stdin and stdout; for a report file use "
            "`trimdock layers IMAGE --format html`",
            source="explore",
        )
    model = load_model(image, platform=platform, verify=not no_verify, insecure=insecure)
    from trimdock.ui.app import ExploreApp  # Textual only for this command

    ExploreApp(model).run()


def load_model(
    image: str, *, platform: str | None = None, verify: bool = True, insecure: bool = False
) -> ExploreModel:
    """Open and analyse the image once; the explorer reads nothing after that."""
    # Hundreds of thousands of long-lived objects (the trie, the versions): the collector
    # would rescan them all again and again while they are made and while the UI runs.
    gc.disable()
    try:
        return _load(image, platform, verify, insecure)
    finally:
        gc.freeze()
        gc.enable()


def _load(image: str, platform: str | None, verify: bool, insecure: bool) -> ExploreModel:
    with open_image(image, platform=platform, verify=verify, insecure=insecure) as img:
        overlay = Overlay(record_hidden=True, source=img.reference)
        analysis = analyze_layers(
            (layer.content.entries() for layer in img.layers),
            record_hidden=True,
            source=img.reference,
            overlay=overlay,
        )
        instructions = tuple(layer.instruction for layer in img.layers)
        model = ExploreModel.from_overlay(img.reference, instructions, analysis, overlay)
        # The same analysis as `trimdock layers` (default purpose), so the reclaimable view's
        # figures are the report's.
        model.attach_reclaim(reclaim_image(img, overlay, ReclaimOptions()))
        return model
