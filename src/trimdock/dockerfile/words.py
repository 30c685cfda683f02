"""BuildKit's word splitting and flag extraction, with the offset of every piece kept.

These mirror `extractBuilderFlags`, `parseWords` and the whitespace splitting in BuildKit's
`frontend/dockerfile/parser`, character for character, so that the values we hand to rules are
the values the builder would use.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Go's reWhitespace: the separators BuildKit splits instruction words on.
WHITESPACE_RE = re.compile(r"[\t\v\f\r ]+")
NON_WHITESPACE_RE = re.compile(r"[^\t\v\f\r ]+")
_LATIN1_SPACE = "\t\n\v\f\r \x85\xa0"
_ASCII_SPACE = frozenset(_LATIN1_SPACE)


def is_space(ch: str) -> bool:
    """Go's unicode.IsSpace."""
    return ch in _ASCII_SPACE or (ord(ch) > 0xFF and ch.isspace())


def go_trim_space(text: str, start: int = 0) -> tuple[str, int]:
    """strings.TrimSpace, returning the trimmed text and its offset (plus `start`)."""
    stripped = text.strip(_LATIN1_SPACE)
    if not stripped or (stripped[0] < "\u0100" and stripped[-1] < "\u0100"):
        # Common case: no non-Latin-1 space could remain at either end.
        return stripped, start + len(text) - len(text.lstrip(_LATIN1_SPACE))
    begin = 0
    end = len(text)
    while begin < end and is_space(text[begin]):
        begin += 1
    while end > begin and is_space(text[end - 1]):
        end -= 1
    return text[begin:end], start + begin


@dataclass(frozen=True)
class Piece:
    """A word (or flag) and its [start, end) offsets in the string it came from."""

    text: str
    start: int
    end: int


def extract_flags(line: str) -> tuple[list[Piece], int]:
    """Leading `--flag[=value]` words; returns them and the offset where the arguments start."""
    words: list[Piece] = []
    pos = 0
    n = len(line)
    while True:
        while pos < n and is_space(line[pos]):
            pos += 1
        if pos >= n:
            return words, n
        if not line.startswith("--", pos):
            return words, pos
        start = pos
        word: list[str] = []
        blank_ok = False
        quote = ""
        while pos < n:
            ch = line[pos]
            if quote:
                if ch == quote:
                    quote = ""
                    pos += 1
                    continue
                if ch == "\\":
                    if pos + 1 == n:
                        quote = ""
                        pos += 1
                        continue
                    pos += 1
                    ch = line[pos]
                word.append(ch)
                pos += 1
                continue
            if is_space(ch):
                break
            if ch in "'\"":
                quote = ch
                blank_ok = True
                pos += 1
                continue
            if ch == "\\":
                if pos + 1 == n:
                    pos += 1
                    continue
                pos += 1
                ch = line[pos]
            word.append(ch)
            pos += 1
        text = "".join(word)
        if text == "--":
            if pos >= n:
                return words, n
            return words, pos
        if blank_ok or text:
            words.append(Piece(text, start, pos))
        if pos >= n:
            return words, n


def parse_words(rest: str, escape: str) -> list[Piece]:
    """BuildKit's parseWords: split on whitespace, quotes and escapes kept in the words."""
    words: list[Piece] = []
    n = len(rest)
    pos = 0
    in_word = False
    quote = ""
    blank_ok = False
    word: list[str] = []
    start = 0
    while pos <= n:
        if pos == n:
            if in_word and (blank_ok or word):
                words.append(Piece("".join(word), start, pos))
            break
        ch = rest[pos]
        if not in_word:
            if is_space(ch):
                pos += 1
                continue
            in_word = True
            start = pos
            word = []
            blank_ok = False
            quote = ""
        if not quote:
            if is_space(ch):
                if blank_ok or word:
                    words.append(Piece("".join(word), start, pos))
                in_word = False
                pos += 1
                continue
            if ch in "'\"":
                quote = ch
                blank_ok = True
                word.append(ch)
                pos += 1
                continue
            if ch == escape:
                if pos + 1 == n:
                    pos += 1
                    continue
                word.append(ch)
                pos += 1
                ch = rest[pos]
            word.append(ch)
            pos += 1
            continue
        # inside quotes
        if ch == quote:
            quote = ""
            word.append(ch)
            pos += 1
            continue
        if ch == escape and quote != "'":
            if pos + 1 == n:
                quote = ""
                pos += 1
                continue
            word.append(ch)
            pos += 1
            ch = rest[pos]
        word.append(ch)
        pos += 1
    return words


def split_whitespace(rest: str) -> list[Piece]:
    return [Piece(m.group(), m.start(), m.end()) for m in NON_WHITESPACE_RE.finditer(rest)]
