"""Text format: carets under the right columns, colour only when asked, nothing hostile leaks."""

from __future__ import annotations

import pytest

from tests.report.helpers import render
from trimdock.report.finding import FileLocation, Finding, Severity
from trimdock.report.formats import FindingFormat


def text_for(source: str, location: FileLocation, message: str = "m", **kwargs: bool) -> str:
    finding = Finding("TD1", Severity.WARNING, message, location)
    path = location.path
    return render(
        FindingFormat.TEXT, (finding,), rules={}, sources={path: source}, files=(path,), **kwargs
    )


def snippet(output: str) -> tuple[str, str]:
    lines = output.splitlines()
    return lines[2], lines[3]


def test_caret_under_the_span() -> None:
    src, caret = snippet(
        text_for("FROM x\nRUN apt-get install curl\n", FileLocation("D", 2, 21, 2, 25))
    )
    assert src == "     2 | RUN apt-get install curl"
    assert caret == "       |                     ^^^^"
    assert src[caret.index("^") : caret.rindex("^") + 1] == "curl"


def test_caret_counts_wide_characters_and_copies_tabs() -> None:
    src, caret = snippet(text_for('\tRUN echo "世界" x\n', FileLocation("D", 1, 16, 1, 17)))
    assert src == '     1 | \tRUN echo "世界" x'
    # 世界 take two columns each; the tab is reproduced so the caret follows the same stop.
    assert caret == "       | \t" + " " * 16 + "^"


def test_multiline_span_underlines_to_the_end_of_the_first_line() -> None:
    _, caret = snippet(text_for("RUN a && \\\n  b\n", FileLocation("D", 1, 5, 2, 4)))
    assert caret == "       |     " + "^" * 6


def test_span_without_end_and_column_past_the_end() -> None:
    _, caret = snippet(text_for("RUN a\n", FileLocation("D", 1, 3)))
    assert caret == "       |   ^"
    _, caret = snippet(text_for("RUN a\n", FileLocation("D", 1, 40, 1, 50)))
    assert caret == "       |      ^"


def test_no_snippet_when_the_source_is_unknown_or_the_line_is_out_of_range() -> None:
    out = text_for("RUN a\n", FileLocation("D", 9, 1))
    assert out.splitlines()[1] == "  D:9:1  WARNING  TD1  m"
    assert out.splitlines()[2] == ""


def test_finding_line_and_summary() -> None:
    out = text_for("RUN a\n", FileLocation("D", 1, 1, 1, 4))
    assert out.splitlines()[0] == "D: 1 finding"
    assert out.splitlines()[1] == "  D:1:1  WARNING  TD1  m"
    assert out.splitlines()[-1] == "1 file checked, 1 finding: 0 errors, 1 warning, 0 info, 0 style"
    clean = render(FindingFormat.TEXT, (), rules={}, sources={}, files=("a", "b"))
    assert clean == "2 files checked, no findings\n"


def test_colour_only_when_asked_and_never_with_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    loc = FileLocation("D", 1, 1, 1, 4)
    assert "\x1b[" not in text_for("RUN a\n", loc)
    assert "\x1b[33mWARNING\x1b[0m" in text_for("RUN a\n", loc, color=True)
    monkeypatch.setenv("NO_COLOR", "1")
    assert "\x1b[" not in text_for("RUN a\n", loc, color=True)


def test_control_characters_are_shown_not_sent_to_the_terminal() -> None:
    out = text_for(
        "RUN \x1b[2Jecho\r\n",
        FileLocation("D\x1b]0;pwned\x07", 1, 5, 1, 9),
        message="line one\nD:99:1  ERROR  TD000  forged\x1b[31m",
    )
    assert "\x1b" not in out and "\x07" not in out and "\r" not in out
    lines = out.splitlines()
    assert lines[0] == "D\\x1b]0;pwned\\x07: 1 finding"
    assert lines[1] == (
        "  D\\x1b]0;pwned\\x07:1:5  WARNING  TD1  "
        "line one\\x0aD:99:1  ERROR  TD000  forged\\x1b[31m"
    )
    # The escaped form is wider; the caret still sits under the escape's first character.
    src, caret = lines[2], lines[3]
    assert src == "     1 | RUN \\x1b[2Jecho"
    assert src[caret.index("^")] == "\\"


def test_counts_agree_with_their_number() -> None:
    from trimdock.report.units import count

    assert [count(n, "file") for n in (0, 1, 2)] == ["0 files", "1 file", "2 files"]
    assert count(1, "entry", "entries") == "1 entry"
    assert count(3, "entry", "entries") == "3 entries"
