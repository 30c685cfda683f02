"""What every format needs: a stable finding order, counts, fingerprints and safe strings."""

from __future__ import annotations

import functools
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from trimdock.report.escaping import visible_escape
from trimdock.report.finding import FileLocation, Finding, ImageLocation, Severity
from trimdock.report.rules import RuleInfo

TOOL_NAME = "trimdock"

# Lone surrogates cannot be encoded as UTF-8; a hostile file name or message must not make
# the whole report unwritable.
_SURROGATES = re.compile("[\ud800-\udfff]")
# Characters XML 1.0 forbids even as character references, plus the C1 controls and DEL,
# which terminals interpret.
_XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def safe_text(value: str) -> str:
    """`value` with lone surrogates replaced, so it always encodes as UTF-8."""
    return _SURROGATES.sub("\ufffd", value)


def safe_xml(value: str) -> str:
    """`value` with characters XML cannot carry shown as `\\xNN` escapes."""
    return _XML_FORBIDDEN.sub(visible_escape, value)


def dump_json(data: Any) -> str:
    # default=str: evidence values are free-form (a Path, a size) and must not crash a report.
    return json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n"


NO_LOCATION = "(no location)"


def _group_rank(findings: Sequence[Finding], file_index: int | None) -> tuple[int, int]:
    if file_index is not None:
        return (0, file_index)
    if findings and isinstance(findings[0].location, ImageLocation):
        return (1, 0)
    return (2, 0)


def location_key(location: FileLocation | ImageLocation | None) -> str:
    """The name findings are grouped under: a file path, or an image (and path inside it)."""
    if isinstance(location, FileLocation):
        return location.path
    if isinstance(location, ImageLocation):
        return location.image
    return ""


def image_target(location: ImageLocation) -> str:
    """`image /path/in/image (layer N)`, each part when known."""
    where = location.image
    if location.path is not None:
        where += " " + location.path
    if location.layer is not None:
        where += f" (layer {location.layer})"
    return where


def sort_key(finding: Finding) -> tuple[int, str, int, int, str, str]:
    """File findings first (by path, line, column), then image findings, then the rest."""
    loc = finding.location
    if isinstance(loc, FileLocation):
        return (0, loc.path, loc.line, loc.column, finding.rule_id, finding.message)
    if isinstance(loc, ImageLocation):
        inner = f"{loc.path or ''}\0{loc.layer if loc.layer is not None else -1:09d}"
        return (1, loc.image + "\0" + inner, 0, 0, finding.rule_id, finding.message)
    return (2, "", 0, 0, finding.rule_id, finding.message)


def source_line(sources: Mapping[str, str], path: str, line: int) -> str | None:
    """Line `line` (1-based) of `path` without its line ending, or None when unknown."""
    text = sources.get(path)
    if text is None or line < 1:
        return None
    lines = _split_lines(text)
    return lines[line - 1] if line <= len(lines) else None


@functools.lru_cache(maxsize=8)
def _split_lines(text: str) -> tuple[str, ...]:
    # Findings of one file are rendered together: split each source once, not per finding.
    return tuple(text.splitlines())


@dataclass(frozen=True)
class Context:
    """The inputs of a render, normalised once: findings in report order, with fingerprints."""

    findings: tuple[Finding, ...]
    rules: Mapping[str, RuleInfo]
    sources: Mapping[str, str]
    tool_version: str
    files: tuple[str, ...]  # every input checked, findings' files included, sorted
    information_uri: str | None

    @classmethod
    def build(
        cls,
        findings: Sequence[Finding],
        *,
        rules: Mapping[str, RuleInfo],
        sources: Mapping[str, str],
        tool_version: str,
        files: Sequence[str],
        information_uri: str | None,
    ) -> Context:
        ordered = tuple(sorted(findings, key=sort_key))
        checked = set(files)
        checked.update(f.location.path for f in ordered if isinstance(f.location, FileLocation))
        return cls(
            findings=ordered,
            rules=rules,
            sources=sources,
            tool_version=tool_version,
            files=tuple(sorted(checked)),
            information_uri=information_uri,
        )

    @functools.cached_property
    def fingerprints(self) -> tuple[str, ...]:
        # Only the formats that carry fingerprints pay for hashing every finding.
        return _fingerprints(self.findings, self.sources)

    def groups(self, *, with_clean_files: bool) -> list[tuple[str, list[Finding]]]:
        """Findings grouped in report order: files, then images, then findings with no location.

        With `with_clean_files`, every checked file has a group, empty when it has no findings.
        """
        grouped: dict[str, list[Finding]] = {}
        if with_clean_files:
            grouped.update((path, []) for path in self.files)
        for finding in self.findings:
            name = location_key(finding.location) or NO_LOCATION
            grouped.setdefault(name, []).append(finding)
        order = {name: i for i, name in enumerate(self.files)}
        rank = {name: _group_rank(items, order.get(name)) for name, items in grouped.items()}
        return sorted(grouped.items(), key=lambda item: (*rank[item[0]], item[0]))

    def counts(self) -> dict[Severity, int]:
        """Findings per severity, every severity present, most severe first."""
        counts = dict.fromkeys(sorted(Severity, key=lambda s: -s.rank), 0)
        for finding in self.findings:
            counts[finding.severity] += 1
        return counts

    def title(self, finding: Finding) -> str:
        rule = self.rules.get(finding.rule_id)
        return finding.title or (rule.title if rule else "") or finding.rule_id

    def category(self, finding: Finding) -> str:
        rule = self.rules.get(finding.rule_id)
        return rule.category if rule else ""

    def peer_id(self, finding: Finding) -> str | None:
        rule = self.rules.get(finding.rule_id)
        return finding.peer_id or (rule.peer_id if rule else None)


def _fingerprints(findings: Sequence[Finding], sources: Mapping[str, str]) -> tuple[str, ...]:
    """A hash per finding that survives unrelated edits and is unique within the report.

    The finding's own source line (whitespace-trimmed) stands in for its line number, so
    adding a line above it keeps the fingerprint; identical findings on identical lines are
    told apart by their occurrence count, in report order.
    """
    seen: dict[tuple[str, ...], int] = {}
    result: list[str] = []
    for finding in findings:
        loc = finding.location
        if isinstance(loc, FileLocation):
            line = source_line(sources, loc.path, loc.line)
            anchor = " ".join(line.split()) if line is not None else f"line {loc.line}"
            base: tuple[str, ...] = (finding.rule_id, "file", loc.path, anchor)
        elif isinstance(loc, ImageLocation):
            layer = "" if loc.layer is None else str(loc.layer)
            base = (finding.rule_id, "image", loc.image, loc.path or "", layer)
        else:
            base = (finding.rule_id, "none", finding.message)
        occurrence = seen.get(base, 0)
        seen[base] = occurrence + 1
        digest = hashlib.sha256("\0".join((*base, str(occurrence))).encode("utf-8", "replace"))
        result.append(digest.hexdigest())
    return tuple(result)
