"""Table tests of .dockerignore reading and matching, written from shared/docs/dockerignore.md."""

from __future__ import annotations

import pytest

from tests.context.support import tree_of
from trimdock.context.gopath import go_clean, go_match
from trimdock.context.ignorefile import parse_ignore
from trimdock.context.matcher import Matcher
from trimdock.context.tree import Kind
from trimdock.context.walk import Builder, select
from trimdock.errors import ContextError


def excluded(ignore: str, path: str) -> bool:
    rules = parse_ignore(ignore, ".dockerignore").rules
    return Matcher([r.pattern for r in rules]).decide(path)


MATCH_ROWS = [
    # (ignore file, path, excluded?)
    ("*", "a", True),
    ("*", "a/b", True),  # via the ancestor `a`
    ("*.txt", "a.txt", True),
    ("*.txt", "d/a.txt", False),  # `*` never crosses `/`
    ("*/a.txt", "d/a.txt", True),
    ("?", "a", True),
    ("?", "ab", False),
    ("a?c", "a/c", False),  # `?` is not `/`
    ("[a-c]x", "bx", True),
    ("[^a-c]x", "bx", False),
    ("[^a-c]x", "dx", True),
    ("\\*", "*", True),
    ("\\*", "a", False),
    ("a\\?b", "a?b", True),
    ("a\\?b", "axb", False),
    ("\\[x\\]", "[x]", True),
    ("**/x", "x", True),
    ("**/x", "a/b/x", True),
    ("a/**/b", "a/b", True),
    ("a/**/b", "a/x/y/b", True),
    ("dir/**", "dir/x", True),
    ("dir/**", "dir", False),  # `dir/**` is not `dir` itself
    ("dir/**", "dir/x/y", True),
    ("**file", "a/myfile", True),  # a plain suffix test
    ("**file", "file", True),
    ("**/file", "a/myfile", True),  # `**/` dropped, still a suffix test
    ("foo/", "foo", True),  # a trailing / does not mean "directories only"
    ("/foo", "foo", True),
    ("./foo", "foo", True),
    ("foo//x/..", "foo", True),
    ("foo/../bar", "bar", True),
    ("#foo", "#foo", False),  # a comment
    (" #foo", "#foo", True),  # `#` not in column 1: a pattern
    ("\ufeff#foo", "#foo", False),  # the BOM is dropped before the comment check
    ("\ufefffoo", "foo", True),
    ("  foo  ", "foo", True),
    ("foo\r\n", "foo", True),
    ("Foo", "foo", False),  # case-sensitive
    ("docs\n!docs/README.md", "docs/README.md", False),
    ("docs\n!docs/README.md", "docs/other.md", True),
    ("docs\n! docs/README.md", "docs/README.md", False),  # `! x` == `!x`
    ("node_modules", "node_modules/a/b/c.js", True),
    ("*.md\n!README.md\nREADME*", "README.md", True),  # the last match wins
    ("*.md\n!README.md", "README.md", False),
    ("!a\na", "a", True),
    ("a.b", "axb", False),  # `.` is literal
    ("a+", "a+", True),
    ("(x)", "(x)", True),
    ("a{1}", "a{1}", True),
    ("a$", "a$", True),
    ("a|b", "a", False),
    ("x^y", "x^y", True),  # no wildcard: compared as a string
    ("*^y", "x^y", False),  # in a regexp the raw `^` anchors: matches nothing (as Docker)
    ("[[:digit:]]x", "5x", True),
    ("\\d", "5", True),  # `\d` reaches the Go regexp as a digit class
    ("**", "anything/at/all", True),
    ("a/*/c", "a/b/c", True),
    ("a/*/c", "a/b/x/c", False),
]


@pytest.mark.parametrize(("ignore", "path", "expected"), MATCH_ROWS)
def test_pattern_table(ignore: str, path: str, expected: bool) -> None:
    assert excluded(ignore, path) is expected


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("!\n", 1),
        ("ok\n[\n", 2),
        ("a[\n", 1),
        ("[]a]\n", 1),
        ("[x-]\n", 1),
        ("ab\\\n", 1),
        ("# c\n\n  !  \n", 3),
        ("[z-a]\n", 1),  # valid for filepath.Match, rejected by the Go regexp
    ],
)
def test_malformed_patterns_are_refused_with_file_and_line(text: str, line: int) -> None:
    with pytest.raises(ContextError, match=rf"^\.dockerignore: line {line}: "):
        parse_ignore(text, ".dockerignore")


def test_reader_normalises_like_docker() -> None:
    rules = parse_ignore("\ufeff# c\n/foo/\n! ./bar//baz/..\n  \n#x\n y #\n", "f").rules
    assert [(r.line, r.source_text) for r in rules] == [(2, "foo"), (3, "!bar"), (6, "y #")]


def test_overlong_line_is_refused() -> None:
    with pytest.raises(ContextError, match="line 1: longer than 64 KiB"):
        parse_ignore("a" * 70_000 + "\n", "f")


@pytest.mark.parametrize(
    ("path", "clean"),
    [("", "."), ("a//b", "a/b"), ("/../a", "/a"), ("a/../..", ".."), ("//a", "/a"), ("./", ".")],
)
def test_go_clean(path: str, clean: str) -> None:
    assert go_clean(path) == clean


@pytest.mark.parametrize(
    ("pattern", "name", "expected"),
    [
        ("*.txt", "a.txt", True),
        ("*.txt", "d/a.txt", False),
        ("d/*", "d/a", True),
        ("[!a]", "!", True),  # `!` does not negate in Go
        ("[^a]", "b", True),
        ("a\\*", "a*", True),
    ],
)
def test_go_match(pattern: str, name: str, expected: bool) -> None:
    assert go_match(pattern, name) is expected


TREE = tree_of(
    [
        ("Dockerfile", Kind.FILE),
        ("docs", Kind.DIR),
        ("docs/README.md", Kind.FILE),
        ("docs/guide.md", Kind.FILE),
        ("src", Kind.DIR),
        ("src/keep.txt", Kind.FILE),
        ("src/main.py", Kind.FILE),
    ]
)


def _visible(ignore: str, builder: Builder) -> set[str]:
    selection = select(TREE, parse_ignore(ignore, ".dockerignore"), builder, "Dockerfile")
    return {e.path for e, v in zip(TREE.entries, selection.visible, strict=True) if v}


@pytest.mark.parametrize(
    ("ignore", "buildkit", "legacy"),
    [
        # A wildcard exception: BuildKit descends everywhere, the legacy builder does not.
        (
            "docs\nsrc\n!**/keep.txt\n",
            {"Dockerfile", "src", "src/keep.txt"},
            {"Dockerfile"},
        ),
        # A prefixed exception works in both.
        (
            "docs\n!docs/README.md\n",
            {"Dockerfile", "docs", "docs/README.md", "src", "src/keep.txt", "src/main.py"},
            {"Dockerfile", "docs", "docs/README.md", "src", "src/keep.txt", "src/main.py"},
        ),
        # BuildKit ignores a trailing `/*` when deciding whether an exception is a prefix.
        (
            "*\n!src/*\n",
            {"src", "src/keep.txt", "src/main.py"},
            {"src", "src/keep.txt", "src/main.py"},
        ),
    ],
)
def test_builders_walk_excluded_directories_differently(
    ignore: str, buildkit: set[str], legacy: set[str]
) -> None:
    assert _visible(ignore, Builder.BUILDKIT) == buildkit
    assert _visible(ignore, Builder.LEGACY) == legacy


def test_legacy_keeps_the_dockerfile_but_hides_it_from_copy() -> None:
    tree = TREE
    selection = select(tree, parse_ignore("Dockerfile\n", "i"), Builder.LEGACY, "Dockerfile")
    assert selection.sent[0] is True
    assert selection.visible[0] is False
