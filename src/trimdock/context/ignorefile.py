"""Reading a `.dockerignore` file exactly as Docker does (moby/patternmatcher/ignorefile).

Lines are split like Go's bufio.Scanner (a trailing CR dropped, a line longer than 64 KiB is an
error), a UTF-8 BOM is dropped from the first line, `#` is a comment only in column 1 (before
trimming), a leading `!` marks an exception (trimmed again), and the rest is `filepath.Clean`ed
with one leading `/` dropped. Then patternmatcher.New trims and cleans once more and rejects a
bare `!` and malformed patterns; so does this module, naming the file and line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from trimdock.context.gopath import BadPattern, go_clean, go_trim_space
from trimdock.context.pattern import Pattern, compile_pattern
from trimdock.context.regular import read_regular
from trimdock.errors import ContextError

MAX_LINE = 64 * 1024  # bufio.MaxScanTokenSize
BOM = "\ufeff"


@dataclass(frozen=True)
class IgnoreRule:
    """One effective pattern with where it came from (line 0: added by the builder)."""

    line: int
    raw: str
    pattern: Pattern

    @property
    def exclusion(self) -> bool:
        return self.pattern.exclusion

    @property
    def text(self) -> str:
        return self.pattern.text

    @property
    def source_text(self) -> str:
        """The pattern as Docker stores it (`!` prefix for exceptions)."""
        return ("!" if self.pattern.exclusion else "") + self.pattern.text


@dataclass(frozen=True)
class IgnoreFile:
    path: str | None  # None: no ignore file is used
    rules: tuple[IgnoreRule, ...] = ()


def _lines(text: str) -> list[str]:
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def reader_patterns(text: str, source: str) -> list[tuple[int, str, str]]:
    """ignorefile.ReadAll: (line number, raw line, pattern with optional `!`)."""
    result: list[tuple[int, str, str]] = []
    for number, raw in enumerate(_lines(text), start=1):
        line = raw
        if len(line.encode("utf-8", "surrogateescape")) > MAX_LINE:
            raise ContextError(
                f"line {number}: longer than 64 KiB (Docker refuses it)", source=source
            )
        if number == 1 and line.startswith(BOM):
            line = line[1:]
        if line.startswith("#"):
            continue
        line = go_trim_space(line)
        if not line:
            continue
        invert = line[0] == "!"
        if invert:
            line = go_trim_space(line[1:])
        if line:
            line = go_clean(line)
            if len(line) > 1 and line[0] == "/":
                line = line[1:]
        if invert:
            line = "!" + line
        result.append((number, raw, line))
    return result


def parse_ignore(text: str, source: str) -> IgnoreFile:
    """Parse ignore-file text (decoded with surrogateescape); ContextError names file and line."""
    rules: list[IgnoreRule] = []
    for number, raw, stored in reader_patterns(text, source):
        rule = compile_rule(stored, number, raw, source)
        if rule is not None:
            rules.append(rule)
    return IgnoreFile(path=source, rules=tuple(rules))


def compile_rule(stored: str, line: int, raw: str, source: str) -> IgnoreRule | None:
    """patternmatcher.New for one stored pattern."""
    text = go_clean(go_trim_space(stored)) if go_trim_space(stored) else ""
    if not text:
        return None
    exclusion = text[0] == "!"
    if exclusion:
        if len(text) == 1:
            raise ContextError(f'line {line}: illegal exclusion pattern "!"', source=source)
        text = text[1:]
    try:
        pattern = compile_pattern(text, exclusion)
    except BadPattern as exc:
        raise ContextError(
            f"line {line}: syntax error in pattern {raw.strip()!r} ({exc})", source=source
        ) from exc
    return IgnoreRule(line=line, raw=raw, pattern=pattern)


def read_ignore_file(path: Path) -> IgnoreFile:
    """Read and parse one ignore file (I/O)."""
    try:
        data = read_regular(path)
    except OSError as exc:
        raise ContextError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    return parse_ignore(data.decode("utf-8", "surrogateescape"), str(path))


def locate_ignore_file(context: Path, dockerfile: Path, builder: str) -> Path | None:
    """The file the builder reads: BuildKit prefers `<Dockerfile>.dockerignore` beside it."""
    if builder == "buildkit":
        beside = Path(os.fspath(dockerfile) + ".dockerignore")
        if os.path.isfile(beside):
            return beside
    root = context / ".dockerignore"
    return root if os.path.isfile(root) else None
