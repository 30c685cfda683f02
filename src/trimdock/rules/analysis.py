"""Facts every rule needs, computed once per Dockerfile: which stages reach the final image,
each RUN's parsed script, the working directory and user at every instruction."""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from trimdock.dockerfile.model import Dockerfile, Instruction, Span, Stage
from trimdock.dockerfile.shell import EMPTY, Script, run_script
from trimdock.dockerfile.substitute import unquote

# Linux's PATH_MAX. Relative WORKDIRs add up: 100k of them in one stage made a path of 200 KB and
# a copy of it per instruction (gigabytes); a longer working directory cannot be used anyway.
PATH_MAX = 4096


@dataclass(frozen=True)
class ContextFacts:
    """What the CLI learnt about the build context (optional: rules work without it)."""

    has_dockerignore: bool
    top_entries: tuple[tuple[str, int], ...] = ()  # (name, bytes) of large top-level entries


@dataclass(frozen=True)
class LintOptions:
    allowed_registries: tuple[str, ...] = ()
    allowed_images: tuple[str, ...] = ()
    context: ContextFacts | None = None


@dataclass(frozen=True)
class StageFacts:
    stage: Stage
    reaches_final: bool
    workdirs: tuple[str, ...]  # working directory before each instruction of the stage
    shell: tuple[tuple[str, ...], ...]  # SHELL in effect for each instruction
    root: int  # index of the stage at the start of its FROM chain (itself when FROM an image)


@dataclass
class Analysis:
    dockerfile: Dockerfile
    options: LintOptions = field(default_factory=LintOptions)
    stages: list[StageFacts] = field(default_factory=list)
    _scripts: dict[int, Script] = field(default_factory=dict)
    # bashlex is exact but slow; past this many characters of RUN text in one file the quick
    # splitter takes over, so a pathological 10 MB Dockerfile still lints in bounded time.
    _bashlex_budget: int = 400_000
    _runs: dict[tuple[bool, bool], list[tuple[StageFacts, Instruction, Script]]] = field(
        default_factory=dict
    )
    memo: dict[str, Any] = field(default_factory=dict)  # per-file results rules share
    # Inputs past a bound while building these facts: (where, what), reported as TD010.
    limits: list[tuple[Span, str]] = field(default_factory=list)
    _instructions: dict[tuple[str | None, bool, bool], list[tuple[StageFacts, Instruction]]] = (
        field(default_factory=dict)
    )

    @classmethod
    def build(cls, dockerfile: Dockerfile, options: LintOptions | None = None) -> Analysis:
        analysis = cls(dockerfile, options or LintOptions())
        final = dockerfile.final_stage
        chain: set[int] = set()
        current = final
        while current is not None and current.index not in chain:
            chain.add(current.index)
            parent = current.parent_stage
            current = dockerfile.stages[parent] if parent is not None else None
        inherited: dict[int, tuple[str, tuple[str, ...]]] = {}
        roots: list[int] = []  # a parent always comes earlier, so its root is known already
        for stage in dockerfile.stages:
            parent_stage = stage.parent_stage
            roots.append(roots[parent_stage] if parent_stage is not None else stage.index)
            workdir: str = "/"
            shell: tuple[str, ...] = ("/bin/sh", "-c")
            if stage.parent_stage is not None and stage.parent_stage in inherited:
                workdir, shell = inherited[stage.parent_stage]
            workdirs: list[str] = []
            shells: list[tuple[str, ...]] = []
            for instruction in stage.instructions:
                workdirs.append(workdir)
                shells.append(shell)
                if instruction.keyword == "WORKDIR" and instruction.args:
                    target = unquote(instruction.args[0].raw, dockerfile.escape)
                    joined = posixpath.normpath(posixpath.join(workdir, target))
                    if len(joined) <= PATH_MAX:
                        workdir = joined
                    else:  # each WORKDIR is kept per instruction: growth would be quadratic
                        analysis.limits.append(
                            (
                                instruction.span,
                                f"WORKDIR makes a path longer than {PATH_MAX} characters "
                                "(PATH_MAX: no process can chdir to it); the previous working "
                                "directory is kept",
                            )
                        )
                elif instruction.keyword == "SHELL" and instruction.json and instruction.values:
                    shell = instruction.values
            inherited[stage.index] = (workdir, shell)
            analysis.stages.append(
                StageFacts(stage, stage.index in chain, tuple(workdirs), tuple(shells), roots[-1])
            )
        return analysis

    # --- access helpers -----------------------------------------------------------------------
    @property
    def final_stages(self) -> list[StageFacts]:
        return [s for s in self.stages if s.reaches_final]

    @property
    def final(self) -> StageFacts | None:
        return self.stages[-1] if self.stages else None

    def script(
        self, instruction: Instruction, shell: tuple[str, ...] = ("/bin/sh", "-c")
    ) -> Script:
        key = id(instruction)
        cached = self._scripts.get(key)
        if cached is None:
            if instruction.keyword != "RUN":
                cached = EMPTY
            else:
                exact = self._bashlex_budget > 0
                # Heredoc bodies are scripts too: they count, or 10 MB of `RUN <<EOF` bodies
                # would all go through bashlex (about 45 KB/s).
                self._bashlex_budget -= len(instruction.rest) + sum(
                    len(h.content) for h in instruction.heredocs
                )
                cached = run_script(instruction, shell, exact=exact)
            self._scripts[key] = cached
        return cached

    def runs(
        self, *, final_only: bool = False, triggers: bool = True
    ) -> list[tuple[StageFacts, Instruction, Script]]:
        """Every RUN (and ONBUILD RUN, unless `triggers` is False) with its parsed script."""
        key = (final_only, triggers)
        cached = self._runs.get(key)
        if cached is None:
            cached = list(self._runs_uncached(final_only=final_only, triggers=triggers))
            self._runs[key] = cached
        return cached

    def _runs_uncached(
        self, *, final_only: bool, triggers: bool
    ) -> Iterator[tuple[StageFacts, Instruction, Script]]:
        for facts in self.stages:
            if final_only and not facts.reaches_final:
                continue
            for position, instruction in enumerate(facts.stage.instructions):
                target = instruction
                if instruction.keyword == "ONBUILD":
                    if not triggers or instruction.trigger is None:
                        continue
                    target = instruction.trigger
                if target.keyword == "RUN":
                    yield facts, target, self.script(target, facts.shell[position])

    def instructions(
        self, keyword: str | None = None, *, final_only: bool = False, triggers: bool = True
    ) -> Iterator[tuple[StageFacts, Instruction]]:
        # Dozens of rules ask for the same keyword: index each question's answer once.
        key = (keyword, final_only, triggers)
        cached = self._instructions.get(key)
        if cached is None:
            cached = list(self._instructions_uncached(keyword, final_only, triggers))
            self._instructions[key] = cached
        return iter(cached)

    def _instructions_uncached(
        self, keyword: str | None, final_only: bool, triggers: bool
    ) -> Iterator[tuple[StageFacts, Instruction]]:
        for facts in self.stages:
            if final_only and not facts.reaches_final:
                continue
            for instruction in facts.stage.instructions:
                target = instruction
                if instruction.keyword == "ONBUILD":
                    if not triggers or instruction.trigger is None:
                        continue
                    target = instruction.trigger
                if keyword is None or target.keyword == keyword:
                    yield facts, target

    def word(self, raw: str) -> str:
        return unquote(raw, self.dockerfile.escape)

    def is_stage_reference(self, name: str) -> bool:
        return self.dockerfile.stage_by_name(name) is not None
