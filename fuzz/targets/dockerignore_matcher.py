"""`context/matcher.Matcher`: which paths a .dockerignore excludes. Document 0 is the ignore
file, document 1 the paths (one a line). Every path is decided three ways: `decide`
(MatchesOrParentMatches), `step` (MatchesUsingParentResults) along the walk from the top
(what `context` uses), and `daemon20_decide`.

Contract: booleans, or `ContextError` for the ignore file; no exponential matching.
"""

from __future__ import annotations

from fuzz.harness import Target, split_documents
from trimdock.context.ignorefile import parse_ignore
from trimdock.context.matcher import Flags, Matcher, parent_dirs
from trimdock.errors import TrimdockError

# Paths per input: enough to mix files and directories, few enough to keep inputs fast.
_MAX_PATHS = 64


def entry(data: bytes) -> None:
    docs = split_documents(data, limit=2)
    ignore = parse_ignore(docs[0].decode("utf-8", "surrogateescape"), ".dockerignore")
    matcher = Matcher([rule.pattern for rule in ignore.rules])
    paths = docs[1].decode("utf-8", "surrogateescape").split("\n") if len(docs) > 1 else []
    for path in paths[:_MAX_PATHS]:
        if not path:
            continue
        matcher.decide(path)
        matcher.daemon20_decide(path)
        flags: Flags = matcher.top
        for step in [*parent_dirs(path), path]:
            flags = matcher.step(flags, matcher.hits(step)).flags


TARGET = Target(
    name="dockerignore_matcher",
    entry=entry,
    expected=(TrimdockError,),
    description="context/matcher.Matcher (decide, matches_using_parent, daemon20_decide)",
    dictionary=(
        b"**/",
        b"**",
        b"*",
        b"?",
        b"[",
        b"]",
        b"\\",
        b"!",
        b"\n%%\n",
        b"a/b/c",
        b"node_modules",
        b".git",
    ),
)
