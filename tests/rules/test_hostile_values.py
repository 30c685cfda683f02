"""Values no real Dockerfile has, each once an internal error or a blow-up in a rule: numbers
past Python's 4300-digit `int()` limit, non-ASCII digits, WORKDIR paths that grow without end."""

from __future__ import annotations

import pytest

from trimdock.dockerfile import parse
from trimdock.report.finding import FileLocation
from trimdock.rules.analysis import PATH_MAX, Analysis
from trimdock.rules.engine import lint

HUGE = "1" * 5000  # int() refuses over 4300 digits


def _rules_on_line(text: str, line: int) -> set[str]:
    return {
        f.rule_id
        for f in lint(parse(text))
        if isinstance(f.location, FileLocation) and f.location.line == line
    }


@pytest.mark.parametrize(
    ("text", "line", "rule_id"),
    [
        (f"FROM a:1\nCOPY --from={HUGE} /x /y\n", 2, "TD611"),
        (f"FROM a:1\nEXPOSE {HUGE}\n", 2, "TD612"),
        ("FROM a:1\nEXPOSE ²\n", 2, "TD612"),  # a digit to str.isdigit(), not to int()
        (f"FROM a:1\nRUN useradd -u {HUGE} app\n", 2, "TD615"),
    ],
    ids=["copy-from-index", "expose", "expose-superscript", "useradd-uid"],
)
def test_huge_numbers_are_findings_not_internal_errors(text: str, line: int, rule_id: str) -> None:
    assert rule_id in _rules_on_line(text, line)


def test_a_huge_heredoc_fd_saturates_as_buildkit_does() -> None:
    dockerfile = parse(f"FROM a:1\nRUN {HUGE}<<EOF cat\nx\nEOF\n")
    assert dockerfile.instructions[1].heredocs[0].fd == -1  # uint64 max, as the wrapper shows it
    assert isinstance(lint(dockerfile), list)


def test_relative_workdirs_stop_growing_at_path_max() -> None:
    # Relative WORKDIRs add up, and the path was kept once per instruction: quadratic memory in
    # the file size (20k lines of `WORKDIR d`: 400 MB) before the bound.
    count = 6_000
    text = "FROM a:1\n" + "WORKDIR d\n" * count + "RUN x\n"
    dockerfile = parse(text)
    workdirs = Analysis.build(dockerfile).stages[0].workdirs
    assert max(len(w) for w in workdirs) <= PATH_MAX
    first_over = PATH_MAX // 2 + 2  # "/d" per WORKDIR; line 1 is FROM
    lines = {
        f.location.line
        for f in lint(dockerfile)
        if f.rule_id == "TD010" and isinstance(f.location, FileLocation)
    }
    assert min(lines) == first_over
