"""What build-context analysis needs from a Dockerfile, read from the one Dockerfile parser.

Stages, the COPY/ADD instructions with their flags, sources and destination, and
`RUN --mount=type=bind` sources (which also read the context) come from `dockerfile.parse()`;
nothing here splits Dockerfile text itself, so context analysis, `--suggest` and lint can never
disagree about what an instruction says (a second reader once missed `COPY<TAB>a<TAB>/x/`).
Variables in sources are expanded from ARG defaults, `--build-arg` values and ENV with the same
word processing as the linter (`dockerfile.substitute`, bounded there); a source that still
depends on a variable with no value is reported as unresolved rather than silently emptied.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from trimdock.dockerfile.model import Flag, Instruction
from trimdock.dockerfile.mounts import parse_mount
from trimdock.dockerfile.parser import parse
from trimdock.dockerfile.stages import arg_definitions
from trimdock.dockerfile.substitute import Expander, Expansion


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
    text: str = ""  # the instruction's first logical line, continuations joined

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


def _literal(value: str, escape: str) -> str:
    """`value` escaped so word processing keeps its quotes and escapes but expands `$vars`.

    The exec (JSON) form has already lost its quoting to the JSON decoder; only variables remain.
    """
    for ch in dict.fromkeys((escape, '"', "'")):
        value = value.replace(ch, escape + ch)
    return value


def _expand_source(
    raw: str, env: Mapping[str, str], expander: Expander, json_form: bool
) -> str | None:
    """The expanded source; None when a variable in it has no value or it passed a limit."""
    expansion = expander.expand(_literal(raw, expander.escape) if json_form else raw, env)
    if expansion.unset or not expansion.within_limits:
        return None
    return expansion.value


def _flags(
    flags: tuple[Flag, ...], env: Mapping[str, str], expander: Expander
) -> list[tuple[str, str | None]]:
    return [
        (f.name.lower(), expander.expand(f.value, env).value if f.value else f.value) for f in flags
    ]


def _mount_sources(flags: list[tuple[str, str | None]]) -> list[str]:
    """Context paths read by `--mount=type=bind` (flag values already expanded)."""
    found = (parse_mount(value) for name, value in flags if name == "mount" and value is not None)
    return [m.source or "." for m in found if m.reads_context]


def _assign(scope: dict[str, str], name: str, expansion: Expansion, past: set[str]) -> None:
    """A value past an expansion limit is no value, nor is one built from such a value
    (`past` collects their names): what reads them is reported unresolved."""
    if expansion.within_limits and not past.intersection(expansion.unset):
        scope[name] = expansion.value
    else:
        scope.pop(name, None)
        past.add(name)


def _declare_args(
    instruction: Instruction,
    scope: dict[str, str],
    visible: Mapping[str, str],
    build_args: Mapping[str, str],
    global_args: Mapping[str, str],
    expander: Expander,
    past: set[str],
) -> None:
    for key, default in arg_definitions(instruction, expander.escape):
        if key in build_args:
            scope[key] = build_args[key]
        elif default is not None:
            _assign(scope, key, expander.expand(default, {**visible, **scope}), past)
        elif scope is not global_args and key in global_args:
            scope[key] = global_args[key]


def _use(
    instruction: Instruction, stage: int, env: Mapping[str, str], expander: Expander
) -> ContextUse | None:
    flags = _flags(instruction.flags, env, expander)
    if instruction.keyword == "RUN":
        raw_sources, destination, json_form = _mount_sources(flags), "", False
        flags = []
    else:
        words = instruction.values
        if len(words) < 2:
            return None
        raw_sources, destination, json_form = list(words[:-1]), words[-1], instruction.json
    heredocs = {f"<<{h.name}" for h in instruction.heredocs}
    sources: list[str] = []
    unresolved: list[str] = []
    for raw in raw_sources:
        if raw in heredocs or raw.startswith("<<"):
            continue  # a heredoc: content from the Dockerfile, not the context
        value = _expand_source(raw, env, expander, json_form)
        if value is None:
            unresolved.append(raw)
            value = raw
        sources.append(value)
    if not sources and not unresolved:
        return None
    return ContextUse(
        keyword=instruction.keyword,
        line=instruction.span.line,
        end_line=instruction.span.end_line,
        stage=stage,
        sources=tuple(sources),
        destination=destination,
        flags=tuple(flags),
        json_form=json_form,
        unresolved=tuple(unresolved),
        text=instruction.original.split("\n", 1)[0].strip(),
    )


def parse_build_file(
    text: str, path: str = "Dockerfile", build_args: Mapping[str, str] | None = None
) -> BuildFile:
    """Stages and context-reading instructions of Dockerfile text (pure)."""
    dockerfile = parse(text, path)
    # One budget for every word of the file (dockerfile.substitute's limits): an ARG bomb cannot
    # make the context report grow without bound.
    expander = Expander(dockerfile.escape)
    past: set[str] = set()  # variables whose value passed a limit
    args = dict(build_args or {})
    global_args: dict[str, str] = {}
    for instruction in dockerfile.global_args:
        _declare_args(instruction, global_args, {}, args, global_args, expander, past)
    stages: list[Stage] = []
    uses: list[ContextUse] = []
    stage_env: dict[int, dict[str, str]] = {}
    for stage in dockerfile.stages:
        base = expander.expand(stage.base, global_args).value if "$" in stage.base else stage.base
        stages.append(Stage(stage.index, stage.name, base, stage.line))
        # A stage built FROM an earlier one inherits its environment, as the builder does.
        inherited = stage_env.get(stage.parent_stage) if stage.parent_stage is not None else None
        env: dict[str, str] = dict(inherited or {})
        for instruction in stage.instructions:
            keyword = instruction.keyword
            if keyword == "ARG":
                _declare_args(instruction, env, env, args, global_args, expander, past)
            elif keyword == "ENV":
                pairs = instruction.values
                for name, raw in zip(pairs[::2], pairs[1::2], strict=False):
                    _assign(env, name, expander.expand(raw, env), past)
            elif keyword in ("COPY", "ADD", "RUN"):
                use = _use(instruction, stage.index, env, expander)
                if use is not None:
                    uses.append(use)
        stage_env[stage.index] = env
    return BuildFile(path=path, stages=tuple(stages), uses=tuple(uses))
