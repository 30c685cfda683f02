"""`trimdock layers IMAGE`: what every layer costs and wastes, a CI gate, and time travel."""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from trimdock.cli.common import (
    ConfigOption,
    FormatOption,
    ImageArgument,
    InsecureOption,
    NoColorOption,
    NoVerifyOption,
    OutputOption,
    OutputOptions,
    PlatformOption,
    QuietOption,
    deliver,
    settings,
)
from trimdock.config import RawConfig
from trimdock.errors import UsageError
from trimdock.image.model import Image, Layer, LayerEntry
from trimdock.image.open import open_image
from trimdock.layers.analysis import WasteAnalysis, analyze_layers, summarize
from trimdock.layers.gate import (
    GateResult,
    Thresholds,
    evaluate,
    parse_max_achievable_ratio,
    parse_max_waste,
    parse_min_efficiency,
)
from trimdock.layers.overlay import REMOVALS, Overlay
from trimdock.layers.reclaim.classify import (
    PURPOSES,
    Achievable,
    ReclaimOptions,
    ReclaimReport,
    achievable,
)
from trimdock.layers.reclaim.collect import reclaim_image
from trimdock.layers.reclaim.render import headline as reclaim_headline
from trimdock.layers.reclaim.render import reclaim_json, render_reclaim
from trimdock.layers.render import (
    analysis_json,
    export_json,
    filesystem_json,
    hidden_json,
    render_analysis,
    render_export,
    render_filesystem,
    render_gate,
    render_hidden,
)
from trimdock.report.output import OutputFormat
from trimdock.report.progress import progress_for, terminal_progress, track

CONFIG_KEYS: dict[str, type | tuple[type, ...]] = {
    "max-waste": (int, str),
    "min-efficiency": (int, float, str),
    "top": int,
    "max-reclaimable": (int, str),
    "max-achievable-ratio": (int, float, str),
    "purpose": str,
}


class Purpose(StrEnum):
    APP = "app"
    TOOLCHAIN = "toolchain"


def register(app: typer.Typer) -> None:
    app.command("layers")(layers)


def layers(
    image: ImageArgument,
    platform: PlatformOption = None,
    format: FormatOption = OutputFormat.TEXT,
    output: OutputOption = None,
    no_color: NoColorOption = False,
    quiet: QuietOption = False,
    config: ConfigOption = None,
    max_waste: Annotated[
        str | None,
        typer.Option(
            "--max-waste",
            help="Fail (exit 1) when exact waste exceeds BYTES (50000000, 50MB, 20MiB) or "
            "PCT of the image size (10%).",
        ),
    ] = None,
    min_efficiency: Annotated[
        str | None,
        typer.Option(
            "--min-efficiency",
            help="Fail (exit 1) when visible/total bytes is below this ratio (0.9) or percent.",
        ),
    ] = None,
    top: Annotated[
        int | None,
        typer.Option("--top", help="Wasted paths to list (default 10; 0: all).", min=0),
    ] = None,
    at: Annotated[
        int | None,
        typer.Option(
            "--at",
            help="Layer index N (0-based, -1 = last): list the filesystem as it was after it, "
            "or export it with --export.",
        ),
    ] = None,
    export: Annotated[
        Path | None,
        typer.Option("--export", help="With --at N: write that filesystem to this new directory."),
    ] = None,
    deleted: Annotated[
        bool,
        typer.Option("--deleted", help="List the files later layers hid, with their sizes."),
    ] = False,
    extract: Annotated[
        str | None,
        typer.Option(
            "--extract",
            help="Recover PATH (as of --at N, else its last version before it was hidden).",
        ),
    ] = None,
    to: Annotated[
        Path | None,
        typer.Option("--to", help="Where --extract writes (a new file or directory)."),
    ] = None,
    wide: Annotated[
        bool,
        typer.Option("--wide", help="Instructions and paths in full, however wide the terminal."),
    ] = False,
    max_reclaimable: Annotated[
        str | None,
        typer.Option(
            "--max-reclaimable",
            help="Fail (exit 1) when certain reclaimable bytes exceed BYTES (50MB) or PCT of "
            "the image size (10%).",
        ),
    ] = None,
    max_achievable_ratio: Annotated[
        str | None,
        typer.Option(
            "--max-achievable-ratio",
            help="Fail (exit 1) when the image weighs more than RATIO times its achievable "
            "size (1.5).",
        ),
    ] = None,
    purpose: Annotated[
        Purpose | None,
        typer.Option(
            "--purpose",
            help="toolchain: the image is meant to build things, so compilers, SDKs and "
            "-dev packages are not reclaimable (default: app).",
            case_sensitive=False,
        ),
    ] = None,
    no_reclaim: Annotated[
        bool,
        typer.Option(
            "--no-reclaim",
            help="Skip the reclaimable-content analysis (it reads the package database and "
            "hashes same-size files).",
        ),
    ] = False,
    insecure: InsecureOption = False,
    no_verify: NoVerifyOption = False,
) -> None:
    """Per-layer size and exact, blamed waste; dive-compatible figures; CI gate; time travel.

    Reclaimable content: visible files a better build would not ship (package caches, VCS
    data, build tools, recommends...), and the achievable size without them.

    Exit codes: 0 pass, 1 a threshold failed, 2 bad input.
    """
    options = OutputOptions(format, output, no_color, quiet)
    _check_combination(at, export, deleted, extract, to, max_waste, min_efficiency)
    _check_reclaim_combination(
        at, deleted, extract, max_reclaimable, max_achievable_ratio, no_reclaim
    )
    raw = settings(config)
    section = raw.section("layers", CONFIG_KEYS)
    thresholds = _thresholds(raw, section, max_waste, min_efficiency)
    thresholds = _reclaim_thresholds(
        raw, section, thresholds, max_reclaimable, max_achievable_ratio
    )
    if no_reclaim and thresholds.needs_reclaim:
        raise UsageError("--max-reclaimable/--max-achievable-ratio need the reclaim analysis")
    chosen_purpose = _purpose(raw, section, purpose)
    limit = top if top is not None else int(section.get("top", 10))
    if limit < 0:
        raise UsageError(f"must not be negative, got {limit}", source=raw.source("layers", "top"))
    show_progress = terminal_progress(quiet=quiet, json_report=format is OutputFormat.JSON)
    with (
        progress_for(enabled=show_progress, no_color=no_color),
        _responsive_threads(),
        open_image(image, platform=platform, verify=not no_verify, insecure=insecure) as img,
    ):
        if extract is not None:
            assert to is not None
            _extract(img, extract, to, at, options)
            return
        if at is not None:
            _at(img, at, export, options)
            return
        if deleted:
            analysis = analyze_layers(
                _entries(img),
                top=limit,
                record_hidden=True,
                source=img.reference,
            )
            hidden = sorted(
                (f for f in analysis.hidden_files if f.kind in REMOVALS),
                key=lambda f: (f.hidden_by, f.path),
            )
            deliver(
                options,
                json_data=lambda: hidden_json(img, hidden),
                render_text=lambda console: render_hidden(console, hidden),
            )
            return
        overlay = Overlay(source=img.reference)
        for entries in _entries(img, defer_digests=True):
            overlay.apply(entries)
        analysis = summarize(overlay, top=limit)
        reclaim: tuple[ReclaimReport, Achievable] | None = None
        if not no_reclaim:
            report = reclaim_image(img, overlay, ReclaimOptions(purpose=chosen_purpose))
            reclaim = (report, achievable(analysis.size, analysis.wasted, report))
        _finish_digests(img)  # before anything is reported
        # The HTML page pictures the final filesystem: only it keeps the overlay, the run's
        # biggest object, past this point.
        kept = overlay if format is OutputFormat.HTML else None
        del overlay
        figures = reclaim[1] if reclaim else None
        gate = evaluate(analysis, thresholds, figures) if not thresholds.empty else None
        _report(
            img,
            analysis,
            gate,
            options,
            wide=wide,
            overlay=kept,
            reclaim=reclaim,
            purpose=chosen_purpose,
        )
    if gate is not None and not gate.passed:
        raise typer.Exit(1)


def _check_combination(
    at: int | None,
    export: Path | None,
    deleted: bool,
    extract: str | None,
    to: Path | None,
    max_waste: str | None,
    min_efficiency: str | None,
) -> None:
    if export is not None and at is None:
        raise UsageError("--export needs --at N (the layer whose filesystem to write)")
    if (extract is None) != (to is None):
        raise UsageError("--extract PATH and --to DEST go together")
    if extract is not None and export is not None:
        raise UsageError("--extract and --export cannot be combined")
    modes = [m for m, on in (("--deleted", deleted), ("--extract", extract is not None)) if on]
    if at is not None and extract is None:
        modes.append("--at")
    if len(modes) > 1:
        raise UsageError(f"{' and '.join(modes)} cannot be combined")
    if modes and (max_waste is not None or min_efficiency is not None):
        raise UsageError("--max-waste/--min-efficiency apply to the layer report only")


def _check_reclaim_combination(
    at: int | None,
    deleted: bool,
    extract: str | None,
    max_reclaimable: str | None,
    max_achievable_ratio: str | None,
    no_reclaim: bool,
) -> None:
    gated = max_reclaimable is not None or max_achievable_ratio is not None
    if gated and (at is not None or deleted or extract is not None):
        raise UsageError("--max-reclaimable/--max-achievable-ratio apply to the layer report only")
    if gated and no_reclaim:
        raise UsageError(
            "--max-reclaimable/--max-achievable-ratio cannot be combined with --no-reclaim"
        )


def _reclaim_thresholds(
    raw: RawConfig,
    section: dict[str, Any],
    thresholds: Thresholds,
    max_reclaimable: str | None,
    max_achievable_ratio: str | None,
) -> Thresholds:
    reclaimable = max_reclaimable if max_reclaimable is not None else section.get("max-reclaimable")
    reclaimable_source = (
        "--max-reclaimable"
        if max_reclaimable is not None
        else raw.source("layers", "max-reclaimable")
    )
    ratio = (
        max_achievable_ratio
        if max_achievable_ratio is not None
        else section.get("max-achievable-ratio")
    )
    ratio_source = (
        "--max-achievable-ratio"
        if max_achievable_ratio is not None
        else raw.source("layers", "max-achievable-ratio")
    )
    return dataclasses.replace(
        thresholds,
        max_reclaimable=None
        if reclaimable is None
        else parse_max_waste(reclaimable, source=reclaimable_source),
        max_achievable_ratio=None
        if ratio is None
        else parse_max_achievable_ratio(ratio, source=ratio_source),
    )


def _purpose(raw: RawConfig, section: dict[str, Any], purpose: Purpose | None) -> str:
    if purpose is not None:
        return purpose.value
    value = section.get("purpose", "app")
    if value not in PURPOSES:
        raise UsageError(
            f"expected one of {', '.join(PURPOSES)}, got {value!r}",
            source=raw.source("layers", "purpose"),
        )
    return str(value)


def _thresholds(
    raw: RawConfig, section: dict[str, Any], max_waste: str | None, min_efficiency: str | None
) -> Thresholds:
    waste_value = max_waste if max_waste is not None else section.get("max-waste")
    efficiency_value = (
        min_efficiency if min_efficiency is not None else section.get("min-efficiency")
    )
    waste_source = "--max-waste" if max_waste is not None else raw.source("layers", "max-waste")
    efficiency_source = (
        "--min-efficiency" if min_efficiency is not None else raw.source("layers", "min-efficiency")
    )
    return Thresholds(
        max_waste=None
        if waste_value is None
        else parse_max_waste(waste_value, source=waste_source),
        min_efficiency=None
        if efficiency_value is None
        else parse_min_efficiency(efficiency_value, source=efficiency_source),
    )


def _entries(img: Image, *, defer_digests: bool = False) -> Iterator[Iterator[LayerEntry]]:
    """Each layer's headers in order; every layer's digest check is queued at once (sources
    that hash on a worker process or thread), so hashing overlaps the whole analysis.
    `defer_digests`: no layer waits for its digest; `_finish_digests` must follow."""
    for layer in img.layers:
        if defer_digests:
            defer = getattr(layer.content, "defer_digest_check", None)
            if callable(defer):
                defer()
        prefetch = getattr(layer.content, "prefetch_digest", None)
        if callable(prefetch):
            prefetch()
    analysed = track(img.layers, "analysing", size=_layer_bytes, label=_layer_name)
    return (layer.content.entries() for layer in analysed)


def _finish_digests(img: Image) -> None:
    """Every deferred digest check, in layer order: the first mismatch raises."""
    for layer in img.layers:
        finish = getattr(layer.content, "finish_digest_check", None)
        if callable(finish):
            finish()


def _layer_bytes(layer: Layer) -> int:
    # The tar's size, else (a compressed blob, e.g. from a registry) the blob's.
    return layer.size or layer.blob_size or 0


def _layer_name(layer: Layer) -> str:
    return f"layer {layer.index}"


@contextmanager
def _responsive_threads() -> Iterator[None]:
    # The analysis loop is pure Python; a hashing thread (streamed layers, or the fallback when
    # no digest worker process runs) needs the GIL back after every read and hash update, and
    # by default waits up to 5 ms for it each time.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(0.0005)
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


def _report(
    img: Image,
    analysis: WasteAnalysis,
    gate: GateResult | None,
    options: OutputOptions,
    *,
    wide: bool = False,
    overlay: Overlay | None = None,
    reclaim: tuple[ReclaimReport, Achievable] | None = None,
    purpose: str = "app",
) -> None:
    def json_data() -> dict[str, Any]:
        data = analysis_json(img, analysis, gate)
        if reclaim is not None:
            data["reclaim"] = reclaim_json(reclaim[0], reclaim[1], purpose)
        return data

    def render_text(console: Any) -> None:
        if reclaim is None:
            render_analysis(console, img, analysis, gate, wide=wide)
            return
        report, figures = reclaim
        render_analysis(
            console,
            img,
            analysis,
            None,
            wide=wide,
            headline=lambda out: reclaim_headline(out, report, figures),
        )
        render_reclaim(console, report, figures, wide=wide)
        render_gate(console, gate)

    def render_html() -> str:
        from trimdock.layers.html import render_layers_html  # jinja2 only when asked for

        assert overlay is not None
        return render_layers_html(img, analysis, gate, overlay, reclaim, purpose)

    deliver(
        options,
        json_data=json_data,
        render_text=render_text,
        render_html=render_html if overlay is not None else None,
    )


def _at(img: Image, at: int, export: Path | None, options: OutputOptions) -> None:
    # Time travel is imported when asked for (--at, --extract): the layer report never needs it.
    from trimdock.layers.timetravel import check_layer_index, export_at, filesystem_at, overlay_at

    index = check_layer_index(at, len(img.layers), source=img.reference)
    if export is not None:
        summary = export_at(img.layers, index, export, source=img.reference)
        deliver(
            options,
            json_data=lambda: export_json(summary),
            render_text=lambda console: render_export(console, summary),
        )
        return
    entries = list(filesystem_at(overlay_at(img.layers, index, source=img.reference)))
    deliver(
        options,
        json_data=lambda: filesystem_json(img, index, entries),
        render_text=lambda console: render_filesystem(console, index, entries),
    )


def _extract(img: Image, path: str, to: Path, at: int | None, options: OutputOptions) -> None:
    from trimdock.layers.timetravel import (  # see _at
        check_layer_index,
        extract_path,
        last_visible_layer,
        normalise_request,
    )

    wanted = normalise_request(path)
    if at is not None:
        index = check_layer_index(at, len(img.layers), source=img.reference)
    else:
        index = last_visible_layer(img.layers, wanted, source=img.reference)
    summary = extract_path(img.layers, index, wanted, to, source=img.reference)
    deliver(
        options,
        json_data=lambda: export_json(summary),
        render_text=lambda console: render_export(console, summary),
    )
