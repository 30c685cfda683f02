"""Table-driven rule tests: snippets that must fire (rule id and line), snippets that must not."""

from __future__ import annotations

import pytest

from trimdock.dockerfile import parse
from trimdock.rules.analysis import LintOptions
from trimdock.rules.engine import LintSettings, lint
from trimdock.rules.registry import RULES

U = "USER app\n"  # keeps TD304 out of snippets about something else

FIRES: list[tuple[str, str, int]] = [
    # (rule, snippet, line)
    ("TD001", "FROM a:1\nRUN <<EOF\nx\n", 2),
    ("TD001", 'FROM a:1\nCMD ["a", 1]\n', 2),
    ("TD001", "FROM a:1\nENV A\n", 2),
    ("TD002", "FROM a:1\nRUN a &&\n  b\n", 3),
    ("TD003", "FROM a:1\nCOPY --chmown=1 a /b\n", 2),
    ("TD003", "FROM a:1\nENV --x=1 A=1\n", 2),
    ("TD004", "FROM a:1\nRUN a \\\n\n  && b\n", 2),
    ("TD005", "FROM a:1\nRUN a \\", 2),
    ("TD006", "RUN a\nFROM a:1\n", 1),
    ("TD007", "# only a comment\n", 1),
    ("TD008", 'FROM a:1\nCMD ["app", "--x"\n', 2),
    ("TD009", "FROM a:1 builder\n", 1),
    # Each ARG repeats the previous one ten times: 10^7 characters at a6, past the word limit.
    (
        "TD010",
        "ARG a0=xxxxxxxxxx\n"
        + "".join(f"ARG a{i}=" + f"${{a{i - 1}}}" * 10 + "\n" for i in range(1, 7))
        + "FROM busybox:$a6\n",
        6,
    ),
    ("TD101", "FROM a:1\nWORKDIR /app\nCOPY . .\n" + U, 3),
    ("TD101", "FROM a:1 AS b\nFROM b\nADD . /app\n" + U, 3),
    ("TD102", "FROM a:1\nWORKDIR /app\nCOPY . .\nRUN rm -rf docs\n" + U, 4),
    ("TD102", "FROM a:1\nRUN tar -xzf /x.tgz -C /opt\nRUN rm -rf /opt/sdk/docs\n" + U, 3),
    ("TD102", "FROM a:1\nRUN apt-get update\nRUN rm -rf /var/lib/apt/lists/*\n" + U, 3),
    ("TD103", "FROM a:1\nRUN apt-get install -y curl=1\n" + U, 2),
    (
        "TD104",
        "FROM a:1\nRUN apt-get update && apt-get install -y --no-install-recommends c=1\n",
        2,
    ),
    ("TD106", "FROM a:1\nRUN apk add curl=1\n", 2),
    ("TD107", "FROM a:1\nRUN pip install flask==3\n", 2),
    ("TD107", "FROM a:1\nRUN python3 -m pip install flask==3\n", 2),
    ("TD108", "FROM a:1\nRUN yum install -y httpd-2\n", 2),
    ("TD109", "FROM a:1\nRUN microdnf install httpd-2\n", 2),
    ("TD110", "FROM a:1\nRUN zypper install -y curl=1\n", 2),
    ("TD111", "FROM a:1\nRUN yarn install\n", 2),
    ("TD112", "FROM a:1\nRUN npm ci\n", 2),
    # TD123: a full extraction of which one path is kept before the tree is removed
    (
        "TD123",
        "FROM a:1\nRUN tar -xzf /t.tgz -C /opt && cp /opt/sdk/bin/t /bin/ && rm -rf /opt/sdk\n",
        2,
    ),
    ("TD123", "FROM a:1\nWORKDIR /w\nRUN tar xf t.tar\\\n && mv sdk/bin/t /bin/ && rm -r sdk\n", 3),
    (
        "TD123",
        "FROM a:1\nRUN curl -fsSL https://x/t.tgz | tar -xz --directory=/tmp/x \\\n"
        "    && install -m 755 /tmp/x/t/bin/* /bin/ && rm -rf /tmp/x\n",
        2,
    ),
    # TD122: the lock named by a COPY into the working directory, or carried by a directory copy
    (
        "TD122",
        "FROM a:1\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm install\n",
        4,
    ),
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY npm-shrinkwrap.json .\nRUN npm i --omit=dev\n", 4),
    (
        "TD122",
        "FROM a:1\nCOPY package-lock.json /app/package-lock.json\nWORKDIR /app\nRUN npm install\n",
        4,
    ),
    (
        "TD122",
        "FROM a:1\nCOPY package-lock.json /tmp/\nWORKDIR /app\nCOPY . .\nRUN npm install\n",
        5,
    ),
    (
        "TD122",
        "FROM a:1\nCOPY web/package-lock.json /x/\nCOPY web /srv/web\nWORKDIR /srv/web\n"
        "RUN npm ci && npm install\n",
        5,
    ),
    (
        "TD122",
        "FROM a:1 AS deps\nWORKDIR /app\nCOPY package.json package-lock.json ./\nFROM deps\n"
        "RUN apt-get update && npm install\n",
        5,
    ),
    ("TD113", "FROM a:1\nRUN gem install rails:7\n", 2),
    (
        "TD114",
        "FROM a:1\nRUN curl -fsSLo /tmp/t.tar.gz https://x/t.tar.gz && tar -xzf /tmp/t.tar.gz\n",
        2,
    ),
    ("TD114", "FROM a:1\nRUN wget -q https://x/t.zip && unzip t.zip\n", 2),
    ("TD115", "FROM a:1\nADD https://x/t.tar.gz /tmp/\n", 2),
    ("TD116", "FROM a:1\nRUN a\nRUN b\n", 3),
    ("TD116", "FROM a:1\nRUN a\n# why\n\nRUN su-exec x b\n", 5),
    ("TD117", "FROM maven:3-eclipse-temurin-21\nCOPY a.jar /a.jar\n", 1),
    ("TD117", "FROM golang:1.22 AS b\nFROM b\n", 2),
    ("TD118", "FROM a:1\nRUN apt-get install -y --no-install-recommends gcc=1 libpq-dev=1\n", 2),
    ("TD119", "FROM a:1\nCOPY . .\nRUN go build -o /app .\n", 3),
    ("TD120", "FROM a:1\nCOPY src/ tests/ /app/\n", 2),
    ("TD120", "FROM a:1\nCOPY AppTest.java /app/\n", 2),
    ("TD121", "FROM python:3.12\n", 1),
    ("TD121", "ARG V=3.12\nFROM python:${V}\n", 2),
    ("TD201", "FROM a:1\nWORKDIR /app\nCOPY . .\nRUN npm ci\n", 3),
    ("TD201", "FROM a:1\nWORKDIR /app\nCOPY . .\nRUN pip install -r requirements.txt\n", 3),
    (
        "TD202",
        "FROM a:1\nCOPY app.conf /etc/app.conf\nRUN apt-get update && apt-get install -y x\n",
        2,
    ),
    ("TD203", "FROM a:1\nRUN apt-get install -y curl\n", 2),
    ("TD204", "FROM a:1\nRUN apk add --no-cache curl\n", 2),
    ("TD205", "FROM a:1\nRUN pip install --no-cache-dir flask\n", 2),
    ("TD206", "FROM a:1\nRUN npm install -g typescript\n", 2),
    ("TD207", "FROM a:1\nRUN gem install --no-document rails\n", 2),
    ("TD208", "FROM a:1\nRUN yum install -y httpd\n", 2),
    ("TD209", "FROM a:1\nRUN dnf install -y httpd\n", 2),
    ("TD210", "FROM a:1\nRUN zypper install -y curl\n", 2),
    ("TD211", "FROM a:1\nRUN apt-get update\n", 2),
    ("TD212", "FROM a:1\nRUN curl -fsSL https://x.org/tool-1.4.2.tar.gz | tar -xz\n", 2),
    ("TD301", "FROM a:1\nENV DB_PASSWORD=hunter2\n", 2),
    ("TD301", "ARG GITHUB_TOKEN\nFROM a:1\n", 1),
    ("TD301", "FROM a:1\nENV DATABASE_URL=postgres://u:p4ss@db/x\n", 2),
    ("TD301", "FROM a:1\nLABEL k=AKIAABCDEFGHIJKLMNOP\n", 2),
    ("TD302", "FROM a:1\nCOPY id_rsa /root/.ssh/id_rsa\n", 2),
    ("TD302", "FROM a:1\nCOPY .env /app/.env\n", 2),
    ("TD303", "FROM a:1\nUSER root\n", 2),
    ("TD304", 'FROM a:1\nCMD ["x"]\n', 1),
    ("TD306", "FROM debian:latest\n", 1),
    ("TD307", "FROM debian\n", 1),
    ("TD307", "ARG BASE=debian\nFROM ${BASE}\n", 2),
    ("TD308", "FROM a:1\nRUN sudo make install\n", 2),
    ("TD401", "FROM a:1\nCMD service nginx start && tail -f /var/log/nginx/access.log\n", 2),
    ("TD401", 'FROM a:1\nENTRYPOINT ["/docker-entrypoint.sh"]\n', 2),
    ("TD402", "FROM a:1\nCMD service postgresql start\n", 2),
    ("TD402", "FROM a:1\nCMD app &\n", 2),
    ("TD403", "FROM a:1\nCMD app -d && tail -F /var/log/app.log\n", 2),
    ("TD404", "FROM a:1\nCMD app > /var/log/app.log 2>&1\n", 2),
    ("TD404", 'FROM a:1\nCMD ["app", "--log-file=/var/log/app/app.log"]\n', 2),
    ("TD405", "FROM a:1\nENV ASPNETCORE_ENVIRONMENT=Development\n", 2),
    ("TD405", "FROM a:1\nENV FLASK_DEBUG=1\n", 2),
    ("TD601", "FROM a:1\nRUN apt-get install curl\n", 2),
    ("TD602", "FROM a:1\nRUN cd /app && make\n", 2),
    ("TD603", "FROM a:1\nWORKDIR app\n", 2),
    ("TD604", "FROM a:1\nADD app/ /app/\n", 2),
    ("TD605", "FROM a:1\nCMD node server.js\n", 2),
    ("TD606", 'FROM a:1\nCMD ["a"]\nCMD ["b"]\n', 3),
    ("TD607", 'FROM a:1\nENTRYPOINT ["a"]\nENTRYPOINT ["b"]\n', 3),
    ("TD608", "FROM a:1\nHEALTHCHECK CMD a\nHEALTHCHECK CMD b\n", 3),
    ("TD609", "FROM a:1 AS b\nFROM a:1 AS B\n", 2),
    ("TD610", "FROM a:1 AS b\nCOPY --from=b /x /y\n", 2),
    ("TD611", "FROM a:1 AS build\nFROM a:1\nCOPY --from=biuld /x /y\n", 3),
    ("TD612", "FROM a:1\nEXPOSE 80000\n", 2),
    ("TD613", "FROM a:1\nMAINTAINER me\n", 2),
    ("TD614", "FROM debian:12\nRUN curl -fsSL https://x | tar -xz\n", 2),
    # A pipe inside a command substitution assigned to a variable (bashlex parses this one).
    ("TD614", 'FROM a:1\nRUN set -eux; d="$(scanelf -n | sort -u)"; apk add $d\n', 2),
    # A pipe inside a quoted command substitution, in a script bashlex cannot parse (`case`).
    (
        "TD614",
        'FROM a:1\nRUN case "$x" in a) ;; esac; d="$(scanelf -n | tr , \'\\n\')"\n',
        2,
    ),
    ("TD615", "FROM a:1\nRUN useradd -u 123456789 app\n", 2),
    ("TD616", "FROM a:1\nRUN yum install httpd-2 && yum clean all\n", 2),
    ("TD617", "FROM a:1\nRUN dnf install httpd-2 && dnf clean all\n", 2),
    ("TD618", "FROM a:1\nRUN zypper install curl=1 && zypper clean\n", 2),
    ("TD620", "FROM a:1\nRUN wget -q https://a/x\nRUN curl -fsSLO https://b/y\n", 3),
    ("TD621", "FROM a:1\nCOPY a b /dest\n", 2),
    ("TD622", "FROM a:1\nENV A=1 B=$A\n", 2),
    ("TD624", "FROM a:1\nRUN apt install -y curl=1\n", 2),
    ("TD625", "FROM a:1\nRUN service nginx restart\n", 2),
    ("TD626", "FROM a:1\nCOPY package.json .\n", 2),
    ("TD627", "FROM a:1\nRUN ln -sf /bin/bash /bin/sh\n", 2),
    ("TD628", "FROM a:1\nRUN wget https://x/y\n", 2),
    # ONBUILD triggers are checked as the instructions they become
    ("TD203", "FROM a:1\nONBUILD RUN apt-get install -y curl\n", 2),
    ("TD308", "FROM a:1\nONBUILD RUN sudo ls\n", 2),
    # heredoc bodies and sh -c are parsed as shell
    ("TD106", "FROM a:1\nRUN <<EOF\nset -e\napk add curl=1\nEOF\n", 4),
    ("TD107", "FROM a:1\nRUN sh -c 'pip install flask==3 && echo ok'\n", 2),
    ("TD203", 'FROM a:1\nRUN ["/bin/sh", "-c", "apt-get install -y curl"]\n', 2),
]

PASSES: list[tuple[str, str]] = [
    ("TD010", "ARG V=3.12\nARG W=${V}-slim\nFROM python:${W:-3}\n"),
    (
        "TD003",
        "FROM --platform=linux/amd64 a:1\nRUN --mount=type=cache,target=/x --network=none a\n",
    ),
    ("TD003", "FROM a:1\nCOPY --from=b --chown=1 --chmod=755 --link --parents --exclude=x a /b\n"),
    ("TD008", "FROM a:1\nRUN [ -f /x ] && echo yes\n"),
    ("TD101", "FROM a:1 AS build\nCOPY . .\nRUN make\nFROM a:1\nCOPY --from=build /out /out\n"),
    ("TD101", "FROM a:1\nCOPY app/ /app/\n"),
    ("TD102", "FROM a:1\nRUN curl -o /t.tgz https://x/t.tgz && tar -xzf /t.tgz && rm /t.tgz\n"),
    ("TD102", "FROM a:1 AS b\nCOPY . .\nRUN rm -rf docs\nFROM a:1\nCOPY --from=b /x /x\n"),
    ("TD102", "FROM a:1\nRUN rm -rf /usr/share/doc\n"),
    ("TD103", "FROM a:1\nRUN apt-get install -y --no-install-recommends curl=1\n"),
    ("TD103", "FROM a:1 AS b\nRUN apt-get install -y curl=1\nFROM a:1\n"),
    (
        "TD104",
        "FROM a:1\nRUN apt-get update && apt-get install -y c=1 && rm -rf /var/lib/apt/lists/*\n",
    ),
    (
        "TD104",
        "FROM a:1\nRUN --mount=type=cache,target=/var/lib/apt/lists "
        "apt-get update && apt-get install -y c=1\n",
    ),
    ("TD106", "FROM a:1\nRUN apk add --no-cache curl=1\n"),
    ("TD106", "FROM a:1\nRUN --mount=type=cache,target=/var/cache/apk apk add curl=1\n"),
    ("TD107", "FROM a:1\nRUN --mount=type=cache,target=/root/.cache/pip pip install flask==3\n"),
    ("TD107", "FROM a:1\nENV PIP_NO_CACHE_DIR=1\nRUN pip install flask==3\n"),
    ("TD108", "FROM a:1\nRUN yum install -y httpd-2 && yum clean all\n"),
    ("TD112", "FROM a:1\nRUN --mount=type=cache,target=/root/.npm npm ci\n"),
    # TD123: members already named, the tree kept, renaming options, a cd, nothing kept
    (
        "TD123",
        "FROM a:1\nRUN tar -xzf /t.tgz -C /opt sdk/bin/t && cp /opt/sdk/bin/t /bin/"
        " && rm -rf /opt/sdk\n",
    ),
    ("TD123", "FROM a:1\nRUN tar -xzf /t.tgz -C /opt && cp /opt/sdk/bin/t /bin/\n"),
    ("TD123", "FROM a:1\nRUN tar -xzf /t.tgz -C /opt && rm -rf /opt/sdk\n"),
    (
        "TD123",
        "FROM a:1\nRUN tar -xzf /t.tgz -C /opt && cp /opt/sdk/bin/t /bin/"
        " && rm -rf /opt/sdk/docs\n",
    ),
    (
        "TD123",
        "FROM a:1\nRUN tar -xzf /t.tgz --strip-components=1 -C /opt"
        " && cp /opt/bin/t /bin/ && rm -rf /opt\n",
    ),
    ("TD123", "FROM a:1\nRUN cd /opt && tar -xzf /t.tgz && cp sdk/bin/t /bin/ && rm -rf sdk\n"),
    ("TD123", "FROM a:1\nRUN tar -czf /t.tgz /opt && cp /opt/sdk/bin/t /bin/ && rm -rf /opt/sdk\n"),
    ("TD123", "FROM a:1\nRUN tar -xzf /t.tgz -C $D && cp $D/sdk/t /bin/ && rm -rf $D\n"),
    # TD122: the lock is not certainly in the working directory, or npm installs something else
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY package*.json ./\nRUN npm install\n"),
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY . .\nRUN npm install\n"),
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY package.json ./\nRUN npm install\n"),
    ("TD122", "FROM a:1\nCOPY package-lock.json /app\nWORKDIR /app\nRUN npm install\n"),
    ("TD122", "FROM a:1\nCOPY package-lock.json ./\nWORKDIR /app\nRUN npm install\n"),
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY package-lock.json ./\nRUN npm install express@4\n"),
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY package-lock.json ./\nRUN npm install -g\n"),
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY package-lock.json ./\nRUN npm ci\n"),
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY package-lock.json ./\nRUN cd web && npm install\n"),
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY package-lock.json ./\nRUN npm install --prefix /x\n"),
    (
        "TD122",
        "FROM a:1\nWORKDIR /app\nCOPY package-lock.json ./\nRUN rm package-lock.json\n"
        "RUN npm install\n",
    ),
    ("TD122", "FROM a:1\nWORKDIR /app\nCOPY $LOCK ./\nRUN npm install\n"),
    (
        "TD122",
        "FROM b:1 AS b\nFROM a:1\nWORKDIR /app\nCOPY --from=b /package-lock.json ./\n"
        "RUN npm install\n",
    ),
    (
        "TD122",
        "FROM a:1 AS deps\nWORKDIR /app\nCOPY package-lock.json ./\nFROM a:1\nWORKDIR /app\n"
        "RUN npm install\n",
    ),
    (
        "TD122",
        "FROM a:1\nCOPY package-lock.json /tmp/\nWORKDIR /app\nCOPY src .\nRUN npm install\n",
    ),
    ("TD114", "FROM a:1\nRUN curl -fsSL https://x/t.tar.gz | tar -xz\n"),
    ("TD114", "FROM a:1\nRUN wget -q https://x/t.zip && unzip t.zip && rm t.zip\n"),
    ("TD116", "FROM a:1\nRUN a\nENV X=1\nRUN b\n"),
    ("TD116", "FROM a:1\nRUN a && b\nRUN c\n"),
    ("TD116", "FROM a:1\nRUN a | b\nRUN c\n"),
    ("TD116", "FROM a:1\nRUN a\nRUN b; c\n"),
    ("TD116", "FROM a:1\nRUN --mount=type=cache,target=/c a\nRUN b\n"),
    ("TD116", "FROM a:1 AS b\nRUN a\nRUN b\nFROM a:1\n"),
    ("TD117", "FROM golang:1.22 AS b\nRUN go build\nFROM gcr.io/distroless/static\n"),
    ("TD120", "FROM a:1 AS b\nCOPY tests/ /t/\nFROM a:1\nCOPY --from=b /tmp/out/app /app\n"),
    ("TD121", "FROM python:3.12-slim\n"),
    (
        "TD201",
        "FROM a:1\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY . .\n",
    ),
    ("TD203", "FROM a:1\nRUN apt-get install -y curl=7.88\n"),
    ("TD205", "FROM a:1\nRUN pip install --no-cache-dir -r requirements.txt\n"),
    ("TD206", "FROM a:1\nRUN npm ci\n"),
    ("TD301", "FROM a:1\nENV PASSWORD_FILE=/run/secrets/db\n"),
    ("TD301", "FROM a:1\nENV TOKEN_URL=https://auth.example.com/token\n"),
    ("TD302", "FROM a:1\nCOPY id_rsa.pub /root/.ssh/authorized_keys\n"),
    ("TD303", "FROM a:1\nUSER root\nRUN x\nUSER app\n"),
    ("TD304", "FROM gcr.io/distroless/static:nonroot\n"),
    ("TD304", "FROM a:1 AS b\nFROM a:1\nUSER 1000\n"),
    ("TD306", "FROM debian:12-slim\n"),
    ("TD307", "FROM scratch\n"),
    ("TD307", "FROM a:1 AS build\nFROM build\n"),
    ("TD307", "ARG BASE=debian:12\nFROM ${BASE}\n"),
    ("TD307", "ARG BASE\nFROM ${BASE}\n"),
    ("TD401", "FROM a:1\nHEALTHCHECK CMD curl -f http://localhost/\nCMD app && other\n"),
    ("TD401", 'FROM a:1\nCMD ["app", "--serve"]\n'),
    ("TD402", 'FROM a:1\nCMD ["nginx", "-g", "daemon off;"]\n'),
    ("TD404", "FROM a:1\nRUN ln -sf /dev/stdout /var/log/app.log\nCMD app > /var/log/app.log\n"),
    ("TD405", "FROM a:1\nENV ASPNETCORE_ENVIRONMENT=Production\n"),
    ("TD601", "FROM a:1\nRUN apt-get -qq install curl=1\n"),
    ("TD602", "FROM a:1\nRUN (cd /app && make)\n"),
    ("TD604", "FROM a:1\nADD app.tar.gz /opt/\n"),
    ("TD605", 'FROM a:1\nCMD ["node", "server.js"]\n'),
    ("TD611", "FROM a:1\nCOPY --from=nginx:1.25 /etc/nginx /etc/nginx\n"),
    ("TD612", "FROM a:1\nEXPOSE 80/tcp 443 8000-8010\n"),
    ("TD614", 'FROM a:1\nSHELL ["/bin/bash", "-o", "pipefail", "-c"]\nRUN a | b\n'),
    ("TD614", "FROM a:1\nRUN set -o pipefail && a | b\n"),
    # `x86_64|aarch64)` lists case patterns: no pipe anywhere.
    ("TD614", 'FROM a:1\nRUN case "$(uname -m)" in x86_64|aarch64) a ;; *) b ;; esac\n'),
    ("TD614", 'FROM a:1\nRUN x="$(a || b)"\n'),
    ("TD615", "FROM a:1\nRUN useradd -l -u 123456789 app\n"),
    ("TD622", "FROM a:1\nENV A=1\nENV B=$A\n"),
    ("TD626", "FROM a:1\nWORKDIR /app\nCOPY package.json .\n"),
]


def _found(text: str, options: LintOptions | None = None) -> set[tuple[str, int]]:
    settings = LintSettings(options=options or LintOptions())
    findings = lint(parse(text, "Dockerfile"), settings)
    result = set()
    for f in findings:
        assert f.location is not None
        result.add((f.rule_id, f.location.line))  # type: ignore[union-attr]
    return result


@pytest.mark.parametrize(
    ("rule_id", "text", "line"), FIRES, ids=[f"{r}-{i}" for i, (r, _t, _l) in enumerate(FIRES)]
)
def test_rule_fires_on_the_right_line(rule_id: str, text: str, line: int) -> None:
    assert (rule_id, line) in _found(text)


@pytest.mark.parametrize(
    ("rule_id", "text"), PASSES, ids=[f"{r}-{i}" for i, (r, _t) in enumerate(PASSES)]
)
def test_rule_stays_quiet(rule_id: str, text: str) -> None:
    assert rule_id not in {r for r, _line in _found(text)}


def test_every_rule_has_a_firing_case() -> None:
    covered = {r for r, _t, _l in FIRES} | {"TD305"}
    assert {r.info.rule_id for r in RULES} - covered == set()


def test_allowed_registries_policy() -> None:
    options = LintOptions(allowed_registries=("registry.example.com",))
    text = "FROM debian:12-slim AS a\nFROM registry.example.com/base/debian:12-slim\n"
    assert ("TD305", 1) in _found(text, options)
    assert ("TD305", 2) not in _found(text, options)
    assert "TD305" not in {r for r, _ in _found(text)}


@pytest.mark.parametrize(
    ("pattern", "base", "allowed"),
    [
        ("docker.io/library/debian:12*", "debian:12-slim", True),  # the example in docs/lint.md
        ("docker.io/library/debian:12*", "debian:11-slim", False),
        ("debian", "debian:12", True),  # no tag in the pattern: every tag
        ("debian", "debian-extra:12", False),
        ("alpine:*", "docker.io/library/alpine:3.20", True),
        ("docker.io/myorg/*", "myorg/base:1", True),
        ("registry.example.com/*", "registry.example.com/base/debian:12", True),
        ("registry.example.com/*", "debian:12", False),
    ],
)
def test_allowed_images_compare_full_names(pattern: str, base: str, allowed: bool) -> None:
    options = LintOptions(allowed_images=(pattern,))
    found = ("TD305", 1) in _found(f"FROM {base}\n", options)
    assert found is not allowed


def test_rules_have_four_part_docs() -> None:
    for rule in RULES:
        info = rule.info
        assert info.what and info.why and info.example and info.instead, info.rule_id
        assert info.category in {"size", "cache", "security", "production", "correctness", "style"}
