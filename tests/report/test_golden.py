"""Every format, rendered from the fixed findings in `cases.py`, matches its reviewed golden."""

from __future__ import annotations

import pytest

from tests.report.regen_golden import golden_path, render
from trimdock.report.formats import FindingFormat


@pytest.mark.parametrize("fmt", list(FindingFormat))
def test_matches_golden(fmt: FindingFormat, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    expected = golden_path(fmt).read_text(encoding="utf-8")
    assert render(fmt) == expected, (
        f"{fmt} output changed; if intended, run `python -m tests.report.regen_golden` "
        "and review the diff"
    )


@pytest.mark.parametrize("fmt", list(FindingFormat))
def test_input_order_does_not_matter(fmt: FindingFormat) -> None:
    from tests.report.cases import FILES, FINDINGS, RULES, SOURCES, VERSION
    from trimdock.report.formats import render_findings

    reversed_files = tuple(reversed(FILES))
    out = render_findings(
        tuple(reversed(FINDINGS)),
        fmt,
        rules=RULES,
        sources=SOURCES,
        tool_version=VERSION,
        files=reversed_files,
    )
    assert out == render(fmt)
