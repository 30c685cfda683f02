"""bashlex's parse tables read back from the cache are the ones its generator builds."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from trimdock.dockerfile import bashlex_tables

SCRIPTS = (
    "apt-get update && apt-get install -y curl | tee log; rm -rf /var/lib/apt/lists/*",
    'if [ -n "$x" ]; then for f in a b; do echo "$f" > /tmp/$f; done; fi',
    "set -eux; { echo a; echo b; } 2>&1 | sort; (cd /src && make) || exit 1",
    'export V="$(dpkg --print-architecture)"; while read -r l; do :; done < /etc/os-release',
)

# A fresh interpreter with XDG_CACHE_HOME pointed at `cache`: prints the tables the parser
# uses and the parse trees of SCRIPTS.
PROBE = """
import json, sys
from trimdock.dockerfile.bashlex_tables import load_bashlex
bashlex = load_bashlex()
parser = bashlex.parser.yaccparser
trees = [[t.dump() for t in bashlex.parse(s)] for s in json.loads(sys.argv[1])]
action = {str(k): v for k, v in parser.action.items()}
goto = {str(k): v for k, v in parser.goto.items()}
print(json.dumps({"action": action, "goto": goto, "trees": trees}))
"""


def probe(cache: Path, *, plain: bool = False) -> dict[str, object]:
    code = PROBE.replace("load_bashlex()", "__import__('bashlex')") if plain else PROBE
    env = {"XDG_CACHE_HOME": str(cache), "PATH": "/usr/bin:/bin", "HOME": str(cache)}
    done = subprocess.run(
        [sys.executable, "-c", code, json.dumps(SCRIPTS)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_cached_tables_parse_like_bashlex_own(tmp_path: Path) -> None:
    own = probe(tmp_path / "unused", plain=True)  # bashlex as it imports itself
    first = probe(tmp_path / "cache")  # builds the tables and stores them
    stored = list((tmp_path / "cache" / "trimdock").glob("bashlex-tables-*.json"))
    assert len(stored) == 1
    second = probe(tmp_path / "cache")  # reads them back
    for run in (first, second):
        assert run["action"] == own["action"]
        assert run["goto"] == own["goto"]
        assert run["trees"] == own["trees"]
    assert not (tmp_path / "unused").exists()


@pytest.mark.parametrize(
    "content",
    ["", "{", '{"key": "x"}', "[]", '{"key": "K", "action": {"0": {"A": "s"}}, "goto": {}}'],
)
def test_a_damaged_cache_file_is_rebuilt(tmp_path: Path, content: str) -> None:
    reference = probe(tmp_path / "fresh")
    [stored] = list((tmp_path / "fresh" / "trimdock").glob("bashlex-tables-*.json"))
    damaged = tmp_path / "damaged" / "trimdock" / stored.name
    damaged.parent.mkdir(parents=True)
    damaged.write_text(content.replace("K", stored.stem.removeprefix("bashlex-tables-")))
    again = probe(tmp_path / "damaged")
    assert again["action"] == reference["action"]
    assert again["trees"] == reference["trees"]
    assert json.loads(damaged.read_text())["action"]  # written again, whole


def test_read_tables_rejects_a_wrong_shape(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    bashlex_tables.write_tables("k1", {0: {"A": 1}}, {0: {"b": 2}})
    assert bashlex_tables.read_tables("k1") == ({0: {"A": 1}}, {0: {"b": 2}})
    assert bashlex_tables.read_tables("k2") is None
    path = tmp_path / "trimdock" / "bashlex-tables-k1.json"
    path.write_text(json.dumps({"key": "k1", "action": {"0": {"A": 1.5}}, "goto": {}}))
    assert bashlex_tables.read_tables("k1") is None


def test_an_unwritable_cache_is_not_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))  # a file where the folder would go
    bashlex_tables.write_tables("k", {0: {"A": 1}}, {})
    assert bashlex_tables.read_tables("k") is None
