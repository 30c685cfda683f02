"""Shell completion through the installed command, as bash asks for it."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from tests.host.fake_engine import fake_engine
from trimdock.cli.completion import complete_rule_ids

COMPLETION_LIMIT_SECONDS = 8


def complete(words: str, *, host: str | None = None) -> list[str]:
    env = {**os.environ, "_TRIMDOCK_COMPLETE": "complete_bash", "COMP_WORDS": words}
    env["COMP_CWORD"] = str(len(words.split()) - 1)
    if host is not None:
        env["DOCKER_HOST"] = host
    code = "from trimdock.cli.main import main; main()"
    # Completion has a one-second engine budget: the connect timeout (10 s) would blow this.
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=COMPLETION_LIMIT_SECONDS,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout.split()


def test_commands_and_choices_complete() -> None:
    assert complete("trimdock la") == ["layers"]
    assert complete("trimdock lint --format s") == ["sarif"]


@pytest.mark.engine
def test_image_names_come_from_the_local_engine(engine: None) -> None:
    assert "busybox:latest" in complete("trimdock layers busy")
    assert complete("trimdock layers docker-daemon:busybox:la") == ["docker-daemon:busybox:latest"]


def test_no_engine_gives_transports_not_an_error(tmp_path: object) -> None:
    names = complete("trimdock layers d", host="unix:///nonexistent/docker.sock")
    assert names == ["docker-daemon:", "docker-archive:"]


def test_rule_ids_complete_in_any_case() -> None:
    assert "TD101" in complete_rule_ids("td1")
    assert "DL3008" in complete_rule_ids("DL30")
    assert "TD501" in complete_rule_ids("TD5")


def test_rule_ids_complete_on_the_command_line() -> None:
    assert "TD101" in complete("trimdock explain TD10")
    assert "DL3008" in complete("trimdock lint --ignore DL300")


def test_an_engine_that_never_answers_costs_a_second_not_the_connect_timeout() -> None:
    socket_path = Path(tempfile.mkdtemp(prefix="tdcomp-", dir="/tmp")) / "e.sock"
    with fake_engine(socket_path, hang={"/version", "/_ping", "/info"}) as engine:
        names = complete("trimdock layers d", host=engine.docker_host)
    assert names == ["docker-daemon:", "docker-archive:"]
