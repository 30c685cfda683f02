"""One `.dockerignore` pattern, compiled exactly as Docker's pattern matcher does.

Docker (moby/patternmatcher) turns a pattern into a Go regular expression with a character
scanner: `*` -> `[^/]*`, `?` -> `[^/]`, `**/` -> `(.*/)?`, a trailing `**` -> `.*`, `.+()|{}$` are
escaped, `\\x` becomes the regexp escape `\\x`, and `[`, `]`, `^` pass through unchanged. Patterns
without wildcards are compared as strings, `x/**` as a prefix and `**x` as a suffix (so `**file`
matches `a/myfile`). We build the same Go expression and compile it (goregex) into an NFA that the
automaton runs without backtracking, as Go's RE2 does, so quirks survive (a `*` inside `[...]`,
`\\d` meaning a digit, a raw `^` anchoring) and no pattern can make matching exponential.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from trimdock.context.gopath import go_match
from trimdock.context.goregex import (
    Program,
    anything,
    compile_nodes,
    compile_regexp,
    literal_nodes,
)


class MatchType(Enum):
    EXACT = "exact"
    PREFIX = "prefix"
    SUFFIX = "suffix"
    REGEXP = "regexp"


_ESCAPED = frozenset(".+()|{}$")


def go_regexp(pattern: str, *, shortcuts: bool = True) -> tuple[str, MatchType]:
    """The Go regexp source and match type patternmatcher derives from a cleaned pattern.

    `shortcuts=False` gives the older (Engine 20.10 daemon) compiler, which always used a regexp.
    """
    reg = "^"
    kind = MatchType.EXACT
    i = 0
    n = len(pattern)
    first = True
    while i < n:
        ch = pattern[i]
        i += 1
        if ch == "*":
            if i < n and pattern[i] == "*":
                i += 1
                if i < n and pattern[i] == "/":
                    i += 1
                if i >= n:
                    if kind is MatchType.EXACT and shortcuts:
                        kind = MatchType.PREFIX
                    else:
                        reg += ".*"
                        kind = MatchType.REGEXP
                else:
                    reg += "(.*/)?"
                    kind = MatchType.REGEXP
                if first and shortcuts:
                    kind = MatchType.SUFFIX
            else:
                reg += "[^/]*"
                kind = MatchType.REGEXP
        elif ch == "?":
            reg += "[^/]"
            kind = MatchType.REGEXP
        elif ch in _ESCAPED:
            reg += "\\" + ch
        elif ch == "\\":
            if i < n:
                reg += "\\" + pattern[i]
                i += 1
                kind = MatchType.REGEXP
            else:
                reg += "\\"
        elif ch in "[]":
            reg += ch
            kind = MatchType.REGEXP
        else:
            reg += ch
        first = False
    if not shortcuts:
        kind = MatchType.REGEXP
    return reg + "$", kind


@dataclass(frozen=True)
class Pattern:
    """A cleaned pattern (without `!`), how it matches, whether it is an exception, its NFA."""

    text: str
    exclusion: bool
    kind: MatchType
    program: Program


def _suffix(text: str) -> str:
    suffix = text[2:]
    return suffix[1:] if suffix.startswith("/") else suffix


def compile_pattern(text: str, exclusion: bool, *, shortcuts: bool = True) -> Pattern:
    """Compile a cleaned pattern; BadPattern when Docker would reject or fail on it."""
    go_match(text, ".")  # patternmatcher.New's syntax check
    source, kind = go_regexp(text, shortcuts=shortcuts)
    if kind is MatchType.EXACT:
        program = compile_nodes(literal_nodes(text))
    elif kind is MatchType.PREFIX:  # strings.HasPrefix(path, text minus `**`)
        program = compile_nodes([*literal_nodes(text[:-2]), anything()])
    elif kind is MatchType.SUFFIX:  # strings.HasSuffix(path, text minus `**` and one `/`)
        program = compile_nodes([anything(), *literal_nodes(_suffix(text))])
    else:
        program = compile_regexp(source)
    return Pattern(text=text, exclusion=exclusion, kind=kind, program=program)
