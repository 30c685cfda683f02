"""Fixed inputs for the format tests: a small, realistic lint run over three Dockerfiles.

The goldens under `golden/` are these findings rendered in every format; regenerate them with
`.venv/bin/python -m tests.report.regen_golden` and review the diff before committing.
"""

from __future__ import annotations

from trimdock.report.finding import FileLocation, Finding, ImageLocation, Severity, TextEdit
from trimdock.report.rules import RuleInfo

VERSION = "0.1.0"

DOCKERFILE = """\
# syntax=docker/dockerfile:1
FROM python:3.12
WORKDIR /app
COPY . .
RUN apt-get update && apt-get install -y curl
ENV API_TOKEN=abc123
CMD python app.py
"""

# A tab before RUN and wide characters before the span: the caret must still line up.
API_DOCKERFILE = """\
FROM debian:bookworm-slim
\tRUN echo "héllo 世界" && \\
    sleep 1000 &
"""

SOURCES = {"Dockerfile": DOCKERFILE, "services/api/Dockerfile": API_DOCKERFILE}
FILES = ("Dockerfile", "services/api/Dockerfile", "services/worker/Dockerfile")

RULES = {
    r.rule_id: r
    for r in (
        RuleInfo(
            rule_id="TD101",
            title="Whole build context copied into the final stage",
            severity=Severity.ERROR,
            what="`COPY . .` in the final stage copies the whole build context into the image.",
            why="Sources, tests, VCS metadata and secrets end up in the image you ship.",
            example="FROM python:3.12\nCOPY . .",
            instead="COPY pyproject.toml src/ ./",
            category="size",
        ),
        RuleInfo(
            rule_id="TD110",
            title="Pin versions in apt-get install",
            severity=Severity.WARNING,
            what="A package installed without a version changes under you.",
            why="Unpinned builds are not reproducible.",
            example="RUN apt-get install -y curl",
            instead="RUN apt-get install -y curl=7.88.1-10+deb12u5",
            peer_id="DL3008",
            category="cache",
        ),
        RuleInfo(
            rule_id="TD111",
            title="apt-get install without --no-install-recommends",
            severity=Severity.INFO,
            what="apt installs recommended packages by default.",
            why="Recommended packages are rarely needed and add megabytes.",
            example="RUN apt-get install -y curl",
            instead="RUN apt-get install -y --no-install-recommends curl",
            peer_id="DL3015",
            category="size",
        ),
        RuleInfo(
            rule_id="TD130",
            title="Use JSON form for CMD",
            severity=Severity.STYLE,
            what="Shell-form CMD runs under `/bin/sh -c`.",
            why="The shell becomes PID 1 and does not forward signals.",
            example="CMD python app.py",
            instead='CMD ["python", "app.py"]',
            peer_id="DL3025",
            category="production",
        ),
        RuleInfo(
            rule_id="TD201",
            title="Secret in ENV",
            severity=Severity.ERROR,
            what="An ENV value looks like a credential.",
            why="ENV values are stored in the image config for anyone who pulls it.",
            example="ENV API_TOKEN=abc123",
            instead="RUN --mount=type=secret,id=api_token ...",
            category="security",
        ),
        RuleInfo(
            rule_id="TD140",
            title="Process backgrounded in RUN",
            severity=Severity.WARNING,
            what="A RUN command ends with `&`.",
            why="The build step does not wait for it and its output is lost.",
            example="RUN sleep 1000 &",
            instead="RUN sleep 1000",
            category="correctness",
        ),
        RuleInfo(
            rule_id="TD301",
            title="Package manager cache left in the image",
            severity=Severity.WARNING,
            what="A package manager cache directory is shipped in the image.",
            why="Caches are only useful at build time.",
            example="RUN pip install -r requirements.txt",
            instead="RUN pip install --no-cache-dir -r requirements.txt",
            peer_id="DL3042",
            category="size",
        ),
    )
}

FINDINGS = (
    # Deliberately out of order: every format must sort.
    Finding(
        rule_id="TD130",
        severity=Severity.STYLE,
        message="CMD in shell form: use the JSON (exec) form",
        location=FileLocation("Dockerfile", 7, 5, 7, 18),
        title="Use JSON form for CMD",
        fix=(TextEdit("Dockerfile", 7, 5, 7, 18, '["python", "app.py"]'),),
        peer_id="DL3025",
    ),
    Finding(
        rule_id="TD110",
        severity=Severity.WARNING,
        message="Pin the version of `curl` (apt-get install curl=<version>)",
        location=FileLocation("Dockerfile", 5, 42, 5, 46),
        title="Pin versions in apt-get install",
        evidence=(("package", "curl"), ("manager", "apt-get")),
        peer_id="DL3008",
    ),
    Finding(
        rule_id="TD111",
        severity=Severity.INFO,
        message="Add --no-install-recommends to apt-get install",
        location=FileLocation("Dockerfile", 5, 23, 5, 46),
        title="apt-get install without --no-install-recommends",
        fix=(TextEdit("Dockerfile", 5, 38, 5, 38, " --no-install-recommends"),),
        peer_id="DL3015",
    ),
    Finding(
        rule_id="TD101",
        severity=Severity.ERROR,
        message="COPY . . copies the whole build context into the final stage",
        location=FileLocation("Dockerfile", 4, 1, 4, 9),
        title="Whole build context copied into the final stage",
    ),
    Finding(
        rule_id="TD201",
        severity=Severity.ERROR,
        message="ENV API_TOKEN holds what looks like a secret",
        location=FileLocation("Dockerfile", 6, 5, 6, 21),
        title="Secret in ENV",
        evidence=(("name", "API_TOKEN"),),
    ),
    Finding(
        rule_id="TD140",
        severity=Severity.WARNING,
        message="`sleep 1000 &` runs in the background and outlives nothing",
        location=FileLocation("services/api/Dockerfile", 2, 2, 3, 17),
        title="Process backgrounded in RUN",
    ),
    Finding(
        rule_id="TD301",
        severity=Severity.WARNING,
        message="pip cache left in the image: 48213504 bytes",
        location=ImageLocation("example/app:1.0", "/root/.cache/pip", 5),
        title="Package manager cache left in the image",
        evidence=(("bytes", 48213504),),
        peer_id="DL3042",
    ),
    Finding(
        rule_id="TD900",
        severity=Severity.INFO,
        message="The build context has no .dockerignore",
        title="No .dockerignore",
    ),
)
