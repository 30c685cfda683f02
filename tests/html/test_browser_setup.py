"""The browser tests' setup on a fresh clone: artefacts folder made on demand, and a missing
chromium is a skip with the reason only where the browser is not required."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.html import browser


def _no_chromium(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(browser.shutil, "which", lambda name: None)
    # A browser.sh that cannot install anything, as on a machine without root.
    fake = tmp_path / "scripts"
    fake.mkdir()
    (fake / "browser.sh").write_text("echo 'apt-get: permission denied' >&2\nexit 100\n")
    monkeypatch.setattr(browser, "REPO", tmp_path)


def test_missing_chromium_skips_with_the_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_chromium(monkeypatch, tmp_path)
    monkeypatch.delenv("TRIMDOCK_REQUIRE_BROWSER", raising=False)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match=r"could not install it \(exit 100: apt-get"):
        browser.chromium()


def test_missing_chromium_fails_where_required(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _no_chromium(monkeypatch, tmp_path)
    monkeypatch.setenv("TRIMDOCK_REQUIRE_BROWSER", "1")
    with pytest.raises(pytest.fail.Exception, match="could not install it"):
        browser.chromium()


def test_artefacts_folder_is_made_by_the_render(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A fresh clone has no tmp/artefacts: rendering creates it."""
    target = tmp_path / "fresh" / "tmp" / "artefacts"
    monkeypatch.setattr(browser, "ARTEFACTS", target)
    page = tmp_path / "page.html"
    page.write_text("<!DOCTYPE html><html><body><p id='x'>hello</p></body></html>")
    shown = browser.render(page, "fresh")
    assert shown.png.parent == target and shown.png.is_file()
    assert shown.dom.by_id("x").text() == "hello"
