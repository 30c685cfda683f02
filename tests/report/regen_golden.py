"""Rewrite the golden files from the current renderers: `python -m tests.report.regen_golden`.

Review `git diff tests/report/golden` before committing: a golden is a claim that the output
is right, not a snapshot of whatever the code printed.
"""

from __future__ import annotations

from pathlib import Path

from tests.report.cases import FILES, FINDINGS, RULES, SOURCES, VERSION
from trimdock.report.formats import FindingFormat, render_findings

GOLDEN = Path(__file__).parent / "golden"

SUFFIX = {
    FindingFormat.TEXT: "txt",
    FindingFormat.JSON: "json",
    FindingFormat.SARIF: "sarif",
    FindingFormat.JUNIT: "xml",
    FindingFormat.CHECKSTYLE: "xml",
    FindingFormat.GITLAB: "json",
    FindingFormat.HTML: "html",
}


def golden_path(fmt: FindingFormat) -> Path:
    return GOLDEN / f"{fmt.value}.{SUFFIX[fmt]}"


def render(fmt: FindingFormat) -> str:
    return render_findings(
        FINDINGS, fmt, rules=RULES, sources=SOURCES, tool_version=VERSION, files=FILES
    )


def main() -> None:
    GOLDEN.mkdir(exist_ok=True)
    for fmt in FindingFormat:
        golden_path(fmt).write_text(render(fmt), encoding="utf-8", newline="")
        print(golden_path(fmt))


if __name__ == "__main__":
    main()
