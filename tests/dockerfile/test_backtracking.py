"""Regexes that backtracked (quadratic on crafted lines, minutes on a 1 MB line) are replaced by
linear checks that accept exactly what the old regex did (checked here on generated text)."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from trimdock.dockerfile import parse
from trimdock.dockerfile.parser import _DIRECTIVE_HEAD_RE, _directive_value
from trimdock.rules.cache import _URL, _has_version
from trimdock.rules.engine import lint
from trimdock.rules.pragmas import _PRAGMA

OLD_DIRECTIVE = re.compile(r"^#[ \t]*([a-zA-Z0-9]+)[ \t]*=[ \t]*(.+?)[ \t]*$")
OLD_URL_VERSION = re.compile(r"https?://\S*?[/_-]v?\d+\.\d+(\.\d+)?\S*")
OLD_PRAGMA = re.compile(
    r"^(trimdock|hadolint)\s+(global\s+)?ignore\s*=\s*([A-Za-z0-9_,\s-]+)$", re.I
)


def _new_directive(line: str) -> tuple[str, str] | None:
    match = _DIRECTIVE_HEAD_RE.match(line)
    if match is None:
        return None
    value = _directive_value(line[match.end() :])
    return None if value is None else (match.group(1), value)


def _old_directive(line: str) -> tuple[str, str] | None:
    match = OLD_DIRECTIVE.match(line)
    return None if match is None else (match.group(1), match.group(2))


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="# \t=ab1\\x", max_size=16))
def test_directive_split_matches_the_old_regex(line: str) -> None:
    assert _new_directive(line) == _old_directive(line)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="htps:/._-v19 x", max_size=24))
def test_url_version_matches_the_old_regex(arg: str) -> None:
    new = _URL.fullmatch(arg) is not None and _has_version(arg)
    assert new == (OLD_URL_VERSION.fullmatch(arg) is not None)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="trimdock ignore=TD1,\t!", max_size=30))
def test_pragma_matches_the_old_regex(comment: str) -> None:
    old, new = OLD_PRAGMA.match(comment), _PRAGMA.match(comment)
    assert (old is None) == (new is None)
    if old is not None and new is not None:
        assert set(re.split(r"[,\s]+", old.group(3).strip())) - {""} == set(
            re.split(r"[,\s]+", new.group(3).strip())
        ) - {""}


def test_hostile_lines_lint_in_linear_time() -> None:
    # Each of these took minutes with the backtracking regexes (quadratic in the run length).
    run = 300_000
    texts = [
        "# escape=a" + " " * run + "b\nFROM a:1\nUSER app\n",
        "FROM a:1\n# trimdock ignore=" + " " * run + "!\nRUN x\nUSER app\n",
        "FROM a:1\nRUN curl " + "https://" * (run // 8) + "\nUSER app\n",
        "FROM distroless" + ":" * run + "\n",
    ]
    for text in texts:
        assert isinstance(lint(parse(text)), list)
    assert parse("#  escape = `  \nFROM a:1\n").escape == "`"
