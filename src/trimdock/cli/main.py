"""The `trimdock` command: registers the command groups and maps errors to exit codes.

Exit codes: 0 pass, 1 a gate or threshold failed, 2 bad input or usage (one line on stderr).
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Annotated

import typer

from trimdock import __version__
from trimdock.errors import TrimdockError

app = typer.Typer(
    name="trimdock",
    help="Make container images smaller, faster to build and harder to attack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each module registers its commands on `app` when imported; a module not yet written is skipped
# so that one command group never blocks the others.
COMMAND_MODULES = (
    "trimdock.cli.layers",
    "trimdock.cli.lint",
    "trimdock.cli.context",
    "trimdock.cli.host",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"trimdock {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    """Make container images smaller, faster to build and harder to attack."""


def _register_commands(argv: list[str] | None = None) -> None:
    # Importing every command group costs about half a second of start-up (docker SDK,
    # bashlex, ...): when the command named on the line lives in the module of the same name,
    # register only that one.
    args = sys.argv[1:] if argv is None else argv
    first = f"trimdock.cli.{args[0]}" if args else ""
    if first in COMMAND_MODULES and _register_module(first) and _has_command(args[0]):
        return
    for name in COMMAND_MODULES:
        if name != first:
            _register_module(name)


_registered: set[str] = set()


def _register_module(name: str) -> bool:
    # run() is called many times in one process by the tests: register each group once.
    if name in _registered:
        return True
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:
            return False
        raise
    module.register(app)
    _registered.add(name)
    return True


def _has_command(command: str) -> bool:
    return any(
        (info.name or getattr(info.callback, "__name__", "").replace("_", "-")) == command
        for info in app.registered_commands
    )


def _fail(message: str, code: int = 2) -> int:
    sys.stderr.write(f"trimdock: {message}\n")
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this; the console script exits with it)."""
    _register_commands(argv)
    try:
        app(args=argv, prog_name="trimdock", standalone_mode=True)
    except SystemExit as exc:
        return _exit_code(exc.code)
    except TrimdockError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # the promise is "never a traceback"
        if os.environ.get("TRIMDOCK_DEBUG"):
            raise
        return _fail(f"internal error: {type(exc).__name__}: {exc} (set TRIMDOCK_DEBUG=1)", 2)
    return 0


def _exit_code(code: object) -> int:
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    sys.stderr.write(f"{code}\n")
    return 2


def main() -> None:
    sys.exit(run())
