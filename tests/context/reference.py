"""The regex matcher trimdock used before linear-time matching: the reference for property tests.

Patterns were compiled into Python `re` expressions (RE2 syntax translated), which backtrack
exponentially on `*` x 20 + `b`; production code now runs an NFA (goregex/automaton). Property
tests compare both on inputs small enough for `re` not to blow up. The walk and the rule-effect
checks below are the former implementations (one walk per exception), kept verbatim in logic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trimdock.context.gopath import BadPattern, go_match
from trimdock.context.pattern import MatchType, go_regexp
from trimdock.context.tree import ContextTree, Kind
from trimdock.context.walk import Builder

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
class RefPattern:
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


def ref_compile(text: str, exclusion: bool, *, shortcuts: bool = True) -> RefPattern:
    go_match(text, ".")
    source, kind = go_regexp(text, shortcuts=shortcuts)
    regex = None
    if kind is MatchType.REGEXP:
        try:
            regex = re.compile(re2_to_python(source), re.ASCII)
        except re.error as exc:
            raise BadPattern(str(exc)) from exc
    return RefPattern(text, exclusion, kind, regex)


def _parent_dirs(path: str) -> list[str]:
    parts = path.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def ref_decide(patterns: list[RefPattern], path: str) -> bool:
    matched = False
    parents = _parent_dirs(path)
    for pattern in patterns:
        if pattern.exclusion != matched:
            continue
        if pattern.match(path) or any(pattern.match(d) for d in parents):
            matched = not pattern.exclusion
    return matched


def _using_parent(
    patterns: list[RefPattern], path: str, parent: tuple[bool, ...] | None
) -> tuple[bool, tuple[bool, ...]]:
    matched = False
    out: list[bool] = []
    for i, pattern in enumerate(patterns):
        match = parent[i] if parent is not None else False
        if not match:
            if pattern.exclusion != matched:
                out.append(False)
                continue
            match = pattern.match(path)
            if not match and parent is None:
                match = any(pattern.match(d) for d in _parent_dirs(path))
        out.append(match)
        if match:
            matched = not pattern.exclusion
    return matched, tuple(out)


def _wild(text: str) -> bool:
    return any(c in text for c in "*?[\\")


def _strip(text: str) -> str:
    for suffix in ("/**", "/*"):
        if text.endswith(suffix):
            return text[: -len(suffix)]
    return text


def ref_walk(
    tree: ContextTree, patterns: list[RefPattern], builder: Builder
) -> tuple[list[bool], set[int]]:
    entries = tree.entries
    n = len(entries)
    sent = [False] * n
    skipped: set[int] = set()
    exceptions = [p for p in patterns if p.exclusion]
    prefixes: list[str] | None
    if builder is Builder.LEGACY:
        prefixes = [p.text + "/" for p in exceptions]
    elif all(not _wild(_strip(p.text)) for p in exceptions):
        prefixes = [_strip(p.text) + "/" for p in exceptions]
    else:
        prefixes = None
    flags: list[tuple[bool, ...] | None] = [None] * n
    i = 0
    while i < n:
        entry = entries[i]
        parent_flags = flags[entry.parent] if entry.parent >= 0 else None
        excluded, info = _using_parent(patterns, entry.path, parent_flags)
        if entry.kind is Kind.DIR:
            flags[i] = info
            if excluded:
                if prefixes is not None and not any(
                    p.startswith(entry.path + "/") for p in prefixes
                ):
                    skipped.add(i)
                    i = entry.end
                    continue
                i += 1
                continue
            sent[i] = True
        elif not excluded and entry.kind is not Kind.SOCKET:
            sent[i] = True
        i += 1
    return sent, skipped


def ref_effects(
    tree: ContextTree, patterns: list[RefPattern], builder: Builder, max_checks: int
) -> tuple[list[int], list[tuple[int, int, int | None]]]:
    """Per pattern: paths matched; per silent exception: (index, matched, first unsent)."""
    paths = [e.path for e in tree.entries]
    counts = [sum(1 for p in paths if pattern.match(p)) for pattern in patterns]
    base, _ = ref_walk(tree, patterns, builder)
    silent: list[tuple[int, int, int | None]] = []
    checked = 0
    for k, pattern in enumerate(patterns):
        if not pattern.exclusion or not counts[k]:
            continue
        checked += 1
        if checked > max_checks:
            break
        sent, _ = ref_walk(tree, patterns[:k] + patterns[k + 1 :], builder)
        if sent != base:
            continue
        first = next((i for i, p in enumerate(paths) if pattern.match(p) and not base[i]), None)
        silent.append((k, counts[k], first))
    return counts, silent


def ref_visible(
    tree: ContextTree, patterns: list[RefPattern], builder: Builder, dockerfile: str
) -> list[bool]:
    """The former `select(...).visible`: the legacy CLI's additions and the 20.10 daemon."""
    always = [".dockerignore", dockerfile]
    excluded_always = [name for name in always if patterns and ref_decide(patterns, name)]
    walk_patterns = list(patterns)
    if builder is Builder.LEGACY:
        walk_patterns += [ref_compile(name, True) for name in excluded_always]
    sent, _ = ref_walk(tree, walk_patterns, builder)
    entries = tree.entries
    for i in range(len(entries) - 1, -1, -1):
        if sent[i] and entries[i].parent >= 0:
            sent[entries[i].parent] = True
    if builder is Builder.LEGACY and patterns:
        old = [ref_compile(p.text, p.exclusion, shortcuts=False) for p in patterns]
        for name in always:
            at = next((i for i, e in enumerate(entries) if e.path == name), None)
            if at is not None and _daemon20(old, name):
                sent[at] = False
    return sent


def _daemon20(patterns: list[RefPattern], path: str) -> bool:
    matched = False
    parents = path.split("/")[:-1]
    for pattern in patterns:
        match = pattern.match(path)
        if not match and parents:
            dirs = pattern.text.split("/")
            if len(dirs) <= len(parents):
                match = pattern.match("/".join(parents[: len(dirs)]))
        if match:
            matched = not pattern.exclusion
    return matched
