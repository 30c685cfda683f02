"""Examples in the README and docs/ are real runs: each `$ trimdock ...` block whose command reads
only files of this repository is run again and must print exactly what the document shows.

Examples of the engine's state (`layers` of an image built on this machine, `df`, `prune`) show
sizes and ages that differ on every machine; the commands they show are checked to exist by
tests/test_readme.py, and their figures by the engine tests.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Commands whose output depends only on files in the repository.
REPRODUCIBLE = ("lint", "context", "explain", "fix")
# Wide enough that no line of an example wraps (the documents show unwrapped lines).
COLUMNS = "200"


def code_blocks(text: str) -> list[str]:
    """The contents of the fenced blocks of a Markdown text, in order."""
    blocks: list[str] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("```"):
            if current is None:
                current = []
            else:
                blocks.append("\n".join(current) + "\n")
                current = None
        elif current is not None:
            current.append(line)
    return blocks


def examples() -> list[tuple[str, str, str]]:
    """(document, command line, expected output) of every reproducible example."""
    found = []
    for path in DOCUMENTS:
        for block in code_blocks(path.read_text()):
            runs = re.split(r"^\$ ", block, flags=re.M)[1:]
            for run in runs:
                command, _, output = run.partition("\n")
                words = shlex.split(command)
                if words[:1] == ["trimdock"] and words[1] in REPRODUCIBLE:
                    found.append((path.name, command, output))
    return found


@pytest.fixture(scope="module")
def prepared() -> None:
    if not (REPO / "examples" / "build-context" / "v3" / "docs").is_dir():
        subprocess.run([sys.executable, str(REPO / "examples" / "prepare.py")], check=True)


def test_the_documents_have_reproducible_examples() -> None:
    assert {doc for doc, _, _ in examples()} >= {"README.md", "lint.md"}


@pytest.mark.parametrize(("document", "command", "expected"), examples())
def test_example_prints_what_the_document_shows(
    prepared: None, document: str, command: str, expected: str
) -> None:
    env = {**os.environ, "COLUMNS": COLUMNS, "NO_COLOR": "1", "TERM": "dumb"}
    words = shlex.split(command)
    result = subprocess.run(
        [sys.executable, "-m", "trimdock", *words[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if words[1] != "fix":  # fix --diff: the diff on stdout, what it would fix on stderr
        assert result.stderr == ""
    assert result.stdout.rstrip("\n") == expected.rstrip("\n"), (
        f"{document}: `{command}` prints something else now: update the document from a run"
    )
