"""Every command's help, rendered at 80 columns as a user sees it: readable metavars, bracketed
text kept (no markup), nothing wider than the terminal."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import Any

import pytest
import typer
import typer._click as click

from trimdock.cli import main


def command_paths() -> list[str]:
    """Every command and subcommand the CLI registers (a new command is covered at once)."""
    main._register_commands([])
    root = typer.main.get_command(main.app)
    paths = [""]
    pending: list[tuple[str, Any]] = [("", root)]
    while pending:
        prefix, group = pending.pop()
        context = click.Context(group)
        for name in group.list_commands(context):
            command = group.get_command(context, name)
            if command is None or command.hidden:
                continue
            path = f"{prefix} {name}".strip()
            paths.append(path)
            if hasattr(command, "list_commands"):
                pending.append((path, command))
    return paths


COMMANDS = command_paths()


def help_text(command: str) -> str:
    env = {**os.environ, "COLUMNS": "80", "TERM": "xterm-256color"}
    args = [sys.executable, "-m", "trimdock", *command.split(), "--help"]
    result = subprocess.run(args, capture_output=True, text=True, env=env, check=False)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.fixture(scope="module")
def helps() -> dict[str, str]:
    return {command: help_text(command) for command in COMMANDS}


@pytest.mark.parametrize("command", COMMANDS)
def test_help_reads_well_in_80_columns(helps: dict[str, str], command: str) -> None:
    text = helps[command]
    assert [line for line in text.splitlines() if len(line) > 80] == []
    # Python types and typer's brace style are not metavars a user can act on.
    assert re.findall(r"<(str|bool|path|int|float|list\[[^>]*\])>|\{\w+\}", text) == []
    # Bounds are stated in words in the help; click's range notation reads like code.
    assert re.findall(r"\[x[<>]=?[^\]]*\]", text) == []
    assert "\x1b[" not in text


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ("layers", ["pyproject.toml [tool.trimdock]", "--max-waste SIZE", "IMAGE"]),
        ("lint", ["[lint] failure-threshold", "--ignore RULE_ID", "[DOCKERFILE]..."]),
        ("df", ["[prune.policies.NAME]", "--older-than DURATION", "--repo PATTERN"]),
        ("prune", ["[prune.policies.NAME]", "--keep-newest N", "--protect PATTERN"]),
        ("context", ["--build-arg NAME=VALUE", "[DIR]"]),
        ("explain", ["RULE_ID"]),
    ],
)
def test_bracketed_text_and_metavars_survive(
    helps: dict[str, str], command: str, words: list[str]
) -> None:
    # Wrapping may break a line inside a phrase (even after a hyphen): compare without it.
    flat = re.sub(r"-\s*\n\s*", "-", helps[command])
    flat = re.sub(r"\s+", " ", flat)
    for word in words:
        assert word in flat, word


def test_every_command_is_listed_in_full(helps: dict[str, str]) -> None:
    # click cuts a long first sentence with "..." in the command list.
    listed = helps[""].split("Commands:", 1)[1]
    assert "..." not in listed
    for command in (c for c in COMMANDS if c and " " not in c):
        assert re.search(rf"^  {command}\s+\S", listed, re.M), command


def test_flags_show_no_metavar(helps: dict[str, str]) -> None:
    assert re.search(r"--no-color\s+Plain", helps["layers"])
    assert re.search(r"-h, --help\s+Show", helps["lint"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["layers", "x", "--format", "yaml"],
            "trimdock: invalid value for '--format' / '-F': 'yaml' is not one of 'text', "
            "'json', 'html' (see trimdock layers -h)",
        ),
        (
            ["layers", "x", "--top", "-1"],
            "trimdock: invalid value for '--top': must be at least 0 (see trimdock layers -h)",
        ),
        (["lint", "--zzzz"], "trimdock: no such option: --zzzz (see trimdock lint -h)"),
    ],
)
def test_usage_errors_are_one_plain_line(
    args: list[str], expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from trimdock.cli.main import run

    assert run(args) == 2
    assert capsys.readouterr().err == expected + "\n"  # no library wording, no usage block
