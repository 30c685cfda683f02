"""Text and JSON renderings of `trimdock diff`; nothing is computed here."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.text import Text

from trimdock.layers.diff import ImageDiff, SideFigures, summary_parts
from trimdock.layers.gate import GateResult
from trimdock.layers.render import render_gate
from trimdock.report.escaping import safe_terminal
from trimdock.report.units import human_bytes

MINUS = "\u2212"  # the typographic minus sign, as in "−19.0 MB"


def signed(value: int) -> str:
    """`+1.2 MB`, `−19.0 MB`, `0 B`."""
    if value == 0:
        return "0 B"
    return ("+" if value > 0 else MINUS) + human_bytes(abs(value))


def _side_json(side: SideFigures) -> dict[str, Any]:
    return {
        "reference": side.reference,
        "size_bytes": side.size,
        "wasted_bytes": side.wasted,
        "reclaimable_certain_bytes": side.reclaimable_certain,
        "reclaimable_likely_bytes": side.reclaimable_likely,
        "achievable_bytes": side.achievable,
        "achievable_low_bytes": side.achievable_low,
        "layers": side.layers,
        "visible_files": side.files,
    }


def diff_json(diff: ImageDiff, gate: GateResult | None, top: int | None) -> dict[str, Any]:
    directories = diff.directories if not top else diff.directories[:top]
    return {
        "schema": "trimdock/diff/1",
        "a": _side_json(diff.a),
        "b": _side_json(diff.b),
        "delta_bytes": diff.delta,
        "summary": [{"what": what, "delta_bytes": delta} for what, delta in summary_parts(diff)],
        "layers": [
            {
                "status": layer.status,
                "diff_id": layer.diff_id,
                "size_bytes": layer.size,
                "index_a": layer.index_a,
                "index_b": layer.index_b,
                "instruction": layer.instruction,
            }
            for layer in diff.layers
        ],
        "categories": [
            {
                "category": c.category,
                "label": c.label,
                "a_bytes": c.before,
                "b_bytes": c.after,
                "delta_bytes": c.delta,
            }
            for c in diff.categories
        ],
        "files": {
            "added": diff.files.added,
            "added_bytes": diff.files.added_bytes,
            "removed": diff.files.removed,
            "removed_bytes": diff.files.removed_bytes,
            "changed": diff.files.changed,
            "changed_delta_bytes": diff.files.changed_delta,
        },
        "directory_depth": diff.depth,
        "directories_total": len(diff.directories),
        "directories": [
            {
                "directory": "/" + d.directory,
                "delta_bytes": d.delta,
                "added": d.added,
                "added_bytes": d.added_bytes,
                "removed": d.removed,
                "removed_bytes": d.removed_bytes,
                "changed": d.changed,
                "changed_delta_bytes": d.changed_delta,
            }
            for d in directories
        ],
        "packages": None
        if diff.packages is None
        else [
            {
                "name": p.name,
                "status": p.status,
                "version_a": p.version_a,
                "version_b": p.version_b,
                "a_bytes": p.bytes_a,
                "b_bytes": p.bytes_b,
                "delta_bytes": p.delta,
            }
            for p in diff.packages
        ],
        "gate": None
        if gate is None
        else {
            "passed": gate.passed,
            "checks": [
                {
                    "name": c.name,
                    "unit": c.unit,
                    "threshold": c.threshold,
                    "actual": c.actual,
                    "passed": c.passed,
                }
                for c in gate.checks
            ],
        },
    }


def headline(diff: ImageDiff) -> str:
    """ "B is 20.3 MB smaller than A (…): apt lists −19.0 MB, …"."""
    a, b = safe_terminal(diff.a.reference), safe_terminal(diff.b.reference)
    delta = diff.delta
    if delta == 0:
        verdict = f"{b} is the same size as {a} ({human_bytes(diff.a.size)})"
    else:
        word = "smaller" if delta < 0 else "bigger"
        pct = 100.0 * abs(delta) / diff.a.size if diff.a.size else 100.0
        verdict = (
            f"{b} is {human_bytes(abs(delta))} {word} than {a} "
            f"({human_bytes(diff.a.size)} → {human_bytes(diff.b.size)}, {pct:.1f}%)"
        )
    parts = summary_parts(diff)
    if parts:
        verdict += ": " + ", ".join(f"{safe_terminal(what)} {signed(d)}" for what, d in parts)
    return verdict


def render_diff(
    console: Console, diff: ImageDiff, gate: GateResult | None, *, top: int | None = 10
) -> None:
    console.print(Text(headline(diff), style="bold"), soft_wrap=True)
    console.print()
    rows = [
        ("size", diff.a.size, diff.b.size),
        ("wasted", diff.a.wasted, diff.b.wasted),
        ("reclaimable (certain)", diff.a.reclaimable_certain, diff.b.reclaimable_certain),
        ("reclaimable (likely)", diff.a.reclaimable_likely, diff.b.reclaimable_likely),
        ("achievable", diff.a.achievable, diff.b.achievable),
    ]
    console.print(Text(f"{'':<22} {'A':>10} {'B':>10} {'change':>10}", style="bold"))
    for label, before, after in rows:
        console.print(
            f"{label:<22} {human_bytes(before):>10} {human_bytes(after):>10} "
            f"{signed(after - before):>10}",
            markup=False,
            highlight=False,
        )
    console.print(
        f"A: {safe_terminal(diff.a.reference)}   B: {safe_terminal(diff.b.reference)}",
        style="dim",
        markup=False,
    )
    _render_layers(console, diff)
    changed = [c for c in diff.categories if c.delta]
    if changed:
        console.print()
        console.print(Text("Reclaimable content by category", style="bold"))
        for c in changed:
            console.print(
                f"{human_bytes(c.before):>10} → {human_bytes(c.after):>10} {signed(c.delta):>10}  "
                f"{c.label}",
                markup=False,
                highlight=False,
            )
    files = diff.files
    console.print()
    console.print(
        f"files: {files.added} added ({signed(files.added_bytes)}), "
        f"{files.removed} removed ({signed(-files.removed_bytes)}), "
        f"{files.changed} changed ({signed(files.changed_delta)})",
        markup=False,
        highlight=False,
    )
    shown = diff.directories if not top else diff.directories[:top]
    if shown:
        more = (
            f" (top {len(shown)} of {len(diff.directories)})"
            if len(shown) < len(diff.directories)
            else ""
        )
        console.print(Text(f"By directory, biggest change first{more}", style="bold"))
        console.print(
            Text(
                f"{'change':>10} {'+files':>7} {'-files':>7} {'~files':>7}  directory", style="bold"
            )
        )
        for d in shown:
            console.print(
                f"{signed(d.delta):>10} {d.added:>7} {d.removed:>7} {d.changed:>7}  "
                f"{safe_terminal('/' + d.directory)}",
                markup=False,
                highlight=False,
            )
    _render_packages(console, diff, top)
    render_gate(console, gate)


def _render_layers(console: Console, diff: ImageDiff) -> None:
    counts = {status: 0 for status in ("shared", "removed", "added")}
    for layer in diff.layers:
        counts[layer.status] += 1
    console.print()
    console.print(
        Text(
            f"layers: {counts['shared']} shared, {counts['removed']} removed, "
            f"{counts['added']} added (by DiffID)",
            style="bold",
        )
    )
    width = max(console.width - 30, 20)
    for layer in diff.layers:
        index = layer.index_a if layer.index_a is not None else layer.index_b
        instruction = safe_terminal(" ".join(layer.instruction.split()))
        instruction = instruction or "(no instruction recorded)"
        if len(instruction) > width:
            instruction = instruction[: width - 1] + "…"
        console.print(
            f"  {layer.status:<8}{index:>3} {human_bytes(layer.size):>10}  {instruction}",
            markup=False,
            highlight=False,
            no_wrap=True,
        )


def _render_packages(console: Console, diff: ImageDiff, top: int | None) -> None:
    if diff.packages is None:
        return
    console.print()
    if not diff.packages:
        console.print("packages: no change")
        return
    by_status = {"added": 0, "removed": 0, "changed": 0}
    for p in diff.packages:
        by_status[p.status] += 1
    console.print(
        Text(
            f"packages: {by_status['removed']} removed, {by_status['added']} added, "
            f"{by_status['changed']} changed",
            style="bold",
        )
    )
    shown = diff.packages if not top else diff.packages[:top]
    for p in shown:
        versions = p.version_b if p.status == "added" else p.version_a
        if p.status == "changed":
            versions = f"{p.version_a} → {p.version_b}"
        name = safe_terminal(p.name)
        console.print(
            f"{signed(p.delta):>10}  {p.status:<8} {name} {safe_terminal(versions or '')}",
            markup=False,
            highlight=False,
        )
    if len(shown) < len(diff.packages):
        console.print(f"  … and {len(diff.packages) - len(shown)} more", style="dim")
