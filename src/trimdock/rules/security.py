"""TD3xx security: secrets, root, base image policy, sudo."""

from __future__ import annotations

import fnmatch
import itertools
import re
from collections.abc import Iterator

from trimdock.dockerfile.model import Instruction, Span
from trimdock.report.finding import Severity
from trimdock.rules.analysis import Analysis
from trimdock.rules.base import Hit, rule
from trimdock.rules.common import command_span
from trimdock.rules.images import canonical_image, parse_image

_SECRET_WORDS = {"password", "passwd", "pwd", "pword", "secret", "token", "apikey", "credential",
                 "credentials", "passphrase", "auth"}  # fmt: skip
_SECRET_PAIRS = {("api", "key"), ("access", "key"), ("private", "key"), ("secret", "key"),
                 ("signing", "key"), ("client", "secret"), ("auth", "token")}  # fmt: skip
_NOT_SECRET_WORDS = {"file", "path", "dir", "url", "endpoint", "type", "length", "min", "max",
                     "public", "header", "name", "user", "username", "enabled", "mode"}  # fmt: skip
_SECRET_VALUE = re.compile(
    r"://[^/\s:@]+:[^/\s@]+@|AKIA[0-9A-Z]{16}|gh[pousr]_[A-Za-z0-9]{30,}|glpat-[A-Za-z0-9_-]{20}|"
    r"xox[baprs]-[A-Za-z0-9-]{10,}|sk_live_[A-Za-z0-9]{16,}|-----BEGIN [A-Z ]*PRIVATE KEY|"
    r"AIza[0-9A-Za-z_-]{35}"
)


def _name_tokens(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    return [t for t in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if t]


def secret_name(name: str) -> bool:
    tokens = _name_tokens(name)
    if not tokens or tokens[-1] in _NOT_SECRET_WORDS:
        return False
    if any(t in _SECRET_WORDS for t in tokens):
        return True
    return any(pair in _SECRET_PAIRS for pair in itertools.pairwise(tokens))


def secret_value(value: str) -> bool:
    """A value shaped like a credential (a URL with a password, a provider key, a private key)."""
    return _SECRET_VALUE.search(value) is not None


def _pairs(analysis: Analysis, instruction: Instruction) -> Iterator[tuple[str, str | None, Span]]:
    args = instruction.args
    if instruction.keyword == "ARG":
        for word in args:
            name, sep, value = word.raw.partition("=")
            yield name, (analysis.word(value) if sep else None), word.span
        return
    for key_word, value_word in zip(args[::2], args[1::2], strict=False):
        yield analysis.word(key_word.raw), analysis.word(value_word.raw), key_word.span


@rule(
    "TD301", "Secret in ENV, ARG or LABEL", Severity.ERROR, "security",
    what="An ENV/ARG/LABEL whose name looks like a secret (password, token, api key, ...) or "
    "whose value looks like one (credentials in a URL, cloud or VCS access keys, a private key).",
    why="ENV and LABEL values are stored in the image config and ARG values in the build "
    "history: anyone who can pull the image can read them (practice: no secrets in the image).",
    example="ENV DB_PASSWORD=hunter2\nARG GITHUB_TOKEN",
    instead="RUN --mount=type=secret,id=db_password ...\n# or provide it at run time: "
    "docker run -e DB_PASSWORD ...",
    peer="DL3064",
)  # fmt: skip
def secrets_in_config(analysis: Analysis) -> Iterator[Hit]:
    instructions = [*analysis.dockerfile.global_args]
    instructions += [i for _f, i in analysis.instructions()]
    for instruction in instructions:
        if instruction.keyword not in ("ENV", "ARG", "LABEL"):
            continue
        for name, value, span in _pairs(analysis, instruction):
            if value is not None and _SECRET_VALUE.search(value):
                yield Hit(span, f"{instruction.keyword} {name} has a value shaped like a secret")
                continue
            if instruction.keyword == "LABEL" or not secret_name(name):
                continue
            passed_through = value is not None and (value == "" or value.startswith("$"))
            if passed_through and instruction.keyword == "ENV":
                continue  # an empty ENV or one passed through from an ARG is flagged at the ARG
            yield Hit(
                span,
                f"{instruction.keyword} {name} looks like a secret: its value is stored in the "
                f"{'build history' if instruction.keyword == 'ARG' else 'image config'}",
                severity=Severity.WARNING if value is None or value == "" else None,
            )


_SECRET_FILE = re.compile(
    r"(^|/)(id_(rsa|dsa|ecdsa|ed25519)|\.env|\.npmrc|\.pypirc|\.netrc|\.git-credentials|"
    r"credentials(\.json)?|\.htpasswd|\.dockercfg|secrets?(\.[a-z]+)?)$|"
    r"\.(pem|key|p12|pfx|jks|keystore|asc|gpg)$|(^|/)\.(ssh|aws|gnupg|kube|docker)(/|$)"
)


@rule(
    "TD302", "Secret file copied into the image", Severity.ERROR, "security",
    what="COPY/ADD of a key or credentials file (`*.pem`, `*.key`, `id_rsa`, `.env`, `.npmrc`, "
    "`.aws/`, `*secret*`) into a stage that reaches the final image.",
    why="Files in any layer can be extracted from the image, even if a later RUN deletes them "
    "(practice: no secrets in the image).",
    example="COPY id_rsa /root/.ssh/id_rsa",
    instead="RUN --mount=type=ssh git clone git@github.com:org/repo.git\n"
    "RUN --mount=type=secret,id=npmrc,target=/root/.npmrc npm ci",
)  # fmt: skip
def secret_files(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction in analysis.instructions(final_only=True):
        if instruction.keyword not in ("COPY", "ADD") or instruction.heredocs:
            continue
        values = [analysis.word(v) for v in instruction.values]
        for source in values[:-1]:
            if _SECRET_FILE.search(source.rstrip("/")) and not source.endswith(
                (".pub", ".example")
            ):
                yield Hit(instruction.span, f"{source} looks like a key or credentials file")


_ROOT_USERS = re.compile(r"^(root|0)(:(root|0))?$")
# (`distroless.*:.*nonroot` was here too: redundant with `nonroot`, and quadratic on `:` runs.)
_NONROOT_BASES = re.compile(r"nonroot|chainguard|cgr\.dev|-rootless")


def _final_user(analysis: Analysis) -> tuple[Instruction | None, bool]:
    """The last USER in the final image's stages, and whether any stage chain exists."""
    last: Instruction | None = None
    for facts in analysis.final_stages:
        for instruction in facts.stage.instructions:
            if instruction.keyword == "USER":
                last = instruction
    return last, bool(analysis.final_stages)


@rule(
    "TD303", "Last USER is root", Severity.WARNING, "security", peer="DL3002",
    what="The last USER of the final image is `root` (or 0).",
    why="A process running as root in the container is root on the host's kernel: a breakout "
    "or a writable mount becomes a full compromise (practice: don't run as root).",
    example="USER root\nRUN apt-get update && ...\nCMD [\"app\"]",
    instead="USER root\nRUN apt-get update && ...\nUSER app\nCMD [\"app\"]",
)  # fmt: skip
def root_user(analysis: Analysis) -> Iterator[Hit]:
    last, _ = _final_user(analysis)
    if last is not None and last.args and _ROOT_USERS.match(analysis.word(last.args[0].raw)):
        yield Hit(last.span, "the final image runs as root")


@rule(
    "TD304", "No USER in the final image", Severity.WARNING, "security",
    what="No USER instruction in the stages of the final image, so it runs as the base image's "
    "user, usually root.",
    why="Running as root makes any container escape or mount mistake a host compromise "
    "(practice: don't run as root).",
    example="FROM debian:bookworm-slim\nCOPY app /app\nCMD [\"/app\"]",
    instead="FROM debian:bookworm-slim\nRUN useradd --system --uid 10001 app\nCOPY app /app\n"
    "USER app\nCMD [\"/app\"]",
)  # fmt: skip
def no_user(analysis: Analysis) -> Iterator[Hit]:
    last, has_final = _final_user(analysis)
    final = analysis.final
    if last is not None or not has_final or final is None:
        return
    bases = " ".join(f.stage.resolved_base for f in analysis.final_stages)
    if _NONROOT_BASES.search(bases) or "$" in bases:
        return
    yield Hit(
        final.stage.from_instruction.span, "no USER in the final stage: the image runs as root"
    )


def _external_bases(analysis: Analysis) -> Iterator[tuple[Instruction, str]]:
    for facts in analysis.stages:
        stage = facts.stage
        if stage.parent_stage is not None or stage.resolved_base.lower() == "scratch":
            continue
        if not stage.resolved_base:
            continue
        yield stage.from_instruction, stage.resolved_base


def _allowed_image(base: str, pattern: str) -> bool:
    """`pattern` (a glob) allows `base`, compared as written or in the engine's full form, so
    `docker.io/library/debian:12*` allows `FROM debian:12-slim`. A pattern with no tag or digest
    allows every tag of its repositories."""
    if fnmatch.fnmatchcase(base, pattern):
        return True
    wanted = canonical_image(pattern, default_tag=False)
    if parse_image(pattern).tag is None and "@" not in pattern:
        ref = parse_image(canonical_image(base))
        return fnmatch.fnmatchcase(f"{ref.registry}/{ref.repository}", wanted)
    return fnmatch.fnmatchcase(canonical_image(base), wanted)


@rule(
    "TD305", "Base image not in the allowed list", Severity.ERROR, "security", peer="DL3026",
    what="A FROM image outside `[lint] allowed-registries` / `allowed-images` (only when one of "
    "them is configured).",
    why="Your vetted ('golden') base images are patched and scanned; others are not (practice: "
    "use your own vetted bases).",
    example="# .trimdock.toml: [lint] allowed-registries = [\"registry.example.com\"]\n"
    "FROM debian:bookworm-slim",
    instead="FROM registry.example.com/base/debian:bookworm-slim",
)  # fmt: skip
def allowed_bases(analysis: Analysis) -> Iterator[Hit]:
    registries = analysis.options.allowed_registries
    images = analysis.options.allowed_images
    if not registries and not images:
        return
    for instruction, base in _external_bases(analysis):
        if "$" in base:
            continue
        ref = parse_image(base)
        registry = ref.registry or "docker.io"
        ok_registry = bool(registries) and any(
            fnmatch.fnmatch(registry, r)
            or (r in ("docker.io", "hub.docker.com") and not ref.registry)
            for r in registries
        )
        # Both sides in the engine's full form: `docker.io/library/debian:12*` allows
        # `FROM debian:12-slim`, as the same image under its short name.
        ok_image = bool(images) and any(_allowed_image(base, pattern) for pattern in images)
        if not (ok_registry or ok_image):
            yield Hit(instruction.span, f"{base} is not from an allowed registry or image list")


@rule(
    "TD306", "Base image tagged latest", Severity.WARNING, "security", peer="DL3007",
    what="FROM `image:latest`.",
    why="`latest` moves: the same Dockerfile builds a different, unreviewed base tomorrow, and "
    "the cache hides when it changed (practice: pin your base images).",
    example="FROM debian:latest",
    instead="FROM debian:12.5-slim\n# or pin the digest: FROM debian:12.5-slim@sha256:...",
)  # fmt: skip
def latest_tag(analysis: Analysis) -> Iterator[Hit]:
    for instruction, base in _external_bases(analysis):
        if "$" in base:
            continue
        ref = parse_image(base)
        if ref.tag == "latest" and not ref.digest:
            yield Hit(
                instruction.args[0].span if instruction.args else instruction.span,
                f"{base} uses the moving `latest` tag",
            )


@rule(
    "TD307", "Base image without a tag", Severity.WARNING, "security", peer="DL3006",
    what="FROM an image with neither tag nor digest (bases given through an ARG are judged by "
    "the ARG's default; stage names and `scratch` are fine).",
    why="An untagged image means `latest`: the base changes under you (practice: pin your base "
    "images).",
    example="FROM debian",
    instead="FROM debian:12.5-slim",
)  # fmt: skip
def untagged(analysis: Analysis) -> Iterator[Hit]:
    for instruction, base in _external_bases(analysis):
        if "$" in base:
            continue
        ref = parse_image(base)
        if ref.tag is None and ref.digest is None:
            yield Hit(
                instruction.args[0].span if instruction.args else instruction.span,
                f"{base} has no tag: it means `latest`",
            )


@rule(
    "TD308", "sudo in RUN", Severity.WARNING, "security", peer="DL3004",
    what="`sudo` in a RUN instruction.",
    why="Builds already run as the current USER; sudo adds a setuid binary and unpredictable "
    "TTY/environment behaviour. Switch with USER instead.",
    example="RUN sudo apt-get install -y curl",
    instead="USER root\nRUN apt-get install -y curl\nUSER app",
)  # fmt: skip
def sudo(analysis: Analysis) -> Iterator[Hit]:
    for _facts, instruction, script in analysis.runs():
        for command in script.named("sudo"):
            if command.via != "wrapper":
                yield Hit(
                    command_span(command, instruction), "sudo in RUN: use USER to switch users"
                )
