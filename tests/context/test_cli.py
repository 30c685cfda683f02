"""`trimdock context` end to end (no engine): report numbers, findings, exit codes, config."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.context.support import write_tree
from trimdock.cli.main import run


@pytest.fixture(autouse=True)
def _no_engine(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """As in a CI job without Docker: the builder is then assumed (BuildKit), not detected."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine.sock")
    monkeypatch.delenv("DOCKER_BUILDKIT", raising=False)


def _project(root: Path, dockerfile: str, ignore: str | None = None) -> Path:
    write_tree(
        root,
        {
            "app/main.py": b"print('hi')\n",
            "docs/manual.txt": b"m" * 200_000,
            ".git/objects/pack": b"p" * 50_000,
            ".env": b"TOKEN=x\n",
            "README.md": b"# readme\n",
        },
    )
    (root / "Dockerfile").write_text(dockerfile)
    if ignore is not None:
        (root / ".dockerignore").write_text(ignore)
    return root


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, Any]]:
    code = run(["context", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_report_counts_sent_excluded_used_unused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = "FROM busybox\nCOPY app/ /app/\n"
    root = _project(tmp_path, dockerfile, "docs\n*.log\n")
    code, data = _json(capsys, [str(root)])
    assert code == 1  # .git and .env are sent: warnings, and warning is the default gate (as lint)
    assert data["builder"] == "buildkit"
    assert data["builder_basis"] == "assumed"
    sizes = 12 + 200_000 + 50_000 + 8 + 9 + len(dockerfile) + len("docs\n*.log\n")
    assert data["total"] == {"files": 7, "bytes": sizes}
    assert data["excluded"] == {"files": 1, "bytes": 200_000}
    assert data["used"] == {"files": 1, "bytes": 12}
    assert data["unused"]["files"] == 5
    rules = {f["rule"] for f in data["findings"]}
    assert {"TD503", "TD504", "TD505"} <= rules  # .git, .env, `*.log` matching nothing
    stale = next(f for f in data["findings"] if f["rule"] == "TD505")
    assert stale["location"]["line"] == 2


def test_missing_copy_source_fails_the_gate_and_fail_on_none_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, "FROM busybox\nCOPY docs/manual.txt /m\n", "docs\n")
    code, data = _json(capsys, [str(root)])
    assert code == 1
    missing = [f for f in data["findings"] if f["rule"] == "TD507"]
    assert missing and missing[0]["severity"] == "error" and missing[0]["location"]["line"] == 2
    assert run(["context", str(root), "--fail-on", "none", "-q"]) == 0


def test_config_section_sets_builder_and_threshold(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, "FROM busybox\nCOPY app/ /app/\n")
    (root / ".trimdock.toml").write_text(
        '[context]\nbuilder = "legacy"\nfail-on = "warning"\nlarge-context-bytes = 1000\n'
    )
    code, data = _json(capsys, [str(root)])
    assert data["builder"] == "legacy"
    assert any(f["rule"] == "TD501" for f in data["findings"])
    assert code == 1


def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, "FROM busybox\n", "ok\n[x-]\n")
    assert run(["context", str(root)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and ".dockerignore: line 2: syntax error" in err[0]
    assert run(["context", str(root), "--builder", "kaniko"]) == 2
    assert run(["context", str(tmp_path / "nope")]) == 2
    (root / ".trimdock.toml").write_text("[context]\nbuildr = 'legacy'\n")
    (root / ".dockerignore").write_text("ok\n")
    capsys.readouterr()
    assert run(["context", str(root)]) == 2
    assert "unknown key 'buildr'" in capsys.readouterr().err


def test_write_dockerignore_is_proven_and_shrinks_the_context(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = "FROM busybox AS b\nCOPY README.md /r\nFROM busybox\nCOPY app/ /app/\n"
    root = _project(tmp_path, dockerfile)
    code, data = _json(capsys, [str(root), "--write-dockerignore", "--fail-on", "none"])
    suggestion = data["suggestion"]
    assert code == 0 and suggestion["proven"]
    assert all(p["holds"] for p in suggestion["proof"])
    assert suggestion["after"]["bytes"] < 1_000 < suggestion["before"]["bytes"]
    written = (root / ".dockerignore").read_text()
    assert suggestion["written_to"] == str(root / ".dockerignore")
    assert written == suggestion["text"]
    # The written file changes nothing for the instructions, under either builder.
    for builder in ("buildkit", "legacy"):
        _, again = _json(capsys, [str(root), "--builder", builder, "--fail-on", "none"])
        assert [(i["line"], i["files"]) for i in again["instructions"]] == [(2, 1), (4, 1)]
        assert again["unused"]["bytes"] < 1_000


def test_text_report_and_output_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _project(tmp_path, "FROM busybox\nCOPY . /app/\n")
    out = tmp_path / "report.txt"
    assert run(["context", str(root), "--suggest", "--no-color", "-o", str(out)]) == 1
    text = out.read_text()
    assert "sent:" in text and "TD508" in text and "TD504" in text and "Suggested" in text
    assert capsys.readouterr().out == ""


def test_buildkit_reads_the_per_dockerfile_ignore_file_instead_of_the_root_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _project(tmp_path, "FROM busybox\n", "docs\n")
    (root / "build.Dockerfile").write_text("FROM busybox\nCOPY app/ /app/\n")
    (root / "build.Dockerfile.dockerignore").write_text(".git\n")
    args = [str(root), "-f", str(root / "build.Dockerfile"), "--fail-on", "none"]
    _, buildkit = _json(capsys, [*args, "--builder", "buildkit"])
    _, legacy = _json(capsys, [*args, "--builder", "legacy"])
    assert buildkit["ignore_file"] == str(root / "build.Dockerfile.dockerignore")
    assert buildkit["excluded"]["bytes"] == 50_000  # .git only: replaces, never merges
    assert legacy["ignore_file"] == str(root / ".dockerignore")
    assert legacy["excluded"]["bytes"] == 200_000  # docs only


def test_context_gates_like_lint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One name, one default, one parser: the same findings give the same exit code."""
    root = _project(tmp_path, "FROM busybox\nCOPY app/ /app/\n", "docs\n")
    context_code = run(["context", str(root), "-q"])
    lint_code = run(["lint", str(root / "Dockerfile"), "--context", str(root), "-q"])
    assert context_code == lint_code == 1
    assert run(["context", str(root), "-q", "--failure-threshold", "error"]) == 0
    assert run(["context", str(root), "-q", "--fail-on", "error"]) == 0  # the former name
    config = tmp_path / "gate.toml"
    config.write_text('[context]\nfailure-threshold = "none"\nlarge-context-bytes = "1kB"\n')
    code, data = _json(capsys, [str(root), "--config", str(config)])
    assert code == 0
    assert "TD501" in {f["rule"] for f in data["findings"]}  # 1 kB, read with its unit


@pytest.mark.parametrize(
    ("extra", "ignore", "fires"),
    [
        ({".git/HEAD": b"ref", "node_modules/x/i.js": b"js"}, None, True),
        ({".env": b"TOKEN=x"}, None, True),
        ({".git/HEAD": b"ref"}, ".git\n", False),  # ignored: nothing to say
        ({}, None, False),  # a clean context copied whole needs no .dockerignore
    ],
)
def test_no_dockerignore_is_reported_even_when_copy_dot_uses_everything(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: dict[str, bytes],
    ignore: str | None,
    fires: bool,
) -> None:
    write_tree(tmp_path, {"src/main.py": b"print()\n", **extra})
    (tmp_path / "Dockerfile").write_text("FROM busybox\nWORKDIR /app\nCOPY . .\n")
    if ignore is not None:
        (tmp_path / ".dockerignore").write_text(ignore)
    _, data = _json(capsys, [str(tmp_path), "--failure-threshold", "none"])
    td502 = [f for f in data["findings"] if f["rule"] == "TD502"]
    assert bool(td502) is fires
    if fires:
        assert "that a build never needs" in td502[0]["message"]
