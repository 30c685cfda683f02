"""The one atomic writer (`--output`, `--write-dockerignore`): modes like a shell redirect, and
one clear line when the folder cannot be written."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from trimdock.cli.main import run
from trimdock.errors import UsageError
from trimdock.report.output import write_atomically

DOCKERFILE = "FROM busybox:1.36\nCOPY app /app\n"


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_file_follows_the_umask(umask: None, tmp_path: Path, mask: int, expected: int) -> None:
    os.umask(mask)
    target = tmp_path / "report.json"
    write_atomically(target, "{}\n")
    assert mode(target) == expected


@pytest.mark.parametrize("existing", [0o644, 0o640, 0o600, 0o755])
def test_existing_file_keeps_its_mode(umask: None, tmp_path: Path, existing: int) -> None:
    target = tmp_path / "report.json"
    target.write_text("old\n")
    target.chmod(existing)
    os.umask(0o077)  # must not matter for a file that exists
    write_atomically(target, "new\n")
    assert target.read_text() == "new\n"
    assert mode(target) == existing
    assert [p.name for p in tmp_path.iterdir()] == ["report.json"]


def test_output_option_keeps_a_shared_report_readable(umask: None, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    report = tmp_path / "lint.json"
    report.write_text("{}\n")
    report.chmod(0o644)
    run(["lint", "--format", "json", "--output", str(report), str(tmp_path / "Dockerfile")])
    assert mode(report) == 0o644
    assert report.read_text().startswith("{")


def test_write_dockerignore_keeps_the_mode(umask: None, tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    (tmp_path / "app").write_text("x")
    (tmp_path / "junk.log").write_text("y" * 100)
    ignore = tmp_path / ".dockerignore"
    ignore.write_text("*.tmp\n")
    ignore.chmod(0o644)
    assert run(["context", str(tmp_path), "--write-dockerignore", "--quiet"]) in (0, 1)
    assert ignore.read_text() != "*.tmp\n"  # the suggestion was written
    assert mode(ignore) == 0o644


@pytest.fixture
def unwritable_dir(tmp_path: Path) -> Iterator[Path]:
    """A folder nobody may create files in: mode 0555, or immutable for root (who ignores
    modes)."""
    directory = tmp_path / "locked"
    directory.mkdir()
    if os.geteuid() != 0:
        directory.chmod(0o555)
        yield directory
        directory.chmod(0o755)
        return
    if shutil.which("chattr") is None:
        pytest.skip("root without chattr: no way to make a folder unwritable")
    made = subprocess.run(["chattr", "+i", str(directory)], capture_output=True, check=False)
    if made.returncode != 0:
        pytest.skip(f"chattr +i unsupported here: {made.stderr.decode().strip()}")
    yield directory
    subprocess.run(["chattr", "-i", str(directory)], check=True)


def test_output_into_an_unwritable_folder_is_one_line(
    unwritable_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "Dockerfile").write_text(DOCKERFILE)
    target = unwritable_dir / "lint.txt"
    capsys.readouterr()
    assert run(["lint", "--output", str(target), str(tmp_path / "Dockerfile")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trimdock: {target}: cannot write: "), err
    assert len(err.splitlines()) == 1
    assert list(unwritable_dir.iterdir()) == []


def test_writer_error_is_a_usage_error(unwritable_dir: Path) -> None:
    with pytest.raises(UsageError, match="cannot write"):
        write_atomically(unwritable_dir / "x.json", "{}")
