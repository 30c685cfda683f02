"""A minimal `.dockerignore` that keeps exactly what COPY/ADD use, with its proof (pure).

Two candidates are written from the resolved instructions: a deny-list (every maximal directory
or file nothing uses) and an allow-list (`*` and one exception per maximal used path). Each is
parsed back with the real reader and re-run through both builders' walks and the COPY/ADD
resolution; a candidate is accepted only when every instruction resolves to exactly the same
entries as before. The shorter accepted candidate wins.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from trimdock.context.analysis import Analysis, Totals, flagged, totals
from trimdock.context.gopath import GO_SPACE
from trimdock.context.ignorefile import IgnoreFile, parse_ignore
from trimdock.context.resolve import UseResolution, resolve_uses
from trimdock.context.tree import ContextTree, Kind
from trimdock.context.walk import Builder, select
from trimdock.errors import ContextError

VCS = frozenset({".git", ".hg", ".svn", ".bzr"})
BUILD_OUTPUTS = frozenset(
    {
        "node_modules",
        "dist",
        "build",
        "target",
        "out",
        "bin",
        "obj",
        "__pycache__",
        ".venv",
        "venv",
        ".tox",
        ".pytest_cache",
        ".mypy_cache",
        ".ruff_cache",
        ".gradle",
        ".next",
        "coverage",
        ".cache",
    }
)
DOCS = frozenset({"docs", "doc", "documentation", "man", "examples"})
TESTS = frozenset({"tests", "test", "spec", "__tests__", "testdata"})
LARGE = 1_000_000
SECTIONS = (
    ("vcs", "Version control data: never needed inside an image."),
    ("build", "Local build outputs, caches and virtual environments."),
    ("docker", "The Dockerfile and ignore file themselves (the builder still receives them)."),
    ("docs", "Documentation."),
    ("tests", "Tests."),
    ("large", "Large files no COPY/ADD uses."),
    ("other", "Everything else no COPY/ADD uses."),
)


@dataclass(frozen=True)
class Proof:
    """Per builder: does every instruction resolve to the same entries as before?"""

    builder: Builder
    holds: bool
    differing_lines: tuple[int, ...]
    sent: Totals


@dataclass(frozen=True)
class Suggestion:
    text: str | None  # None when no candidate could be proven
    style: str  # "deny-list", "allow-list" or "none"
    patterns: int
    before: Totals
    after: Totals
    proofs: tuple[Proof, ...]
    reason: str = ""
    # The deny-list for a context every COPY uses (`COPY . .`): it changes what COPY copies,
    # so it is offered (and written on request) but never called proven.
    changes_copy: bool = False

    @property
    def proven(self) -> bool:
        return self.text is not None and not self.changes_copy


def escape_literal(path: str) -> str:
    """A pattern that matches exactly `path` (as far as a line-based file can say it)."""
    out: list[str] = []
    for i, c in enumerate(path):
        if c in "*?[]\\^":
            out.append("\\" + c)
        elif c in "\n\r":
            out.append("?")
        elif c in GO_SPACE and (i == 0 or i == len(path) - 1):
            out.append(f"[{c}]")
        elif c == "!" and i == 0:
            out.append("\\!")
        else:
            out.append(c)
    text = "".join(out)
    return "/" + text if text.startswith("#") else text


def _category(tree: ContextTree, index: int, dockerfile: str | None) -> str:
    entry = tree.entries[index]
    name = entry.path.rsplit("/", 1)[-1]
    if name in VCS:
        return "vcs"
    if name in BUILD_OUTPUTS or name.endswith(".egg-info"):
        return "build"
    if entry.path in (".dockerignore", dockerfile) or name.startswith("Dockerfile"):
        return "docker"
    if (entry.kind is Kind.DIR and name.lower() in DOCS) or name.lower().endswith((".md", ".rst")):
        return "docs"
    if name.lower() in TESTS:
        return "tests"
    if entry.kind is Kind.FILE and entry.size >= LARGE:
        return "large"
    return "other"


def _needed(analysis: Analysis) -> tuple[set[int], set[int]]:
    """Entries used by an instruction, and those plus every ancestor directory."""
    used = set(analysis.used)
    needed = set(used)
    entries = analysis.tree.entries
    for i in used:
        parent = entries[i].parent
        while parent >= 0 and parent not in needed:
            needed.add(parent)
            parent = entries[parent].parent
    return used, needed


def _fully_used(tree: ContextTree, index: int, used: set[int]) -> bool:
    entry = tree.entries[index]
    return all(i in used for i in range(index, entry.end))


def deny_list(analysis: Analysis) -> str:
    tree = analysis.tree
    _, needed = _needed(analysis)
    groups: dict[str, list[str]] = {key: [] for key, _ in SECTIONS}
    i = 0
    entries = tree.entries
    while i < len(entries):
        entry = entries[i]
        if i not in needed:
            groups[_category(tree, i, analysis.dockerfile)].append(escape_literal(entry.path))
            i = entry.end
            continue
        i += 1
    lines = ["# Written by `trimdock context`: excludes what no COPY/ADD uses."]
    for key, comment in SECTIONS:
        if groups[key]:
            lines += ["", f"# {comment}", *groups[key]]
    return "\n".join(lines) + "\n"


def allow_list(analysis: Analysis) -> str:
    tree = analysis.tree
    used, _ = _needed(analysis)
    keep: list[str] = []
    entries = tree.entries
    i = 0
    while i < len(entries):
        entry = entries[i]
        if i in used and (entry.kind is not Kind.DIR or _fully_used(tree, i, used)):
            keep.append("!" + escape_literal(entry.path))
            i = entry.end
            continue
        i += 1
    lines = [
        "# Written by `trimdock context`: send nothing but what COPY/ADD use.",
        "*",
        "",
        "# Used by the Dockerfile's COPY/ADD instructions.",
        *keep,
    ]
    return "\n".join(lines) + "\n"


def _same(
    before: tuple[UseResolution, ...], after: tuple[UseResolution, ...], tree: ContextTree
) -> list[int]:
    differing: list[int] = []
    paths = [e.path for e in tree.entries]
    for old, new in zip(before, after, strict=True):
        old_set = {paths[i] for i in old.entries}
        new_set = {paths[i] for i in new.entries}
        old_err = [(s.source, s.error) for s in old.sources]
        new_err = [(s.source, s.error) for s in new.sources]
        if old_set != new_set or old_err != new_err:
            differing.append(old.use.line)
    return differing


def prove(analysis: Analysis, ignore: IgnoreFile, builder: Builder) -> Proof:
    selection = select(analysis.tree, ignore, builder, analysis.dockerfile)
    after = resolve_uses(analysis.tree, selection.visible, analysis.build.uses)
    differing = _same(analysis.resolutions, after, analysis.tree)
    return Proof(
        builder=builder,
        holds=not differing,
        differing_lines=tuple(differing),
        sent=totals(analysis.tree, flagged(selection.sent)),
    )


def suggest(analysis: Analysis, path: str = ".dockerignore") -> Suggestion:
    before = totals(analysis.tree, flagged(analysis.selection.sent))
    unresolved = [u for u in analysis.build.uses if u.unresolved and u.reads_context]
    if unresolved:
        return Suggestion(
            None,
            "none",
            0,
            before,
            before,
            (),
            f"line {unresolved[0].line} depends on a variable with no value "
            "(pass --build-arg NAME=VALUE)",
        )
    candidates = sorted(
        [("deny-list", deny_list(analysis)), ("allow-list", allow_list(analysis))],
        key=lambda c: _pattern_lines(c[1]),
    )
    fallback: tuple[str, str, IgnoreFile, tuple[Proof, ...]] | None = None
    for style, text in candidates:
        try:
            ignore = parse_ignore(text, path)
        except ContextError:
            continue
        proofs = tuple(prove(analysis, ignore, b) for b in (analysis.builder, _other(analysis)))
        if all(p.holds for p in proofs):
            if not ignore.rules:  # never a file with only a comment
                return copy_deny_list(analysis, before, path)
            return _accepted(style, text, ignore, before, proofs)
        if proofs[0].holds and fallback is None:
            fallback = (style, text, ignore, proofs)
    if fallback is not None:
        style, text, ignore, proofs = fallback
        return _accepted(style, text, ignore, before, proofs)
    reason = "no candidate kept every COPY/ADD intact"
    return Suggestion(None, "none", 0, before, before, (), reason)


def _accepted(
    style: str, text: str, ignore: IgnoreFile, before: Totals, proofs: tuple[Proof, ...]
) -> Suggestion:
    return Suggestion(text, style, len(ignore.rules), before, proofs[0].sent, proofs)


# What a whole-context COPY should never take, by name (the deny-list): VCS data,
# secrets and keys, dependency folders, virtual environments, caches, coverage, logs, build output.
COPY_DENY = (
    (".git", ".hg", ".svn"),
    (".env", ".env.*", "*.pem", "*.key", "id_rsa*", "id_ed25519*", "id_ecdsa*", "*.p12"),
    ("node_modules", ".venv", "venv", "__pycache__", "*.pyc", ".pytest_cache", ".mypy_cache"),
    ("coverage", ".coverage", "htmlcov", ".nyc_output", "*.log"),
    ("dist", "build", "target"),
)


def copy_deny_list(analysis: Analysis, before: Totals, path: str) -> Suggestion:
    """When every file sent is used (`COPY . .`), the deny-list of what such a COPY should not
    take, limited to names present in the context. Never proven: it changes what COPY copies."""
    present: list[str] = []
    names = [e.path.rsplit("/", 1)[-1] for e in analysis.tree.entries]
    for group in COPY_DENY:
        for pattern in group:
            if any(fnmatch.fnmatchcase(name, pattern) for name in names):
                present.append(f"**/{pattern}")
    if not present:
        reason = "nothing to exclude: every file sent is used, and none is junk by name"
        return Suggestion(None, "none", 0, before, before, (), reason)
    text = (
        "# Written by `trimdock context`: what a whole-context COPY should not take.\n"
        "# It CHANGES what COPY copies (not proven): check the build still has what it needs.\n"
        + "".join(f"{line}\n" for line in present)
    )
    ignore = parse_ignore(text, path)
    proofs = tuple(prove(analysis, ignore, b) for b in (analysis.builder, _other(analysis)))
    return Suggestion(
        text,
        "deny-list",
        len(ignore.rules),
        before,
        proofs[0].sent,
        proofs,
        "it changes what COPY copies",
        changes_copy=True,
    )


def _other(analysis: Analysis) -> Builder:
    return Builder.LEGACY if analysis.builder is Builder.BUILDKIT else Builder.BUILDKIT


def _pattern_lines(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.strip() and not line.startswith("#"))
