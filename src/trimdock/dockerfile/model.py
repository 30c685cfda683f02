"""The parsed Dockerfile: instructions, flags, words and comments, each with its source span."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from functools import cached_property


@dataclass(frozen=True, slots=True)
class Span:
    """1-based lines and columns; `end_column` is exclusive.

    Slots: a long RUN has a span per command (a million in a 10 MB `&&` chain).
    """

    line: int
    column: int
    end_line: int
    end_column: int


@dataclass(frozen=True)
class SourceMap:
    """Maps offsets in a derived string (a RUN body, a heredoc) back to file positions."""

    offsets: tuple[int, ...]
    origins: tuple[tuple[int, int], ...]  # (line, 0-based column) where each piece starts

    def point(self, offset: int, *, end: bool = False) -> tuple[int, int]:
        if not self.offsets:
            return 1, 1
        if end and offset > 0:
            line, column = self.point(offset - 1)
            return line, column + 1
        index = max(bisect.bisect_right(self.offsets, offset) - 1, 0)
        line, column0 = self.origins[index]
        return line, column0 + (offset - self.offsets[index]) + 1

    def span(self, start: int, end: int) -> Span:
        if len(self.offsets) == 1:  # text from one physical line: the common case, no search
            line, column0 = self.origins[0]
            return Span(line, column0 + start + 1, line, column0 + max(end, start) + 1)
        line, column = self.point(start)
        end_line, end_column = self.point(end, end=True) if end > start else (line, column)
        return Span(line, column, end_line, end_column)

    @staticmethod
    def of_text(text: str, line: int, column0: int = 0) -> SourceMap:
        """A map for `text` that starts at (line, column0) and runs on over its newlines."""
        offsets = [0]
        origins = [(line, column0)]
        position = text.find("\n")
        while position >= 0:
            line += 1
            offsets.append(position + 1)
            origins.append((line, 0))
            position = text.find("\n", position + 1)
        return SourceMap(tuple(offsets), tuple(origins))


@dataclass(frozen=True)
class Word:
    """One argument as written (`raw`, quotes kept) and its span."""

    raw: str
    span: Span


@dataclass(frozen=True)
class Flag:
    """A `--name=value` builder flag; `value` is None for a bare `--name`."""

    name: str
    value: str | None
    span: Span


@dataclass(frozen=True)
class Heredoc:
    name: str
    content: str
    chomp: bool
    expand: bool
    fd: int
    span: Span  # the body and the terminator line

    @property
    def content_map(self) -> SourceMap:
        return SourceMap.of_text(self.content, self.span.line)


@dataclass(frozen=True)
class Comment:
    text: str  # without the leading '#', stripped
    span: Span


@dataclass(frozen=True)
class Directive:
    name: str  # lower case: syntax, escape, check
    value: str
    span: Span


@dataclass(frozen=True)
class ParseIssue:
    """Something BuildKit would reject or warn about; the linter turns it into a finding."""

    code: str  # short machine name, e.g. "unterminated-heredoc"
    message: str
    span: Span
    parser_error: bool = False  # BuildKit's parser itself rejects the file here


@dataclass(frozen=True)
class Instruction:
    """One instruction. `keyword` is upper case; `args` are the values BuildKit's parser yields.

    For the shell form of RUN/CMD/ENTRYPOINT/SHELL and one-string instructions `args` has one
    word: the whole rest of the line (continuations joined). `json` marks the exec form.
    For ONBUILD, `trigger` is the inner instruction.
    """

    keyword: str
    raw_keyword: str
    original: str
    span: Span
    keyword_span: Span
    flags: tuple[Flag, ...] = ()
    args: tuple[Word, ...] = ()
    json: bool = False
    heredocs: tuple[Heredoc, ...] = ()
    trigger: Instruction | None = None
    comments: tuple[Comment, ...] = ()  # comment lines directly above
    rest: str = ""  # the argument text after flags, as BuildKit sees it
    rest_span: Span | None = None
    rest_map: SourceMap | None = None  # offsets in `rest` -> file positions

    @property
    def line(self) -> int:
        return self.span.line

    def flag(self, name: str) -> Flag | None:
        for item in self.flags:
            if item.name == name:
                return item
        return None

    def flag_values(self, name: str) -> tuple[str, ...]:
        return tuple(f.value or "" for f in self.flags if f.name == name)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(w.raw for w in self.args)


@dataclass(frozen=True)
class Stage:
    """A build stage: its FROM, optional name, index, and the instructions after it."""

    index: int
    name: str | None
    base: str  # image reference as written (variables not substituted)
    resolved_base: str  # after substituting ARGs declared before the first FROM
    platform: str | None
    from_instruction: Instruction
    instructions: tuple[Instruction, ...]
    parent_stage: int | None = None  # index of a stage this one is built FROM, if any

    @property
    def line(self) -> int:
        return self.from_instruction.line


@dataclass(frozen=True)
class Dockerfile:
    path: str
    text: str
    directives: tuple[Directive, ...] = ()
    escape: str = "\\"
    instructions: tuple[Instruction, ...] = ()
    comments: tuple[Comment, ...] = ()
    issues: tuple[ParseIssue, ...] = ()
    global_args: tuple[Instruction, ...] = ()  # ARGs before the first FROM
    stages: tuple[Stage, ...] = field(default_factory=tuple)

    @property
    def final_stage(self) -> Stage | None:
        return self.stages[-1] if self.stages else None

    @property
    def lines(self) -> list[str]:
        return self.text.splitlines()

    def stage_by_name(self, name: str) -> Stage | None:
        return self._stages_by_name.get(name.lower())

    @cached_property
    def _stages_by_name(self) -> dict[str, Stage]:
        # Rules look names up once per COPY --from / FROM: a scan each time made a file with
        # 20k stages quadratic. The first stage of a name wins, as the scan did.
        index: dict[str, Stage] = {}
        for stage in self.stages:
            if stage.name is not None:
                index.setdefault(stage.name.lower(), stage)
        return index
