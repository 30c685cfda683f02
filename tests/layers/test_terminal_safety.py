"""File names and history text are input: `layers` text output never passes their control
characters to the terminal (issue 8, item 6)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.image.hostile import docker_archive, layer
from trimdock.cli.main import run
from trimdock.report.escaping import safe_terminal

OSC_TITLE = "\x1b]0;owned\x07"
CLEAR = "\x1b[2J\x1b[H"
C1_CSI = "\x9b31m"
# What rich itself may print when colour is on: SGR sequences only.
_SGR = re.compile("\x1b\\[[0-9;]*m")
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


@pytest.fixture
def hostile_image(tmp_path: Path) -> Path:
    folder = f"dir{OSC_TITLE}"
    bottom = layer(
        (folder, None, "dir"),
        (f"{folder}/clear{CLEAR}", b"x" * 10, "file"),
        (f"gone{C1_CSI}\x07", b"y" * 100, "file"),
        (f"link{CLEAR}", f"{folder}/clear{CLEAR}", "hardlink"),
    )
    top = layer((f".wh.gone{C1_CSI}\x07", b"", "file"))
    created_by = [f"/bin/sh -c echo {OSC_TITLE}", f"/bin/sh -c rm {CLEAR}\nnext line"]
    return docker_archive(tmp_path / "hostile.tar", [bottom, top], created_by=created_by)


@pytest.mark.parametrize("color", ["--no-color", "FORCE_COLOR"])
@pytest.mark.parametrize(
    "mode", [[], ["--top", "0"], ["--at", "0"], ["--at", "-1"], ["--deleted"]], ids=str
)
def test_no_control_character_reaches_the_terminal(
    hostile_image: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    mode: list[str],
    color: str,
) -> None:
    flags = list(mode)
    if color == "FORCE_COLOR":
        monkeypatch.setenv("FORCE_COLOR", "1")
        monkeypatch.delenv("NO_COLOR", raising=False)
    else:
        flags.append(color)
    code = run(["layers", f"docker-archive:{hostile_image}", *flags])
    out, err = capsys.readouterr()
    assert code == 0, err
    plain = _SGR.sub("", out)
    assert _CONTROLS.search(plain) is None, repr(plain)
    # The names are still there, visibly escaped.
    shown = {
        (): [safe_terminal(OSC_TITLE)[:8]],
        ("--top", "0"): ["\\x9b31m\\x07"],
        ("--at", "0"): ["\\x1b]0;owned\\x07/clear\\x1b[2J\\x1b[H", "=> /dir\\x1b]0;owned"],
        ("--at", "-1"): ["/link\\x1b[2J"],
        ("--deleted",): ["/gone\\x9b31m\\x07"],
    }[tuple(mode)]
    for text in shown:
        assert text in plain, plain


def test_safe_terminal_escapes_controls_and_keeps_text() -> None:
    assert safe_terminal("a\x1b]0;t\x07b\nc\td\x9b") == "a\\x1b]0;t\\x07b\\x0ac\td\\x9b"
    assert safe_terminal("ünïcødé 世界") == "ünïcødé 世界"
    assert safe_terminal("bad\udcff") == "bad\ufffd"
