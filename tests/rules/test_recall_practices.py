"""Recall on two practices, with the cases that must stay quiet beside them.

- Delete in a later layer (TD102): a relative path is resolved against the stage's WORKDIR
  (default `/`, relative WORKDIRs chained, `cd` in the same RUN followed), through whole-context
  copies and globs.
- Cache-busting order (TD202): a COPY/ADD from the context before an expensive RUN (download,
  package install, compile) that does not read what was copied; the message names both lines.
"""

from __future__ import annotations

import pytest

from trimdock.dockerfile import parse
from trimdock.report.finding import FileLocation, Finding
from trimdock.rules.engine import LintSettings, lint

U = "USER app\n"

# (Dockerfile, line of the RUN that deletes, the absolute path the message names)
DELETE_BAD: dict[str, tuple[str, int, str]] = {
    "whole context into / (no WORKDIR)": (
        "FROM debian:12\nCOPY . .\nRUN rm -rf docs\n",
        3,
        "/docs",
    ),
    "whole context into WORKDIR": (
        "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN rm -rf docs\n",
        4,
        "/app/docs",
    ),
    "relative WORKDIR chained": (
        "FROM debian:12\nWORKDIR /srv\nWORKDIR app\nCOPY . .\nRUN rm -r tests\n",
        5,
        "/srv/app/tests",
    ),
    "glob below a whole-context copy": (
        "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN rm -f docs/*.md\n",
        4,
        "/app/docs",
    ),
    "absolute glob": (
        "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN rm -rf /app/docs/*\n",
        4,
        "/app/docs",
    ),
    "directory copy, relative delete": (
        "FROM debian:12\nWORKDIR /app\nCOPY src/ ./src/\nRUN rm -rf src/fixtures\n",
        4,
        "/app/src/fixtures",
    ),
    "copy to an absolute directory, WORKDIR there": (
        "FROM debian:12\nCOPY . /app/\nWORKDIR /app\nRUN rm -rf node_modules\n",
        4,
        "/app/node_modules",
    ),
    "ADD of the context": ("FROM debian:12\nADD . /app\nRUN rm -rf /app/.git\n", 3, "/app/.git"),
    "cd in the same RUN": (
        "FROM debian:12\nCOPY . /app/\nRUN cd /app && rm -rf docs\n",
        3,
        "/app/docs",
    ),
}

DELETE_QUIET: dict[str, str] = {
    # mkdir makes an empty directory: what a later RUN puts inside and removes is its own.
    "inside a directory an earlier RUN only created": (
        "FROM debian:12\nRUN mkdir -p /usr/src/x\nWORKDIR /usr/src/x\n"
        "RUN mkdir src && cd src && make && cd .. && rm -r src\n"
    ),
    "download cleaned in a mkdir'ed WORKDIR": (
        "FROM debian:12\nRUN mkdir -p /opt/app\nWORKDIR /opt/app\n"
        "RUN curl -fsSLo x.tgz https://e.x/x.tgz && tar -xzf x.tgz && rm x.tgz\n"
    ),
    "delete of something the copy did not bring": "FROM debian:12\nCOPY . .\nRUN rm -rf /tmp/x\n",
    "copy landed in WORKDIR, delete at the root": (
        "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN rm -rf /docs\n"
    ),
    "WORKDIR moved on before the delete": (
        "FROM debian:12\nWORKDIR /app\nCOPY . .\nWORKDIR /other\nRUN rm -rf docs\n"
    ),
    "cd elsewhere before the delete": (
        "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN cd /tmp && rm -rf docs\n"
    ),
    "created and deleted in one RUN": (
        "FROM debian:12\nRUN curl -fsSLo /t.tgz https://e.x/t.tgz && tar -xzf /t.tgz && rm /t.tgz\n"
    ),
    "builder stage layers do not ship": (
        "FROM debian:12 AS b\nWORKDIR /s\nCOPY . .\nRUN rm -rf docs\n"
        "FROM debian:12\nCOPY --from=b /s/out /out\n"
    ),
    "a file copy, not the deleted folder": (
        "FROM debian:12\nWORKDIR /app\nCOPY app.py .\nRUN rm -rf docs\n"
    ),
}

# (Dockerfile, COPY line, RUN line)
ORDER_BAD: dict[str, tuple[str, int, int]] = {
    "config before a download": (
        "FROM debian:12\nCOPY config.yml /etc/app/\nRUN curl -fsSLo /opt/t.tgz https://e.x/t.tgz\n",
        2,
        3,
    ),
    "config before a package install": (
        "FROM debian:12\nCOPY app.conf /etc/app.conf\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl\n",
        2,
        3,
    ),
    "ADD of a script before apk": (
        "FROM alpine:3.20\nADD entry.sh /usr/local/bin/\nRUN apk add --no-cache git\n",
        2,
        3,
    ),
    "whole context before an unrelated install": (
        "FROM debian:12\nWORKDIR /app\nCOPY . .\nRUN apt-get update && apt-get install -y gcc\n",
        3,
        4,
    ),
    "a file copy before a wget": (
        "FROM debian:12\nCOPY VERSION /VERSION\nRUN wget -q https://e.x/tool -O /usr/bin/tool\n",
        2,
        3,
    ),
    "one small copy, then a cheap step, then the install": (
        "FROM debian:12\nCOPY app.conf /etc/app.conf\nENV A=1\n"
        "RUN apt-get update && apt-get install -y curl\n",
        2,
        4,
    ),
}

ORDER_QUIET: dict[str, str] = {
    "the install reads the copied manifest": (
        "FROM python:3.12\nWORKDIR /a\nCOPY requirements.txt .\n"
        "RUN pip install --no-cache-dir -r requirements.txt\n"
    ),
    "the RUN runs the copied script": (
        "FROM debian:12\nCOPY install.sh /tmp/\nRUN sh /tmp/install.sh && apt-get install -y x\n"
    ),
    "the copy comes after the install": (
        "FROM debian:12\nRUN apt-get update && apt-get install -y curl\nCOPY app.conf /etc/\n"
    ),
    "copy from another stage": (
        "FROM debian:12 AS b\nRUN true\nFROM debian:12\nCOPY --from=b /out /out\n"
        "RUN apt-get update && apt-get install -y curl\n"
    ),
    "the compile reads the whole tree": (
        "FROM golang:1.22\nWORKDIR /s\nCOPY . .\nRUN go build -o /app .\n"
    ),
    "npm ci reads the copied lock file": (
        "FROM node:20\nWORKDIR /a\nCOPY package.json package-lock.json ./\nRUN npm ci\n"
    ),
    "a cheap RUN after the copy": (
        "FROM debian:12\nCOPY app.conf /etc/\nRUN chmod 600 /etc/app.conf\n"
    ),
}


def _findings(text: str, rule: str) -> list[Finding]:
    found = lint(parse(text + U, "Dockerfile"), LintSettings(shellcheck=False))
    return [f for f in found if f.rule_id == rule]


@pytest.mark.parametrize("name", sorted(DELETE_BAD))
def test_delete_in_a_later_layer_is_found(name: str) -> None:
    text, line, path = DELETE_BAD[name]
    found = _findings(text, "TD102")
    assert [f.location.line for f in found if isinstance(f.location, FileLocation)] == [line]
    assert f"deletes {path}" in found[0].message


@pytest.mark.parametrize("name", sorted(DELETE_QUIET))
def test_delete_quiet_cases(name: str) -> None:
    assert _findings(DELETE_QUIET[name], "TD102") == []


@pytest.mark.parametrize("name", sorted(ORDER_BAD))
def test_cache_busting_order_names_both_lines(name: str) -> None:
    text, copy_line, run_line = ORDER_BAD[name]
    [finding] = _findings(text, "TD202")
    assert isinstance(finding.location, FileLocation) and finding.location.line == copy_line
    assert f"(line {copy_line})" in finding.message and f"line {run_line}" in finding.message
    assert "re-runs" in finding.message  # the rebuild it causes


@pytest.mark.parametrize("name", sorted(ORDER_QUIET))
def test_cache_order_quiet_cases(name: str) -> None:
    assert _findings(ORDER_QUIET[name], "TD202") == []
