"""`context --suggest/--write-dockerignore` for a context that `COPY . .` uses whole: the
deny-list of what such a COPY should not take, marked as changing what COPY copies (never
proven), and never a file with only a comment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trimdock.cli.main import run


def _context(root: Path, junk: bool) -> Path:
    (root / "src").mkdir()
    (root / "src" / "app.py").write_text("print('hi')\n")
    (root / "Dockerfile").write_text("FROM busybox\nCOPY . /app\n")
    if junk:
        (root / ".git").mkdir()
        (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (root / ".env").write_text("TOKEN=x\n")
        (root / "node_modules" / "left-pad").mkdir(parents=True)
        (root / "node_modules" / "left-pad" / "index.js").write_text("module.exports = 1\n")
        (root / "app.log").write_text("started\n")
    return root


def _suggestion(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, object]:
    capsys.readouterr()
    code = run(["context", *args, "--failure-threshold", "none", "-F", "json"])
    assert code == 0
    suggestion = json.loads(capsys.readouterr().out)["suggestion"]
    assert isinstance(suggestion, dict)
    return suggestion


def test_whole_context_copy_gets_the_deny_list_marked_as_changing_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _context(tmp_path, junk=True)
    suggestion = _suggestion(capsys, str(root), "--write-dockerignore")
    assert suggestion["changes_copy"] is True and suggestion["proven"] is False
    text = (root / ".dockerignore").read_text()
    assert text == suggestion["text"]
    patterns = [line for line in text.splitlines() if not line.startswith("#")]
    assert patterns == ["**/.git", "**/.env", "**/node_modules", "**/*.log"]
    assert "CHANGES what COPY copies" in text
    assert suggestion["written_to"] == str(root / ".dockerignore")


def test_nothing_to_exclude_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _context(tmp_path, junk=False)
    suggestion = _suggestion(capsys, str(root), "--write-dockerignore")
    assert suggestion["text"] is None and suggestion["written_to"] is None
    assert "nothing to exclude" in str(suggestion["reason"])
    assert not (root / ".dockerignore").exists()  # never a file with only a comment


def test_the_text_report_says_it_is_not_proven(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _context(tmp_path, junk=True)
    assert run(["context", str(root), "--suggest", "--failure-threshold", "none"]) == 0
    out = capsys.readouterr().out
    assert "changes what COPY copies (not proven)" in out
    assert "every COPY/ADD resolves to the same files" not in out
