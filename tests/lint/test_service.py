"""The lint service without the CLI: options in, findings out."""

from __future__ import annotations

from pathlib import Path

from trimdock.report.finding import Severity
from trimdock.rules.engine import LintSettings
from trimdock.rules.service import LintRequest, run_lint


def test_findings_sources_and_unreadable_files(tmp_path: Path) -> None:
    good = tmp_path / "Dockerfile"
    good.write_text("FROM busybox:1.36\nRUN sudo true\n")
    missing = tmp_path / "absent"
    settings = LintSettings(shellcheck=False)
    result = run_lint(LintRequest((str(good), str(missing)), settings))
    assert result.checked == (str(good),)
    assert result.sources == {str(good): good.read_text()}
    assert [f.rule_id for f in result.findings if f.rule_id == "TD308"] == ["TD308"]
    [message] = result.unreadable
    assert message.startswith(str(missing))
    assert result.failed  # TD308 is a warning, the default threshold


def test_the_threshold_and_ignores_come_from_the_settings(tmp_path: Path) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text("FROM busybox:1.36\nRUN sudo true\n")
    quiet = LintSettings(failure_threshold=Severity.ERROR, shellcheck=False)
    assert not run_lint(LintRequest((str(path),), quiet)).failed
    ignoring = LintSettings(ignore=frozenset({"TD308"}), shellcheck=False)
    assert "TD308" not in {
        f.rule_id for f in run_lint(LintRequest((str(path),), ignoring)).findings
    }
