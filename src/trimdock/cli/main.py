"""The `trimdock` command: registers the command groups and maps errors to exit codes.

Exit codes:
- 0 pass; 1 a gate or threshold failed; 2 bad input or usage (one line on stderr).
- 130 / 143: Ctrl-C (SIGINT) / SIGTERM ended the run: `trimdock: interrupted` /
  `trimdock: terminated` on stderr, after every cleanup ran (temp files and partial outputs
  removed). The 128 + signal number convention of the shell.
- 141: stdout was closed early (`trimdock layers img | head -1`): no message, no
  "Exception ignored ... BrokenPipeError" at exit. The code git, grep and coreutils give (they
  die of SIGPIPE, 128 + 13): distinct from 1 and 2, and a CI gate whose report was cut short
  does not pass under `set -o pipefail` (exit 0 would claim a check that never finished).
"""

from __future__ import annotations

import errno
import functools
import importlib
import os
import re
import select
import sys
from typing import Annotated, Any

import typer
from typer._click.exceptions import NoArgsIsHelpError
from typer._click.exceptions import UsageError as ClickUsageError
from typer.core import TyperGroup

from trimdock import __version__
from trimdock.cli.help import SHORT_HELP, name_values
from trimdock.cli.signals import signals_raise
from trimdock.errors import Interrupted, TrimdockError, UsageError

# 128 + SIGPIPE: what a shell reports for git/grep/cat cut short by `| head`.
STDOUT_CLOSED_EXIT = 141


class _Ended(BaseException):
    """Carries an interrupt or a closed stdout past typer, which would turn KeyboardInterrupt
    into a silent exit 130 and a broken pipe into exit 1 (the threshold-failed code)."""

    def __init__(self, exit_code: int, message: str | None) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.message = message


class _Group(TyperGroup):
    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            name_values(command)
            command.short_help = command.short_help or SHORT_HELP.get(cmd_name)
        return command

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        if self.commands:
            super().format_commands(ctx, formatter)
            return
        # The root help, printed before any command module is imported (_register_commands):
        # each command's one line is all it lists. tests/cli/test_startup.py compares the two.
        with formatter.section("Commands"):
            formatter.write_dl(list(SHORT_HELP.items()))

    def invoke(self, ctx: Any) -> Any:  # typer's vendored click Context
        try:
            return super().invoke(ctx)
        except ClickUsageError as exc:
            if isinstance(exc, NoArgsIsHelpError):
                raise
            raise UsageError(_usage_message(exc)) from exc
        except KeyboardInterrupt as exc:
            raise _interrupted(exc) from exc
        except OSError as exc:
            if exc.errno == errno.EPIPE and _stdout_closed():
                raise _Ended(STDOUT_CLOSED_EXIT, None) from exc
            raise


@functools.cache
def _wording() -> tuple[tuple[re.Pattern[str], str], ...]:
    """The parser's wording (pydantic-style) restated the way trimdock's own errors read;
    compiled on the first usage error, not at every start-up."""
    return (
        (re.compile(r"Value error, "), ""),
        (re.compile(r"Input should be greater than or equal to (\S+)"), r"must be at least \1"),
        (re.compile(r"Input should be less than or equal to (\S+)"), r"must be at most \1"),
        (re.compile(r"Input should be a valid integer[^.]*"), "must be a whole number"),
        (re.compile(r"Input should be a valid number[^.]*"), "must be a number"),
    )


def _usage_message(exc: ClickUsageError) -> str:
    """One line: what was wrong, and where to read how to say it."""
    message = exc.format_message().rstrip(".")
    for pattern, replacement in _wording():
        message = pattern.sub(replacement, message)
    command = exc.ctx.command_path if exc.ctx is not None else "trimdock"
    return f"{message[:1].lower()}{message[1:]} (see {command} -h)"


def _interrupted(exc: KeyboardInterrupt) -> _Ended:
    if isinstance(exc, Interrupted):
        return _Ended(exc.exit_code, exc.message)
    return _Ended(Interrupted.exit_code, Interrupted.message)  # Python's own Ctrl-C


def _stdout_closed() -> bool:
    """True when the reader of stdout has gone (a pipe reports POLLERR then), as opposed to a
    broken pipe to the engine or a worker, which stays an error."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):  # replaced by a non-file (tests capture)
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & select.POLLERR for _, events in poller.poll(0))


def _silence_stdout() -> None:
    # The text still buffered in sys.stdout would be flushed at interpreter exit and fail again
    # ("Exception ignored ... BrokenPipeError"): point the descriptor at /dev/null instead.
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)


app = typer.Typer(
    name="trimdock",
    help="Make container images smaller, faster to build and harder to attack.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=_Group,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)

# Each module registers its commands on `app` when imported; a module not yet written is skipped
# so that one command group never blocks the others.
COMMAND_MODULES = (
    "trimdock.cli.layers",
    "trimdock.cli.lint",
    "trimdock.cli.explain",
    "trimdock.cli.context",
    "trimdock.cli.host",
    "trimdock.cli.check",
    "trimdock.cli.fix",
    "trimdock.cli.explore",
    "trimdock.cli.scan",
    "trimdock.cli.db",
    "trimdock.cli.cache",
    "trimdock.cli.diff",
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
    first = _MODULE_OF.get(args[0], f"trimdock.cli.{args[0]}") if args else ""
    if first in COMMAND_MODULES and _register_module(first) and _has_command(args[0]):
        return
    for name in COMMAND_MODULES:
        if name != first:
            _register_module(name)


_registered: set[str] = set()
# The commands whose module is named otherwise (any other command costs every module's import).
_MODULE_OF = {"df": "trimdock.cli.host", "prune": "trimdock.cli.host"}
# Lines that need no command module: the root help (its list comes from SHORT_HELP, see
# _Group.format_commands) and the version.
_ROOT_ONLY: tuple[list[str], ...] = ([], ["-h"], ["--help"], ["--version"])
# Set by the shell's completion script (typer names it after the program).
COMPLETION_VARIABLE = "_TRIMDOCK_COMPLETE"


def _commands_for(argv: list[str] | None) -> list[str] | None:
    """The words that name the command to register (see `_register_commands`): the line, or
    under shell completion the command's name once it is typed in full; None for a line that
    needs no command (the root help)."""
    if COMPLETION_VARIABLE not in os.environ:
        args = sys.argv[1:] if argv is None else argv
        return None if args in _ROOT_ONLY else args
    # Completion scripts pass the line in COMP_WORDS (bash) or _TYPER_COMPLETE_ARGS (zsh, fish,
    # PowerShell). Once the command's name is followed by another word, only its module is
    # needed (`trimdock layers --for<TAB>`); completing the name itself needs every command.
    line = os.environ.get("COMP_WORDS") or os.environ.get("_TYPER_COMPLETE_ARGS") or ""
    words = line.split()
    return words[1:2] if len(words) > 2 or (len(words) == 2 and line.endswith(" ")) else []


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
    ) or any(group.name == command for group in app.registered_groups)


def _fail(message: str, code: int = 2) -> int:
    sys.stderr.write(f"trimdock: {message}\n")
    return code


def run(argv: list[str] | None = None) -> int:
    """Run the CLI and return its exit code (tests call this; the console script exits with it)."""
    try:
        words = _commands_for(argv)
        if words is not None:
            _register_commands(words)
        app(args=argv, prog_name="trimdock", standalone_mode=True)
    except SystemExit as exc:
        return _exit_code(exc.code)
    except TrimdockError as exc:
        return _fail(str(exc), exc.exit_code)
    except _Ended as ended:
        if ended.message is None:
            _silence_stdout()
            return ended.exit_code
        return _fail(ended.message, ended.exit_code)
    except KeyboardInterrupt as exc:  # while the command modules were being imported
        stop = _interrupted(exc)
        return _fail(stop.message or "interrupted", stop.exit_code)
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
    """The console script: signals raise (see cli/signals.py) only in a real run, not in tests
    that call run() inside pytest."""
    try:
        with signals_raise():
            code = run()
    except Interrupted as exc:  # arrived in the instant after run() had returned
        code = _fail(exc.message, exc.exit_code)
    sys.exit(code)
