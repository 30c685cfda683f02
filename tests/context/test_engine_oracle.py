"""The engine as oracle: whatever trimdock predicts for `COPY . /ctx` must be what arrived.

Hypothesis draws context trees (odd names, empty directories, symlinks, a symlink loop) and
ignore files (wildcards, `**`, classes, escapes, exceptions, comments, cleaning cases); each
example is built with the legacy builder (the only one this engine has) and compared with
trimdock's `--builder legacy` prediction. Derandomized with a bounded number of examples so CI
runs the same cases every time.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.context.support import DOCKERFILE, engine_copy_all, predict, write_tree
from trimdock.context.walk import Builder

pytestmark = pytest.mark.engine

NAMES = [
    "a",
    "b",
    "docs",
    "keep.txt",
    "f.txt",
    "g.log",
    "README.md",
    ".env",
    "x1",
    "a b",
    "#h",
    "odd\udcffname",
    "[x]",
    "node_modules",
]
SEGMENTS = [
    "a",
    "b",
    "docs",
    "keep.txt",
    "*.txt",
    "*",
    "**",
    "?",
    "x?",
    "[a-c]",
    "[^a]*",
    "*.log",
    "README*",
    ".env",
    "node_modules",
    "a b",
    "\\[x\\]",
    "#h",
    "odd*",
]

paths = st.lists(st.sampled_from(NAMES), min_size=1, max_size=3).map("/".join)
trees = st.lists(paths, min_size=1, max_size=12, unique=True)


@st.composite
def pattern_lines(draw: st.DrawFn) -> str:
    body = "/".join(draw(st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=3)))
    prefix = draw(st.sampled_from(["", "", "", "/", "./", " "]))
    suffix = draw(st.sampled_from(["", "", "", "/", "/**", " "]))
    bang = draw(st.sampled_from(["", "", "!", "! "]))
    return f"{bang}{prefix}{body}{suffix}"


@st.composite
def ignore_files(draw: st.DrawFn) -> str:
    lines = draw(st.lists(pattern_lines(), min_size=1, max_size=6))
    extras = draw(st.sampled_from(["", "# comment\n", "\n\n", " # not a comment\n", "\ufeff"]))
    text = "\n".join(lines) + "\n"
    return extras + text


def _materialise(root: Path, listing: list[str], with_links: bool) -> None:
    files: dict[str, bytes] = {}
    parts_of = [p.split("/") for p in listing]
    prefixes = {"/".join(parts[:i]) for parts in parts_of for i in range(1, len(parts))}
    for path in listing:
        # A path that is also an ancestor of another becomes a directory.
        if path not in prefixes:
            files[path] = f"content of {path}\n".encode("utf-8", "surrogateescape")
    dirs = tuple(sorted(prefixes))
    write_tree(root, files, (*dirs, "empty"))
    (root / "Dockerfile").write_text(DOCKERFILE)
    if with_links:
        os.symlink("a", root / "link-to-a")
        os.symlink("loop2", root / "loop1")
        os.symlink("loop1", root / "loop2")


@settings(
    max_examples=int(os.environ.get("TRIMDOCK_ORACLE_EXAMPLES", "20")),
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(listing=trees, ignore=ignore_files(), with_links=st.booleans())
def test_legacy_prediction_equals_what_the_engine_received(
    engine: None,
    tmp_path_factory: pytest.TempPathFactory,
    listing: list[str],
    ignore: str,
    with_links: bool,
) -> None:
    root = tmp_path_factory.mktemp("oracle")
    try:
        _materialise(root, listing, with_links)
        (root / ".dockerignore").write_bytes(ignore.encode("utf-8", "surrogateescape"))
        predicted = predict(root, ignore, Builder.LEGACY)
        arrived = engine_copy_all(root)
        assert predicted == arrived, f"ignore file:\n{ignore}"
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.mark.parametrize(
    ("ignore", "kept", "gone"),
    [
        # Exceptions inside an excluded directory: only a dir-prefixed one is honoured (legacy).
        ("docs\n!docs/keep.txt\n", {"docs/keep.txt"}, {"docs/f.txt"}),
        ("docs\n!**/keep.txt\n", set(), {"docs/keep.txt", "docs/f.txt"}),
        # The engine's parent-result reuse: `!a` does not rescue `a/b` excluded by `*/b`.
        ("*/b\n!a\n", {"a"}, {"a/b"}),
        # An excluded Dockerfile and .dockerignore are sent but deleted before COPY runs.
        ("*\n!docs\n", {"docs", "docs/keep.txt"}, {"Dockerfile", ".dockerignore", "f.txt"}),
        # `**file` is a suffix test; the trailing slash of `f.txt/` means nothing.
        ("**keep.txt\nf.txt/\n", {"docs"}, {"docs/keep.txt", "f.txt"}),
    ],
)
def test_documented_rows_against_the_engine(
    engine: None, tmp_path: Path, ignore: str, kept: set[str], gone: set[str]
) -> None:
    write_tree(
        tmp_path,
        {"docs/keep.txt": b"k", "docs/f.txt": b"f", "a/b": b"b", "f.txt": b"t"},
    )
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / ".dockerignore").write_text(ignore)
    predicted = predict(tmp_path, ignore, Builder.LEGACY)
    arrived = engine_copy_all(tmp_path)
    assert predicted == arrived
    assert kept <= arrived
    assert not gone & arrived
