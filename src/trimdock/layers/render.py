"""Text and JSON renderings of the layer figures; nothing is computed here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.text import Text

from trimdock.image.model import Image
from trimdock.layers.analysis import WasteAnalysis, WastedPath
from trimdock.layers.gate import GateResult
from trimdock.layers.overlay import HiddenFile
from trimdock.report.escaping import safe_terminal
from trimdock.report.units import count, human_bytes

if TYPE_CHECKING:
    from trimdock.layers.timetravel import ExportSummary, FsEntry


@dataclass(frozen=True, slots=True)
class LayerLabel:
    """What the report says about a layer besides its figures."""

    index: int
    diff_id: str
    instruction: str
    created_by: str | None  # None: history could not be paired with layers
    tar_size: int | None


def layer_labels(image: Image) -> tuple[LayerLabel, ...]:
    return tuple(
        LayerLabel(
            index=layer.index,
            diff_id=layer.diff_id,
            instruction=layer.instruction,
            created_by=layer.history.created_by if layer.history else None,
            tar_size=layer.size,
        )
        for layer in image.layers
    )


_NO_INSTRUCTION = "(no instruction recorded)"


def _root(path: str) -> str:
    return "/" + path


def _shown(path: str) -> str:
    """An image path for the terminal: rooted, control characters escaped (names are input)."""
    return safe_terminal("/" + path)


def _short(text: str, width: int) -> str:
    text = safe_terminal(" ".join(text.split()))
    return text if len(text) <= width else text[: width - 1] + "…"


def _write_lines(console: Console, lines: Sequence[str]) -> None:
    """Pre-formatted plain lines straight to the console's file.

    Listings can have hundreds of thousands of rows: rich measures, styles and wraps every
    printed object (about 150 µs a row), a plain write costs nothing. Every line is made of
    escaped text only, so nothing in it is markup or a terminal control.
    """
    out = console.file
    for start in range(0, len(lines), _LINES_PER_WRITE):
        out.write("\n".join(lines[start : start + _LINES_PER_WRITE]) + "\n")
    out.flush()


# Lines joined per write: large enough to amortise the call, small enough to bound the memory
# of one joined string.
_LINES_PER_WRITE = 4096


def _table(
    headers: Sequence[str], rows: Sequence[Sequence[str]], right: int, fit: int | None = None
) -> list[str]:
    """Rows as aligned columns: the first `right` columns right-aligned, the last unpadded.

    With `fit`, the last column (a path) is shortened in the middle so a line is at most `fit`
    characters: the figures on its left always stay whole, and both ends of the path (where it
    is and what it is) stay readable.
    """
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row[:-1]):
            widths[i] = max(widths[i], len(cell))
    room = None if fit is None else max(fit - sum(widths[:-1]) - (len(widths) - 1), 16)

    def line(cells: Sequence[str]) -> str:
        parts = [
            cell.rjust(widths[i]) if i < right else cell.ljust(widths[i])
            for i, cell in enumerate(cells[:-1])
        ]
        last = cells[-1] if room is None else elide_middle(cells[-1], room)
        return " ".join([*parts, last])

    return [line(headers), *(line(row) for row in rows)]


def elide_middle(text: str, width: int) -> str:
    """`text` at most `width` characters, its middle replaced by `…` when it is longer."""
    if len(text) <= width:
        return text
    head = (width - 1) // 2
    tail = width - 1 - head
    return text[:head] + "…" + text[len(text) - tail :]


# -- the report -------------------------------------------------------------------------------


def analysis_json(image: Image, analysis: WasteAnalysis, gate: GateResult | None) -> dict[str, Any]:
    labels = layer_labels(image)
    dive = analysis.dive
    return {
        "schema": "trimdock/layers/1",
        "image": {
            "reference": image.reference,
            "source": image.source,
            "config_digest": image.config_digest,
            "repo_tags": list(image.repo_tags),
            "history_matches_layers": image.history_matches_layers,
        },
        "totals": {
            "size_bytes": analysis.size,
            "visible_bytes": analysis.visible_size,
            "wasted_bytes": analysis.wasted,
            "wasted_percent": analysis.wasted_percent,
            "efficiency": analysis.efficiency,
            "visible_files": analysis.visible_files,
            "layers": len(analysis.layers),
        },
        "dive": {
            "efficiency": dive.efficiency,
            "wasted_bytes": dive.wasted_bytes,
            "user_wasted_percent": dive.user_wasted_percent,
            "size_bytes": dive.size,
            "user_size_bytes": dive.user_size,
            "inefficient_files_total": dive.inefficient_count,
            "inefficient_files": [
                {"path": f.path, "count": f.count, "bytes": f.bytes} for f in dive.inefficient_files
            ],
        },
        "layers": [
            {
                "index": layer.index,
                "diff_id": label.diff_id,
                "instruction": label.instruction,
                "created_by": label.created_by,
                "size_bytes": layer.size,
                "tar_bytes": label.tar_size,
                "entries": layer.entries,
                "whiteouts": layer.whiteouts,
                "files_added": layer.files_added,
                "files_modified": layer.files_modified,
                "files_deleted": layer.files_deleted,
                "wasted_bytes": layer.wasted,
                "hidden_bytes": layer.hidden,
                "dive_size_bytes": layer.dive_size,
            }
            for layer, label in zip(analysis.layers, labels, strict=True)
        ],
        "wasted_paths_total": analysis.wasted_path_count,
        "wasted_paths": [_wasted_json(item, labels) for item in analysis.wasted_paths],
        "gate": _gate_json(gate),
    }


def _wasted_json(item: WastedPath, labels: Sequence[LayerLabel]) -> dict[str, Any]:
    return {
        "path": _root(item.path),
        "kind": item.kind,
        "bytes": item.bytes,
        "files": item.files,
        "shipped_in": item.shipped_in,
        "hidden_by": item.hidden_by,
        "hidden_by_instruction": labels[item.hidden_by].instruction,
    }


def _gate_json(gate: GateResult | None) -> dict[str, Any] | None:
    if gate is None:
        return None
    return {
        "passed": gate.passed,
        "checks": [
            {
                "name": check.name,
                "unit": check.unit,
                "threshold": check.threshold,
                "actual": check.actual,
                "passed": check.passed,
            }
            for check in gate.checks
        ],
    }


# Below this many columns for the instruction, it goes on a line of its own under the figures:
# 20 characters ("RUN dd if=/dev/zero …") tell nothing, a full line of 75 does.
_MIN_INSTRUCTION_COLUMN = 40


def render_analysis(
    console: Console,
    image: Image,
    analysis: WasteAnalysis,
    gate: GateResult | None,
    *,
    wide: bool = False,
    headline: Callable[[Console], None] | None = None,
) -> None:
    """The layer table for the console's width: figures always whole, the instruction and paths
    elided to fit (`wide`: in full, however long). `headline` prints more figures under the
    size and waste lines (the reclaim analysis)."""
    labels = layer_labels(image)
    console.print(Text(f"Image {safe_terminal(image.reference)}", style="bold"), soft_wrap=True)
    if not image.history_matches_layers:
        console.print(
            "history does not match the layers: instructions are shown as unknown", style="yellow"
        )
    figures = f"{'#':>3} {'size':>9} {'wasted':>9} {'+files':>7} {'~files':>7} {'-files':>7} "
    figures += f"{'hides':>9}"
    room = console.width - len(figures) - 2
    below = not wide and room < _MIN_INSTRUCTION_COLUMN
    indent = "    "
    console.print(Text(figures + ("" if below else "  instruction"), style="bold"))
    for layer, label in zip(analysis.layers, labels, strict=True):
        row = Text(f"{layer.index:>3} {human_bytes(layer.size):>9} ")
        row.append(f"{human_bytes(layer.wasted):>9}", style="red" if layer.wasted else "")
        hides = human_bytes(layer.hidden) if layer.hidden else ""
        row.append(
            f" {layer.files_added:>7} {layer.files_modified:>7} {layer.files_deleted:>7} {hides:>9}"
        )
        instruction = label.instruction or _NO_INSTRUCTION
        if wide:
            row.append(f"  {safe_terminal(' '.join(instruction.split()))}")
            console.print(row, soft_wrap=True)
        elif below:
            row.rstrip()
            console.print(row, no_wrap=True)
            console.print(
                Text(indent + _short(instruction, console.width - len(indent)), style="dim"),
                no_wrap=True,
            )
        else:
            row.append(f"  {_short(instruction, room)}")
            console.print(row, no_wrap=True, overflow="ellipsis")
    console.print()
    console.print(
        f"size {human_bytes(analysis.size)} ({analysis.size} bytes), "
        f"visible {human_bytes(analysis.visible_size)}, "
        f"{count(analysis.visible_files, 'file')}"
    )
    console.print(
        Text(
            f"wasted {human_bytes(analysis.wasted)} ({analysis.wasted} bytes, "
            f"{analysis.wasted_percent:.2f}%), efficiency {100 * analysis.efficiency:.4f}%",
            style="bold red" if analysis.wasted else "bold",
        )
    )
    if headline is not None:
        headline(console)
    dive = analysis.dive
    user = "n/a" if dive.user_wasted_percent is None else f"{dive.user_wasted_percent:.4f}%"
    figures_line = f"dive-compatible: efficiency {100 * dive.efficiency:.4f}%, "
    user_part = f"wastedBytes {dive.wasted_bytes}, userWastedPercent {user}"
    if len(figures_line) + len(user_part) > console.width and not wide:
        console.print(figures_line.rstrip(), style="dim")
        console.print(indent + user_part, style="dim")
    else:
        console.print(figures_line + user_part, style="dim")
    if analysis.wasted_paths:
        console.print()
        shown = len(analysis.wasted_paths)
        total = analysis.wasted_path_count
        more = f" (top {shown} of {total})" if total > shown else ""
        console.print(Text(f"Wasted paths{more}", style="bold"))
        lines = _table(
            ("bytes", "files", "from", "by", "why", "path"),
            [
                (
                    human_bytes(item.bytes),
                    str(item.files),
                    str(item.shipped_in),
                    str(item.hidden_by),
                    item.kind,
                    _shown(item.path),
                )
                for item in analysis.wasted_paths
            ],
            right=4,
            fit=None if wide else console.width,
        )
        console.print(Text(lines[0], style="bold"))
        _write_lines(console, lines[1:])
        console.print(
            "from: the layer that shipped the bytes; by: the layer that hid them "
            "(deleted, opaque dir, replaced, overwritten, metadata = chmod/chown copied it)",
            style="dim",
        )
    render_gate(console, gate)


def render_gate(console: Console, gate: GateResult | None) -> None:
    if gate is None or not gate.checks:
        return
    console.print()
    for check in gate.checks:
        if check.unit == "bytes":
            actual, threshold = f"{check.actual:.0f} bytes", f"{check.threshold:.0f} bytes"
        elif check.unit == "percent":
            actual, threshold = f"{check.actual:.2f}%", f"{check.threshold:g}%"
        elif check.unit == "times":
            actual, threshold = f"{check.actual:.2f}x", f"{check.threshold:g}x"
        else:
            # Efficiency is a ratio in JSON and config; text shows it as the report does (a %).
            actual = f"{check.actual * 100:.4f}%"
            threshold = f"{check.threshold * 100:g}%"
        relation = "<=" if check.name.startswith("max-") else ">="
        verdict = Text("PASS", style="green") if check.passed else Text("FAIL", style="bold red")
        console.print(verdict, f"{check.name}: {actual} (must be {relation} {threshold})")


# -- time travel ------------------------------------------------------------------------------


def hidden_json(image: Image, files: Sequence[HiddenFile]) -> dict[str, Any]:
    labels = layer_labels(image)
    return {
        "schema": "trimdock/layers-deleted/1",
        "image": image.reference,
        "files": [
            {
                "path": _root(item.path),
                "type": item.entry_type,
                "bytes": item.bytes,
                "kind": item.kind,
                "shipped_in": item.shipped_in,
                "hidden_by": item.hidden_by,
                "hidden_by_instruction": labels[item.hidden_by].instruction,
            }
            for item in files
        ],
        "total_files": len(files),
        "total_bytes": sum(item.bytes for item in files),
    }


def render_hidden(console: Console, files: Sequence[HiddenFile]) -> None:
    lines = _table(
        ("bytes", "from", "by", "why", "path"),
        [
            (
                str(item.bytes),
                str(item.shipped_in),
                str(item.hidden_by),
                item.kind,
                _shown(item.path) + ("" if item.entry_type == "file" else f" ({item.entry_type})"),
            )
            for item in files
        ],
        right=3,
    )
    console.print(Text(lines[0], style="bold"))
    _write_lines(console, lines[1:])
    total = sum(item.bytes for item in files)
    console.print(
        f"{count(len(files), 'file')} hidden by later layers, {human_bytes(total)} ({total} bytes)"
    )


def filesystem_json(image: Image, index: int, entries: Sequence[FsEntry]) -> dict[str, Any]:
    return {
        "schema": "trimdock/layers-at/1",
        "image": image.reference,
        "layer": index,
        "entries": [
            {
                "path": _root(e.path),
                "type": e.type,
                "bytes": e.bytes,
                "layer": e.layer,
                "mode": e.mode,
                **({"link": e.link} if e.link else {}),
            }
            for e in entries
        ],
        "total_entries": len(entries),
        "total_bytes": sum(e.bytes for e in entries),
    }


def render_filesystem(console: Console, index: int, entries: Sequence[FsEntry]) -> None:
    # mode, bytes, the layer the entry comes from ("from", as in --deleted), then the path.
    console.print(Text(f"{'mode':4} {'bytes':>12} {'from':<4} path", style="bold"))
    _write_lines(
        console,
        [
            f"{e.mode & 0o7777:04o} {e.bytes:>12} L{e.layer:<3} {_shown(e.path)}"
            + ("/" if e.type == "dir" else "")
            + (f" => {_shown(e.link)}" if e.link else "")
            for e in entries
        ],
    )
    total = sum(e.bytes for e in entries)
    console.print(
        f"{count(len(entries), 'entry', 'entries')}, {human_bytes(total)} after layer {index}"
    )


def export_json(summary: ExportSummary) -> dict[str, Any]:
    return {
        "schema": "trimdock/layers-export/1",
        "target": summary.target,
        "layer": summary.layer,
        "directories": summary.directories,
        "files": summary.files,
        "symlinks": summary.symlinks,
        "hardlinks": summary.hardlinks,
        "bytes": summary.bytes,
        "skipped_special": summary.skipped_special,
    }


def render_export(console: Console, summary: ExportSummary) -> None:
    skipped = (
        f", {summary.skipped_special} devices/fifos skipped" if summary.skipped_special else ""
    )
    console.print(
        f"wrote {safe_terminal(summary.target)} (after layer {summary.layer}): "
        f"{count(summary.files, 'file')}, "
        f"{summary.hardlinks} hard links, {summary.symlinks} symlinks, "
        f"{count(summary.directories, 'directory', 'directories')}, "
        f"{human_bytes(summary.bytes)}{skipped}",
        markup=False,
        highlight=False,
    )
