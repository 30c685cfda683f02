"""`trimdock lint --context DIR` reports the build-context findings beside the Dockerfile's."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from trimdock.cli.main import run

SCHEMA = Path(__file__).resolve().parents[1] / "report" / "schema" / "sarif-schema-2.1.0.json"
CLEAN_DOCKERFILE = 'FROM busybox:1.35\nCOPY app.sh /app.sh\nUSER nobody\nCMD ["sh", "/app.sh"]\n'


def _context(tmp_path: Path) -> Path:
    (tmp_path / "Dockerfile").write_text(CLEAN_DOCKERFILE)
    (tmp_path / "app.sh").write_text("echo hi\n")
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (tmp_path / ".env").write_text("TOKEN=abc\n")
    return tmp_path


def _json_findings(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, list[dict]]:
    code = run(["lint", "-F", "json", *args])
    return code, json.loads(capsys.readouterr().out)["findings"]


def test_context_findings_join_the_dockerfile_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = _context(tmp_path)
    dockerfile = str(context / "Dockerfile")
    code, findings = _json_findings(["--context", str(context), dockerfile], capsys)
    assert code == 1  # warnings are at the default failure threshold
    by_rule = {f["rule"]: f for f in findings}
    assert {"TD502", "TD503", "TD504"} <= set(by_rule)
    assert by_rule["TD503"]["location"]["file"] == dockerfile
    assert "'.env'" in by_rule["TD504"]["message"]


def test_without_context_the_clean_dockerfile_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = _context(tmp_path)
    code, findings = _json_findings([str(context / "Dockerfile")], capsys)
    assert (code, findings) == (0, [])


def test_context_rules_can_be_ignored(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    context = _context(tmp_path)
    ignores = ["--ignore", "TD502,TD503", "--ignore", "TD504"]
    code, findings = _json_findings(
        ["--context", str(context), *ignores, str(context / "Dockerfile")], capsys
    )
    assert (code, findings) == (0, [])


def test_sarif_with_context_findings_is_valid_and_describes_their_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = _context(tmp_path)
    run(["lint", "-F", "sarif", "--context", str(context), str(context / "Dockerfile")])
    log = json.loads(capsys.readouterr().out)
    jsonschema.validate(log, json.loads(SCHEMA.read_text()))
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} >= {"TD502", "TD503", "TD504"}
    for result in results:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]


def test_lint_config_ignores_and_overrides_context_rules(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    context = _context(tmp_path)
    config = tmp_path / "lint.toml"
    config.write_text('[lint]\nignore = ["TD502"]\n[lint.severity]\nTD503 = "error"\n')
    code, findings = _json_findings(
        ["--config", str(config), "--context", str(context), str(context / "Dockerfile")], capsys
    )
    by_rule = {f["rule"]: f for f in findings}
    assert code == 1
    assert "TD502" not in by_rule
    assert by_rule["TD503"]["severity"] == "error"
    assert by_rule["TD504"]["severity"] == "warning"


def test_whole_context_copy_is_weighed_on_what_is_sent(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """TD101 names the large entries the builder receives, not those .dockerignore excludes."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin").write_bytes(b"d" * 3_000_000)
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "img.bin").write_bytes(b"a" * 2_000_000)
    (tmp_path / "Dockerfile").write_text("FROM busybox:1.35\nWORKDIR /app\nCOPY . .\nUSER app\n")

    def td101_evidence() -> str:
        capsys.readouterr()
        run(["lint", str(tmp_path / "Dockerfile"), "--context", str(tmp_path), "-F", "json"])
        findings = json.loads(capsys.readouterr().out)["findings"]
        (td101,) = [f for f in findings if f["rule"] == "TD101"]
        return str(td101["message"])

    assert "data (3000000 bytes)" in td101_evidence()
    (tmp_path / ".dockerignore").write_text("data\n")
    message = td101_evidence()
    assert "data" not in message and "assets (2000000 bytes)" in message


def test_a_dockerfile_from_stdin_is_weighed_against_the_context(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "big.bin").write_bytes(b"d" * 2_000_000)
    result = subprocess.run(
        [sys.executable, "-m", "trimdock", "lint", "-", "--context", str(tmp_path), "-F", "json"],
        input=b"FROM busybox:1.35\nWORKDIR /a\nCOPY . .\nUSER app\n",
        capture_output=True,
        check=False,
    )
    assert result.stderr == b""  # it used to fail: `<stdin>: cannot read`
    findings = json.loads(result.stdout)["findings"]
    (td101,) = [f for f in findings if f["rule"] == "TD101"]
    assert "data (2000000 bytes)" in td101["message"]
