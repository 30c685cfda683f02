"""Debian's chromium, headless: render a page to a PNG and dump the DOM its scripts left.

The PNGs are kept as test artefacts (and the README's screenshot comes from them) in
$TRIMDOCK_ARTEFACTS, by default tmp/artefacts/ in the repository.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTEFACTS = Path(os.environ.get("TRIMDOCK_ARTEFACTS", REPO / "tmp" / "artefacts"))
WIDTH = 1280
# Flags that keep a headless run offline, quiet and independent of any profile.
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    "--enable-logging=stderr",
    "--v=0",
)


def chromium() -> str:
    """The browser, installed by scripts/browser.sh when missing.

    When the script cannot install it (no root, no package registry), the browser tests are
    skipped with its reason, except where the browser is required (scripts/test.sh, hence CI,
    sets TRIMDOCK_REQUIRE_BROWSER after installing it): there they fail.
    """
    found = shutil.which("chromium")
    if found is None:
        script = REPO / "scripts" / "browser.sh"
        result = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=False)
        found = shutil.which("chromium")
        if found is None:
            tail = (result.stderr.strip().splitlines() or ["no output"])[-1]
            reason = (
                f"chromium is not installed and scripts/browser.sh could not install it "
                f"(exit {result.returncode}: {tail})"
            )
            if os.environ.get("TRIMDOCK_REQUIRE_BROWSER") or os.environ.get("CI"):
                pytest.fail(reason)
            pytest.skip(reason)
    return found


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> list[Element]:
        found = [self]
        for child in self.children:
            if isinstance(child, Element):
                found.extend(child.walk())
        return found

    def find_all(self, tag: str) -> list[Element]:
        return [e for e in self.walk() if e.tag == tag]

    def by_id(self, ident: str) -> Element:
        matches = [e for e in self.walk() if e.attrs.get("id") == ident]
        assert len(matches) == 1, f"{len(matches)} elements with id {ident!r}"
        return matches[0]


_VOID = {"meta", "br", "img", "input", "link", "hr", "area", "base", "col", "embed", "source"}


class _Builder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in _VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse_dom(text: str) -> Element:
    builder = _Builder()
    builder.feed(text)
    builder.close()
    return builder.root


@dataclass(frozen=True)
class Rendered:
    dom: Element
    html: str  # the DOM as serialised by the browser
    png: Path
    console: list[str]  # console messages the page logged (errors included)


def render(page: Path, name: str, *, height: int = 1800) -> Rendered:
    """Load `page` in chromium; screenshot to ARTEFACTS/`name`.png and dump the DOM."""
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    png = ARTEFACTS / f"{name}.png"
    png.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="trimdock-chromium-") as profile:
        result = subprocess.run(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--window-size={WIDTH},{height}",
                f"--screenshot={png}",
                "--dump-dom",
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert result.returncode == 0, result.stderr[-2000:]
    console = [line for line in result.stderr.splitlines() if ":CONSOLE" in line]
    return Rendered(parse_dom(result.stdout), result.stdout, png, console)


def png_size(path: Path) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", head[16:24])
    return width, height


# Screenshots in the README are these tests' artefacts: TRIMDOCK_UPDATE_SCREENSHOTS=1 copies
# them to docs/images/, and the tests check that the copies still match what they produce.
DOCS_IMAGES = REPO / "docs" / "images"


def published(artefact: Path, name: str) -> Path:
    """The committed copy of `artefact` (refreshed first when asked)."""
    target = DOCS_IMAGES / name
    if os.environ.get("TRIMDOCK_UPDATE_SCREENSHOTS"):
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(artefact, target)
    assert target.is_file(), f"{target} missing: run the test with TRIMDOCK_UPDATE_SCREENSHOTS=1"
    return target
