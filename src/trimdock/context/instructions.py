"""A narrow Dockerfile reader: only what build-context analysis needs.

It is deliberately not a Dockerfile parser (that is `trimdock.dockerfile`, for `lint`): it finds
stages, the COPY/ADD instructions with their flags, sources and destination (JSON or shell form,
line continuations, comments inside continuations, the `# escape=` directive, heredoc bodies
skipped), and `RUN --mount=type=bind` sources, which also read the context. Variables in
sources are expanded from ARG defaults, `--build-arg` values and ENV, as the builder does; a
source that still depends on an unknown variable is reported as unresolved.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

_DIRECTIVE = re.compile(r"^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$")
_HEREDOC = re.compile(r"<<(-?)([\"']?)([A-Za-z_][A-Za-z0-9_]*)\2")
_VAR = re.compile(
    r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))"
)


@dataclass(frozen=True)
class Stage:
    index: int
    name: str | None
    base: str
    line: int


@dataclass(frozen=True)
class ContextUse:
    """One instruction that reads files from the build context (or claims to, via --from)."""

    keyword: str  # COPY, ADD, or RUN (a bind mount)
    line: int
    end_line: int
    stage: int
    sources: tuple[str, ...]  # expanded, quotes removed
    destination: str
    flags: tuple[tuple[str, str | None], ...] = ()
    json_form: bool = False
    unresolved: tuple[str, ...] = ()  # sources with variables that have no value
    text: str = ""  # the instruction as written, continuations joined

    @property
    def from_stage(self) -> str | None:
        for name, value in self.flags:
            if name == "from":
                return value
        return None

    @property
    def reads_context(self) -> bool:
        return self.from_stage is None


@dataclass(frozen=True)
class BuildFile:
    path: str
    stages: tuple[Stage, ...]
    uses: tuple[ContextUse, ...]


def _expand(word: str, env: Mapping[str, str]) -> tuple[str, bool]:
    """Expand $VAR / ${VAR} / ${VAR:-x} / ${VAR:+x}; False when a variable has no value."""
    ok = True

    def sub(m: re.Match[str]) -> str:
        nonlocal ok
        name = m.group(1) or m.group(4)
        op, arg = m.group(2), m.group(3) or ""
        value = env.get(name)
        if op in (":-", "-"):
            if value is None or (op == ":-" and value == ""):
                return arg
            return value
        if op in (":+", "+"):
            return arg if value is not None and (op == "+" or value) else ""
        if value is None:
            ok = False
            return m.group(0)
        return value

    return _VAR.sub(sub, word), ok


def _unquote(word: str, escape: str) -> str:
    out: list[str] = []
    quote = ""
    i = 0
    while i < len(word):
        c = word[i]
        if quote:
            if c == quote:
                quote = ""
            elif c == escape and quote == '"' and i + 1 < len(word):
                i += 1
                out.append(word[i])
            else:
                out.append(c)
        elif c in "\"'":
            quote = c
        elif c == escape and i + 1 < len(word):
            i += 1
            out.append(word[i])
        else:
            out.append(c)
        i += 1
    return "".join(out)


def _split_flags(rest: str) -> tuple[list[tuple[str, str | None]], str]:
    flags: list[tuple[str, str | None]] = []
    rest = rest.lstrip()
    while rest.startswith("--"):
        word = rest.partition(" ")[0]
        word = word.split("\t")[0]
        body = word[2:]
        name, eq, value = body.partition("=")
        flags.append((name.lower(), value if eq else None))
        rest = rest[len(word) :].lstrip()
    return flags, rest


def _logical_lines(text: str) -> tuple[list[tuple[int, int, str]], str]:
    lines = text.splitlines()
    escape = "\\"
    start = 0
    for i, line in enumerate(lines):
        m = _DIRECTIVE.match(line)
        if not m:
            break
        if m.group(1).lower() == "escape" and m.group(2) in ("\\", "`"):
            escape = m.group(2)
        start = i + 1
    out: list[tuple[int, int, str]] = []
    i = start
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            i += 1
            continue
        first = i
        parts: list[str] = []
        while True:
            body = lines[i].rstrip()
            if body.endswith(escape) and i + 1 < len(lines):
                parts.append(body[:-1])
                i += 1
                while i < len(lines) and (not lines[i].strip() or lines[i].strip().startswith("#")):
                    i += 1
                if i >= len(lines):
                    break
                continue
            parts.append(body[:-1] if body.endswith(escape) else body)
            break
        logical = "".join(parts)
        keyword = logical.strip().split(None, 1)[0].upper() if logical.strip() else ""
        last = i
        if keyword in ("RUN", "COPY", "ADD"):
            for m in _HEREDOC.finditer(logical):
                dash, word = m.group(1), m.group(3)
                i += 1
                while i < len(lines):
                    candidate = lines[i].lstrip("\t") if dash else lines[i]
                    if candidate == word:
                        break
                    i += 1
                last = i
        out.append((first + 1, min(last, len(lines) - 1) + 1, logical.strip()))
        i = last + 1
    return out, escape


def _words(rest: str) -> tuple[list[str], bool]:
    if rest.startswith("["):
        try:
            data = json.loads(rest)
        except ValueError:
            data = None
        if isinstance(data, list) and all(isinstance(x, str) for x in data):
            return list(data), True
    return rest.split(), False


def _mount_sources(flags: list[tuple[str, str | None]]) -> list[str]:
    sources: list[str] = []
    for name, value in flags:
        if name != "mount" or value is None:
            continue
        options = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (p.partition("=") for p in value.split(","))
        )
        if options.get("type", "bind") != "bind" or "from" in options:
            continue
        sources.append(options.get("source") or options.get("src") or ".")
    return sources


def parse_build_file(
    text: str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None
) -> BuildFile:
    """Extract stages and context-reading instructions from Dockerfile text (pure)."""
    args = dict(build_args or {})
    logical, escape = _logical_lines(text)
    stages: list[Stage] = []
    uses: list[ContextUse] = []
    global_args: dict[str, str] = {}
    env: dict[str, str] = {}
    stage_env: dict[str, dict[str, str]] = {}
    for line, end_line, instruction in logical:
        keyword, _, rest = instruction.partition(" ")
        keyword = keyword.upper()
        rest = rest.strip()
        if keyword == "FROM":
            _, body = _split_flags(rest)
            words = body.split()
            base = _expand(words[0], global_args)[0] if words else ""
            name = words[2].lower() if len(words) >= 3 and words[1].lower() == "as" else None
            if stages and stages[-1].name:
                stage_env[stages[-1].name] = env
            env = dict(stage_env.get(base.lower(), {}))
            stages.append(Stage(len(stages), name, base, line))
        elif keyword == "ARG":
            for word in rest.split():
                key, eq, default = word.partition("=")
                scope = global_args if not stages else env
                if key in args:
                    scope[key] = args[key]
                elif eq:
                    scope[key] = _unquote(_expand(default, {**global_args, **env})[0], escape)
                elif stages and key in global_args:
                    scope[key] = global_args[key]
        elif keyword == "ENV" and stages:
            words = rest.split()
            if words and "=" not in words[0]:
                env[words[0]] = _unquote(" ".join(words[1:]), escape)
            else:
                for word in words:
                    key, _, value = word.partition("=")
                    env[key] = _unquote(_expand(value, env)[0], escape)
        elif keyword in ("COPY", "ADD", "RUN") and stages:
            flags, body = _split_flags(rest)
            flags = [(k, _unquote(_expand(v, env)[0], escape) if v else v) for k, v in flags]
            if keyword == "RUN":
                raw_sources, destination, json_form = _mount_sources(flags), "", False
                flags = []
            else:
                words, json_form = _words(body)
                if len(words) < 2:
                    continue
                raw_sources, destination = words[:-1], words[-1]
            sources: list[str] = []
            unresolved: list[str] = []
            for raw in raw_sources:
                if raw.startswith("<<"):
                    continue  # a heredoc: content from the Dockerfile, not the context
                value, ok = _expand(raw, env)
                if not ok:
                    unresolved.append(raw)
                sources.append(value if json_form else _unquote(value, escape))
            if keyword == "RUN" and not sources:
                continue
            if not sources and not unresolved:
                continue
            uses.append(
                ContextUse(
                    keyword=keyword,
                    line=line,
                    end_line=end_line,
                    stage=len(stages) - 1,
                    sources=tuple(sources),
                    destination=destination,
                    flags=tuple(flags),
                    json_form=json_form,
                    unresolved=tuple(unresolved),
                    text=instruction,
                )
            )
    return BuildFile(path=path, stages=tuple(stages), uses=tuple(uses))
