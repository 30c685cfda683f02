"""Text-level fixes: each rule's fix applied, idempotent, comments and continuations kept, the
result parses and has no finding of the fixed rule left; good inputs stay untouched."""

from __future__ import annotations

import pytest

from trimdock.dockerfile import parse
from trimdock.fix.apply import fix_text
from trimdock.fix.text import LineIndex, apply_edits, overlaps
from trimdock.report.finding import FixEdit
from trimdock.rules.engine import lint

# (rule fixed, unsafe needed, Dockerfile, a line the fixed file must contain)
CASES = [
    (
        "TD104",
        False,
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update \\\n"
        "    # the tools\n"
        "    && apt-get install -y --no-install-recommends curl\n",
        "    && rm -rf /var/lib/apt/lists/*",
    ),
    (
        "TD211",
        False,
        "FROM debian:bookworm-slim\n# index\nRUN apt-get update -qq\nENV X=1\n"
        "RUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
        "RUN apt-get update -qq && apt-get install -y --no-install-recommends curl",
    ),
    (
        "TD103",
        True,
        "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl"
        " && rm -rf /var/lib/apt/lists/*\n",
        "apt-get install --no-install-recommends -y curl",
    ),
    ("TD106", False, "FROM alpine:3.19\nRUN apk add curl\n", "RUN apk add --no-cache curl"),
    (
        "TD107",
        False,
        "FROM python:3.12-slim\nRUN python -m pip install -r requirements.txt\n",
        "RUN python -m pip install --no-cache-dir -r requirements.txt",
    ),
    (
        "TD112",
        False,
        "FROM node:20-slim\nRUN npm ci --omit=dev\n",
        "RUN npm ci --omit=dev && npm cache clean --force",
    ),
    (
        "TD122",
        True,
        "FROM node:20-slim\nWORKDIR /app\n# manifests first\n"
        "COPY package.json package-lock.json ./\n"
        "RUN npm install --omit=dev \\\n    # no cache left\n    && npm cache clean --force\n",
        "RUN npm ci --omit=dev \\\n    # no cache left\n    && npm cache clean --force\n",
    ),
    (
        "TD122",
        True,
        "FROM node:20-slim\nCOPY package-lock.json /tmp/\nWORKDIR /srv\nCOPY . .\n"
        "RUN apt-get update && npm i && echo installed\n",
        "RUN apt-get update && npm ci && echo installed",
    ),
    (
        "TD123",
        True,
        "FROM debian:bookworm-slim\n"
        "RUN curl -fsSLo /tmp/sdk.tgz https://x/sdk.tgz \\\n    # unpack\n"
        "    && tar -xzf /tmp/sdk.tgz -C /tmp \\\n    && cp /tmp/sdk/bin/tool /usr/local/bin/ \\\n"
        "    && rm -rf /tmp/sdk /tmp/sdk.tgz\n",
        # downloaded, so not inspected: both spellings of the member, in turn
        "    # unpack\n    && { tar -xzf /tmp/sdk.tgz -C /tmp sdk/bin/tool 2>/dev/null"
        " || tar -xzf /tmp/sdk.tgz -C /tmp ./sdk/bin/tool; } \\\n",
    ),
    (
        "TD108",
        False,
        "FROM centos:7\nRUN yum install -y httpd\n",
        "RUN yum install -y httpd && yum clean all",
    ),
    (
        "TD109",
        False,
        "FROM fedora:40\nRUN microdnf install -y httpd\n",
        "RUN microdnf install -y httpd && microdnf clean all",
    ),
    (
        "TD116",
        False,
        "FROM debian:bookworm-slim\nRUN mkdir -p /app\n# link it\nRUN ln -s /app /srv/app\n",
        "# link it",
    ),
    (
        "TD102",
        False,
        "FROM debian:bookworm-slim\nWORKDIR /opt\n"
        "RUN mkdir -p /opt/sdk/docs /opt/sdk/bin && echo doc > /opt/sdk/docs/a\n"
        "ENV PATH=/opt/sdk/bin:$PATH\nRUN rm -rf /opt/sdk/docs\n",
        "RUN mkdir -p /opt/sdk/docs /opt/sdk/bin && echo doc > /opt/sdk/docs/a"
        " && rm -rf /opt/sdk/docs",
    ),
    (
        "TD202",
        True,
        "FROM debian:bookworm-slim\n# the config\nCOPY app.conf /etc/app.conf\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
        '    && rm -rf /var/lib/apt/lists/*\nCMD ["curl"]\n',
        "    && rm -rf /var/lib/apt/lists/*\n# the config\nCOPY app.conf /etc/app.conf\n",
    ),
    (
        "TD114",
        False,
        "FROM debian:bookworm-slim\n"
        "RUN curl -fsSLo /tmp/tool.tar.gz https://example.com/tool.tar.gz \\\n"
        "    && tar -xzf /tmp/tool.tar.gz -C /opt\n",
        "    && tar -xzf /tmp/tool.tar.gz -C /opt \\\n    && rm -f /tmp/tool.tar.gz\n",
    ),
    (
        "TD119",
        True,
        "FROM debian:bookworm-slim\nWORKDIR /src\nCOPY hello.c .\n"
        'RUN gcc -O2 -o hello hello.c\nUSER 65534\nCMD ["/src/hello"]\n',
        "RUN gcc -O2 -o hello hello.c\n\nFROM debian:bookworm-slim\nWORKDIR /src\n"
        "COPY --from=build /src/hello /src/hello\nUSER 65534\n",
    ),
    ("TD605", False, "FROM busybox\nCMD httpd -f -p 8080\n", 'CMD ["httpd", "-f", "-p", "8080"]'),
    ("TD605", True, "FROM busybox\nENTRYPOINT httpd -f\n", 'ENTRYPOINT ["httpd", "-f"]'),
    (
        "TD304",
        True,
        'FROM debian:bookworm-slim\nCOPY app /app\nCMD ["/app"]\n',
        "COPY app /app\nUSER 65534:65534\nCMD",
    ),
    (
        "TD303",
        True,
        'FROM debian:bookworm-slim\nUSER root\nRUN touch /x\nCMD ["/app"]',
        "RUN touch /x\nUSER 65534:65534\nCMD",
    ),
]


def rule_findings(text: str, rule_id: str) -> list[str]:
    return [f.message for f in lint(parse(text)) if f.rule_id == rule_id]


@pytest.mark.parametrize(
    ("rule_id", "unsafe", "text", "expected"),
    CASES,
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)],
)
def test_each_fix_removes_its_finding_and_is_idempotent(
    rule_id: str, unsafe: bool, text: str, expected: str
) -> None:
    assert rule_findings(text, rule_id), "the input must have the finding"
    outcome = fix_text(text, unsafe=unsafe)
    assert rule_id in {a.rule_id for a in outcome.applied}
    assert expected in outcome.text, outcome.text
    fixed = parse(outcome.text)
    assert not [i for i in fixed.issues if i.parser_error]
    assert not rule_findings(outcome.text, rule_id)
    for comment in parse(text).comments:  # every comment survives
        assert f"#{comment.text}" in outcome.text.replace("# ", "#")
    assert not fix_text(outcome.text, unsafe=unsafe).changed  # fixing twice changes nothing


@pytest.mark.parametrize(
    ("rule_id", "text"),
    [(c[0], c[2]) for c in CASES if c[1]],
    ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES) if c[1]],
)
def test_unsafe_fixes_wait_for_the_flag(rule_id: str, text: str) -> None:
    outcome = fix_text(text, unsafe=False)
    assert rule_id not in {a.rule_id for a in outcome.applied}
    assert outcome.unsafe_available >= 1


# Inputs a fix must leave alone (the finding is there, but no safe rewrite is known).
QUIET = [
    # the kept path is a glob: the member names are not known
    (
        "TD123",
        "FROM debian:bookworm-slim\nRUN tar -xzf /t.tgz -C /opt && cp /opt/sdk/bin/* /bin/"
        " && rm -rf /opt/sdk\n",
    ),
    # npm run by another program: its text is not ours to rewrite
    (
        "TD122",
        "FROM node:20-slim\nWORKDIR /app\nCOPY package-lock.json ./\nRUN sh -c 'npm install'\n",
    ),
    # the comment would swallow an appended command
    ("TD104", "FROM debian:bookworm-slim\nRUN apt-get update && apt-get install -y curl # tools\n"),
    # `cd` changes the directory of whatever is merged after it
    ("TD116", "FROM debian:bookworm-slim\nRUN cd /tmp\nRUN touch x\n"),
    # a USER between would run the update as another user
    (
        "TD211",
        "FROM debian:bookworm-slim\nRUN apt-get update\nUSER app\n"
        "RUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*\n",
    ),
    # a heredoc RUN is not extended
    (
        "TD104",
        "FROM debian:bookworm-slim\nRUN <<EOF\napt-get update\napt-get install -y curl\nEOF\n",
    ),
    # the delete's path is read by a RUN between
    (
        "TD102",
        "FROM debian:bookworm-slim\nRUN mkdir -p /opt/sdk/docs && echo d > /opt/sdk/docs/a\n"
        "RUN cp -r /opt/sdk/docs /usr/share/sdk-docs && echo copied\nRUN rm -rf /opt/sdk/docs\n",
    ),
    # a later RUN installs the downloaded archive
    (
        "TD114",
        "FROM debian:bookworm-slim\nRUN wget -O /tmp/tool.deb https://example.com/tool.deb\n"
        "ENV DEBIAN_FRONTEND=noninteractive\nRUN dpkg -i /tmp/tool.deb\n",
    ),
    # the output path is not on the command line
    ("TD119", 'FROM debian:bookworm-slim\nCOPY . /src\nRUN make -C /src\nCMD ["/src/app"]\n'),
    # an SDK base: no runtime base can be read from the file
    ("TD119", 'FROM golang:1.22\nCOPY . .\nRUN go build -o /app .\nCMD ["/app"]\n'),
    # a COPY after the compile reads the build's files
    (
        "TD119",
        "FROM debian:bookworm-slim\nCOPY . /src\nRUN gcc -o /app /src/a.c\n"
        'COPY start.sh /start.sh\nCMD ["/app"]\n',
    ),
    # the COPY is read by a RUN between it and the install
    (
        "TD202",
        "FROM debian:bookworm-slim\nCOPY app.conf /etc/app.conf\nRUN cat /etc/app.conf\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl"
        " && rm -rf /var/lib/apt/lists/*\n",
    ),
]


@pytest.mark.parametrize(("rule_id", "text"), QUIET)
def test_no_fix_where_the_rewrite_is_not_known_safe(rule_id: str, text: str) -> None:
    assert rule_findings(text, rule_id), "the input must have the finding"
    outcome = fix_text(text, unsafe=True)
    assert rule_id not in {a.rule_id for a in outcome.applied}, outcome.text
    assert rule_findings(outcome.text, rule_id)


def test_quiet_for_a_file_without_findings_to_fix() -> None:
    text = (
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl \\\n"
        '    && rm -rf /var/lib/apt/lists/*\nUSER 65534\nCMD ["curl"]\n'
    )
    assert not fix_text(text, unsafe=True).changed


def test_escape_directive_and_heredocs_survive() -> None:
    text = (
        "# escape=`\nFROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y --no-install-recommends curl `\n"
        "    && echo done\n"
        "COPY <<EOF /etc/motd\nhello \\\nEOF\n"
    )
    outcome = fix_text(text, unsafe=False)
    assert outcome.text.startswith("# escape=`\n")
    assert "    && echo done `\n    && rm -rf /var/lib/apt/lists/*\n" in outcome.text
    assert "COPY <<EOF /etc/motd\nhello \\\nEOF\n" in outcome.text
    assert not rule_findings(outcome.text, "TD104")


def test_overlapping_fixes_are_applied_in_later_rounds() -> None:
    text = "FROM debian:bookworm-slim\nRUN mkdir /a\nRUN mkdir /b\nRUN mkdir /c\nRUN mkdir /d\n"
    outcome = fix_text(text, unsafe=False)
    assert outcome.text.count("RUN") == 1
    assert "mkdir /a \\\n    && mkdir /b \\\n    && mkdir /c \\\n    && mkdir /d\n" in outcome.text


def test_crlf_lines_and_byte_order_mark() -> None:
    text = '\ufeffFROM debian:bookworm-slim\r\nRUN pip install flask\r\nCMD ["flask"]\r\n'
    outcome = fix_text(text, unsafe=False)
    assert outcome.text == text.replace("pip install", "pip install --no-cache-dir")


def test_edits_and_offsets() -> None:
    index = LineIndex("ab\ncd\n")
    assert index.offset(2, 2) == 4 and index.after_line(1) == 3 and index.line_text(2) == "cd"
    assert apply_edits("abcd", [FixEdit(3, 4, "X"), FixEdit(0, 0, ">")]) == ">abcX"
    assert overlaps([FixEdit(2, 2, "x")], [FixEdit(2, 2, "y")])
    assert overlaps([FixEdit(1, 3, "")], [FixEdit(2, 2, "y")])
    assert not overlaps([FixEdit(1, 2, "")], [FixEdit(2, 3, "y")])
