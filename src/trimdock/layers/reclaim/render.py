"""Text and JSON renderings of the reclaim analysis; nothing is computed here."""

from __future__ import annotations

import textwrap
from typing import Any

from rich.console import Console
from rich.text import Text

from trimdock.layers.reclaim.classify import (
    Achievable,
    CategoryTotal,
    PackageBytes,
    ReclaimItem,
    ReclaimReport,
)
from trimdock.report.escaping import safe_terminal
from trimdock.report.units import human_bytes

_PACKAGE_CATEGORIES = frozenset({"recommends", "build-tools", "jdk"})
_SHOWN_PACKAGES = 4
_FIX_INDENT = " " * 10


def _rooted(value: str, category: str) -> str:
    """Examples are paths (rooted here) except for package categories (package names)."""
    return value if category in _PACKAGE_CATEGORIES else "/" + value


def _packages_json(packages: tuple[PackageBytes, ...]) -> list[dict[str, Any]]:
    return [{"name": p.name, "bytes": p.bytes, "files": p.files} for p in packages]


def _item_json(item: ReclaimItem) -> dict[str, Any]:
    return {
        "category": item.category,
        "confidence": item.confidence,
        "bytes": item.bytes,
        "files": item.files,
        "layer": item.layer,
        "instruction": item.instruction,
        "examples": [_rooted(e, item.category) for e in item.examples],
        "packages": _packages_json(item.packages),
    }


def _category_json(total: CategoryTotal) -> dict[str, Any]:
    return {
        "category": total.category,
        "label": total.label,
        "confidence": total.confidence,
        "bytes": total.bytes,
        "files": total.files,
        "layers": list(total.layers),
        "practice": total.practice,
        "rules": list(total.rules),
    }


def achievable_json(figures: Achievable) -> dict[str, Any]:
    return {
        "size_bytes": figures.size,
        "wasted_bytes": figures.wasted,
        "reclaimable_certain_bytes": figures.certain,
        "reclaimable_likely_bytes": figures.likely,
        "achievable_bytes": figures.estimate,
        "achievable_low_bytes": figures.low,
        "size_ratio": figures.size_ratio,
    }


def reclaim_json(report: ReclaimReport, figures: Achievable, purpose: str) -> dict[str, Any]:
    """The `reclaim` member of the layers document."""
    return {
        "purpose": purpose,
        "package_db": report.package_db,
        "reclaimable_bytes": report.total,
        "certain_bytes": report.certain,
        "likely_bytes": report.likely,
        "achievable": achievable_json(figures),
        "categories": [_category_json(t) for t in report.categories()],
        "items": [_item_json(item) for item in report.items],
        "recommends_only_packages": _packages_json(report.recommends),
        "build_only_packages": _packages_json(report.build_packages),
        "secret_files": ["/" + path for path in report.secrets],
        "hashed_files": report.hashed_files,
    }


def headline(console: Console, report: ReclaimReport, figures: Achievable) -> None:
    """The reclaimable and achievable lines under the size and waste lines."""
    console.print(
        Text(
            f"reclaimable {human_bytes(report.total)} "
            f"({human_bytes(report.certain)} certain, {human_bytes(report.likely)} likely)",
            style="bold yellow" if report.total else "bold",
        )
    )
    share = 100.0 * figures.estimate / figures.size if figures.size else 100.0
    line = f"achievable {human_bytes(figures.estimate)} ({share:.1f}% of the size"
    if figures.likely:
        line += f"; {human_bytes(figures.low)} if every likely item goes"
    console.print(Text(line + ")", style="bold green"))


def render_reclaim(
    console: Console, report: ReclaimReport, figures: Achievable, *, wide: bool = False
) -> None:
    """ "What you could save": one row per category, biggest first, with its fix (the
    headline lines are printed by `headline`, under the layer report's size and waste)."""
    totals = report.categories()
    if not totals:
        return
    console.print()
    console.print(Text("What you could save", style="bold"))
    width = max(console.width, 40)
    head = f"{'bytes':>9} {'files':>7} {'sure':<7} {'layers':<7} what"
    console.print(Text(head, style="bold"))
    for total in totals:
        layers = ",".join(str(i) for i in total.layers[:3]) + ("…" if len(total.layers) > 3 else "")
        what = _what(total, report)
        prefix = f"{human_bytes(total.bytes):>9} {total.files:>7} {total.confidence:<7} "
        prefix += f"{layers:<7} "
        text = safe_terminal(what)
        room = width - len(prefix)
        if not wide and len(text) > room:
            text = text[: max(room - 1, 8)] + "…"
        console.print(prefix + text, markup=False, highlight=False, no_wrap=not wide)
        rules = f" ({', '.join(total.rules)})" if total.rules else ""
        fix = f"fix: {total.practice}{rules}"
        lines = [fix] if wide else textwrap.wrap(fix, max(width - 10, 30)) or [fix]
        for number, line in enumerate(lines):
            # Continuation lines hang under the text after "fix: ".
            indent = _FIX_INDENT if number == 0 else _FIX_INDENT + "     "
            console.print(Text(indent + line, style="dim"), soft_wrap=True)
    if report.secrets:
        console.print(
            Text(
                "secret-looking files are also a security problem (names only, content never "
                "read): "
                + ", ".join(safe_terminal("/" + p) for p in report.secrets[:5])
                + (" …" if len(report.secrets) > 5 else ""),
                style="red",
            )
        )


def _what(total: CategoryTotal, report: ReclaimReport) -> str:
    if total.category == "recommends":
        names = ", ".join(
            f"{p.name} {human_bytes(p.bytes)}" for p in report.recommends[:_SHOWN_PACKAGES]
        )
        more = len(report.recommends) - _SHOWN_PACKAGES
        return f"{total.label}: {names}" + (f" and {more} more" if more > 0 else "")
    if total.category in ("build-tools", "jdk"):
        owned = sorted(
            {
                p.name
                for item in report.items
                if item.category == total.category
                for p in item.packages
            }
        )
        if owned:
            listed = ", ".join(owned[:_SHOWN_PACKAGES])
            return f"{total.label}: {listed}" + (" …" if len(owned) > _SHOWN_PACKAGES else "")
    examples: list[str] = []
    for item in report.items:
        if item.category == total.category:
            for example in item.examples:
                rooted = _rooted(example, total.category)
                if rooted not in examples:
                    examples.append(rooted)
    shown = ", ".join(examples[:2]) + (" …" if len(examples) > 2 else "")
    return f"{total.label}: {shown}" if shown else total.label
