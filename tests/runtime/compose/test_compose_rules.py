"""Compose lint: each rule fires on its bad file and stays quiet on good ones; positions, pragmas,
settings, the schema on the specification's shapes, and the CLI dispatch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trimdock.cli.main import run
from trimdock.errors import ComposeError
from trimdock.report.finding import FileLocation, Severity
from trimdock.rules.engine import LintSettings
from trimdock.rules.registry import lookup
from trimdock.runtime.compose.load import parse_compose
from trimdock.runtime.compose.rules import BuildFacts, ComposeFacts
from trimdock.runtime.compose.service import is_compose_file, lint_compose

# A service every rule is happy with; bad fixtures change one thing.
GOOD_SERVICE = """\
    image: app:1.4
    restart: unless-stopped
    logging:
      driver: json-file
      options: {max-size: 10m, max-file: "3"}
    deploy:
      resources:
        limits: {memory: 256M}
"""


def compose(services: dict[str, str]) -> str:
    return "services:\n" + "".join(f"  {name}:\n{body}" for name, body in services.items())


def ids(text: str, facts: ComposeFacts | None = None) -> list[str]:
    found = lint_compose(parse_compose(text, "compose.yaml"), LintSettings(), facts)
    return [f.rule_id for f in found]


GOOD_FILES = {
    "one service": compose({"web": GOOD_SERVICE}),
    "proxy is the only entry point": compose({
        "proxy": GOOD_SERVICE.replace("app:1.4", "nginx:1.25") + '    ports: ["443:443"]\n',
        "app": GOOD_SERVICE + '    expose: ["8080"]\n',
        "admin": GOOD_SERVICE + '    ports: ["127.0.0.1:9000:9000"]\n',
    }),
    "ports without a proxy": compose({"web": GOOD_SERVICE + "    ports:\n      - 80:80\n"}),
    "depends on a healthy service": compose({
        "app": GOOD_SERVICE + "    depends_on:\n      db: {condition: service_healthy}\n",
        "db": GOOD_SERVICE + '    healthcheck:\n      test: ["CMD", "pg_isready"]\n',
    }),
    "interpolated secret": compose(
        {"api": GOOD_SERVICE + "    environment:\n      DB_PASSWORD: ${DB_PASSWORD}\n"
                               "      TOKEN_FILE: /run/secrets/token\n      DB_HOST: db\n"}
    ),
    "list environment": compose(
        {"api": GOOD_SERVICE + "    environment:\n      - API_KEY=${API_KEY:?set it}\n"}
    ),
    "local log driver": compose({"web": GOOD_SERVICE.replace("json-file", "local")}),
    "syslog driver": compose({"web": GOOD_SERVICE.replace("json-file", "syslog")}),
    "restart in deploy": compose(
        {"web": GOOD_SERVICE.replace("    restart: unless-stopped\n", "")
         .replace("    deploy:\n", "    deploy:\n      restart_policy: {condition: any}\n")}
    ),
    "mem_limit": compose({"web": GOOD_SERVICE.replace("        limits: {memory: 256M}\n",
                                                      "        reservations: {memory: 64M}\n")
                          + "    mem_limit: 256m\n"}),
    "built image name": compose({"app": GOOD_SERVICE.replace("app:1.4", "app") + "    build: .\n"}),
    "digest-pinned": compose({"web": GOOD_SERVICE.replace("app:1.4", "app@sha256:" + "a" * 64)}),
    "named volume": compose({"web": GOOD_SERVICE + "    volumes: [data:/data]\n"})
    + "volumes:\n  data: {}\n",
    "extension fields and anchors": "x-base: &base\n"
    + "".join(line[2:] + "\n" for line in GOOD_SERVICE.splitlines())
    + "services:\n  web:\n    <<: *base\n",
}  # fmt: skip


@pytest.mark.parametrize("text", GOOD_FILES.values(), ids=GOOD_FILES.keys())
def test_good_files_stay_quiet(text: str) -> None:
    assert ids(text) == []


BAD_FILES = {
    "TD700": compose({"web": GOOD_SERVICE + "    restrat: always\n"}),
    "TD701": compose({"api": GOOD_SERVICE + "    environment:\n      - DB_PASSWORD=hunter2\n"}),
    "TD702": compose({"web": GOOD_SERVICE.replace("max-size: 10m, ", "")}),
    "TD703": compose({
        "proxy": GOOD_SERVICE.replace("app:1.4", "traefik:v3.0") + '    ports: ["80:80"]\n',
        "app": GOOD_SERVICE + '    ports: ["8080:8080"]\n',
    }),
    "TD704": compose({"app": GOOD_SERVICE + "    depends_on: [db]\n", "db": GOOD_SERVICE}),
    "TD705": compose({"web": GOOD_SERVICE.replace("    restart: unless-stopped\n", "")}),
    "TD706": compose({"web": GOOD_SERVICE.replace("        limits: {memory: 256M}\n",
                                                  "        limits: {cpus: '1'}\n")}),
    "TD707": compose({"web": GOOD_SERVICE + "    privileged: true\n"}),
    "TD708": compose({"web": GOOD_SERVICE + "    network_mode: host\n"}),
    "TD709": compose({"web": GOOD_SERVICE + "    volumes:\n      - type: bind\n"
                      "        source: /var/run/docker.sock\n        target: /run/docker.sock\n"}),
    "TD710": compose({"web": GOOD_SERVICE.replace("app:1.4", "redis:latest")}),
}  # fmt: skip


@pytest.mark.parametrize(("rule_id", "text"), BAD_FILES.items(), ids=BAD_FILES.keys())
def test_each_bad_file_fires_its_rule_only(rule_id: str, text: str) -> None:
    assert ids(text) == [rule_id]


BUILD = compose({"app": GOOD_SERVICE + "    build: ./app\n"})


def test_build_facts_fire_the_context_and_dockerfile_rules() -> None:
    bare = BuildFacts("./app", True, has_dockerignore=False, dockerfile="app/Dockerfile")
    assert ids(BUILD, ComposeFacts({"app": bare})) == ["TD711"]
    linted = BuildFacts("./app", True, True, "app/Dockerfile", (("TD301", Severity.WARNING),))
    assert ids(BUILD, ComposeFacts({"app": linted})) == ["TD712"]
    style = BuildFacts("./app", True, True, "app/Dockerfile", (("TD401", Severity.STYLE),))
    assert ids(BUILD, ComposeFacts({"app": style})) == []


def test_findings_point_at_line_and_column_of_the_key() -> None:
    text = compose({"web": GOOD_SERVICE + "    privileged: true\n"})
    (finding,) = lint_compose(parse_compose(text, "c.yaml"), LintSettings())
    assert finding.location == FileLocation("c.yaml", 11, 5, 11, 15)
    assert text.splitlines()[10].strip() == "privileged: true"


def test_schema_errors_point_at_the_misspelt_key() -> None:
    (finding,) = lint_compose(parse_compose(BAD_FILES["TD700"], "c.yaml"), LintSettings())
    assert isinstance(finding.location, FileLocation) and finding.location.line == 11
    assert finding.message == "services.web: unknown key 'restrat'"


def test_pragmas_above_a_block_or_at_line_end_and_global() -> None:
    base = GOOD_SERVICE + "    privileged: true\n    network_mode: host\n"
    above = "services:\n  # trimdock ignore=TD707,TD708\n  web:\n" + base
    assert ids(above) == []
    inline = compose({"web": base.replace("true\n", "true  # trimdock ignore=TD707\n")})
    assert ids(inline) == ["TD708"]
    assert ids("# trimdock global ignore=TD708\n" + compose({"web": base})) == ["TD707"]
    # a pragma covers the block below it only, not the next service
    two = "services:\n  # trimdock ignore=TD707\n  a:\n" + base + "  b:\n" + base
    assert ids(two) == ["TD708", "TD707", "TD708"]


def test_config_ignore_and_severity_apply(tmp_path: Path) -> None:
    settings = LintSettings(ignore=frozenset({"TD707"}), severity={"TD708": Severity.INFO})
    text = compose({"web": GOOD_SERVICE + "    privileged: true\n    network_mode: host\n"})
    found = lint_compose(parse_compose(text, "c.yaml"), settings)
    assert [(f.rule_id, f.severity) for f in found] == [("TD708", Severity.INFO)]


def test_compose_ids_are_known_to_explain_ignore_and_config() -> None:
    for rule_id in ["TD700", *BAD_FILES, "TD711", "TD712"]:
        info = lookup(rule_id)
        assert info is not None and info.rule_id == rule_id


# The shapes the Compose specification allows for each field, short and long syntax.
SPEC_SHAPES = """\
name: shapes
services:
  web:
    image: web:1.0
    build:
      context: ./web
      dockerfile: Dockerfile.prod
      args: [VERSION=1]
    command: ["serve", "--port", "80"]
    entrypoint: /entry.sh
    environment: [A=1, B]
    env_file: [.env]
    ports:
      - "80"
      - 8080:80
      - "127.0.0.1:9000:9000/udp"
      - target: 443
        published: "8443"
        protocol: tcp
        mode: host
    expose: ["3000", 3001]
    volumes:
      - data:/data:ro
      - ./conf:/etc/web
      - type: tmpfs
        target: /cache
        tmpfs: {size: 1000000}
    depends_on:
      db:
        condition: service_healthy
        restart: true
    healthcheck:
      test: curl -f http://localhost/
      interval: 30s
      start_period: 5s
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.5", memory: 50M}
      restart_policy: {condition: on-failure, max_attempts: 3}
    logging:
      driver: json-file
      options: {max-size: 10m}
    secrets:
      - db_password
      - source: api_key
        target: /run/secrets/api
    configs: [web_conf]
    networks:
      front:
        aliases: [www]
    ulimits:
      nofile: {soft: 1024, hard: 2048}
    x-custom: anything
  db:
    image: postgres:16
    networks: [back]
    sysctls: {net.core.somaxconn: 1024}
    labels: [com.example=1]
networks:
  front: {}
  back:
    internal: true
volumes:
  data:
    driver: local
secrets:
  db_password: {file: ./db_password.txt}
  api_key: {environment: API_KEY}
configs:
  web_conf: {file: ./web.conf}
x-anchors: {}
"""
SCHEMA_VIOLATIONS = {
    "unknown service key": ("services:\n  web:\n    imagee: a:1\n", "unknown key 'imagee'"),
    "ports not a list": ("services:\n  web:\n    image: a:1\n    ports: 80\n", "ports"),
    "healthcheck not a mapping": ("services:\n  web:\n    image: a:1\n    healthcheck: yes\n",
                                  "healthcheck: expected object"),
    "services not a mapping": ("services: [web]\n", "services: expected object"),
    "unknown top-level key": ("service:\n  web: {image: a:1}\n", "unknown key 'service'"),
    "bad depends_on condition": (
        "services:\n  a:\n    image: a:1\n    depends_on:\n      b: {condition: ready}\n"
        "  b:\n    image: b:1\n", "ready",
    ),
}  # fmt: skip


def test_the_specification_shapes_validate() -> None:
    found = lint_compose(parse_compose(SPEC_SHAPES, "c.yaml"), LintSettings())
    assert [f for f in found if f.rule_id == "TD700"] == []


@pytest.mark.parametrize(("text", "expected"), SCHEMA_VIOLATIONS.values(), ids=SCHEMA_VIOLATIONS)
def test_schema_violations_are_reported(text: str, expected: str) -> None:
    found = lint_compose(parse_compose(text, "c.yaml"), LintSettings())
    messages = [f.message for f in found if f.rule_id == "TD700"]
    assert any(expected in m for m in messages), messages


@pytest.mark.parametrize(
    "text", ["services: [\n", "a: &a [*a]\n", "a: !!python/object:os.system x\n", "a: b: c\n"]
)
def test_unreadable_yaml_is_a_compose_error(text: str) -> None:
    with pytest.raises(ComposeError):
        parse_compose(text, "c.yaml")


def test_alias_bombs_are_refused() -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(ComposeError, match="too many nodes"):
        parse_compose("\n".join(lines) + "\n", "c.yaml")


@pytest.mark.parametrize(
    ("name", "content", "expected"),
    [
        ("compose.yaml", "", True),
        ("docker-compose.prod.yml", "", True),
        ("stack.yml", "version: '3'\nservices:\n  a: {image: a:1}\n", True),
        ("values.yaml", "replicas: 2\n", False),
        ("Dockerfile", "FROM a:1\n", False),
    ],
)
def test_compose_files_are_recognised_by_name_or_content(
    tmp_path: Path, name: str, content: str, expected: bool
) -> None:
    path = tmp_path / name
    path.write_text(content)
    assert is_compose_file(str(path)) is expected


def test_lint_cli_reports_compose_and_dockerfile_together(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "Dockerfile").write_text('FROM debian\nCMD ["app"]\n')
    (tmp_path / "compose.yaml").write_text(compose({"app": GOOD_SERVICE + "    build: ./app\n"}))
    (tmp_path / "Dockerfile").write_text("FROM a:1\nUSER 1000\n")
    code = run(["lint", "compose.yaml", "Dockerfile", "-F", "json", "--no-shellcheck"])
    document = json.loads(capsys.readouterr().out)
    assert code == 1
    assert document["files"] == ["Dockerfile", "compose.yaml"]
    by_file = {(f["location"]["file"], f["rule"]) for f in document["findings"]}
    assert ("compose.yaml", "TD711") in by_file and ("compose.yaml", "TD712") in by_file
    assert run(["lint", "compose.yaml", "--ignore", "TD711,TD712", "-q"]) == 0


def test_an_unreadable_compose_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "compose.yaml"
    path.write_text("services: [\n")
    assert run(["lint", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trimdock: {path}: invalid YAML: line 2") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("bad", "problem"),
    [
        ("compose.yaml", "invalid YAML: line 2"),
        ("docker-compose.yml", "is a directory, not a Compose file"),
        ("compose.prod.yaml", "no such file"),
    ],
)
def test_a_bad_compose_file_among_several_is_reported_and_the_rest_checked(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    bad: str,
    problem: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    if problem.startswith("invalid"):
        (tmp_path / bad).write_text("services: [\n")
    elif problem.startswith("is a directory"):
        (tmp_path / bad).mkdir()
    (tmp_path / "good.compose.yaml").write_text(compose({"app": GOOD_SERVICE}))
    (tmp_path / "Dockerfile").write_text("FROM a:1\nUSER 1000\n")
    argv = ["lint", bad, "good.compose.yaml", "Dockerfile", "-F", "json", "--no-shellcheck"]
    assert run(argv) == 2  # as an unreadable Dockerfile among several: exit 2 after the report
    captured = capsys.readouterr()
    assert captured.err.startswith(f"trimdock: {bad}: {problem}") and captured.err.count("\n") == 1
    assert json.loads(captured.out)["files"] == ["Dockerfile", "good.compose.yaml"]


# The text report prefixes each message with "  FILE:LINE:COL  WARNING  TD7nn  ": the message
# itself must stay short enough for a reader at 80 columns, with service names of the usual size.
MESSAGE_COLUMNS = 60


def test_every_compose_message_is_short() -> None:
    from trimdock.runtime.compose.rules import COMPOSE_RULES

    facts = ComposeFacts(
        {"app": BuildFacts("./app", True, False, "app/Dockerfile", (("TD301", Severity.WARNING),))}
    )
    long = []
    fired = set()
    for info in COMPOSE_RULES.values():
        for finding in lint_compose(
            parse_compose(info.example + "\n", "c.yaml"), LintSettings(), facts
        ):
            fired.add(finding.rule_id)
            if len(finding.message) > MESSAGE_COLUMNS:
                long.append(finding.message)
    assert long == []
    assert fired >= set(COMPOSE_RULES) - {"TD700"}
