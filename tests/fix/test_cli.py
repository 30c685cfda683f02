"""`trimdock fix` and `lint --fix/--diff` end to end, without building (--no-verify, --diff)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trimdock.cli.main import run

DIRTY = (
    "FROM debian:bookworm-slim\n"
    "# the index\n"
    "RUN apt-get update\n"
    "RUN apt-get install -y --no-install-recommends curl\n"
    "CMD curl -V\n"
)
FIXED = (
    "FROM debian:bookworm-slim\n"
    "# the index\n"
    "RUN apt-get update && apt-get install -y --no-install-recommends curl"
    " && rm -rf /var/lib/apt/lists/*\n"
    'CMD ["curl", "-V"]\n'
)


def _write(tmp_path: Path, text: str = DIRTY) -> Path:
    path = tmp_path / "Dockerfile"
    path.write_text(text)
    return path


def test_fix_diff_prints_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path)
    assert run(["fix", "--diff", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.out.startswith(f"--- {path}\n+++ {path}\n")
    assert '+CMD ["curl", "-V"]\n' in captured.out
    assert "Would fix 3 findings" in captured.err
    assert path.read_text() == DIRTY


def test_fix_no_verify_writes_the_fixed_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path)
    path.chmod(0o640)
    assert run(["fix", "--no-verify", str(path)]) == 0
    assert path.read_text() == FIXED
    assert path.stat().st_mode & 0o777 == 0o640
    assert "Fixed 3 findings" in capsys.readouterr().out
    assert run(["fix", "--no-verify", str(path)]) == 0  # nothing left: idempotent
    assert "Nothing to fix" in capsys.readouterr().out
    assert [p.name for p in tmp_path.iterdir()] == ["Dockerfile"]  # no temporary file left


def test_unsafe_fixes_are_counted_then_applied_on_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path, 'FROM busybox\nCOPY app /app\nCMD ["/app"]\n')
    assert run(["fix", "--no-verify", str(path)]) == 0
    assert "1 more fix with --unsafe-fixes." in capsys.readouterr().out
    assert run(["fix", "--no-verify", "--unsafe-fixes", str(path)]) == 0
    assert "USER 65534:65534\n" in path.read_text()


def test_lint_fix_applies_then_reports_what_is_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path)
    code = run(["lint", "--fix", "-F", "json", "--failure-threshold", "none", str(path)])
    assert code == 0
    assert path.read_text() == FIXED
    document = json.loads(capsys.readouterr().out)
    rules = {f["rule"]: f for f in document["findings"]}
    assert "TD211" not in rules and "TD104" not in rules
    user = rules["TD304"]  # unsafe: left, with its fix attached
    assert user["autofix"]["applicability"] == "unsafe"
    assert user["autofix"]["edits"][0]["replacement"] == "USER 65534:65534\n"


def test_lint_diff_exits_one_when_something_would_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path)
    assert run(["lint", "--diff", str(path)]) == 1
    assert "+RUN apt-get update && apt-get install" in capsys.readouterr().out
    assert path.read_text() == DIRTY
    clean = _write(tmp_path, FIXED)
    assert run(["lint", "--diff", str(clean)]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["fix", "-"], "trimdock: fixes rewrite a file: give its path, not stdin ('-')\n"),
        (["fix", "/nonexistent/Dockerfile"], "trimdock: /nonexistent/Dockerfile: no such file\n"),
        (
            ["lint", "--fix", "-"],
            "trimdock: fixes rewrite a file: give its path, not stdin ('-')\n",
        ),
    ],
)
def test_bad_input_is_one_line(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(args) == 2
    assert capsys.readouterr().err == message


def test_context_must_be_a_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path)
    assert run(["fix", "--context", str(path), str(path)]) == 2
    assert capsys.readouterr().err == f"trimdock: {path}: build context is not a directory\n"
    assert path.read_text() == DIRTY


def test_fix_json_names_each_fix_and_the_lines_its_edits_replace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path)
    assert run(["fix", "--diff", str(path)]) == 0  # text stays the default
    assert capsys.readouterr().out.startswith("---")
    assert run(["fix", "--format", "json", "--no-verify", str(path)]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["schema"] == "trimdock/fix/1" and document["written"]
    by_rule = {f["rule"]: f for f in document["fixes"]}
    assert set(by_rule) == {"TD211", "TD104", "TD605"}
    merge = by_rule["TD211"]
    assert merge["status"] == "applied" and merge["applicability"] == "safe"
    # the lone update (line 3) deleted, its text inserted at the install (line 4)
    assert merge["edits"] == [
        {"first_line": 3, "last_line": 3},
        {"first_line": 4, "last_line": 4},
    ]
    assert by_rule["TD104"]["removes"] == ["/var/lib/apt/lists/*"]
    assert document["verification"] is None
    assert path.read_text() == FIXED


@pytest.mark.parametrize(
    ("extra", "needs"),
    [
        ("RUN <<EOF\necho hi > /x\nEOF\n", "line 6 uses a heredoc"),
        ("RUN --mount=type=cache,target=/root/.cache true\n", "line 6 uses RUN --mount"),
    ],
)
def test_verify_says_buildkit_only_files_cannot_be_verified_before_building(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: str, needs: str
) -> None:
    # No engine is asked: the legacy builder would refuse the file with a parse error.
    path = _write(tmp_path, DIRTY + extra)
    assert run(["fix", "--verify", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trimdock: {path}: cannot verify: {needs}, which only BuildKit builds")
    assert err.count("\n") == 1
    assert path.read_text() == DIRTY + extra


def test_verify_is_quiet_about_files_the_legacy_builder_builds() -> None:
    from trimdock.dockerfile import parse
    from trimdock.fix.verify import buildkit_features

    plain = "FROM busybox:latest\nRUN echo '<<EOF' > /x\nCOPY --chown=1:1 a /a\n"
    assert buildkit_features(parse(plain, "Dockerfile")) is None
