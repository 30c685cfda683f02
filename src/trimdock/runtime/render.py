"""`trimdock check` reports: its own text and JSON, and findings for the lint formats."""

from __future__ import annotations

import textwrap
from collections.abc import Collection, Sequence
from typing import Any

from trimdock.report.finding import Finding, ImageLocation, Severity
from trimdock.runtime.model import CheckResult, ImageFacts, RunFacts, Verdict

SCHEMA = "trimdock/check/1"
TEXT_COLUMNS = 80
_MARK = {Verdict.PASS: "pass", Verdict.WARN: "WARN", Verdict.FAIL: "FAIL", Verdict.UNKNOWN: "?"}
_SEVERITY = {Verdict.FAIL: Severity.ERROR, Verdict.WARN: Severity.WARNING}


def failing(results: Sequence[CheckResult], allowed: Collection[str]) -> list[CheckResult]:
    """Failed checks the config does not allow to fail (`allowed`: TD8nn ids): exit code 1."""
    return [r for r in results if r.verdict is Verdict.FAIL and r.rule_id not in allowed]


def summary(results: Sequence[CheckResult]) -> dict[str, int]:
    return {verdict.value: sum(r.verdict is verdict for r in results) for verdict in Verdict}


def text(image: ImageFacts, run: RunFacts, results: Sequence[CheckResult]) -> str:
    command = " ".join(image.command) or "(none)"
    lines = [f"{image.ref}: {command}", ""]
    width = max(len(r.check) for r in results) if results else 0
    for r in results:
        head = f"  {_MARK[r.verdict]:<4}  {r.rule_id}  {r.check:<{width}}  "
        # Long messages continue under themselves, so the report reads at 80 columns.
        lines += textwrap.wrap(
            r.message,
            width=max(TEXT_COLUMNS, len(head) + 20),
            initial_indent=head,
            subsequent_indent=" " * len(head),
            break_long_words=False,
            break_on_hyphens=False,
        ) or [head.rstrip()]
    counts = summary(results)
    lines += ["", ", ".join(f"{n} {name}" for name, n in counts.items())]
    return "\n".join(lines) + "\n"


def document(
    image: ImageFacts,
    run: RunFacts,
    results: Sequence[CheckResult],
    allowed: Collection[str],
    version: str,
) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": "trimdock",
        "version": version,
        "image": image.ref,
        "command": list(image.command),
        "job": run.job,
        "limits": {"memory": run.memory_limit, "cpus": run.cpus},
        "window_seconds": round(run.window, 2),
        "checks": [
            {
                "id": r.check,
                "rule": r.rule_id,
                "title": r.title,
                "verdict": r.verdict.value,
                "message": r.message,
                "evidence": dict(r.evidence),
            }
            for r in results
        ],
        "summary": {
            **summary(results),
            "failed": bool(failing(results, allowed)),
        },
    }


def findings(image: ImageFacts, results: Sequence[CheckResult]) -> list[Finding]:
    """Warnings and failures as findings on the image, for SARIF, JUnit, checkstyle, GitLab."""
    return [
        Finding(
            rule_id=r.rule_id,
            severity=_SEVERITY[r.verdict],
            message=r.message,
            location=ImageLocation(image.ref),
            title=r.title,
            evidence=r.evidence,
        )
        for r in results
        if r.verdict in _SEVERITY
    ]
