"""BuildKit's shell-word processing: quotes, escapes and `$var` substitution, with bounds.

BuildKit applies this (not a real shell) to the arguments of FROM, ADD, COPY, ENV, EXPOSE, LABEL,
STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults and flag values. Unset variables expand to the
empty string; `${v:-x}`, `${v-x}`, `${v:+x}`, `${v+x}`, `${v:?msg}` and `${v?msg}` are supported.

BuildKit's lexer (`frontend/dockerfile/shell/lex.go`) has no bound on what a word expands to:
ten ARGs that each repeat the previous one ten times are a 551-byte Dockerfile whose last value
is gigabytes long. A linter reads files other people wrote, so every expansion here goes through
an `Expander` that holds one budget per Dockerfile (the limits below, documented in
docs/lint.md "Limits"). A word past a limit is kept as written and the caller reports it; the
rest of the file is still checked. `trimdock.context` uses the same `Expander`, so both commands
share the bounds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# The characters substitution may add to one word. BuildKit sets no limit; 128 KiB is Linux's
# MAX_ARG_STRLEN, the longest single argument or environment string execve() accepts, so a value
# longer than this cannot reach a process as an ENV entry or an argument anyway, and image
# references are far shorter (255 characters of name).
MAX_WORD_EXPANSION = 128 * 1024
# The characters substitution may add over a whole Dockerfile: as much as the largest Dockerfile
# `trimdock lint` reads (dockerfile/source.py MAX_DOCKERFILE_BYTES), so expanding a file never
# costs more than reading one. Real Dockerfiles substitute a few kilobytes.
MAX_FILE_EXPANSION = 64 * 1024 * 1024
# How deep `${a:-${b:-...}}` defaults may nest. Each level is three Python frames here; 64 stays
# far below Python's recursion limit (1000) whatever the caller's depth, and no real Dockerfile
# nests more than two or three.
MAX_NESTING = 64

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


@dataclass(frozen=True)
class Expansion:
    """One word after substitution.

    `value` is the word as written (quotes kept, nothing expanded) when `limit` is set: the text
    that says which limit it passed, for the caller's finding or warning.
    """

    value: str
    unset: tuple[str, ...] = ()  # variables referenced (`$v`, `${v}`, `${v?}`) without a value
    limit: str | None = None

    @property
    def within_limits(self) -> bool:
        return self.limit is None


class _OverLimit(Exception):
    """Internal: a word passed a limit; `Expander.expand` turns it into `Expansion.limit`."""


class Expander:
    """Expands the words of one Dockerfile under one budget (create one per file)."""

    def __init__(
        self,
        escape: str = "\\",
        *,
        max_word: int = MAX_WORD_EXPANSION,
        max_file: int = MAX_FILE_EXPANSION,
        max_nesting: int = MAX_NESTING,
    ) -> None:
        self.escape = escape
        self.max_word = max_word
        self.max_file = max_file
        self.max_nesting = max_nesting
        self.used = 0  # characters substituted so far in this file

    def expand(self, raw: str, env: Mapping[str, str]) -> Expansion:
        """The value BuildKit builds from `raw`: quotes removed, escapes applied, vars expanded."""
        lexer = _Lexer(raw, env, self.escape, self.max_nesting)
        lexer.max_word, lexer.max_file = self.max_word, self.max_file
        lexer.word_budget = self.max_word
        lexer.file_budget = self.max_file - self.used
        try:
            value = lexer.word()
        except _OverLimit as exc:
            return Expansion(raw, tuple(lexer.unset), str(exc))
        finally:
            self.used += lexer.substituted
        return Expansion(value, tuple(lexer.unset))


def process_word(raw: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """`raw` expanded with a budget of its own; the word as written when past a limit.

    One-off use only: a Dockerfile's words share one `Expander` so the file limit holds.
    """
    return Expander(escape).expand(raw, env).value


def unquote(raw: str, escape: str = "\\") -> str:
    """Quotes and escapes removed, variables left as written (`raw` itself if nested too deep)."""
    if "'" not in raw and '"' not in raw and escape not in raw:
        return raw
    try:
        return _Lexer(raw, None, escape, MAX_NESTING).word()
    except _OverLimit:
        return raw


def _size(characters: int) -> str:
    for unit, scale in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if characters >= scale and characters % scale == 0:
            return f"{characters // scale} {unit}"
    return f"{characters} characters"


def has_variable(raw: str) -> bool:
    return "$" in raw


class _Lexer:
    def __init__(
        self, text: str, env: Mapping[str, str] | None, escape: str, max_nesting: int
    ) -> None:
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape
        self.depth = 0
        self.max_nesting = max_nesting
        self.max_word = self.word_budget = MAX_WORD_EXPANSION
        self.max_file = self.file_budget = MAX_FILE_EXPANSION
        self.substituted = 0
        self.unset: list[str] = []

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def next(self) -> str:
        ch = self.peek()
        self.pos += 1
        return ch

    def word(self, stop: str = "") -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.peek()
            if stop and ch in stop:
                break
            if ch == self.escape:
                self.pos += 1
                if self.pos < len(self.text):
                    out.append(self.next())
                continue
            if ch == "'":
                self.pos += 1
                end = self.text.find("'", self.pos)
                if end < 0:
                    out.append(self.text[self.pos :])
                    self.pos = len(self.text)
                else:
                    out.append(self.text[self.pos : end])
                    self.pos = end + 1
                continue
            if ch == '"':
                self.pos += 1
                out.append(self.double_quoted())
                continue
            if ch == "$":
                out.append(self.dollar())
                continue
            out.append(self.next())
        return "".join(out)

    def double_quoted(self) -> str:
        out: list[str] = []
        while self.pos < len(self.text):
            ch = self.next()
            if ch == '"':
                break
            if ch == self.escape:
                nxt = self.peek()
                if nxt in ('"', "$", self.escape):
                    out.append(self.next())
                else:
                    out.append(ch)
                continue
            if ch == "$":
                self.pos -= 1
                out.append(self.dollar())
                continue
            out.append(ch)
        return "".join(out)

    def dollar(self) -> str:
        start = self.pos
        self.pos += 1  # '$'
        ch = self.peek()
        if ch == "{":
            self.pos += 1
            name = self.name()
            if not name:
                # Not a valid expansion: keep the text literally.
                return self.text[start : self.pos]
            op = ""
            if self.peek() == ":":
                self.pos += 1
                op = ":"
            mod = self.peek()
            if mod == "}":
                self.pos += 1
                return self.lookup(name, start)
            if mod in "-+?":
                self.pos += 1
                word = self.nested_word()
                if self.peek() == "}":
                    self.pos += 1
                return self.modifier(name, op + mod, word, start)
            # Unsupported modifier (e.g. %, #): skip to the closing brace, keep the raw text.
            end = self.text.find("}", self.pos)
            self.pos = len(self.text) if end < 0 else end + 1
            if self.env is None:
                return self.text[start : self.pos]
            return self.value(self.env.get(name, ""))
        name = self.name()
        if not name:
            return "$"
        return self.lookup(name, start)

    def nested_word(self) -> str:
        """The word of a `${v:-word}` modifier; nesting is bounded (the lexer recurses)."""
        if self.depth >= self.max_nesting:
            raise _OverLimit(f"nests ${{...}} more than {self.max_nesting} deep (trimdock's limit)")
        self.depth += 1
        try:
            return self.word(stop="}")
        finally:
            self.depth -= 1

    def name(self) -> str:
        begin = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
            self.pos += 1
        return self.text[begin : self.pos]

    def value(self, text: str) -> str:
        """A variable's value entering the word: counted against both budgets first."""
        size = len(text)
        if size > self.word_budget:
            raise _OverLimit(
                f"expands to more than {_size(self.max_word)} (trimdock's limit per word)"
            )
        if size > self.file_budget:
            raise _OverLimit(
                f"variable expansion passes {_size(self.max_file)} in this file "
                "(trimdock's limit per Dockerfile)"
            )
        self.word_budget -= size
        self.file_budget -= size
        self.substituted += size
        return text

    def lookup(self, name: str, start: int) -> str:
        if self.env is None:
            return self.text[start : self.pos]
        found = self.env.get(name)
        if found is None:
            self.unset.append(name)
            return ""
        return self.value(found)

    def modifier(self, name: str, mod: str, word: str, start: int) -> str:
        if self.env is None:
            return self.text[start : self.pos]
        present = name in self.env
        value = self.env.get(name, "")
        if mod == ":-":
            return self.value(value) if value else word
        if mod == "-":
            return self.value(value) if present else word
        if mod == ":+":
            return word if value else ""
        if mod == "+":
            return word if present else ""
        # ':?' / '?': BuildKit errors when unset; the value is what it is
        if not present or (mod == ":?" and not value):
            self.unset.append(name)
        return self.value(value)
