"""Fixes on real Dockerfiles (official images, tests/fixtures/dockerfiles): every fixed file
parses as well as the original and fixing it again changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from trimdock.dockerfile import parse
from trimdock.fix.apply import fix_text

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "dockerfiles"
FILES = sorted(p for p in CORPUS.rglob("*") if p.is_file() and "Dockerfile" in p.name)


def _errors(text: str) -> int:
    return sum(1 for issue in parse(text).issues if issue.parser_error)


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_fixing_a_real_dockerfile_is_stable(path: Path) -> None:
    text = path.read_text()
    outcome = fix_text(text, str(path), unsafe=True)
    assert _errors(outcome.text) <= _errors(text)
    assert not fix_text(outcome.text, str(path), unsafe=True).changed


def test_the_corpus_is_there() -> None:
    assert len(FILES) >= 3
