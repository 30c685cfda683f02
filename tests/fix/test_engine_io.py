"""The rebuild measure edits a copy of the context, never the user's files."""

from __future__ import annotations

from pathlib import Path

from trimdock.dockerfile import parse
from trimdock.fix.engine import touched_copy
from trimdock.fix.verify import volatile_file


def test_the_edited_file_is_a_copy_and_the_original_is_untouched(tmp_path: Path) -> None:
    context = tmp_path / "ctx"
    (context / "conf").mkdir(parents=True)
    (context / "conf" / "app.yaml").write_text("a: 1\n")
    (context / "big.bin").write_bytes(b"x" * 1000)
    copy = touched_copy(context, "conf/app.yaml", tmp_path / "scratch")
    assert (context / "conf" / "app.yaml").read_text() == "a: 1\n"
    assert (copy.directory / "conf" / "app.yaml").read_text().startswith("a: 1\n\n# edited")
    assert (copy.directory / "big.bin").read_bytes() == b"x" * 1000


def test_the_most_volatile_file_is_the_first_often_edited_file_copied(tmp_path: Path) -> None:
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "main.py").write_text("print(1)\n")
    (tmp_path / "app" / "logo.png").write_bytes(b"\x89PNG")
    (tmp_path / "tool.tar.gz").write_bytes(b"\x1f\x8b")
    dockerfile = parse(
        "FROM busybox\nCOPY tool.tar.gz /tmp/\nCOPY app/ /app/\nCOPY --from=x /y /y\n"
    )
    assert volatile_file(dockerfile, tmp_path) == "app/main.py"
    assert volatile_file(parse("FROM busybox\nCOPY tool.tar.gz /tmp/\n"), tmp_path) is None
