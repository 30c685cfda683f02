"""`trimdock diff A B`: what changed between two images, in bytes, and a CI gate on growth."""

from __future__ import annotations

from typing import Annotated

import typer

from trimdock.cli.common import (
    IMAGE_HELP,
    FormatOption,
    InsecureOption,
    NoColorOption,
    NoVerifyOption,
    OutputOption,
    OutputOptions,
    PlatformOption,
    QuietOption,
    deliver,
)
from trimdock.cli.completion import complete_images
from trimdock.errors import UsageError
from trimdock.layers.diff import DEFAULT_DEPTH, ImageDiff, diff_images
from trimdock.layers.diffrender import diff_json, render_diff
from trimdock.layers.diffside import summarize_side
from trimdock.layers.gate import GateCheck, GateResult, WasteLimit, parse_max_waste
from trimdock.layers.reclaim.classify import ReclaimOptions
from trimdock.report.output import OutputFormat


def register(app: typer.Typer) -> None:
    app.command("diff")(diff)


def diff(
    image_a: Annotated[
        str,
        typer.Argument(help="The image before. " + IMAGE_HELP, autocompletion=complete_images),
    ],
    image_b: Annotated[
        str,
        typer.Argument(help="The image after (same forms).", autocompletion=complete_images),
    ],
    platform: PlatformOption = None,
    format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    max_growth: Annotated[
        str | None,
        typer.Option(
            "--max-growth",
            help="Fail (exit 1) when B is bigger than A by more than BYTES (5MB) or PCT of A's "
            "size (2%).",
        ),
    ] = None,
    top: Annotated[
        int,
        typer.Option("--top", help="Directories and packages to list (0: all).", min=0),
    ] = 10,
    depth: Annotated[
        int,
        typer.Option("--depth", help="Directory depth files are grouped by.", min=1),
    ] = DEFAULT_DEPTH,
    no_verify: NoVerifyOption = False,
    insecure: InsecureOption = False,
) -> None:
    """Compare two images: size, layers, files, packages, waste and reclaimable content.

    Exit codes: 0 pass, 1 --max-growth exceeded, 2 bad input.
    """
    options = OutputOptions(format, output, no_color, quiet)
    limit = None if max_growth is None else parse_max_waste(max_growth, source="--max-growth")
    reclaim = ReclaimOptions()
    side_a = summarize_side(
        image_a, platform=platform, verify=not no_verify, insecure=insecure, options=reclaim
    )
    side_b = summarize_side(
        image_b, platform=platform, verify=not no_verify, insecure=insecure, options=reclaim
    )
    result = diff_images(side_a, side_b, depth=depth)
    gate = None if limit is None else growth_gate(result, limit)
    deliver(
        options,
        json_data=lambda: diff_json(result, gate, top),
        render_text=lambda console: render_diff(console, result, gate, top=top),
        render_html=lambda: _html(result, gate, top),
    )
    if gate is not None and not gate.passed:
        raise typer.Exit(1)


def _html(result: ImageDiff, gate: GateResult | None, top: int) -> str:
    from trimdock.layers.diffhtml import render_diff_html  # jinja2 only when asked for

    return render_diff_html(result, gate, top)


def growth_gate(result: ImageDiff, limit: WasteLimit) -> GateResult:
    """`--max-growth`: B may exceed A by at most the limit (bytes, or percent of A's size)."""
    growth = result.delta
    if limit.percent is not None:
        pct = 100.0 * growth / result.a.size if result.a.size else (0.0 if growth <= 0 else 100.0)
        check = GateCheck("max-growth", "percent", limit.percent, pct, pct <= limit.percent)
    else:
        allowed = limit.bytes or 0
        check = GateCheck("max-growth", "bytes", allowed, growth, growth <= allowed)
    if limit.bytes is None and limit.percent is None:
        raise UsageError("--max-growth needs a size or a percentage")
    return GateResult((check,))
