"""A Dockerfile parser that follows BuildKit's `frontend/dockerfile/parser` rules.

Differences from BuildKit are deliberate and limited to error handling: where BuildKit stops at
the first error, we record a `ParseIssue` and go on, so one bad line does not hide the rest.
Every instruction, flag, word, heredoc and comment keeps its span in the source.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from trimdock.dockerfile.model import (
    Comment,
    Directive,
    Dockerfile,
    Flag,
    Heredoc,
    Instruction,
    ParseIssue,
    SourceMap,
    Span,
    Word,
)
from trimdock.dockerfile.stages import build_stages
from trimdock.dockerfile.words import (
    WHITESPACE_RE,
    Piece,
    extract_flags,
    go_trim_space,
    is_space,
    parse_words,
    split_whitespace,
)

# BuildKit's directive regex is `^#[ \t]*([a-zA-Z0-9]+)[ \t]*=[ \t]*(.+?)[ \t]*$`. Go runs it in
# linear time (RE2); Python backtracks on `(.+?)[ \t]*$`, quadratic in a line of blanks (a 1 MB
# first line: an hour). Only the head is a regex here; `_directive_value` does the tail.
_DIRECTIVE_HEAD_RE = re.compile(r"#[ \t]*([a-zA-Z0-9]+)[ \t]*=")
KNOWN_DIRECTIVES = ("syntax", "escape", "check")
_HEREDOC_RE = re.compile(r"^(\d*)<<(-?)([^<]*)$")
_JSON_STRING_RE = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_HEREDOC_KEYWORDS = frozenset({"RUN", "COPY", "ADD"})

KNOWN_INSTRUCTIONS = frozenset(
    {
        "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK",
        "LABEL", "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME",
        "WORKDIR",
    }
)  # fmt: skip


class _Logical:
    """A logical line assembled from pieces of physical lines, mapping offsets back to them."""

    def __init__(self) -> None:
        self.parts: list[str] = []
        self.offsets: list[int] = []
        self.origins: list[tuple[int, int]] = []  # (line, 0-based column) of each piece
        self.length = 0

    def add(self, text: str, line: int, column0: int) -> None:
        self.offsets.append(self.length)
        self.origins.append((line, column0))
        self.parts.append(text)
        self.length += len(text)

    def text(self) -> str:
        return "".join(self.parts)

    def point(self, offset: int, *, end: bool = False) -> tuple[int, int]:
        if end and offset > 0:
            line, col = self.point(offset - 1)
            return line, col + 1
        index = max(bisect.bisect_right(self.offsets, offset) - 1, 0)
        line, column0 = self.origins[index]
        return line, column0 + (offset - self.offsets[index]) + 1

    def span(self, start: int, end: int) -> Span:
        if len(self.offsets) == 1:  # one physical line: the common case, no search needed
            line, column0 = self.origins[0]
            return Span(line, column0 + start + 1, line, column0 + max(end, start) + 1)
        line, column = self.point(start)
        end_line, end_column = self.point(end, end=True) if end > start else (line, column)
        return Span(line, column, end_line, end_column)

    def submap(self, start: int) -> SourceMap:
        """The map of the text from `start` on, offsets relative to `start`."""
        if len(self.offsets) == 1:
            line, column0 = self.origins[0]
            return SourceMap((0,), ((line, column0 + start),))
        index = max(bisect.bisect_right(self.offsets, start) - 1, 0)
        line, column0 = self.origins[index]
        offsets = [0]
        origins = [(line, column0 + start - self.offsets[index])]
        for offset, origin in zip(
            self.offsets[index + 1 :], self.origins[index + 1 :], strict=True
        ):
            offsets.append(offset - start)
            origins.append(origin)
        return SourceMap(tuple(offsets), tuple(origins))


def _physical_lines(text: str) -> list[str]:
    """Lines with their newline kept, as BuildKit's scanLines yields them."""
    if not text:
        return []
    parts = text.split("\n")
    lines = [p + "\n" for p in parts[:-1]]
    if parts[-1]:
        lines.append(parts[-1])
    return lines


def _trim_newline(line: str) -> str:
    return line.rstrip("\r\n")


def _is_comment(line: str) -> bool:
    index = _leading_space(line)
    return index < len(line) and line[index] == "#"


_LATIN1_SPACE = "\t\n\v\f\r \x85\xa0"


def _leading_space(line: str) -> int:
    """How many leading characters are Go whitespace (unicode.IsSpace)."""
    index = len(line) - len(line.lstrip(_LATIN1_SPACE))
    while index < len(line) and is_space(line[index]):  # rarer non-Latin-1 spaces
        index += 1
    return index


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.text = text
        self.path = path
        self.escape = "\\"
        self.directives: list[Directive] = []
        self.directives_done = False
        self.issues: list[ParseIssue] = []
        self.comments: list[Comment] = []
        self.instructions: list[Instruction] = []
        self.in_trigger = False  # parsing the trigger of an ONBUILD

    # --- directives -------------------------------------------------------------------------
    def directive(self, line: str, number: int) -> None:
        if self.directives_done:
            return
        match = _DIRECTIVE_HEAD_RE.match(line)
        value = _directive_value(line[match.end() :]) if match is not None else None
        if match is None or value is None or match.group(1).lower() not in KNOWN_DIRECTIVES:
            self.directives_done = True
            return
        name = match.group(1).lower()
        span = Span(number, 1, number, len(line) + 1)
        if any(d.name == name for d in self.directives):
            self.issue(
                "duplicate-directive", f"only one {name} parser directive can be used", span, True
            )
            return
        self.directives.append(Directive(name, value, span))
        if name == "escape":
            if value not in ("`", "\\"):
                self.issue(
                    "invalid-escape",
                    f"invalid escape token '{value}' does not match ` or \\",
                    span,
                    True,
                )
                return
            self.escape = value

    def issue(self, code: str, message: str, span: Span, parser_error: bool = False) -> None:
        self.issues.append(ParseIssue(code, message, span, parser_error))

    # --- main loop -------------------------------------------------------------------------
    def run(self) -> Dockerfile:
        lines = _physical_lines(self.text)
        if lines and lines[0].startswith("\ufeff"):
            lines[0] = lines[0][1:]
        index = 0
        pending_comments: list[Comment] = []
        total = len(lines)
        while index < total:
            raw = lines[index]
            number = index + 1
            index += 1
            body = _trim_newline(raw)
            stripped_len = _leading_space(body)
            token = body[stripped_len:]
            self.directive(token, number)
            if token.startswith("#"):
                comment = Comment(
                    token[1:].strip(), Span(number, stripped_len + 1, number, len(body) + 1)
                )
                self.comments.append(comment)
                pending_comments.append(comment)
                continue
            if not token:
                continue
            logical = _Logical()
            first, end_of_line = self.trim_continuation(token)
            logical.add(first, number, stripped_len)
            start_line = number
            last_line = number
            last_body = body
            empty_continuation = False
            while not end_of_line and index < total:
                raw_next = lines[index]
                number = index + 1
                index += 1
                cont = _trim_newline(raw_next)
                self.directive(cont, number)
                last_line, last_body = number, cont
                if _is_comment(cont):
                    offset = len(cont) - len(cont.lstrip())
                    comment = Comment(
                        cont.lstrip()[1:].strip(), Span(number, offset + 1, number, len(cont) + 1)
                    )
                    self.comments.append(comment)
                    continue
                if not cont.strip(" \t\v\f\r\x85\xa0"):
                    empty_continuation = True
                    continue
                piece, end_of_line = self.trim_continuation(cont)
                logical.add(piece, number, 0)
            if not end_of_line:
                self.issue(
                    "trailing-escape",
                    "the file ends inside a line continuation (trailing escape character)",
                    Span(last_line, 1, last_line, len(last_body) + 1),
                )
            if empty_continuation:
                self.issue(
                    "empty-continuation-line",
                    "empty continuation line (deprecated; a future BuildKit will reject it)",
                    Span(start_line, 1, last_line, len(last_body) + 1),
                )
            line_text = logical.text()
            fields = self.node_fields(line_text, 0, logical, tuple(pending_comments))
            pending_comments = []
            heredocs: list[Heredoc] = []
            trigger: Instruction | None = fields["trigger"]
            if fields["keyword"] == "ONBUILD":
                heredoc_keyword = trigger.keyword if trigger is not None else None
                heredoc_json = trigger.json if trigger is not None else False
            else:
                heredoc_keyword, heredoc_json = fields["keyword"], fields["json"]
            if heredoc_keyword in _HEREDOC_KEYWORDS and not heredoc_json and "<<" in line_text:
                for fd, chomp, name, expand in self.heredoc_words(line_text):
                    content: list[str] = []
                    body_start = index + 1
                    terminated = False
                    while index < total:
                        candidate = lines[index]
                        index += 1
                        possible = _trim_newline(candidate)
                        if chomp:
                            possible = possible.lstrip("\t")
                        if possible == name:
                            terminated = True
                            break
                        content.append(candidate)
                    last_line = index
                    last_body = _trim_newline(lines[index - 1]) if index else ""
                    span = Span(body_start, 1, last_line, len(last_body) + 1)
                    if not terminated:
                        self.issue(
                            "unterminated-heredoc",
                            f"unterminated heredoc <<{name} (no line '{name}' before the end)",
                            Span(start_line, 1, start_line, len(body) + 1),
                            True,
                        )
                    heredocs.append(Heredoc(name, "".join(content), chomp, expand, fd, span))
            # BuildKit's start line is where the logical line began, even if that physical line
            # held only a continuation character.
            node_span: Span = fields["span"]
            fields["span"] = Span(
                start_line,
                node_span.column if node_span.line == start_line else 1,
                last_line,
                len(last_body) + 1,
            )
            if heredocs:
                fields["original"] = (
                    line_text + "\n" + "".join(h.content + h.name + "\n" for h in heredocs)
                )
                if trigger is not None:
                    fields["trigger"] = replace(trigger, heredocs=tuple(heredocs))
                else:
                    fields["heredocs"] = tuple(heredocs)
            else:
                fields["original"] = line_text
            self.instructions.append(Instruction(**fields))
        if not self.instructions:
            self.issue("no-instructions", "file with no instructions", Span(1, 1, 1, 1), True)
        stages, global_args, stage_issues = build_stages(self.instructions, self.escape)
        self.issues.extend(stage_issues)
        return Dockerfile(
            path=self.path,
            text=self.text,
            directives=tuple(self.directives),
            escape=self.escape,
            instructions=tuple(self.instructions),
            comments=tuple(self.comments),
            issues=tuple(self.issues),
            global_args=global_args,
            stages=stages,
        )

    def trim_continuation(self, line: str) -> tuple[str, bool]:
        """Strip a trailing escape (not itself escaped, maybe followed by blanks)."""
        escape = self.escape
        body = line.rstrip(" \t")
        if not body.endswith(escape) or body.endswith(escape + escape):
            return line, True
        return line[: len(body) - 1], False

    # --- one instruction ---------------------------------------------------------------------
    def node(
        self, text: str, base: int, logical: _Logical, comments: tuple[Comment, ...]
    ) -> Instruction:
        return Instruction(**self.node_fields(text, base, logical, comments))

    def node_fields(
        self, text: str, base: int, logical: _Logical, comments: tuple[Comment, ...]
    ) -> dict[str, Any]:
        """The fields of an Instruction (the caller may still add heredocs and the full span)."""
        trimmed, t_off = go_trim_space(text)
        split = WHITESPACE_RE.search(trimmed)
        if split is None:
            raw_keyword, after, after_off = trimmed, "", t_off + len(trimmed)
        else:
            raw_keyword = trimmed[: split.start()]
            after, after_off = trimmed[split.end() :], t_off + split.end()
        keyword = raw_keyword.upper()
        if "--" in after:
            flag_pieces, arg_start = extract_flags(after)
        else:  # no flag can start here: the arguments start after the blanks
            flag_pieces, arg_start = [], _leading_space(after)
        rest, rest_off = go_trim_space(after[arg_start:], after_off + arg_start)

        span = logical.span
        flag_off = base + after_off
        flags = tuple(
            [
                Flag(*_split_flag(p.text), span=span(flag_off + p.start, flag_off + p.end))
                for p in flag_pieces
            ]
        )
        keyword_span = span(base + t_off, base + t_off + len(raw_keyword))
        pieces, is_json, trigger = self.arguments(keyword, rest, rest_off, base, logical)
        arg_off = base + rest_off
        args = tuple([Word(p.text, span(arg_off + p.start, arg_off + p.end)) for p in pieces])
        if keyword not in KNOWN_INSTRUCTIONS:
            self.issue("unknown-instruction", f"unknown instruction: {raw_keyword}", keyword_span)
        return {
            "keyword": keyword,
            "raw_keyword": raw_keyword,
            "original": text[t_off:] if base else text,
            "span": span(base + t_off, base + t_off + len(trimmed)),
            "keyword_span": keyword_span,
            "flags": flags,
            "args": args,
            "json": is_json,
            "trigger": trigger,
            "comments": comments,
            "rest": rest,
            "rest_span": span(arg_off, arg_off + len(rest)),
            "rest_map": logical.submap(arg_off),
        }

    def arguments(
        self,
        keyword: str,
        rest: str,
        rest_off: int,
        base: int,
        logical: _Logical,
    ) -> tuple[list[Piece], bool, Instruction | None]:
        start = base + rest_off

        def where() -> Span:  # only computed when there is an issue to report
            return logical.span(start, start + len(rest))

        if keyword in ("RUN", "CMD", "ENTRYPOINT", "SHELL"):
            parsed = self.maybe_json(rest, where)
            if parsed is not None:
                return parsed, True, None
            return ([Piece(rest, 0, len(rest))] if rest else []), False, None
        if keyword in ("ADD", "COPY", "VOLUME"):
            parsed = self.maybe_json(rest, where)
            if parsed is not None:
                return parsed, True, None
            return split_whitespace(rest), False, None
        if keyword == "ARG":
            return parse_words(rest, self.escape), False, None
        if keyword in ("ENV", "LABEL"):
            return self.name_values(keyword, rest, where), False, None
        if keyword in ("FROM", "EXPOSE"):
            return split_whitespace(rest), False, None
        if keyword == "HEALTHCHECK":
            return self.healthcheck(rest, where)
        if keyword in ("MAINTAINER", "STOPSIGNAL", "USER", "WORKDIR"):
            return ([Piece(rest, 0, len(rest))] if rest else []), False, None
        if keyword == "ONBUILD":
            if not rest:
                return [], False, None
            if self.in_trigger:
                # ONBUILD ONBUILD ... is refused below (BuildKit: not allowed as a trigger); its
                # inner trigger is not parsed, so 20k ONBUILDs on a line cannot recurse 20k deep.
                return [], False, None
            self.in_trigger = True
            try:
                trigger = self.node(rest, base + rest_off, logical, ())
            finally:
                self.in_trigger = False
            if trigger.keyword in ("ONBUILD", "FROM", "MAINTAINER"):
                self.issue(
                    "onbuild-forbidden",
                    f"{trigger.keyword} isn't allowed as an ONBUILD trigger",
                    trigger.keyword_span,
                )
            return [], False, trigger
        return [], False, None

    def maybe_json(self, rest: str, where: Callable[[], Span]) -> list[Piece] | None:
        stripped = rest.lstrip()
        if not stripped.startswith("["):
            return None
        lead = len(rest) - len(stripped)
        try:
            value, end = _JSON_DECODER.raw_decode(stripped)
        except (ValueError, RecursionError):
            return None
        if not isinstance(value, list):
            return None
        if not all(isinstance(item, str) for item in value):
            self.issue(
                "json-not-strings",
                "when using JSON array syntax, arrays must be comprised of strings only",
                where(),
                True,
            )
            return []
        matches = list(_JSON_STRING_RE.finditer(stripped, 0, end))
        if len(matches) != len(value):  # cannot happen for a string array; be safe
            return [Piece(item, lead, lead + end) for item in value]
        return [
            Piece(item, lead + m.start(), lead + m.end())
            for item, m in zip(value, matches, strict=True)
        ]

    def name_values(self, keyword: str, rest: str, where: Callable[[], Span]) -> list[Piece]:
        words = parse_words(rest, self.escape)
        if not words:
            return []
        if "=" not in words[0].text:
            split = WHITESPACE_RE.search(rest)
            if split is None:
                self.issue("missing-value", f"{keyword} must have two arguments", where(), True)
                return [Piece(rest, 0, len(rest))]
            return [
                Piece(rest[: split.start()], 0, split.start()),
                Piece(rest[split.end() :], split.end(), len(rest)),
            ]
        pieces: list[Piece] = []
        for word in words:
            if "=" not in word.text:
                self.issue(
                    "missing-equals",
                    f"Syntax error - can't find = in {word.text!r}. "
                    "Must be of the form: name=value",
                    where(),
                    True,
                )
                return pieces
            key, value = word.text.split("=", 1)
            middle = word.start + len(key)
            pieces.append(Piece(key, word.start, middle))
            pieces.append(Piece(value, middle + 1, word.end))
        return pieces

    def healthcheck(
        self, rest: str, where: Callable[[], Span]
    ) -> tuple[list[Piece], bool, Instruction | None]:
        sep = 0
        while sep < len(rest) and not is_space(rest[sep]):
            sep += 1
        if sep == 0:
            return [], False, None
        nxt = sep
        while nxt < len(rest) and is_space(rest[nxt]):
            nxt += 1
        pieces = [Piece(rest[:sep], 0, sep)]
        command = rest[nxt:]
        if not command:
            return pieces, False, None
        parsed = self.maybe_json(command, where)
        if parsed is not None:
            return pieces + [Piece(p.text, p.start + nxt, p.end + nxt) for p in parsed], True, None
        return [*pieces, Piece(command, nxt, len(rest))], False, None

    def heredoc_words(self, line: str) -> list[tuple[int, bool, str, bool]]:
        found: list[tuple[int, bool, str, bool]] = []
        for raw in _shell_split_raw(line):
            match = _HEREDOC_RE.match(raw)
            if match is None or not match.group(3):
                continue
            word = match.group(3)
            name = _remove_quotes(word)
            if not name:
                continue
            expand = name.count("'") + name.count('"') == word.count("'") + word.count('"')
            found.append((_heredoc_fd(match.group(1)), match.group(2) == "-", name, expand))
        return found


def _directive_value(tail: str) -> str | None:
    """What BuildKit's `[ \t]*(.+?)[ \t]*$` captures after the `=`, without backtracking."""
    if "\n" in tail:  # `.` and `$` stop at a newline (lines here have none; be exact anyway)
        return None
    value = tail.strip(" \t")
    if value:
        return value
    # Only blanks: the lazy group still takes one character, the last blank.
    return tail[-1] if tail else None


_UINT64 = 1 << 64


def _heredoc_fd(digits: str) -> int:
    """The fd before `<<` as BuildKit reads it: a uint64 that saturates on overflow, seen as
    int64 by the wrapper the differential test uses (so the maximum reads as -1). Never `int()`
    on a long string: Python refuses over 4300 digits."""
    significant = digits.lstrip("0")
    value = _UINT64 - 1 if len(significant) > 20 else min(int(significant or "0"), _UINT64 - 1)
    return value - _UINT64 if value >= _UINT64 // 2 else value


def _reject_constant(name: str) -> object:
    raise ValueError(f"invalid JSON constant {name}")


_JSON_DECODER = json.JSONDecoder(parse_constant=_reject_constant)


def _split_flag(text: str) -> tuple[str, str | None]:
    body = text[2:] if text.startswith("--") else text
    if "=" in body:
        name, value = body.split("=", 1)
        return name, value
    return body, None


def _shell_split_raw(line: str) -> list[str]:
    """Words of a line split as BuildKit's shell lexer does, quotes and escapes kept."""
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quote = ""
    index = 0
    while index < len(line):
        ch = line[index]
        if quote:
            current.append(ch)
            if ch == "\\" and quote == '"' and index + 1 < len(line):
                index += 1
                current.append(line[index])
            elif ch == quote:
                quote = ""
            index += 1
            continue
        if ch in " \t\r\n":
            if in_word:
                words.append("".join(current))
                current = []
                in_word = False
            index += 1
            continue
        in_word = True
        current.append(ch)
        if ch in "'\"":
            quote = ch
        elif ch == "\\" and index + 1 < len(line):
            index += 1
            current.append(line[index])
        index += 1
    if quote:
        return []  # BuildKit's lexer fails on an unterminated quote: no heredocs then
    if in_word:
        words.append("".join(current))
    return words


def _remove_quotes(word: str) -> str:
    out: list[str] = []
    quote = ""
    index = 0
    while index < len(word):
        ch = word[index]
        if quote:
            if ch == quote:
                quote = ""
            elif ch == "\\" and quote == '"' and index + 1 < len(word):
                index += 1
                out.append(word[index])
            else:
                out.append(ch)
        elif ch in "'\"":
            quote = ch
        elif ch == "\\" and index + 1 < len(word):
            index += 1
            out.append(word[index])
        else:
            out.append(ch)
        index += 1
    return "".join(out)


def parse(text: str, path: str = "Dockerfile") -> Dockerfile:
    """Parse Dockerfile text. Never raises for bad syntax: problems become `issues`."""
    return _Parser(text, path).run()
