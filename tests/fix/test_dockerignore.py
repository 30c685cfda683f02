"""TD101's fix: `.dockerignore` additions for a whole-context COPY (unsafe), end to end."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trimdock.cli.main import run
from trimdock.fix.dockerignore import HEADER, deny_patterns, extended

DOCKERFILE = 'FROM busybox:latest\n# the app\nCOPY . /app\nUSER 65534:65534\nCMD ["/app/run.sh"]\n'


def _context(root: Path, ignore: str | None = None) -> Path:
    """A context with too many top-level entries to list them (see test_explicit_copy)."""
    for number in range(8):
        (root / f"mod{number}.py").write_text(f"N = {number}\n")
    (root / "run.sh").write_text("#!/bin/sh\necho ok\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / "debug.log").write_text("x" * 100)
    (root / "Dockerfile").write_text(DOCKERFILE)
    if ignore is not None:
        (root / ".dockerignore").write_text(ignore)
    return root / "Dockerfile"


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        ({"run.sh", "app.py", "README.md"}, ()),  # nothing junk by name: quiet
        ({"envoy.yaml", "gitignore", "builder.py", "keys.txt"}, ()),
        ({".git", "app.py"}, ("**/.git",)),
        ({".env.local", "id_rsa", "server.key"}, ("**/.env.*", "**/*.key", "**/id_rsa*")),
        ({"node_modules", "x.log", "dist"}, ("**/node_modules", "**/*.log", "**/dist")),
    ],
)
def test_deny_patterns_only_for_names_present(names: set[str], expected: tuple[str, ...]) -> None:
    assert set(deny_patterns(names)) == set(expected)


def test_the_users_lines_are_kept() -> None:
    assert extended("# mine\ntmp", ("**/.git",)) == "# mine\ntmp\n" + HEADER + "**/.git\n"
    assert extended(None, ("**/.git",)) == HEADER + "**/.git\n"


def test_unsafe_fix_writes_the_additions_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = _context(tmp_path, "# mine\nsecrets/\n")
    assert run(["fix", "--no-verify", str(dockerfile)]) == 0
    assert "1 more fix with --unsafe-fixes" in capsys.readouterr().out
    assert run(["fix", "--diff", "--unsafe-fixes", str(dockerfile)]) == 0
    diff = capsys.readouterr().out
    assert f"+++ b/{tmp_path}/.dockerignore" in diff or f"+++ {tmp_path}/.dockerignore" in diff
    assert "+**/.git\n" in diff and "+**/*.log\n" in diff
    assert run(["fix", "--no-verify", "--unsafe-fixes", "-F", "json", str(dockerfile)]) == 0
    document = json.loads(capsys.readouterr().out)
    (fix,) = document["fixes"]
    assert fix["rule"] == "TD101" and fix["applicability"] == "unsafe"
    assert fix["edits"] == [{"first_line": 3, "last_line": 3}]
    assert set(fix["removes"]) == {"*/.git", "*/*.log"}
    ignore = (tmp_path / ".dockerignore").read_text()
    assert ignore.startswith("# mine\nsecrets/\n") and "**/.git\n" in ignore
    assert dockerfile.read_text() == DOCKERFILE  # the Dockerfile is not touched
    # idempotent: nothing junk is sent any more
    assert run(["fix", "--no-verify", "--unsafe-fixes", str(dockerfile)]) == 0
    assert "Nothing to fix" in capsys.readouterr().out
    assert (tmp_path / ".dockerignore").read_text() == ignore


def test_no_proposal_without_a_whole_context_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = _context(tmp_path)
    dockerfile.write_text('FROM busybox:latest\nCOPY run.sh /app/run.sh\nCMD ["/app/run.sh"]\n')
    assert run(["fix", "--no-verify", "--unsafe-fixes", str(dockerfile)]) == 0
    assert not (tmp_path / ".dockerignore").exists()


@pytest.mark.usefixtures("engine")
def test_verified_on_the_engine(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    dockerfile = _context(tmp_path)
    code = run(["fix", "--unsafe-fixes", "-F", "json", str(dockerfile)])
    document = json.loads(capsys.readouterr().out)
    assert code == 0, document["verification"]
    verification = document["verification"]
    assert verification["accepted"] and document["written"]
    assert "/app/.git/HEAD" in verification["removed"]
    assert "/app/debug.log" in verification["removed"]
    assert "/app/run.sh" not in verification["removed"] and verification["lost"] == []
    assert verification["after"]["size"] < verification["before"]["size"]
    assert "**/.git" in (tmp_path / ".dockerignore").read_text()
