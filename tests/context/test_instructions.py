"""The narrow Dockerfile extractor and COPY/ADD source resolution."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.context.support import write_tree
from trimdock.cli.main import run
from trimdock.context.ignorefile import parse_ignore
from trimdock.context.instructions import parse_build_file
from trimdock.context.resolve import resolve_uses
from trimdock.context.tree import scan_tree
from trimdock.context.walk import Builder, select

DOCKERFILE = """\
# syntax=docker/dockerfile:1
ARG APP=app
FROM busybox:latest AS build
ARG APP
COPY --chown=1:1 \\
    # a comment inside a continuation
    ${APP}/src \\
    /build/
COPY ["with space.txt", "/x/"]
RUN --mount=type=bind,source=tools,target=/t true
RUN --mount=type=cache,target=/c true
COPY <<EOF /etc/conf
COPY not/an/instruction /x
EOF
FROM busybox:latest
COPY --from=build /build /app
add *.json /app/
ADD https://example.invalid/x.tgz /tmp/
COPY $MISSING/x /y
"""


def test_extracts_stages_flags_sources_lines_and_json_form() -> None:
    build = parse_build_file(DOCKERFILE)
    assert [(s.index, s.name) for s in build.stages] == [(0, "build"), (1, None)]
    copy = build.uses[0]
    assert (copy.keyword, copy.line, copy.end_line) == ("COPY", 5, 8)
    assert copy.sources == ("app/src",) and copy.destination == "/build/"
    assert ("chown", "1:1") in copy.flags
    assert build.uses[1].json_form and build.uses[1].sources == ("with space.txt",)
    assert build.uses[2].keyword == "RUN" and build.uses[2].sources == ("tools",)
    assert ("COPY", 13) not in [(u.keyword, u.line) for u in build.uses]  # a heredoc body
    assert build.uses[3].from_stage == "build" and not build.uses[3].reads_context
    assert build.uses[4].keyword == "ADD" and build.uses[4].sources == ("*.json",)
    assert build.uses[-1].unresolved == ("$MISSING/x",)


def test_build_args_and_escape_directive() -> None:
    text = "# escape=`\nFROM busybox\nARG DIR=x\nCOPY ${DIR}/a `\n  /dst\n"
    build = parse_build_file(text, build_args={"DIR": "y"})
    assert build.uses[0].sources == ("y/a",)
    assert (build.uses[0].line, build.uses[0].end_line) == (4, 5)


def test_resolution_of_globs_directories_symlinks_and_exclusions(tmp_path: Path) -> None:
    write_tree(
        tmp_path,
        {
            "a.json": b"{}",
            "b.json": b"{}",
            "sub/c.json": b"{}",
            "app/src/main.py": b"print()",
            "app/src/secret.txt": b"x",
        },
    )
    (tmp_path / "link").symlink_to("app/src")
    (tmp_path / "loop1").symlink_to("loop2")
    (tmp_path / "loop2").symlink_to("loop1")
    text = (
        "FROM busybox\nCOPY *.json /a/\nCOPY link/ /b/\nCOPY loop1 /c/\n"
        "COPY app/src/secret.txt /d/\nCOPY nothing* /e/\nCOPY ../../a.json /f\n"
    )
    build = parse_build_file(text)
    tree = scan_tree(tmp_path)
    ignore = parse_ignore("app/src/secret.txt\n", ".dockerignore")
    selection = select(tree, ignore, Builder.BUILDKIT, None)
    resolved = resolve_uses(tree, selection.visible, build.uses)
    paths = [{tree.entries[i].path for i in r.entries} for r in resolved]
    assert paths[0] == {"a.json", "b.json"}  # `*` does not reach sub/
    assert paths[1] == {"link", "app/src", "app/src/main.py"}  # the excluded file is not copied
    assert resolved[2].sources[0].error == "symlink-loop"
    assert resolved[3].sources[0].error == "missing"
    assert resolved[4].sources[0].error == "no-match"
    assert paths[5] == {"a.json"}  # `..` cannot leave the context


# Forms a naive line splitter misreads; each must give the same use as the plain spelling.
SPELLINGS = [
    "COPY app/main.py /x/",
    "COPY\tapp/main.py\t/x/",
    "copy  app/main.py   /x/",
    "COPY \\\n  app/main.py \\\n  /x/",
    'COPY ["app/main.py", "/x/"]',
    "COPY --chown=1:1\tapp/main.py /x/",
]


@pytest.mark.parametrize("instruction", SPELLINGS)
def test_every_spelling_of_a_copy_is_seen(instruction: str) -> None:
    build = parse_build_file(f"FROM busybox\n{instruction}\n")
    assert [(u.keyword, u.sources, u.destination) for u in build.uses] == [
        ("COPY", ("app/main.py",), "/x/")
    ]


def test_json_form_expands_variables_but_keeps_quotes_and_escapes() -> None:
    text = 'FROM busybox\nARG D=app\nCOPY ["${D}/it\'s \\\\x", "/x/"]\n'
    assert parse_build_file(text).uses[0].sources == ("app/it's \\x",)


def test_suggested_ignore_file_keeps_a_tab_separated_copy(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_tree(tmp_path, {"a": b"needed\n", "junk/big": b"x" * 10_000})
    (tmp_path / "Dockerfile").write_text("FROM busybox\nCOPY\ta\t/x/\n")
    args = ["context", str(tmp_path), "--suggest", "--format", "json", "--failure-threshold=none"]
    assert run(args) == 0
    suggested = json.loads(capsys.readouterr().out)["suggestion"]["text"]
    ignore = parse_ignore(suggested, ".dockerignore")
    tree = scan_tree(tmp_path)
    selection = select(tree, ignore, Builder.BUILDKIT, "Dockerfile")
    sent = {e.path for e, seen in zip(tree.entries, selection.visible, strict=True) if seen}
    assert "a" in sent and "junk/big" not in sent


def test_an_arg_bomb_in_a_copy_source_is_bounded() -> None:
    # Each ARG repeats the previous one ten times: 10^9 characters at the last level, a
    # 300 MB report at depth 7 and a MemoryError at 8 before the shared expansion budget.
    names = "abcdefghi"
    lines = ["FROM busybox", f"ARG {names[0]}=xxxxxxxxxx"]
    lines += [f"ARG {name}=" + f"${prev}" * 10 for prev, name in itertools.pairwise(names)]
    lines.append(f"COPY ${names[-1]} /x/")
    build = parse_build_file("\n".join(lines) + "\n")
    (use,) = build.uses
    assert use.unresolved == (f"${names[-1]}",)  # past a limit: reported, not expanded
    assert sum(map(len, use.sources)) < 1_000_000
