"""The Compose rules (TD700-TD712): pure checks over a loaded file and the facts gathered about
its build contexts. Each yields (path in the file, message) hits; the lint service adds
positions, pragmas and settings."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from trimdock.report.finding import Severity
from trimdock.report.rules import RuleInfo
from trimdock.rules.images import parse_image
from trimdock.rules.security import secret_name, secret_value

if TYPE_CHECKING:  # the YAML loader is imported by the commands that read Compose files
    from trimdock.runtime.compose.load import ComposeFile, Path_


@dataclass(frozen=True)
class BuildFacts:
    """What the service learnt from disk about one service's `build:` (I/O done elsewhere)."""

    context: str
    exists: bool
    has_dockerignore: bool = True
    dockerfile: str = ""
    # (rule id, severity) of each finding `trimdock lint` reports in the Dockerfile
    dockerfile_findings: tuple[tuple[str, Severity], ...] = ()


@dataclass(frozen=True)
class ComposeFacts:
    builds: Mapping[str, BuildFacts] = field(default_factory=dict)  # by service name


@dataclass(frozen=True)
class ComposeHit:
    path: Path_
    message: str
    evidence: tuple[tuple[str, Any], ...] = ()


Check = Callable[["ComposeFile", ComposeFacts], Iterator[ComposeHit]]


@dataclass(frozen=True)
class ComposeRule:
    info: RuleInfo
    check: Check


RULES: list[ComposeRule] = []


def rule(
    rule_id: str, title: str, severity: Severity, category: str, *, what: str, why: str,
    example: str, instead: str,
) -> Callable[[Check], Check]:  # fmt: skip
    def register(check: Check) -> Check:
        info = RuleInfo(rule_id, title, severity, what.strip(), why.strip(),
                        example.strip("\n"), instead.strip("\n"), None, category)  # fmt: skip
        RULES.append(ComposeRule(info, check))
        return check

    return register


def _table(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def services(compose: ComposeFile) -> Iterator[tuple[str, dict[str, Any]]]:
    found = compose.data.get("services") if isinstance(compose.data, dict) else None
    if isinstance(found, dict):
        for name, service in found.items():
            if isinstance(service, dict):
                yield name, service


def _environment(service: dict[str, Any]) -> Iterator[tuple[str | int, str, str]]:
    """(key in the file, name, value) of every environment entry, list or mapping form."""
    env = service.get("environment")
    if isinstance(env, dict):
        for name, value in env.items():
            yield name, name, "" if value is None else str(value)
    elif isinstance(env, list):
        for index, item in enumerate(env):
            name, _, value = str(item).partition("=")
            yield index, name, value


_INTERPOLATED = re.compile(r"^\$\{?[A-Za-z_][A-Za-z0-9_]*(?::?[-?][^}]*)?\}?$")


# -- TD700 is the schema (schema.py); its RuleInfo lives here with the others. ----------------
SCHEMA_RULE = RuleInfo(
    rule_id="TD700",
    title="Compose file does not match the Compose schema",
    severity=Severity.ERROR,
    what="A key, type or value the Compose specification does not allow.",
    why="Compose refuses the file, or silently reads a misspelt key as an extension nobody uses.",
    example="services:\n  web:\n    image: app:1.4\n    restrat: always",
    instead="services:\n  web:\n    image: app:1.4\n    restart: always",
    category="correctness",
)


@rule(
    "TD701", "Secret in environment", Severity.ERROR, "security",
    what="An `environment` entry whose name or value looks like a credential, written in the "
    "Compose file.",
    why="The file sits in version control, and environment variables show in `docker inspect`, "
    "in crash reports and in every child process. Secrets belong in `secrets:` (mounted files) "
    "or are interpolated from the deployment's environment.",
    example="services:\n  api:\n    image: api:2.1\n    environment:\n"
    "      DB_PASSWORD: hunter2",
    instead="services:\n  api:\n    image: api:2.1\n    environment:\n"
    "      DB_PASSWORD_FILE: /run/secrets/db_password\n    secrets: [db_password]\n"
    "secrets:\n  db_password:\n    file: ./db_password.txt",
)  # fmt: skip
def secret_in_environment(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, service in services(compose):
        for key, variable, value in _environment(service):
            if not value.strip() or _INTERPOLATED.match(value.strip()):
                continue
            if secret_value(value) or secret_name(variable):
                yield ComposeHit(
                    ("services", name, "environment", key),
                    f"{variable} in the file: use secrets: or ${{{variable}}}",
                    (("service", name), ("variable", variable)),
                )


_BOUNDED_DRIVERS = {"local"}  # rotates by default
_FILE_DRIVERS = {"json-file", None}


@rule(
    "TD702", "Logs without a size limit", Severity.WARNING, "production",
    what="A service with no `logging` options, or the json-file driver without `max-size`.",
    why="The default json-file driver keeps every line in one file per container until the disk "
    "is full; the logs belong to the platform, bounded on the host.",
    example="services:\n  web:\n    image: web:3.0",
    instead="services:\n  web:\n    image: web:3.0\n    logging:\n      driver: json-file\n"
    "      options:\n        max-size: 10m\n        max-file: \"3\"",
)  # fmt: skip
def unbounded_logs(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, service in services(compose):
        logging = service.get("logging")
        if not isinstance(logging, dict):
            yield ComposeHit(("services", name), f"{name}: no logging options (json-file grows)")
            continue
        driver = logging.get("driver")
        options = _table(logging.get("options"))
        if driver in _BOUNDED_DRIVERS or driver not in _FILE_DRIVERS:
            continue
        if "max-size" not in options:
            yield ComposeHit(
                ("services", name, "logging"), f"{name}: json-file logging without max-size"
            )


_PROXY_IMAGE = re.compile(r"(^|/)(nginx|traefik|haproxy|caddy|envoy|httpd|apache2?)([-:@]|$)")
_PROXY_NAME = re.compile(r"^(proxy|reverse-proxy|gateway|ingress|lb|load-balancer|traefik|nginx)$")


def _published_publicly(ports: Any) -> bool:
    if not isinstance(ports, list):
        return False
    for port in ports:
        if isinstance(port, dict):
            if port.get("published") is not None and port.get("host_ip") not in (
                "127.0.0.1",
                "::1",
            ):
                return True
        elif not str(port).startswith(("127.0.0.1:", "[::1]:")):
            return True
    return False


@rule(
    "TD703", "Published port behind a proxy", Severity.WARNING, "security",
    what="A service publishes ports although the file has a reverse-proxy service that "
    "publishes its own.",
    why="The proxy should be the only entry point: it terminates TLS, logs and limits requests. "
    "A second published port bypasses all of that.",
    example="services:\n  proxy:\n    image: nginx:1.25\n    ports: [\"443:443\"]\n"
    "  app:\n    image: app:1.0\n    ports: [\"8080:8080\"]",
    instead="services:\n  proxy:\n    image: nginx:1.25\n    ports: [\"443:443\"]\n"
    "  app:\n    image: app:1.0\n    expose: [\"8080\"]",
)  # fmt: skip
def port_behind_proxy(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    proxies = [
        name
        for name, service in services(compose)
        if _published_publicly(service.get("ports"))
        and (_PROXY_NAME.match(name) or _PROXY_IMAGE.search(str(service.get("image") or "")))
    ]
    if not proxies:
        return
    for name, service in services(compose):
        if name not in proxies and _published_publicly(service.get("ports")):
            yield ComposeHit(
                ("services", name, "ports"),
                f"{name} publishes ports beside proxy service {proxies[0]!r}",
                (("proxy", proxies[0]),),
            )


def _depends_on(service: dict[str, Any]) -> Iterator[tuple[str | int, str, str]]:
    value = service.get("depends_on")
    if isinstance(value, list):
        for index, target in enumerate(value):
            yield index, str(target), "service_started"
    elif isinstance(value, dict):
        for target, options in value.items():
            condition = options.get("condition") if isinstance(options, dict) else None
            yield target, target, str(condition or "service_started")


def _has_healthcheck(service: dict[str, Any]) -> bool:
    check = service.get("healthcheck")
    return isinstance(check, dict) and not check.get("disable") and check.get("test") != ["NONE"]


@rule(
    "TD704", "depends_on a service without a health check", Severity.WARNING, "production",
    what="`depends_on` names a service that has no `healthcheck`.",
    why="Without a health check Compose can only wait for the container to start, not for the "
    "service to be ready: the dependent app starts against a database still initialising.",
    example="services:\n  app:\n    image: app:1.0\n    depends_on: [db]\n"
    "  db:\n    image: postgres:16",
    instead="services:\n  app:\n    image: app:1.0\n    depends_on:\n      db:\n"
    "        condition: service_healthy\n  db:\n    image: postgres:16\n    healthcheck:\n"
    "      test: [\"CMD\", \"pg_isready\"]",
)  # fmt: skip
def depends_without_healthcheck(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    known = dict(services(compose))
    for name, service in known.items():
        for key, target, condition in _depends_on(service):
            if target in known and not _has_healthcheck(known[target]):
                message = (
                    f"{name} waits for {target} to be healthy: {target} has no healthcheck"
                    if condition == "service_healthy"
                    else f"{name} waits only for {target} to start: {target} has no healthcheck"
                )
                yield ComposeHit(("services", name, "depends_on", key), message)


@rule(
    "TD705", "No restart policy", Severity.WARNING, "production",
    what="A service with neither `restart` nor `deploy.restart_policy`.",
    why="A crashed or OOM-killed container stays down until someone notices.",
    example="services:\n  web:\n    image: web:3.0",
    instead="services:\n  web:\n    image: web:3.0\n    restart: unless-stopped",
)  # fmt: skip
def no_restart(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, service in services(compose):
        deploy = _table(service.get("deploy"))
        if "restart" not in service and "restart_policy" not in deploy:
            yield ComposeHit(("services", name), f"{name}: no restart policy")


@rule(
    "TD706", "No memory limit", Severity.WARNING, "production",
    what="A service with neither `mem_limit` nor `deploy.resources.limits.memory`.",
    why="One leaking container can take the host's memory and get its neighbours OOM-killed.",
    example="services:\n  web:\n    image: web:3.0",
    instead="services:\n  web:\n    image: web:3.0\n    deploy:\n      resources:\n"
    "        limits:\n          memory: 512M\n          cpus: \"1\"",
)  # fmt: skip
def no_limits(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, service in services(compose):
        deploy = _table(service.get("deploy"))
        resources = _table(deploy.get("resources"))
        limits = _table(resources.get("limits"))
        if "mem_limit" not in service and "memory" not in limits:
            yield ComposeHit(("services", name), f"{name}: no memory limit")


@rule(
    "TD707", "Privileged container", Severity.ERROR, "security",
    what="`privileged: true`.",
    why="A privileged container has every capability and every device: root in it is root on "
    "the host.",
    example="services:\n  agent:\n    image: agent:1.2\n    privileged: true",
    instead="services:\n  agent:\n    image: agent:1.2\n    cap_add: [NET_ADMIN]",
)  # fmt: skip
def privileged(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, service in services(compose):
        if service.get("privileged") is True:
            yield ComposeHit(("services", name, "privileged"), f"{name} runs privileged")


@rule(
    "TD708", "Host network", Severity.WARNING, "security",
    what="`network_mode: host`.",
    why="The container shares the host's network stack: every port it opens is published, and "
    "it can reach services bound to the host's loopback.",
    example="services:\n  web:\n    image: web:3.0\n    network_mode: host",
    instead="services:\n  web:\n    image: web:3.0\n    ports: [\"8080:8080\"]",
)  # fmt: skip
def host_network(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, service in services(compose):
        if service.get("network_mode") == "host":
            yield ComposeHit(("services", name, "network_mode"), f"{name} uses the host network")


def _volume_source(volume: Any) -> str:
    if isinstance(volume, dict):
        return str(volume.get("source") or "")
    return str(volume).split(":", 1)[0]


@rule(
    "TD709", "Docker socket mounted", Severity.ERROR, "security",
    what="The engine's socket (`/var/run/docker.sock`) is mounted into a service.",
    why="Whoever can talk to the socket controls the engine, and so the host: a compromised "
    "app becomes root on the machine.",
    example="services:\n  ci:\n    image: ci:5.0\n    volumes:\n"
    "      - /var/run/docker.sock:/var/run/docker.sock",
    instead="services:\n  ci:\n    image: ci:5.0\n    volumes:\n      - ci-data:/data\n"
    "volumes:\n  ci-data: {}",
)  # fmt: skip
def docker_socket(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, service in services(compose):
        volumes = service.get("volumes")
        for index, volume in enumerate(volumes if isinstance(volumes, list) else []):
            if _volume_source(volume).rstrip("/").endswith("docker.sock"):
                yield ComposeHit(
                    ("services", name, "volumes", index), f"{name} mounts the Docker socket"
                )


@rule(
    "TD710", "Image without a pinned tag", Severity.WARNING, "security",
    what="`image:` without a tag or with `latest`, on a service that is not built here.",
    why="`latest` is whatever was pushed last: the same file deploys different software on two "
    "days, and a rollback has nothing to go back to.",
    example="services:\n  cache:\n    image: redis:latest",
    instead="services:\n  cache:\n    image: redis:7.2",
)  # fmt: skip
def latest_image(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, service in services(compose):
        image = service.get("image")
        if not isinstance(image, str) or "build" in service or "$" in image:
            continue
        ref = parse_image(image)
        if ref.digest:
            continue
        if ref.tag in (None, "latest"):
            advice = (
                " has no tag: pin a version" if ref.tag is None else ": pin a version, not latest"
            )
            yield ComposeHit(("services", name, "image"), f"{name}: image {image}{advice}")


@rule(
    "TD711", "Build context without .dockerignore", Severity.WARNING, "size",
    what="A service is built from a context directory that has no .dockerignore.",
    why="The whole directory, VCS data and local build output included, is sent to the builder "
    "on every build and can reach the image through `COPY . .`.",
    example="# build context ./app has no .dockerignore\nservices:\n  app:\n    build: ./app",
    instead="# build context ./app has a .dockerignore\nservices:\n  app:\n    build: ./app",
)  # fmt: skip
def build_without_dockerignore(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, _ in services(compose):
        build = facts.builds.get(name)
        if build is not None and build.exists and not build.has_dockerignore:
            yield ComposeHit(
                ("services", name, "build"),
                f"{name}: build context {build.context} has no .dockerignore",
                (("context", build.context),),
            )


@rule(
    "TD712", "Built from a Dockerfile with lint findings", Severity.WARNING, "production",
    what="A service is built from a Dockerfile in which `trimdock lint` finds warnings or errors.",
    why="The image this file deploys inherits every size, cache and security problem of its "
    "Dockerfile.",
    example="# ./app/Dockerfile has `FROM debian` (TD301)\nservices:\n  app:\n    build: ./app",
    instead="# ./app/Dockerfile lints clean\nservices:\n  app:\n    build: ./app",
)  # fmt: skip
def dockerfile_findings(compose: ComposeFile, facts: ComposeFacts) -> Iterator[ComposeHit]:
    for name, _ in services(compose):
        build = facts.builds.get(name)
        if build is None:
            continue
        serious = [
            rule_id
            for rule_id, severity in build.dockerfile_findings
            if severity.at_least(Severity.WARNING)
        ]
        if serious:
            ids = ", ".join(sorted(set(serious)))
            yield ComposeHit(
                ("services", name, "build"),
                f"{name}: {len(serious)} lint finding(s) in {build.dockerfile}: {ids}",
                (("dockerfile", build.dockerfile), ("rules", sorted(set(serious)))),
            )


COMPOSE_RULES: Mapping[str, RuleInfo] = {
    info.rule_id: info
    for info in sorted([SCHEMA_RULE, *(r.info for r in RULES)], key=lambda i: i.rule_id)
}
