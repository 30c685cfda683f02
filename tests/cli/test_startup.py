"""Start-up: a command imports only what it runs (structural checks, never timings).

Each case runs the CLI in a fresh interpreter and lists the modules it loaded. The heavy ones
(the Docker SDK and its HTTP stack, jinja2, textual, jsonschema, the readers of other image
sources, the renderers of formats not chosen, other commands) must stay unloaded: each costs
start-up that a run which never uses it should not pay (`python -X importtime` shows how much).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.engine import build_image
from trimdock.cli import main
from trimdock.cli.help import SHORT_HELP

# What the probe runs: the console script's `run`, then the names of every loaded module.
PROBE = """
import json, os, sys
from trimdock.cli.main import run
code = run(sys.argv[1:])
with open(os.environ["TRIMDOCK_PROBE_OUT"], "w") as out:
    json.dump({"code": code, "modules": sorted(sys.modules)}, out)
"""

# Never needed by `layers` on an engine name (nor by its help).
NOT_FOR_LAYERS = (
    "docker",  # the SDK: a local engine is asked over its socket (trimdock.engine.client)
    "requests",
    "urllib3",
    "jinja2",  # --format html only
    "textual",  # explore
    "jsonschema",
    "yaml",
    "bashlex",  # Dockerfile commands
    "trimdock.image.registry",  # docker://
    "trimdock.registry",
    "trimdock.image.files",  # archives and OCI layouts
    "trimdock.image.docker_archive",
    "trimdock.image.oci",
    "trimdock.image.store",
    "trimdock.image.layer",  # tar layers: archives, registries, the save stream
    "trimdock.image.digests",
    "zstandard",
    "trimdock.layers.timetravel",  # --at, --extract
    "trimdock.layers.html",
    "trimdock.report.html",
    "trimdock.report.formats.sarif",  # finding formats of lint, scan, check
    "trimdock.report.formats.checkstyle",
    "trimdock.report.formats.junit",
    "trimdock.report.formats.gitlab",
    "trimdock.report.formats.common",
    "xml.etree.ElementTree",
    "rich.progress",  # only on a terminal
    "tomllib",  # only when a settings file is found
    "trimdock.dockerfile",  # other commands
    "trimdock.rules",
    "trimdock.context",
    "trimdock.host",
    "trimdock.runtime",
    "trimdock.fix",
    "trimdock.security",
    "trimdock.ui",
)
# Help is printed without reaching any engine or image.
NOT_FOR_HELP = (
    *NOT_FOR_LAYERS,
    "trimdock.engine.client",
    "trimdock.image.daemon",
    "trimdock.image.layerstore",
    "http.client",
)


def probe(args: list[str], workdir: Path, **env: str) -> tuple[int, set[str]]:
    """Run `trimdock ARGS` in a new interpreter in `workdir` (no settings file above it)."""
    out = workdir / "modules.json"
    environment = {**os.environ, "TRIMDOCK_PROBE_OUT": str(out), **env}
    subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=workdir,
        env=environment,
        stdout=subprocess.DEVNULL,
        check=True,
        timeout=120,
    )
    result = json.loads(out.read_text())
    return int(result["code"]), set(result["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    """The `names` (packages with any of their submodules) found in `modules`."""
    return sorted(n for n in names if any(m == n or m.startswith(f"{n}.") for m in modules))


@pytest.mark.parametrize("args", [["layers", "--help"], ["layers", "-h"]])
def test_layers_help_imports_no_source_and_no_other_command(
    args: list[str], tmp_path: Path
) -> None:
    code, modules = probe(args, tmp_path)
    assert code == 0
    assert "trimdock.cli.layers" in modules  # the probe did run the command
    assert loaded(modules, NOT_FOR_HELP) == []
    other_commands = {m for m in modules if m.startswith("trimdock.cli.")} - {
        "trimdock.cli.layers",
        "trimdock.cli.main",
        "trimdock.cli.common",
        "trimdock.cli.help",
        "trimdock.cli.signals",
        "trimdock.cli.completion",
    }
    assert other_commands == set()


@pytest.mark.parametrize("args", [[], ["--help"], ["-h"], ["--version"]])
def test_root_help_and_version_import_no_command(args: list[str], tmp_path: Path) -> None:
    code, modules = probe(args, tmp_path)
    assert code == (2 if not args else 0)  # no arguments: the help, as a usage error
    commands = {m for m in modules if m.startswith("trimdock.cli.")}
    assert commands <= {"trimdock.cli.main", "trimdock.cli.help", "trimdock.cli.signals"}
    assert loaded(modules, NOT_FOR_HELP) == []


def command_modules(modules: set[str]) -> set[str]:
    """The command modules among `modules` (the CLI's shared modules left out)."""
    return {m for m in modules if m.startswith("trimdock.cli.")} - {
        "trimdock.cli.main",
        "trimdock.cli.common",
        "trimdock.cli.help",
        "trimdock.cli.signals",
        "trimdock.cli.completion",
    }


@pytest.mark.parametrize("command", sorted(SHORT_HELP))
def test_a_command_imports_no_other_command(command: str, tmp_path: Path) -> None:
    code, modules = probe([command, "--help"], tmp_path)
    assert code == 0
    commands = command_modules(modules)
    assert len(commands) == 1, commands  # the command's own module only


@pytest.mark.parametrize(
    ("variables", "loads_all"),
    [
        ({"COMP_WORDS": "trimdock layers --for", "COMP_CWORD": "2"}, False),  # bash
        ({"_TYPER_COMPLETE_ARGS": "trimdock layers --for"}, False),  # zsh, fish, PowerShell
        ({"COMP_WORDS": "trimdock df ", "COMP_CWORD": "2"}, False),
        ({"COMP_WORDS": "trimdock la", "COMP_CWORD": "1"}, True),  # the command's name
    ],
)
def test_completion_imports_the_command_being_completed(
    variables: dict[str, str], loads_all: bool, tmp_path: Path
) -> None:
    shell = "bash" if "COMP_WORDS" in variables else "zsh"
    code, modules = probe([], tmp_path, _TRIMDOCK_COMPLETE=f"complete_{shell}", **variables)
    assert code == 0
    commands = command_modules(modules)
    assert (commands == set(main.COMMAND_MODULES)) if loads_all else (len(commands) == 1)


def test_root_help_lists_what_the_registered_commands_say(tmp_path: Path) -> None:
    # The root help lists SHORT_HELP without importing the commands: the same text as click's
    # own list of every registered command (a command added without its line would show).
    def root_help(code: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp_path,
            env={**os.environ, "COLUMNS": "80"},
            capture_output=True,
            text=True,
            check=True,
            timeout=120,
        ).stdout

    run_help = "from trimdock.cli import main; main.run(['--help'])"
    fresh = root_help(run_help)
    registered = root_help(
        f"from trimdock.cli import main; main._register_commands([]); {run_help}"
    )
    assert "layers" in registered.split("Commands:", 1)[1]
    assert fresh == registered


def test_a_usage_error_reaches_no_engine(tmp_path: Path) -> None:
    code, modules = probe(["layers", "img", "--export", str(tmp_path / "x")], tmp_path)
    assert code == 2
    assert loaded(modules, NOT_FOR_HELP) == []


def test_finding_formats_import_only_the_chosen_renderer(tmp_path: Path) -> None:
    (tmp_path / "Dockerfile").write_text("FROM busybox:1.35\n")
    code, modules = probe(["lint", "--format", "sarif", "Dockerfile"], tmp_path)
    assert code in (0, 1)
    assert "trimdock.report.formats.sarif" in modules
    assert (
        loaded(
            modules,
            (
                "trimdock.report.formats.checkstyle",
                "trimdock.report.formats.junit",
                "trimdock.report.formats.gitlab",
                "jinja2",
                "docker",
                "rich.progress",
            ),
        )
        == []
    )


@pytest.fixture(scope="module")
def small_image(engine: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("startup")
    (context / "Dockerfile").write_text("FROM busybox:1.35\nRUN echo startup > /startup.txt\n")
    return build_image("cli-startup", context)


@pytest.mark.engine
def test_layers_on_an_engine_name_imports_only_the_store_reader(
    small_image: str, tmp_path: Path
) -> None:
    # The common case: an image of this machine's engine, read from its layer store.
    code, modules = probe(["layers", small_image], tmp_path, TRIMDOCK_ENGINE_READER="store")
    assert code == 0
    assert "trimdock.image.layerstore" in modules
    assert loaded(modules, NOT_FOR_LAYERS) == []
    code, modules = probe(["layers", small_image, "--format", "json"], tmp_path)
    assert code == 0
    assert loaded(modules, NOT_FOR_LAYERS) == []


@pytest.mark.engine
def test_the_save_stream_still_gets_the_sdk(small_image: str, tmp_path: Path) -> None:
    # The counterpart: the save stream is read through the SDK, imported once it is needed.
    code, modules = probe(["layers", small_image], tmp_path, TRIMDOCK_ENGINE_READER="save")
    assert code == 0
    assert {"docker", "trimdock.image.layer"} <= modules
