"""`trimdock lint` and `trimdock explain` end to end: formats, exit codes, pragmas, config,
stdin, several files and hostile input."""

from __future__ import annotations

import json
import time
from pathlib import Path

import jsonschema
import pytest

from trimdock.cli.main import run

CLEAN = 'FROM debian:12-slim\nUSER app\nCMD ["app"]\n'
DIRTY = "FROM debian:12-slim\nRUN apt-get install -y curl\nUSER app\n"


def _write(tmp_path: Path, text: str, name: str = "Dockerfile") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_clean_file_exits_zero(tmp_path: Path) -> None:
    assert run(["lint", str(_write(tmp_path, CLEAN))]) == 0


def test_findings_exit_one_and_threshold_changes_it(tmp_path: Path) -> None:
    path = _write(tmp_path, DIRTY)
    assert run(["lint", str(path)]) == 1
    assert run(["lint", "--failure-threshold", "error", str(path)]) == 0
    assert run(["lint", "--failure-threshold", "none", str(path)]) == 0


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "checkstyle", "gitlab"])
def test_every_format_renders(tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, DIRTY)
    assert run(["lint", "-F", fmt, str(path)]) == 1
    out = capsys.readouterr().out
    assert "TD203" in out or "DL3008" in out


def test_json_has_rule_and_column_spans(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, DIRTY)
    run(["lint", "-F", "json", str(path)])
    data = json.loads(capsys.readouterr().out)
    pin = next(f for f in data["findings"] if f["rule"] == "TD203")
    assert pin["peer_rule"] == "DL3008"
    assert pin["location"]["line"] == 2
    assert pin["location"]["column"] == 5
    assert pin["location"]["end_column"] == 28


def test_sarif_is_valid_2_1_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    schema = Path(__file__).resolve().parents[1] / "report" / "schema" / "sarif-schema-2.1.0.json"
    path = _write(tmp_path, DIRTY)
    run(["lint", "-F", "sarif", str(path)])
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, json.loads(schema.read_text()))
    rules = document["runs"][0]["tool"]["driver"]["rules"]
    assert any(r["id"] == "TD203" for r in rules)


def test_pragmas_trimdock_and_hadolint(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (
        "FROM debian:12-slim\n"
        "# hadolint ignore=DL3008\n"
        "RUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n"
        "# trimdock ignore=TD203\n"
        "RUN apt-get install -y --no-install-recommends wget && rm -rf /var/lib/apt/lists/*\n"
        "USER app\n"
    )
    path = _write(tmp_path, text)
    run(["lint", "-F", "json", str(path)])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "TD203" not in rules
    run(["lint", "-F", "json", str(_write(tmp_path, "# trimdock global ignore=TD304\nFROM a:1\n"))])
    rules = {f["rule"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert "TD304" not in rules


def test_config_ignore_and_severity(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, DIRTY)
    config = tmp_path / ".trimdock.toml"
    config.write_text('[lint]\nignore = ["DL3008"]\nseverity = { TD103 = "info" }\n')
    assert run(["lint", "--config", str(config), str(path)]) == 0
    config.write_text('[lint]\nignor = ["DL3008"]\n')
    assert run(["lint", "--config", str(config), str(path)]) == 2
    assert "unknown key 'ignor'" in capsys.readouterr().err


def test_stdin_and_several_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import io
    import sys

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(DIRTY.encode())))
    clean = _write(tmp_path, CLEAN, "Clean.Dockerfile")
    assert run(["lint", "-F", "json", "-", str(clean)]) == 1
    data = json.loads(capsys.readouterr().out)
    assert {f["location"]["file"] for f in data["findings"]} == {"<stdin>"}


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\x7fELF\x00\x01\x02binary", 2),
        (b"", 1),
        (b"FROM a:1\nRUN <<EOF\nnever ends\n", 1),
        (b'FROM a:1\nCMD ["a", "b"\n', 1),
        (b"FROM a:1\nRUN echo \\", 1),
        (b"FROM a:1\nFROBNICATE x\n", 1),
    ],
)
def test_bad_input_is_a_finding_or_one_line_error(
    tmp_path: Path, content: bytes, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "Dockerfile"
    path.write_bytes(content)
    assert run(["lint", str(path)]) == code
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert len(err.strip().splitlines()) <= 1


def test_missing_file_is_exit_two(tmp_path: Path) -> None:
    assert run(["lint", str(tmp_path / "nope")]) == 2


def test_ten_megabyte_dockerfile_in_bounded_time(tmp_path: Path) -> None:
    line = "RUN echo " + "x" * 990 + " | tee /tmp/log && apt-get install -y curl\n"
    path = tmp_path / "Dockerfile"
    path.write_text("FROM a:1\n" + line * (10 * 1024 * 1024 // len(line)) + "USER app\n")
    start = time.monotonic()
    code = run(["lint", "-q", "--ignore", "TD116", str(path)])
    assert code in (0, 1)
    assert time.monotonic() - start < 120


def test_explain_prints_four_parts(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["explain", "TD102"]) == 0
    out = capsys.readouterr().out
    for part in ("What it finds:", "Why it matters:", "Example:", "Instead:"):
        assert part in out
    assert run(["explain", "dl3008"]) == 0
    assert "TD203" in capsys.readouterr().out
    assert run(["explain", "TD999"]) == 2


def test_parallel_run_matches_one_process(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    texts = [CLEAN, DIRTY, "FROM busybox:latest\nRUN cd /x && rm -rf y\n", "RUN echo before from\n"]
    paths = [str(_write(tmp_path, texts[i % 4] + f"# {i}\n", f"d{i}")) for i in range(24)]
    paths.insert(7, str(tmp_path / "missing"))
    for fmt in ("text", "json"):
        results = []
        for jobs in ("1", "2"):
            code = run(["lint", "-j", jobs, "-F", fmt, "--no-color", *paths])
            captured = capsys.readouterr()
            results.append((code, captured.out, captured.err))
        assert results[0] == results[1]
        assert results[0][0] == 2 and results[0][2].count("\n") == 1
