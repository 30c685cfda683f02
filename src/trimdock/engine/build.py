"""Building images on the engine: the one build call, its output and its failures.

`context --verify` and `fix --verify` both build through `ImageBuilder`. It uses the legacy
builder, the one the engine API's `/build` offers without a BuildKit session (the engines
trimdock runs against here have no BuildKit). A build the engine refuses, by a failed step in
the output stream or by a 4xx answer to the request (a Dockerfile it cannot parse), is a
`BuildFailed` carrying the engine's message and the last lines of the output; anything else
(no engine, a 5xx, a dropped connection) is the `EngineError` of `EngineClient.errors`.
"""

from __future__ import annotations

import re
import time
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from trimdock.engine.client import EngineClient

# A RUN step may print nothing for minutes: the client's request timeout (a bound per read)
# would abort a healthy build, so a build waits up to an hour for the next line.
BUILD_TIMEOUT_SECONDS = 3600.0
# Output lines kept for a failure: the failing step and what it printed last.
LOG_LINES = 5

_STEP_RE = re.compile(r"^Step \d+/\d+ : (\S+)")


class BuildFailed(Exception):
    """The engine refused the Dockerfile (a step failed, or it could not parse it): not an
    engine fault. `message` is the engine's own; `log` the output lines just before it."""

    def __init__(self, message: str, log: tuple[str, ...] = ()) -> None:
        self.message = message
        self.log = log
        super().__init__("\n".join([*log, message]))

    @property
    def line(self) -> str:
        """The engine's message on one line, for an error line on stderr."""
        return " ".join(self.message.split())


@dataclass(frozen=True)
class Build:
    tag: str
    seconds: float
    steps: int  # build steps, FROM excluded
    cached: int  # steps the builder took from its cache


@dataclass(frozen=True)
class Output:
    """What a successful build printed, counted."""

    steps: int
    cached: int


def read_output(events: Iterable[object]) -> Output:
    """Consume the engine's decoded build stream: count the steps (FROM excluded) and the
    ones served from the cache; a stream ending in an error raises `BuildFailed`."""
    log: deque[str] = deque(maxlen=LOG_LINES)  # bounded: a build may print thousands
    steps = cached = 0
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("error"):
            raise BuildFailed(str(event["error"]).strip(), tuple(log))
        for line in str(event.get("stream") or "").splitlines():
            if not line.strip():
                continue
            log.append(line)
            match = _STEP_RE.match(line)
            if match and match.group(1).upper() != "FROM":
                steps += 1
            if "Using cache" in line:
                cached += 1
    return Output(steps, cached)


def refusal(exc: BaseException) -> BuildFailed | None:
    """The `BuildFailed` for the engine answering 4xx to a build request, else None.

    A 404 is left to the engine mapping: `/build` always exists, so it means a wrong endpoint
    or API version, an engine fault rather than the Dockerfile's.
    """
    status = getattr(getattr(exc, "response", None), "status_code", None)
    if not isinstance(status, int) or not 400 <= status < 500 or status == 404:
        return None
    explanation = getattr(exc, "explanation", None)
    return BuildFailed(str(explanation or exc).strip())


class ImageBuilder:
    """Builds on one engine connection; remembers every tag it made, so `remove` takes
    away exactly the images this run built (never any other)."""

    def __init__(self, client: EngineClient) -> None:
        self.client = client
        self.tags: list[str] = []

    def from_directory(
        self,
        context: Path,
        dockerfile: Path,
        tag: str,
        *,
        nocache: bool = False,
        build_args: Mapping[str, str] | None = None,
    ) -> Build:
        """Build the directory `context` as the SDK sends it (its `.dockerignore` applies); a
        `dockerfile` outside the context travels under a private name, as the docker CLI
        sends it."""
        return self._build(
            tag,
            nocache=nocache,
            build_args=build_args,
            path=str(context),
            dockerfile=str(dockerfile),
        )

    def from_archive(
        self,
        archive: IO[bytes],
        dockerfile: str,
        tag: str,
        *,
        nocache: bool = False,
        build_args: Mapping[str, str] | None = None,
    ) -> Build:
        """Build a context archive the caller packed; `dockerfile` is its name inside."""
        archive.seek(0)
        return self._build(
            tag,
            nocache=nocache,
            build_args=build_args,
            fileobj=archive,
            custom_context=True,
            dockerfile=dockerfile,
        )

    def _build(
        self, tag: str, *, nocache: bool, build_args: Mapping[str, str] | None, **source: Any
    ) -> Build:
        started = time.monotonic()
        with self.client.errors("build"):
            try:
                stream = self.client.api.build(
                    tag=tag,
                    nocache=nocache,
                    rm=True,
                    forcerm=True,
                    pull=False,
                    decode=True,
                    buildargs=dict(build_args or {}),
                    timeout=BUILD_TIMEOUT_SECONDS,
                    **source,
                )
                self.tags.append(tag)  # accepted: remove() tries it even if the build fails
                output = read_output(stream)
            except Exception as exc:
                failed = refusal(exc)
                if failed is None:
                    raise  # to the engine mapping (`EngineClient.errors`)
                raise failed from None
        return Build(tag, time.monotonic() - started, output.steps, output.cached)

    def remove(self) -> None:
        """Remove the tags this builder made (the image too, unless another tag names it)."""
        for tag in reversed(self.tags):
            try:
                self.client.api.remove_image(tag, force=False, noprune=False)
            except Exception:  # already gone or in use: leave it, never fail the run here
                continue
        self.tags.clear()
