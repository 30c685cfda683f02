"""Context findings in the shared Finding model (pure): `context_findings(analysis, ...)`."""

from __future__ import annotations

import re
from dataclasses import dataclass

from trimdock.context import rules as R
from trimdock.context.analysis import Analysis, flagged, totals
from trimdock.context.ignorefile import IgnoreRule
from trimdock.context.names import display
from trimdock.context.resolve import describe_error
from trimdock.context.tree import ContextTree, Kind
from trimdock.report.finding import FileLocation, Finding, Severity
from trimdock.report.rules import RuleInfo
from trimdock.report.units import count, human_bytes

VCS_DIRS = frozenset({".git", ".hg", ".svn", ".bzr"})
_SECRET_NAMES = frozenset(
    {
        ".env",
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        ".htpasswd",
        "credentials",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
    }
)
_SECRET_SUFFIXES = (".pem", ".key", ".p12", ".pfx", ".jks", ".keystore")
_HARMLESS = re.compile(r"(example|sample|template|dist|\.pub)$", re.IGNORECASE)


@dataclass(frozen=True)
class FindingSettings:
    large_context_bytes: int = 50_000_000
    unused_min_bytes: int = 1_000_000


# Folders a build never needs from the context: tools and package managers recreate them.
DEPENDENCY_DIRS = frozenset(
    {"node_modules", ".venv", "venv", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache",
     ".gradle", ".idea", ".vscode"}
)  # fmt: skip


def _unignored_junk(tree: ContextTree, sent: list[int], sent_set: set[int]) -> list[Finding]:
    """TD502 when nothing ignores VCS data, dependency folders or secrets, even if a COPY of
    the whole context "uses" them: they are exactly what a .dockerignore is for."""
    entries = tree.entries
    found: list[int] = []
    inside = -1  # the end of the last reported folder: its contents are not listed again
    for i in sent:
        if i < inside:
            continue
        entry = entries[i]
        name = entry.path.rsplit("/", 1)[-1]
        if entry.kind is Kind.DIR and (name in VCS_DIRS or name in DEPENDENCY_DIRS):
            found.append(i)
            inside = entry.end
        elif entry.kind is not Kind.DIR and is_secret_name(entry.path):
            found.append(i)
    if not found:
        return []
    chosen = [j for i in found for j in range(i, entries[i].end) if j in sent_set]
    size = totals(tree, chosen)
    shown = [display(entries[i].path) + ("/" if entries[i].kind is Kind.DIR else "") for i in found]
    return [
        _finding(
            R.NO_DOCKERIGNORE,
            f"no .dockerignore, and the builder receives {', '.join(shown[:5])}"
            f"{' and more' if len(shown) > 5 else ''} ({count(size.files, 'file')}, "
            f"{human_bytes(size.bytes)}) that a build never needs",
            files=size.files,
            bytes=size.bytes,
            largest=shown[:5],
        )
    ]


def is_secret_name(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    lower = name.lower()
    looks_secret = (
        lower in _SECRET_NAMES
        or lower.startswith(".env.")
        or lower.endswith(_SECRET_SUFFIXES)
        or "secret" in lower
    )
    # The regular expression only for the few names that look secret (it runs per sent file).
    return looks_secret and not _HARMLESS.search(name)


def _finding(
    rule: RuleInfo,
    message: str,
    location: FileLocation | None = None,
    severity: Severity | None = None,
    **evidence: object,
) -> Finding:
    return Finding(
        rule_id=rule.rule_id,
        severity=severity or rule.severity,
        message=message,
        location=location,
        title=rule.title,
        evidence=tuple(evidence.items()),
    )


def patterns_matching_nothing(analysis: Analysis) -> list[IgnoreRule]:
    """Rules whose pattern matches no path of the tree (counted during the one walk)."""
    counts = analysis.effects.matches
    return [rule for rule, count in zip(analysis.ignore.rules, counts, strict=True) if not count]


def _exception_findings(analysis: Analysis) -> list[Finding]:
    rules = analysis.ignore.rules
    location_file = analysis.ignore.path or ".dockerignore"
    entries = analysis.tree.entries
    out: list[Finding] = []
    for silent in analysis.effects.no_effect:
        rule = rules[silent.rule]
        reason = "nothing it matches was excluded"
        if silent.first_unsent is not None:
            skipped = _skipped_ancestor(analysis, silent.first_unsent)
            if skipped is not None:
                reason = (
                    f"the {analysis.builder.value} builder never looks inside "
                    f"'{display(entries[skipped].path)}' (no exception starts with that "
                    "directory)"
                )
            else:
                reason = "a later pattern (or an earlier match on a parent) excludes it again"
        out.append(
            _finding(
                R.EXCEPTION_NO_EFFECT,
                f"exception '!{rule.text}' cannot take effect: {reason}",
                FileLocation(location_file, rule.line),
                pattern=rule.source_text,
                matched_paths=silent.matched,
                builder=analysis.builder.value,
            )
        )
    return out


def _skipped_ancestor(analysis: Analysis, index: int) -> int | None:
    entries = analysis.tree.entries
    parent = entries[index].parent
    found = None
    while parent >= 0:
        if parent in analysis.selection.skipped_dirs:
            found = parent
        parent = entries[parent].parent
    return found


def context_findings(analysis: Analysis, settings: FindingSettings | None = None) -> list[Finding]:
    """Every context finding for one analysis, most severe first, then by rule id."""
    settings = settings or FindingSettings()
    tree = analysis.tree
    entries = tree.entries
    dockerfile = analysis.build.path
    sent = flagged(analysis.selection.sent)
    sent_set = set(sent)
    sent_totals = totals(tree, sent)
    out: list[Finding] = []

    if sent_totals.bytes > settings.large_context_bytes:
        out.append(
            _finding(
                R.LARGE_CONTEXT,
                f"the builder receives {human_bytes(sent_totals.bytes)} in "
                f"{count(sent_totals.files, 'file')} "
                f"(limit {human_bytes(settings.large_context_bytes)})",
                bytes=sent_totals.bytes,
                files=sent_totals.files,
                limit=settings.large_context_bytes,
            )
        )

    unused = analysis.unused
    unused_totals = totals(tree, unused)
    if unused_totals.bytes >= settings.unused_min_bytes or (
        unused_totals.files and analysis.ignore.path is None
    ):
        groups = analysis.unused_groups
        biggest = [display(g.path) + ("/" if g.is_dir else "") for g in groups[:5]]
        rule = R.NO_DOCKERIGNORE if analysis.ignore.path is None else R.UNUSED_CONTEXT
        lead = "no .dockerignore, and " if analysis.ignore.path is None else ""
        out.append(
            _finding(
                rule,
                f"{lead}{count(unused_totals.files, 'file')} "
                f"({human_bytes(unused_totals.bytes)}) "
                f"{'is' if unused_totals.files == 1 else 'are'} "
                f"sent that no instruction uses, e.g. {', '.join(biggest)}",
                files=unused_totals.files,
                bytes=unused_totals.bytes,
                largest=biggest,
            )
        )

    if analysis.ignore.path is None and not any(
        f.rule_id == R.NO_DOCKERIGNORE.rule_id for f in out
    ):
        out.extend(_unignored_junk(tree, sent, sent_set))

    for i in sent:
        entry = entries[i]
        name = entry.path.rsplit("/", 1)[-1]
        if entry.kind is Kind.DIR and name in VCS_DIRS:
            size = totals(tree, [j for j in range(i, entry.end) if j in sent_set])
            out.append(
                _finding(
                    R.VCS_IN_CONTEXT,
                    f"'{display(entry.path)}/' is sent to the builder "
                    f"({count(size.files, 'file')}, {human_bytes(size.bytes)})",
                    path=display(entry.path),
                    files=size.files,
                    bytes=size.bytes,
                )
            )

    copied_by: dict[int, int] = {}
    for resolution in analysis.resolutions:
        if resolution.use.keyword == "RUN":
            continue
        for i in resolution.entries:
            copied_by.setdefault(i, resolution.use.line)
    for i in sent:
        entry = entries[i]
        if entry.kind is Kind.DIR or not is_secret_name(entry.path):
            continue
        line = copied_by.get(i)
        if line is not None:
            out.append(
                _finding(
                    R.SECRET_IN_CONTEXT,
                    f"'{display(entry.path)}' looks like a secret and is copied into an image "
                    f"by line {line}",
                    FileLocation(dockerfile, line),
                    Severity.ERROR,
                    path=display(entry.path),
                    copied=True,
                )
            )
        else:
            out.append(
                _finding(
                    R.SECRET_IN_CONTEXT,
                    f"'{display(entry.path)}' looks like a secret and is sent to the builder",
                    path=display(entry.path),
                    copied=False,
                )
            )

    nothing = patterns_matching_nothing(analysis)
    for stale in nothing:
        out.append(
            _finding(
                R.PATTERN_MATCHES_NOTHING,
                f"pattern '{stale.source_text}' matches no path in the context",
                FileLocation(analysis.ignore.path or ".dockerignore", stale.line),
                pattern=stale.source_text,
            )
        )
    out.extend(_exception_findings(analysis))

    for resolution in analysis.resolutions:
        use = resolution.use
        for result in resolution.failed:
            assert result.error is not None
            out.append(
                _finding(
                    R.COPY_SOURCE_MISSING,
                    f"{use.keyword} source '{display(result.source)}': "
                    f"{describe_error(result.error)}",
                    FileLocation(dockerfile, use.line, end_line=use.end_line),
                    source=result.source,
                    error=result.error,
                )
            )

    last = len(analysis.build.stages) - 1
    for resolution in analysis.resolutions:
        use = resolution.use
        if use.stage != last or use.keyword == "RUN" or not use.reads_context:
            continue
        whole = [s for s in resolution.sources if s.source.strip("/") in ("", ".")]
        if not whole:
            continue
        got = totals(tree, resolution.entries)
        out.append(
            _finding(
                R.FINAL_COPY_ALL,
                f"final-stage {use.keyword} of the whole context copies {count(got.files, 'file')} "
                f"({human_bytes(got.bytes)}) into the image",
                FileLocation(dockerfile, use.line, end_line=use.end_line),
                files=got.files,
                bytes=got.bytes,
            )
        )

    index_of = tree.index() if tree.problems else {}
    for problem in tree.problems:
        if problem.problem == "socket":
            continue
        index = index_of.get(problem.path)
        if index is not None and index not in sent_set:
            continue
        out.append(
            _finding(
                R.UNREADABLE_IN_CONTEXT,
                f"'{display(problem.path)}': {problem.problem.replace('-', ' ')} "
                f"({problem.detail}); the docker CLI refuses to send it",
                path=display(problem.path),
                problem=problem.problem,
            )
        )

    out.sort(key=lambda f: (-f.severity.rank, f.rule_id))
    return out
