"""TD0xx: the file itself — syntax BuildKit rejects, unknown instructions and flags."""

from __future__ import annotations

from collections.abc import Iterator

from trimdock.report.finding import Severity
from trimdock.rules.analysis import Analysis
from trimdock.rules.base import Hit, rule

_SYNTAX_CODES = frozenset(
    {
        "unterminated-heredoc",
        "json-not-strings",
        "missing-value",
        "missing-equals",
        "duplicate-directive",
        "invalid-escape",
    }
)

KNOWN_FLAGS: dict[str, frozenset[str]] = {
    "FROM": frozenset({"platform"}),
    "RUN": frozenset({"mount", "network", "security", "device"}),
    "COPY": frozenset({"from", "chown", "chmod", "link", "parents", "exclude"}),
    "ADD": frozenset({"chown", "chmod", "link", "checksum", "keep-git-dir", "exclude", "unpack"}),
    "HEALTHCHECK": frozenset({"interval", "timeout", "start-period", "start-interval", "retries"}),
}


def _issues(analysis: Analysis, *codes: str) -> Iterator[Hit]:
    for issue in analysis.dockerfile.issues:
        if issue.code in codes:
            yield Hit(issue.span, issue.message)


@rule(
    "TD001", "Syntax error", Severity.ERROR, "correctness",
    what="A line BuildKit cannot parse: an unterminated heredoc, a JSON array with non-string "
    "items, `ENV`/`LABEL` without a value, a repeated or invalid parser directive.",
    why="The build stops at this line; nothing after it is checked by the builder.",
    example="RUN <<EOF\napt-get update\n(end of file, no EOF line)",
    instead="RUN <<EOF\napt-get update\nEOF",
)  # fmt: skip
def syntax_error(analysis: Analysis) -> Iterator[Hit]:
    yield from _issues(analysis, *_SYNTAX_CODES)


@rule(
    "TD002", "Unknown instruction", Severity.ERROR, "correctness",
    what="A line that starts with a word that is not a Dockerfile instruction.",
    why="BuildKit fails with `unknown instruction`; often a missing line continuation.",
    example="RUN apt-get update &&\n    apt-get install -y curl",
    instead="RUN apt-get update && \\\n    apt-get install -y curl",
)  # fmt: skip
def unknown_instruction(analysis: Analysis) -> Iterator[Hit]:
    yield from _issues(analysis, "unknown-instruction")


@rule(
    "TD003", "Unknown flag", Severity.ERROR, "correctness",
    what="A `--flag` the instruction does not accept (or a flag on an instruction that takes "
    "none).",
    why="BuildKit rejects the instruction (`unknown flag`); typos such as `--chmown` break builds.",
    example="COPY --chmown=app:app src/ /app/",
    instead="COPY --chown=app:app src/ /app/",
)  # fmt: skip
def unknown_flag(analysis: Analysis) -> Iterator[Hit]:
    for instruction in analysis.dockerfile.instructions:
        targets = [instruction]
        if instruction.trigger is not None:
            targets.append(instruction.trigger)
        for target in targets:
            known = KNOWN_FLAGS.get(target.keyword, frozenset())
            for flag in target.flags:
                if flag.name not in known:
                    yield Hit(flag.span, f"unknown flag --{flag.name} for {target.keyword}")


@rule(
    "TD004", "Empty continuation line", Severity.STYLE, "correctness",
    what="A blank line inside a line continuation.",
    why="BuildKit warns that empty continuation lines are deprecated and will become an error.",
    example="RUN apt-get update && \\\n\n    apt-get install -y curl",
    instead="RUN apt-get update && \\\n    apt-get install -y curl",
)  # fmt: skip
def empty_continuation(analysis: Analysis) -> Iterator[Hit]:
    yield from _issues(analysis, "empty-continuation-line")


@rule(
    "TD005", "Trailing escape at end of file", Severity.WARNING, "correctness",
    what="The last line ends with the escape character, continuing into nothing.",
    why="Usually a truncated file or a lost last line of a command.",
    example="RUN make && \\\n(end of file)",
    instead="RUN make",
)  # fmt: skip
def trailing_escape(analysis: Analysis) -> Iterator[Hit]:
    yield from _issues(analysis, "trailing-escape")


@rule(
    "TD006", "Instruction before FROM", Severity.ERROR, "correctness",
    what="An instruction other than ARG before the first FROM, or a file without FROM.",
    why="BuildKit fails: every instruction must belong to a stage.",
    example="RUN echo hi\nFROM debian:bookworm-slim",
    instead="FROM debian:bookworm-slim\nRUN echo hi",
    peer="DL3061",
)  # fmt: skip
def before_from(analysis: Analysis) -> Iterator[Hit]:
    yield from _issues(analysis, "instruction-before-from")
    dockerfile = analysis.dockerfile
    if dockerfile.instructions and not dockerfile.stages:
        first = dockerfile.instructions[0]
        if first.keyword == "ARG":
            yield Hit(first.span, "no FROM instruction: the file defines no build stage")


@rule(
    "TD007", "Empty Dockerfile", Severity.ERROR, "correctness",
    what="A Dockerfile with no instructions (empty, or only comments).",
    why="BuildKit fails with `file with no instructions`.",
    example="# TODO",
    instead="FROM debian:bookworm-slim\n...",
)  # fmt: skip
def empty_file(analysis: Analysis) -> Iterator[Hit]:
    yield from _issues(analysis, "no-instructions")


@rule(
    "TD008", "Malformed JSON form", Severity.WARNING, "correctness",
    what="Arguments that start like a JSON array but are not valid JSON, so BuildKit silently "
    "runs them as a shell command line.",
    why="`CMD [\"app\", \"--serve\"` (missing bracket) runs `/bin/sh -c '[\"app\", ...'`, "
    "which fails at run time, not at build time.",
    example='CMD ["app", "--serve"',
    instead='CMD ["app", "--serve"]',
)  # fmt: skip
def malformed_json(analysis: Analysis) -> Iterator[Hit]:
    keywords = {"RUN", "CMD", "ENTRYPOINT", "SHELL", "COPY", "ADD", "VOLUME"}
    for instruction in analysis.dockerfile.instructions:
        target = instruction.trigger or instruction
        if target.keyword in keywords and not target.json and target.rest.startswith("["):
            if target.keyword == "RUN" and target.rest.startswith("[ "):
                continue  # `RUN [ -f x ] && ...` is a test command, not broken JSON
            span = target.rest_span or target.span
            yield Hit(
                span, f"{target.keyword} arguments are not valid JSON; BuildKit uses the shell form"
            )


@rule(
    "TD009", "Malformed FROM", Severity.ERROR, "correctness",
    what="FROM with a number of arguments other than `image` or `image AS name`, or an "
    "ONBUILD trigger that is not allowed (ONBUILD, FROM, MAINTAINER).",
    why="BuildKit rejects the instruction.",
    example="FROM debian:bookworm-slim builder",
    instead="FROM debian:bookworm-slim AS builder",
)  # fmt: skip
def malformed_from(analysis: Analysis) -> Iterator[Hit]:
    yield from _issues(analysis, "from-arguments", "onbuild-forbidden")


@rule(
    "TD010", "Past a limit of the linter", Severity.WARNING, "correctness",
    what="A word whose variable expansion passes trimdock's limits (128 KiB added to one word, "
    "64 MiB in one file, `${...}` defaults nested over 64 deep; docs/lint.md \"Limits\"): "
    "it is checked as written, unexpanded. Also a WORKDIR path over PATH_MAX (4096).",
    why="BuildKit sets no such limit: a few hundred bytes of ARGs that repeat each other expand "
    "to gigabytes, which exhausts the builder's memory (and a linter's). No real value is that "
    "long: Linux refuses an argument or environment string over 128 KiB.",
    example="ARG a=xxxxxxxxxx\nARG b=$a$a$a$a$a$a$a$a$a$a\nARG c=$b$b$b$b$b$b$b$b$b$b\n"
    "ARG d=$c$c$c$c$c$c$c$c$c$c\nARG e=$d$d$d$d$d$d$d$d$d$d\nARG f=$e$e$e$e$e$e$e$e$e$e\n"
    "FROM busybox:$f",
    instead="ARG tag=1.36\nFROM busybox:$tag",
)  # fmt: skip
def past_limit(analysis: Analysis) -> Iterator[Hit]:
    yield from _issues(analysis, "expansion-limit")
    for span, message in analysis.limits:
        yield Hit(span, message)
