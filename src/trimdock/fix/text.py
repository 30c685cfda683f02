"""Offsets in the original text: from the parser's (line, column) spans, and edits applied."""

from __future__ import annotations

import bisect
from collections.abc import Iterable

from trimdock.dockerfile.model import Span
from trimdock.report.finding import FixEdit


class LineIndex:
    """Code-point offsets of the lines of a text, to turn 1-based spans into offsets."""

    def __init__(self, text: str) -> None:
        self.text = text
        # The parser drops a leading byte-order mark: columns of line 1 start after it.
        self._bom = 1 if text.startswith("\ufeff") else 0
        starts = [0]
        position = text.find("\n")
        while position >= 0:
            starts.append(position + 1)
            position = text.find("\n", position + 1)
        self._starts = starts

    @property
    def line_count(self) -> int:
        return len(self._starts)

    def line_at(self, offset: int) -> int:
        """The 1-based line holding `offset`."""
        return bisect.bisect_right(self._starts, offset)

    def line_start(self, line: int) -> int:
        return self._starts[line - 1] + (self._bom if line == 1 else 0)

    def line_end(self, line: int) -> int:
        """The offset of the newline ending `line` (the text's end for the last line)."""
        if line < len(self._starts):
            end = self._starts[line] - 1
            return end - 1 if end > 0 and self.text[end - 1] == "\r" else end
        return len(self.text)

    def after_line(self, line: int) -> int:
        """The offset just past `line` and its newline."""
        return self._starts[line] if line < len(self._starts) else len(self.text)

    def line_text(self, line: int) -> str:
        return self.text[self.line_start(line) : self.line_end(line)]

    def offset(self, line: int, column: int) -> int:
        return min(self.line_start(line) + column - 1, len(self.text))

    def span(self, span: Span) -> tuple[int, int]:
        return self.offset(span.line, span.column), self.offset(span.end_line, span.end_column)


def overlaps(first: Iterable[FixEdit], second: Iterable[FixEdit]) -> bool:
    """True when any edit of `first` touches the text any edit of `second` touches (two
    insertions at one offset conflict too: their order would be a guess)."""
    others = list(second)
    for a in first:
        for b in others:
            if a.start < b.end and b.start < a.end:
                return True
            if a.start == b.start and (a.start == a.end or b.start == b.end):
                return True
            if a.start == a.end and b.start < a.start < b.end:
                return True
            if b.start == b.end and a.start < b.start < a.end:
                return True
    return False


def apply_edits(text: str, edits: Iterable[FixEdit]) -> str:
    """`text` with every edit applied (offsets are on `text`; edits must not overlap)."""
    ordered = sorted(edits, key=lambda e: (e.start, e.end))
    pieces: list[str] = []
    cursor = 0
    for edit in ordered:
        if edit.start < cursor:
            raise ValueError(f"overlapping edits at offset {edit.start}")
        pieces.append(text[cursor : edit.start])
        pieces.append(edit.replacement)
        cursor = edit.end
    pieces.append(text[cursor:])
    return "".join(pieces)
