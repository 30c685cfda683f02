"""`.dockerignore` matching without backtracking, one walk of the context, no blocking on odd files.

The former matcher (Python `re`, one walk per exception) is kept in tests/context/reference.py:
property tests check the automaton, the walk and the rule effects give exactly its answers on
inputs small enough for it; regression tests build the inputs that made it hang.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.context.reference import ref_compile, ref_decide, ref_effects, ref_visible, ref_walk
from tests.context.support import tree_of
from tests.context.test_engine_oracle import ignore_files
from tests.support.engine import REPO
from trimdock.cli.main import run
from trimdock.context import automaton
from trimdock.context.effects import MAX_EXCEPTION_CHECKS, rule_effects
from trimdock.context.gopath import BadPattern
from trimdock.context.ignorefile import parse_ignore
from trimdock.context.matcher import Matcher
from trimdock.context.pattern import compile_pattern
from trimdock.context.tree import Kind
from trimdock.context.walk import Builder, Walker, select
from trimdock.errors import ContextError

# Pieces of patterns: every construct the Go expression can carry, odd characters included.
TOKENS = [
    *"ab/x.-_^$()|{}+:!? \n\t]",
    "*",
    "**",
    "**/",
    "[",
    "[^",
    "[a-c]",
    "[[:digit:]]",
    "[[:^alpha:]]",
    "[\\d]",
    "[\\S]",
    "\\",
    "\\d",
    "\\b",
    "\\B",
    "\\A",
    "\\z",
    "\\*",
    "\\t",
    "\\x",
    "é",
    "\udcff",
]
PATH_CHARS = "ab/x.-_^$()+:? \n1\t]*[\\é\udcff"

patterns = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=8).map("".join)
paths = st.text(alphabet=PATH_CHARS, min_size=1, max_size=12)


@settings(max_examples=500, derandomize=True, deadline=None)
@given(text=patterns, candidates=st.lists(paths, min_size=1, max_size=8), old=st.booleans())
def test_automaton_equals_the_regex_matcher(text: str, candidates: list[str], old: bool) -> None:
    try:
        reference = ref_compile(text, False, shortcuts=not old)
    except BadPattern:
        with pytest.raises(BadPattern):
            compile_pattern(text, False, shortcuts=not old)
        return
    matcher = Matcher([compile_pattern(text, False, shortcuts=not old)])
    for path in candidates:
        assert (0 in matcher.hits(path).member_set) is reference.match(path), (text, path)


@pytest.mark.parametrize(
    ("text", "path"),
    [
        ("a\\b_", "a_"),  # `_` is a word character for `\b`
        ("a\\B_", "a_"),
        ("_\\b", "_"),
        ("*\\b", "x"),
        ("[x*]", "x"),  # `*` inside a class closes it early: `[x[^/]` then `*`, then `]`
        ("[x*]", "x]"),
        ("[x?]", "[]"),
        ("a*^y", "ay"),
        ("*^y", "y"),  # the raw `^` anchors at the start
        ("[[:^digit:]]", "a"),
        ("[\\D]", "1"),
        ("[^\\S]", " "),
        ("[\\t-x]", "-"),  # a control escape never starts a range
        ("\\d\\w\\s", "1_\t"),
        ("**x", "a\nx"),  # a suffix shortcut crosses newlines
        ("a**", "a\n"),
        ("a?**/b", "a\nb"),
    ],
)
def test_quirks_equal_the_regex_matcher(text: str, path: str) -> None:
    for shortcuts in (True, False):
        reference = ref_compile(text, False, shortcuts=shortcuts)
        matcher = Matcher([compile_pattern(text, False, shortcuts=shortcuts)])
        assert (0 in matcher.hits(path).member_set) is reference.match(path)


NAMES = ["a", "b", "docs", "keep.txt", "f.txt", "x1", "#h", "[x]", "node_modules"]
listings = st.lists(
    st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join),
    min_size=1,
    max_size=10,
    unique=True,
)


def _tree_from(listing: list[str]) -> list[tuple[str, Kind]]:
    dirs = {"/".join(p.split("/")[:i]) for p in listing for i in range(1, p.count("/") + 1)}
    every = dirs | set(listing)
    ordered = sorted(every, key=lambda p: [os.fsencode(c) for c in p.split("/")])
    return [(p, Kind.DIR if p in dirs else Kind.FILE) for p in ordered]


@settings(
    max_examples=150,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(listing=listings, text=ignore_files(), builder=st.sampled_from(list(Builder)))
def test_walk_and_rule_effects_equal_the_former_implementation(
    listing: list[str], text: str, builder: Builder
) -> None:
    try:
        rules = parse_ignore(text, ".dockerignore").rules
    except ContextError:
        assume(False)
        return
    own = tuple(r.pattern for r in rules)
    refs = [ref_compile(p.text, p.exclusion) for p in own]
    tree = tree_of(_tree_from(listing))
    walker = Walker(tree, own, builder)
    record = walker.run(census=True)
    sent, skipped = ref_walk(tree, refs, builder)
    assert [bool(b) for b in record.sent] == sent
    assert set(record.skipped) == skipped
    counts, silent = ref_effects(tree, refs, builder, MAX_EXCEPTION_CHECKS)
    effects = rule_effects(walker, record)
    assert list(effects.matches) == counts
    assert [(e.rule, e.matched, e.first_unsent) for e in effects.no_effect] == silent
    matcher = Matcher(own)
    for entry in tree.entries:
        assert matcher.decide(entry.path) is ref_decide(refs, entry.path)
    dockerfile = listing[0]  # any path may be the Dockerfile (the legacy CLI re-adds it)
    visible = select(tree, parse_ignore(text, ".dockerignore"), builder, dockerfile).visible
    assert list(visible) == ref_visible(tree, refs, builder, dockerfile)


def test_dropping_the_automaton_caches_changes_no_answer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The DFA caches are bounded: dropped when full, rebuilt as paths need them."""
    text = "\n".join(f"**/d{i}/*x{i}*" if i % 3 else f"!**/f{i}?" for i in range(150))
    own = [r.pattern for r in parse_ignore(text, ".dockerignore").rules]
    refs = [ref_compile(p.text, p.exclusion) for p in own]
    candidates = [f"a/d{i}/x{i}y" for i in range(150)] + [f"b/c/f{i}z" for i in range(150)]
    expected = [{k for k, r in enumerate(refs) if r.match(path)} for path in candidates]
    monkeypatch.setattr(automaton, "MAX_CACHED_POSITIONS", 200)
    monkeypatch.setattr(automaton, "MAX_COMBINED_STATES", 5)
    matcher = Matcher(own)
    for _ in range(2):
        assert [set(matcher.hits(path).members) for path in candidates] == expected


EFFECT_CASES = [
    # `!docs/a` is undone by the later `docs/a`, but its prefix makes the legacy walk enter
    # `docs`, where `!**/keep.txt` rescues keep.txt: removing it changes what is sent.
    ("docs\n!docs/a\ndocs/a\n!**/keep.txt\n", ["docs/a", "docs/keep.txt", "f.txt"]),
    ("docs\n!docs/keep.txt\n", ["docs/f.txt", "docs/keep.txt"]),
    ("*\n!docs\n!docs/keep.txt\n", ["docs/keep.txt", "x1"]),
    ("*/b\n!a\n", ["a/b", "b"]),
    ("a\n!a/b/c/keep.txt\n", ["a/b/c/keep.txt", "a/x"]),
    ("**\n!**/keep.txt\n!a\n", ["a/keep.txt", "b/keep.txt"]),
]


@pytest.mark.parametrize(("text", "listing"), EFFECT_CASES)
@pytest.mark.parametrize("builder", list(Builder))
def test_rule_effect_cases_equal_the_former_implementation(
    text: str, listing: list[str], builder: Builder
) -> None:
    own = tuple(r.pattern for r in parse_ignore(text, ".dockerignore").rules)
    refs = [ref_compile(p.text, p.exclusion) for p in own]
    tree = tree_of(_tree_from(listing))
    walker = Walker(tree, own, builder)
    record = walker.run(census=True)
    assert [bool(b) for b in record.sent] == ref_walk(tree, refs, builder)[0]
    counts, silent = ref_effects(tree, refs, builder, MAX_EXCEPTION_CHECKS)
    effects = rule_effects(walker, record)
    assert list(effects.matches) == counts
    assert [(e.rule, e.matched, e.first_unsent) for e in effects.no_effect] == silent


# `**` twice per pair of stars: both patterns become ten `(.*/)?` groups in a row, which a
# backtracking matcher tries in every split of a deep path (over 60 s for this context).
PATHOLOGICAL = ["*" * 20 + "b", "**/" * 10 + "zz"]
DEPTH = 18  # levels of nesting: at 16 one path already cost the regex matcher 0.3 s
PER_LEVEL = 150


def _deep_context(root: Path) -> Path:
    directory = root
    for _ in range(DEPTH):
        directory = directory / "dd"
        directory.mkdir(parents=True)
        for i in range(PER_LEVEL):
            (directory / f"f{i:03d}.txt").touch()
    (directory / "zz").touch()
    (root / "Dockerfile").write_text("FROM busybox\nCOPY dd /dd\n")
    (root / ".dockerignore").write_text("\n".join(PATHOLOGICAL) + "\n")
    return root


def test_pathological_patterns_on_a_deep_context_finish(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _deep_context(tmp_path)
    code = run(["context", str(root), "--format", "json", "--fail-on", "none"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["total"]["files"] == DEPTH * PER_LEVEL + 3
    assert data["excluded"]["files"] == 1  # only the deepest `zz`
    code = run(["lint", "--context", str(root), str(root / "Dockerfile"), "--format", "json"])
    capsys.readouterr()
    assert code in (0, 1)


def test_one_walk_whatever_the_number_of_exceptions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """1000 lines with `**` and exceptions: entries visited stay about the size of the tree."""
    for d in range(20):
        (tmp_path / f"d{d:02d}").mkdir()
        for f in range(100):
            (tmp_path / f"d{d:02d}" / f"f{f:03d}.txt").touch()
    lines = []
    for i in range(500):
        lines.append(f"**/d{i % 20:02d}/f{i % 100:03d}*")
        lines.append(f"!**/f{i % 100:03d}.txt" if i % 2 else f"!d{i % 20:02d}")
    (tmp_path / ".dockerignore").write_text("\n".join(lines) + "\n")
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY d00 /d\n")
    visited = [0]
    real_walk, real_census = Walker._walk, Walker._census

    def counting_walk(self: Walker, start: int, stop: int, *args: object) -> bytearray:
        visited[0] += stop - start
        return real_walk(self, start, stop, *args)  # type: ignore[arg-type]

    def counting_census(self: Walker, start: int, stop: int, *args: object) -> None:
        visited[0] += stop - start
        real_census(self, start, stop, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(Walker, "_walk", counting_walk)
    monkeypatch.setattr(Walker, "_census", counting_census)
    code = run(["context", str(tmp_path), "--format", "json", "--fail-on", "none"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    entries = 20 * 100 + 20 + 2
    assert data["total"]["files"] == 20 * 100 + 2
    # The former code walked the whole tree once more per checked exception (33 walks).
    assert visited[0] <= 2 * entries


def test_fifo_socket_and_device_in_the_context_never_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe")
    os.mkfifo(tmp_path / "Dockerfile.fifo")
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(tmp_path / "sock"))
    try:
        # Without CAP_MKNOD there is no device: the FIFO and the socket still run the check.
        with contextlib.suppress(PermissionError):
            os.mknod(tmp_path / "null", stat.S_IFCHR | 0o666, os.makedev(1, 3))
        (tmp_path / "Dockerfile").write_text(
            "FROM busybox\nCOPY pipe /p\nCOPY null /n\nCOPY . /all\n"
        )
        (tmp_path / ".dockerignore").write_text("*\n!pipe\n!null\n!sock\n!Dockerfile\n")
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        base = [sys.executable, "-m", "trimdock", "context", str(tmp_path)]
        result = subprocess.run(
            [*base, "--format", "json", "--fail-on", "none"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,  # a guard against blocking, not a benchmark
            check=False,
        )
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert ("sock", "socket") in {(p["path"], p["problem"]) for p in data["problems"]}
        # A FIFO named as the Dockerfile is refused, not waited on.
        refused = subprocess.run(
            [*base, "-f", str(tmp_path / "Dockerfile.fifo")],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
        assert refused.returncode == 2
        assert refused.stderr.strip().endswith("not a regular file")
        assert refused.stderr.count("\n") == 1
    finally:
        server.close()
