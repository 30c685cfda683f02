"""One `.dockerignore` pattern, compiled exactly as Docker's pattern matcher does.

Docker (moby/patternmatcher) turns a pattern into a Go regular expression with a character
scanner: `*` -> `[^/]*`, `?` -> `[^/]`, `**/` -> `(.*/)?`, a trailing `**` -> `.*`, `.+()|{}$` are
escaped, `\\x` becomes the regexp escape `\\x`, and `[`, `]`, `^` pass through unchanged. Patterns
without wildcards are compared as strings, `x/**` as a prefix and `**x` as a suffix (so `**file`
matches `a/myfile`). We build the same Go expression, then translate RE2 syntax into Python's
`re` so quirks survive (a `*` inside `[...]`, `\\d` meaning a digit, a raw `^` anchoring).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from trimdock.context.gopath import BadPattern, go_match


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


_POSIX = {
    "alnum": "0-9A-Za-z",
    "alpha": "A-Za-z",
    "ascii": "\\x00-\\x7f",
    "blank": "\\t ",
    "cntrl": "\\x00-\\x1f\\x7f",
    "digit": "0-9",
    "graph": "!-~",
    "lower": "a-z",
    "print": " -~",
    "punct": "!-/:-@\\[-`{-~",
    "space": "\\t\\n\\v\\f\\r ",
    "upper": "A-Z",
    "word": "0-9A-Za-z_",
    "xdigit": "0-9A-Fa-f",
}
_PERL = {"d": "0-9", "s": "\\t\\n\\f\\r ", "w": "0-9A-Za-z_"}
_CONTROL = {"a": "\\x07", "f": "\\x0c", "t": "\\t", "n": "\\n", "r": "\\r", "v": "\\x0b"}


def _class_char(c: str) -> str:
    return "\\" + c if c in "\\]^-[" else c


def _go_escape(src: str, i: int) -> tuple[str, str, int]:
    """Parse the escape at src[i] == '\\'. Returns (kind, value, next) with kind 'lit' or 'py'."""
    if i + 1 >= len(src):
        raise BadPattern("trailing backslash")
    c = src[i + 1]
    if c in _CONTROL:
        return "py", _CONTROL[c], i + 2
    if c.isascii() and (c.isalnum() or c == "_"):
        if c.lower() in _PERL:
            body = _PERL[c.lower()]
            return ("py", f"[{body}]" if c.islower() else f"[^{body}]", i + 2)
        if c in "bB":
            return "py", "\\" + c, i + 2
        if c == "A":
            return "py", "\\A", i + 2
        if c == "z":
            return "py", "\\Z", i + 2
        raise BadPattern(f"unsupported escape \\{c}")
    return "lit", c, i + 2


def _parse_class(src: str, i: int) -> tuple[str, int]:
    """Translate the RE2 character class starting at src[i] == '['."""
    i += 1
    negated = False
    if i < len(src) and src[i] == "^":
        negated = True
        i += 1
    items: list[str] = []
    first = True
    while True:
        if i >= len(src):
            raise BadPattern("missing closing ]")
        c = src[i]
        if c == "]" and not first:
            i += 1
            break
        first = False
        if c == "[" and src.startswith("[:", i):
            end = src.find(":]", i + 2)
            if end != -1:
                name = src[i + 2 : end]
                neg = name.startswith("^")
                body = _POSIX.get(name.lstrip("^"))
                if body is None:
                    raise BadPattern(f"invalid character class [:{name}:]")
                items.append(f"(?:[^{body}])" if neg else body)
                i = end + 2
                continue
        if c == "\\":
            kind, value, i = _go_escape(src, i)
            if kind == "py":
                if value.startswith("[^"):
                    items.append(f"(?:{value})")
                elif value.startswith("["):
                    items.append(value[1:-1])
                elif value.startswith("\\x") or value in ("\\t", "\\n", "\\r"):
                    items.append(value)
                else:
                    raise BadPattern("assertion inside a class")
                continue
            lo = value
        else:
            lo = c
            i += 1
        if i + 1 < len(src) and src[i] == "-" and src[i + 1] != "]":
            i += 1
            if src[i] == "\\":
                kind, hi, i = _go_escape(src, i)
                if kind != "lit":
                    raise BadPattern("bad range")
            else:
                hi = src[i]
                i += 1
            if hi < lo:
                raise BadPattern(f"invalid character class range {lo}-{hi}")
            items.append(f"{_class_char(lo)}-{_class_char(hi)}")
        else:
            items.append(_class_char(lo))
    plain = [x for x in items if not x.startswith("(?:")]
    nested = [x[3:-1] for x in items if x.startswith("(?:")]
    if not nested:
        return ("[^" if negated else "[") + "".join(plain) + "]", i
    # A negated Perl/POSIX class inside a class: express as an alternation (rare).
    alternatives = ([f"[{''.join(plain)}]"] if plain else []) + nested
    union = "(?:" + "|".join(alternatives) + ")"
    return (f"(?:(?!{union})[\\s\\S])" if negated else union), i


def re2_to_python(src: str) -> str:
    """Translate the Go expressions `go_regexp` produces into Python `re` syntax."""
    out: list[str] = []
    i = 0
    n = len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            kind, value, i = _go_escape(src, i)
            out.append(re.escape(value) if kind == "lit" else value)
            continue
        if c == "[":
            text, i = _parse_class(src, i)
            out.append(text)
            continue
        if c == "^":
            out.append("\\A")
        elif c == "$" and i == n - 1:
            out.append("\\Z")
        elif c in "().*?|":
            out.append("(?:" if c == "(" else c)
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


@dataclass(frozen=True)
class Pattern:
    """A cleaned pattern (without `!`), how it matches, and whether it is an exception."""

    text: str
    exclusion: bool
    kind: MatchType
    regex: re.Pattern[str] | None

    def match(self, path: str) -> bool:
        if self.kind is MatchType.EXACT:
            return path == self.text
        if self.kind is MatchType.PREFIX:
            return path.startswith(self.text[:-2])
        if self.kind is MatchType.SUFFIX:
            suffix = self.text[2:]
            if suffix.startswith("/"):
                suffix = suffix[1:]
            return path.endswith(suffix)
        assert self.regex is not None
        return self.regex.match(path) is not None

    def python_regex(self) -> str:
        """An equivalent Python expression (for combining patterns into one pre-filter)."""
        if self.kind is MatchType.EXACT:
            return re.escape(self.text) + "\\Z"
        if self.kind is MatchType.PREFIX:
            return re.escape(self.text[:-2])
        if self.kind is MatchType.SUFFIX:
            suffix = self.text[2:]
            if suffix.startswith("/"):
                suffix = suffix[1:]
            return "[\\s\\S]*" + re.escape(suffix) + "\\Z"
        assert self.regex is not None
        return self.regex.pattern


def compile_pattern(text: str, exclusion: bool, *, shortcuts: bool = True) -> Pattern:
    """Compile a cleaned pattern; BadPattern when Docker would reject or fail on it."""
    go_match(text, ".")  # patternmatcher.New's syntax check
    source, kind = go_regexp(text, shortcuts=shortcuts)
    regex = None
    if kind is MatchType.REGEXP:
        try:
            regex = re.compile(re2_to_python(source), re.ASCII)
        except re.error as exc:
            raise BadPattern(str(exc)) from exc
    return Pattern(text=text, exclusion=exclusion, kind=kind, regex=regex)
