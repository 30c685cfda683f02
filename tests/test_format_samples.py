"""The samples in docs/formats.md are real `trimdock lint` output; this test fails when they drift.

Each sample sits between `<!-- generated:format-NAME begin/end -->` markers and is produced by
running the CLI on the two example Dockerfiles below. Regenerate after changing a rule, a
message or a format: `python -m tests.test_format_samples --write`.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from trimdock.cli.main import run
from trimdock.report.finding import Severity
from trimdock.rules.registry import lookup

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "formats.md"

DOCKERFILE = """\
FROM python:3.12-slim
WORKDIR /app
COPY . .
RUN pip install --no-cache-dir -r requirements.txt
CMD python app.py
"""
WORKER = """\
FROM python:3.12-slim
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY app.py .
USER 65534
CMD ["python", "app.py"]
"""
FORMATS = ("text", "json", "sarif", "junit", "checkstyle", "gitlab")
FENCE = {"text": "text", "json": "json", "sarif": "json", "gitlab": "json"}


@contextmanager
def _example() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "worker").mkdir()
        (root / "Dockerfile").write_text(DOCKERFILE)
        (root / "worker" / "Dockerfile").write_text(WORKER)
        before = Path.cwd()
        os.chdir(root)  # the report names the files as given: relative paths, as in CI
        try:
            yield root
        finally:
            os.chdir(before)


def _trim_sarif(text: str) -> str:
    """The SARIF catalogue lists every rule; the sample keeps those the results use."""
    data: dict[str, Any] = json.loads(text)
    driver = data["runs"][0]["tool"]["driver"]
    used = {r["ruleId"] for r in data["runs"][0]["results"]}
    driver["rules"] = [r for r in driver["rules"] if r["id"] in used]
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def lint_output(fmt: str) -> str:
    """`trimdock lint -F FMT Dockerfile worker/Dockerfile`, as the CLI writes it."""
    with _example() as root:
        out = root / "report"
        code = run(["lint", "-F", fmt, "-o", str(out), "Dockerfile", "worker/Dockerfile"])
        assert code == 1, f"lint -F {fmt} exited {code}"  # the example has warnings
        text = out.read_text()
    return _trim_sarif(text) if fmt == "sarif" else text


def _fenced(language: str, body: str) -> str:
    return f"```{language}\n{body if body.endswith(chr(10)) else body + chr(10)}```\n"


def samples() -> dict[str, Callable[[], str]]:
    found: dict[str, Callable[[], str]] = {
        "format-dockerfile": lambda: _fenced("dockerfile", DOCKERFILE),
        "format-worker": lambda: _fenced("dockerfile", WORKER),
    }
    for fmt in FORMATS:
        found[f"format-{fmt}"] = lambda fmt=fmt: _fenced(FENCE.get(fmt, "xml"), lint_output(fmt))
    return found


def _block(name: str) -> re.Pattern[str]:
    return re.compile(
        rf"(<!-- generated:{name} begin -->\n)(.*?)(<!-- generated:{name} end -->)", re.DOTALL
    )


def current(name: str) -> str:
    found = _block(name).search(DOC.read_text())
    if found is None:
        raise AssertionError(f"{DOC}: no generated:{name} markers")
    return found.group(2)


def write() -> None:
    text = DOC.read_text()
    for name, generate in samples().items():
        found = _block(name).search(text)
        if found is None:
            raise SystemExit(f"{DOC}: no generated:{name} markers")
        text = text[: found.start(2)] + generate() + text[found.end(2) :]
    DOC.write_text(text)


@pytest.mark.parametrize("name", sorted(samples()))
def test_sample_is_what_lint_prints(name: str) -> None:
    assert current(name) == samples()[name](), "run: python -m tests.test_format_samples --write"


# Ids that name no rule: a sample or table left behind by a renumbering (TD110 was once the
# apt pin rule; its id now belongs to zypper).
_ID = re.compile(r"\bTD\d{3}\b")
_ROW = re.compile(r"\|\s*(TD\d{3})\s*\|(?:[^|\n]*\|)?\s*(error|warning|info|style)\s*\|")
_DOCS = sorted([*(REPO / "docs").glob("*.md"), REPO / "README.md"])


@pytest.mark.parametrize("doc", _DOCS, ids=lambda p: p.name)
def test_docs_name_only_existing_rules_with_their_severity(doc: Path) -> None:
    text = doc.read_text()
    assert sorted(i for i in set(_ID.findall(text)) if lookup(i) is None) == []
    for rule_id, severity in _ROW.findall(text):
        info = lookup(rule_id)
        assert info is not None and info.severity is Severity(severity), f"{doc.name}: {rule_id}"


if __name__ == "__main__":
    if sys.argv[1:] == ["--write"]:
        write()
    else:
        raise SystemExit("usage: python -m tests.test_format_samples --write")
