"""BuildKit's shell-word processing: quotes, escapes and `$var` substitution.

BuildKit applies this (not a real shell) to the arguments of FROM, ADD, COPY, ENV, EXPOSE, LABEL,
STOPSIGNAL, USER, VOLUME, WORKDIR, ARG defaults and flag values. Unset variables expand to the
empty string; `${v:-x}`, `${v-x}`, `${v:+x}`, `${v+x}`, `${v:?msg}` and `${v?msg}` are supported.
"""

from __future__ import annotations

from collections.abc import Mapping

_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def process_word(raw: str, env: Mapping[str, str], escape: str = "\\") -> str:
    """The value BuildKit builds from one word: quotes removed, escapes applied, vars expanded."""
    return _Lexer(raw, env, escape).word()


def unquote(raw: str, escape: str = "\\") -> str:
    """Quotes and escapes removed, variables left as written."""
    if "'" not in raw and '"' not in raw and escape not in raw:
        return raw
    return _Lexer(raw, None, escape).word()


def has_variable(raw: str) -> bool:
    return "$" in raw


class _Lexer:
    def __init__(self, text: str, env: Mapping[str, str] | None, escape: str) -> None:
        self.text = text
        self.pos = 0
        self.env = env
        self.escape = escape

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
                word = self.word(stop="}")
                if self.peek() == "}":
                    self.pos += 1
                return self.modifier(name, op + mod, word, start)
            # Unsupported modifier (e.g. %, #): skip to the closing brace, keep the raw text.
            end = self.text.find("}", self.pos)
            self.pos = len(self.text) if end < 0 else end + 1
            return self.text[start : self.pos] if self.env is None else self.env.get(name, "")
        name = self.name()
        if not name:
            return "$"
        return self.lookup(name, start)

    def name(self) -> str:
        begin = self.pos
        while self.pos < len(self.text) and self.text[self.pos] in _NAME_CHARS:
            self.pos += 1
        return self.text[begin : self.pos]

    def lookup(self, name: str, start: int) -> str:
        if self.env is None:
            return self.text[start : self.pos]
        return self.env.get(name, "")

    def modifier(self, name: str, mod: str, word: str, start: int) -> str:
        if self.env is None:
            return self.text[start : self.pos]
        present = name in self.env
        value = self.env.get(name, "")
        if mod == ":-":
            return value if value else word
        if mod == "-":
            return value if present else word
        if mod == ":+":
            return word if value else ""
        if mod == "+":
            return word if present else ""
        return value  # ':?' / '?': BuildKit errors when unset; the value is what it is
