"""Findings as one self-contained HTML page: a summary, a sortable table, and every finding with
its source lines and the span it points at marked. Escaping is the template engine's job."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from trimdock.report.finding import FileLocation, Finding, ImageLocation
from trimdock.report.formats.common import Context, image_target, source_line

# Source lines shown for a finding that spans many (a long RUN): the first ones say enough.
_MAX_LINES = 12
# A source line longer than this (a 10,000-character RUN) is shown elided around the span it
# points at, so it cannot stretch the page; the whole line stays one click away.
LONG_LINE = 400
_KEEP = 120


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One source line split around the finding's span: `before`, `marked`, `after`."""

    number: int
    before: str
    marked: str
    after: str
    full: str = ""  # the whole line, when the three parts above are elided


def split_line(number: int, text: str, start: int, end: int) -> SourceLine:
    """`text` split around [start, end), elided (with the whole kept) when it is long."""
    before, marked, after = text[:start], text[start:end], text[end:]
    if len(text) <= LONG_LINE:
        return SourceLine(number, before, marked, after)
    if len(before) > _KEEP:
        before = "…" + before[-_KEEP:]
    if len(marked) > 2 * _KEEP:
        marked = marked[:_KEEP] + "…" + marked[-_KEEP:]
    if len(after) > _KEEP:
        after = after[:_KEEP] + "…"
    return SourceLine(number, before, marked, after, text)


def render(ctx: Context) -> str:
    from trimdock.report.html import render_page  # jinja2 only when asked for

    counts = ctx.counts()
    groups = [
        (name, [_view(ctx, finding, index) for finding, index in items])
        for name, items in _indexed_groups(ctx)
    ]
    return render_page(
        "findings.html.j2",
        title="lint",
        version=ctx.tool_version,
        groups=groups,
        counts={severity.value: n for severity, n in counts.items()},
        total=len(ctx.findings),
        files=list(ctx.files),
        schema=None,
        data=None,
    )


def _indexed_groups(ctx: Context) -> list[tuple[str, list[tuple[Finding, int]]]]:
    position = {id(finding): i for i, finding in enumerate(ctx.findings)}
    return [
        (name, [(finding, position[id(finding)]) for finding in items])
        for name, items in ctx.groups(with_clean_files=True)
    ]


def _view(ctx: Context, finding: Finding, index: int) -> dict[str, Any]:
    loc = finding.location
    if isinstance(loc, FileLocation):
        where = f"{loc.path}:{loc.line}:{loc.column}"
    elif isinstance(loc, ImageLocation):
        where = image_target(loc)
    else:
        where = ""
    return {
        "anchor": f"finding-{index + 1}",
        "rule": finding.rule_id,
        "severity": finding.severity.value,
        "rank": finding.severity.rank,
        "title": ctx.title(finding),
        "message": finding.message,
        "where": where,
        "line": loc.line if isinstance(loc, FileLocation) else 0,
        "peer": ctx.peer_id(finding),
        "category": ctx.category(finding),
        "lines": _lines_of(ctx.sources, loc) if isinstance(loc, FileLocation) else [],
    }


def _lines_of(sources: Mapping[str, str], loc: FileLocation) -> list[SourceLine]:
    last = loc.end_line if loc.end_line is not None and loc.end_line >= loc.line else loc.line
    out: list[SourceLine] = []
    for number in range(loc.line, min(last, loc.line + _MAX_LINES - 1) + 1):
        text = source_line(sources, loc.path, number)
        if text is None:
            break
        start = min(max(loc.column, 1) - 1, len(text)) if number == loc.line else 0
        if number < last:
            end = len(text)
        elif loc.end_column is not None:
            end = min(max(loc.end_column - 1, start), len(text))
        else:
            end = min(start + 1, len(text)) if number == loc.line else len(text)
        out.append(split_line(number, text, start, end))
    return out


def json_finding_views(
    findings: list[dict[str, Any]], sources: Mapping[str, str]
) -> list[dict[str, Any]]:
    """The same views for findings already in their JSON form (`Finding.to_json()`), as
    reports such as `context` carry them."""
    views: list[dict[str, Any]] = []
    for index, data in enumerate(findings):
        where = ""
        lines: list[SourceLine] = []
        location = data.get("location") or {}
        if "file" in location:
            loc = FileLocation(
                path=str(location["file"]),
                line=int(location.get("line") or 1),
                column=int(location.get("column") or 1),
                end_line=location.get("end_line"),
                end_column=location.get("end_column"),
            )
            where = f"{loc.path}:{loc.line}:{loc.column}"
            lines = _lines_of(sources, loc)
        elif "image" in location:
            where = image_target(ImageLocation(**location))
        views.append(
            {
                "anchor": f"finding-{index + 1}",
                "rule": str(data.get("rule", "")),
                "severity": str(data.get("severity", "")),
                "title": str(data.get("title", "")),
                "message": str(data.get("message", "")),
                "where": where,
                "peer": data.get("peer_rule"),
                "category": "",
                "lines": lines,
            }
        )
    return views
