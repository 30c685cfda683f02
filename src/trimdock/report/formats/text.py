"""Human-readable report: findings grouped by file, each with its source line and a caret."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence

from trimdock.report.escaping import safe_terminal
from trimdock.report.finding import FileLocation, Finding, ImageLocation, Severity
from trimdock.report.formats.common import Context, image_target, source_line
from trimdock.report.rules import RuleInfo

_COLORS = {
    Severity.ERROR: "\x1b[1;31m",
    Severity.WARNING: "\x1b[33m",
    Severity.INFO: "\x1b[36m",
    Severity.STYLE: "\x1b[2m",
}
_PLURAL = {
    Severity.ERROR: "errors",
    Severity.WARNING: "warnings",
    Severity.INFO: "info",
    Severity.STYLE: "style",
}
_NOT_TAB = re.compile("[^\t]")
_ASCII_CONTROLS = re.compile("[\x00-\x08\x0a-\x1f\x7f]")  # what safe_terminal escapes in ASCII
_BOLD = "\x1b[1m"
_RESET = "\x1b[0m"


def render(ctx: Context, *, color: bool) -> str:
    out: list[str] = []
    for key, items in ctx.groups(with_clean_files=False):
        header = safe_terminal(key)
        noun = "finding" if len(items) == 1 else "findings"
        out.append(_paint(f"{header}: {len(items)} {noun}", _BOLD, color))
        for shown, related in same_fact_lines(items, ctx.rules):
            out.extend(_finding_lines(ctx, shown, related, color))
        out.append("")
    out.append(_summary(ctx))
    return "\n".join(out) + "\n"


def _paint(value: str, code: str, color: bool) -> str:
    return f"{code}{value}{_RESET}" if color else value


def same_fact_lines(
    items: Sequence[Finding], rules: Mapping[str, RuleInfo]
) -> list[tuple[Finding, tuple[Finding, ...]]]:
    """Findings to print, each with the findings of the same fact merged into its line.

    Two findings on the same line of the same file whose rules name each other in
    `RuleInfo.same_fact` (TD211 and TD104 on `RUN apt-get update`) are one line: the most severe
    one's message (at a tie, the rule that declares the relation), with every id.
    """

    def related(a: Finding, b: Finding) -> bool:
        ra, rb = rules.get(a.rule_id), rules.get(b.rule_id)
        return bool(
            (ra is not None and b.rule_id in ra.same_fact)
            or (rb is not None and a.rule_id in rb.same_fact)
        )

    def rank(f: Finding) -> tuple[int, int]:
        info = rules.get(f.rule_id)
        return (f.severity.rank, 1 if info is not None and info.same_fact else 0)

    out: list[tuple[Finding, tuple[Finding, ...]]] = []
    taken: set[int] = set()
    for i, finding in enumerate(items):
        if i in taken:
            continue
        loc = finding.location
        cluster = [finding]
        if isinstance(loc, FileLocation):
            for j in range(i + 1, len(items)):
                other = items[j].location
                if not isinstance(other, FileLocation) or other.line != loc.line:
                    continue
                if j not in taken and any(related(items[j], c) for c in cluster):
                    cluster.append(items[j])
                    taken.add(j)
        shown = max(cluster, key=rank)  # max keeps the first of equal ranks
        out.append((shown, tuple(f for f in cluster if f is not shown)))
    return out


def _finding_lines(
    ctx: Context, finding: Finding, related: tuple[Finding, ...], color: bool
) -> list[str]:
    loc = finding.location
    if isinstance(loc, FileLocation):
        where = f"{safe_terminal(loc.path)}:{loc.line}:{loc.column}"
    elif isinstance(loc, ImageLocation):
        where = safe_terminal(image_target(loc))
    else:
        where = "-"
    severity = _paint(finding.severity.value.upper(), _COLORS[finding.severity], color)
    ids = ", ".join([finding.rule_id, *(f.rule_id for f in related)])
    line = f"  {where}  {severity}  {ids}  {safe_terminal(finding.message)}"
    peers = [p for f in (finding, *related) if (p := ctx.peer_id(f))]
    if peers:
        line += f"  [{safe_terminal(', '.join(peers))}]"
    lines = [line]
    if isinstance(loc, FileLocation):
        lines.extend(_snippet(ctx, loc, color))
    return lines


def _snippet(ctx: Context, loc: FileLocation, color: bool) -> list[str]:
    """The source line and a caret line under the span (to the line's end if it continues)."""
    text = source_line(ctx.sources, loc.path, loc.line)
    if text is None:
        return []
    start = min(max(loc.column, 1) - 1, len(text))
    if loc.end_line is not None and loc.end_line > loc.line:
        end = len(text)
    elif loc.end_column is not None:
        end = min(loc.end_column - 1, len(text))
    else:
        end = start + 1
    if text.isascii() and _ASCII_CONTROLS.search(text) is None:
        # Printable ASCII (and tabs): every character shows as itself, one column wide.
        shown = list(text)
        pad = _NOT_TAB.sub(" ", text[:start])
        width = max(end - start, 0)
    else:
        shown = [_show(ch) for ch in text]
        # Tabs are copied into the padding so the caret lines up whatever the tab width.
        pad = "".join("\t" if ch == "\t" else " " * _width(ch) for ch in shown[:start])
        width = sum(max(_width(ch), 1) for ch in shown[start:end])
    carets = _paint("^" * max(width, 1), _COLORS[Severity.ERROR], color)
    return [f"{loc.line:>6} | {''.join(shown)}", f"{'':>6} | {pad}{carets}"]


def _show(ch: str) -> str:
    return ch if ch == "\t" else safe_terminal(ch)


def _width(shown: str) -> int:
    """Terminal columns taken by `shown` (wide East Asian characters take two)."""
    total = 0
    for ch in shown:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def _summary(ctx: Context) -> str:
    counts = ctx.counts()
    total = sum(counts.values())
    files = len(ctx.files)
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    if total == 0:
        return f"{checked}, no findings"
    parts = ", ".join(f"{n} {_PLURAL[sev] if n != 1 else sev.value}" for sev, n in counts.items())
    noun = "finding" if total == 1 else "findings"
    return f"{checked}, {total} {noun}: {parts}"
