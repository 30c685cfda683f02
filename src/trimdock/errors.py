"""Errors a user can cause. The CLI turns each into one line on stderr and exit code 2."""

from __future__ import annotations


class TrimdockError(Exception):
    """Base of every user-facing error: the message names the input and what is wrong."""

    exit_code = 2

    def __init__(self, message: str, *, source: str | None = None) -> None:
        self.source = source
        super().__init__(f"{source}: {message}" if source else message)


class UsageError(TrimdockError):
    """Bad command-line arguments or option values."""


class ConfigError(TrimdockError):
    """A broken or unknown setting in .trimdock.toml / [tool.trimdock]."""


class ImageSourceError(TrimdockError):
    """An image reference that cannot be read: missing, corrupt, unsupported."""


class EngineError(TrimdockError):
    """The Docker Engine is unreachable or refused a request."""


class DockerfileError(TrimdockError):
    """A Dockerfile that cannot be read at all (unreadable, binary)."""


class ContextError(TrimdockError):
    """A build context or .dockerignore that cannot be used."""


class UnsafePathError(TrimdockError):
    """An archive entry or extraction request that would write outside its target."""


class Interrupted(KeyboardInterrupt):
    """A signal ended the run: Ctrl-C (SIGINT) here, SIGTERM in `Terminated`.

    A `KeyboardInterrupt` (so a `BaseException`) on purpose: `except Exception` error mapping
    never swallows it, while every `finally`, `with` exit and `except BaseException` /
    `except KeyboardInterrupt` cleanup still runs on its way up. The CLI prints
    `trimdock: <message>` and exits with `exit_code` (128 + the signal number, the shell's
    convention for a run a signal ended).
    """

    exit_code = 130
    message = "interrupted"


class Terminated(Interrupted):
    """SIGTERM: what `timeout`, `docker stop`-like supervisors and CI cancellation send."""

    exit_code = 143
    message = "terminated"


class ComposeError(TrimdockError):
    """A Compose file that cannot be read: not YAML, not UTF-8, unreadable."""
