"""Fixes for package managers: caches cleaned in the RUN that fills them, no recommended
packages, `apt-get update` merged into the install."""

from __future__ import annotations

import re

from trimdock.dockerfile.model import Instruction
from trimdock.fix.compare import DPKG_RECOMMENDS
from trimdock.fix.providers.base import (
    Target,
    append_command,
    delete_lines,
    insert_option,
    provides,
    shell_run,
)
from trimdock.report.finding import Applicability, Finding, Fix, FixEdit
from trimdock.rules.common import installs

SAFE = Applicability.SAFE
UNSAFE = Applicability.UNSAFE

# Where each cache lives in the image: what the fix may remove (checked by `fix --verify`).
APT_LISTS = ("/var/lib/apt/lists/*",)
PIP_CACHE = ("*/.cache/pip", "*/.cache")
NPM_CACHE = ("*/.npm",)
# npm writes a debug log of every run named after its time: the fixed build's log has another
# name, so the original's is "lost" whatever the fix does.
NPM_LOGS = ("*/.npm/_logs/*",)


def _option_fix(
    target: Target,
    finding: Finding,
    after: str,
    option: str,
    applicability: Applicability,
    removes: tuple[str, ...],
) -> Fix | None:
    site = target.site_of(finding)
    if site is None:
        return None
    command = target.command_at(site, finding)
    if command is None:
        return None
    edit = insert_option(target, command, after, option)
    if edit is None:
        return None
    return Fix((edit,), applicability, f"add {option} to `{command.name} {after}`", removes)


@provides("TD103")
def apt_no_recommends(target: Target, finding: Finding) -> Fix | None:
    # Unsafe: the image loses the recommended packages, which the app may use.
    return _option_fix(
        target, finding, "install", "--no-install-recommends", UNSAFE, (DPKG_RECOMMENDS,)
    )


@provides("TD106")
def apk_no_cache(target: Target, finding: Finding) -> Fix | None:
    return _option_fix(target, finding, "add", "--no-cache", SAFE, ("/var/cache/apk/*",))


@provides("TD107")
def pip_no_cache(target: Target, finding: Finding) -> Fix | None:
    return _option_fix(target, finding, "install", "--no-cache-dir", SAFE, PIP_CACHE)


@provides("TD113")
def gem_no_document(target: Target, finding: Finding) -> Fix | None:
    return _option_fix(target, finding, "install", "--no-document", SAFE, ("*/gems/*/doc",))


def _run_of(target: Target, finding: Finding) -> Instruction | None:
    site = target.site_of(finding)
    return site.instruction if site is not None else None


def _append_fix(
    target: Target, finding: Finding, command: str, removes: tuple[str, ...]
) -> Fix | None:
    instruction = _run_of(target, finding)
    if instruction is None:
        return None
    edit = append_command(target, instruction, command)
    if edit is None:
        return None
    return Fix((edit,), SAFE, f"add `{command}` to the same RUN", removes)


@provides("TD104")
def apt_lists(target: Target, finding: Finding) -> Fix | None:
    site = target.site_of(finding)
    if site is None or not any(i.tool == "apt" for i in installs(target.script(site))):
        return None  # a lone `apt-get update`: merged into its install first (TD211)
    return _append_fix(target, finding, "rm -rf /var/lib/apt/lists/*", APT_LISTS)


@provides("TD108")
def yum_clean(target: Target, finding: Finding) -> Fix | None:
    return _append_fix(target, finding, "yum clean all", ("/var/cache/yum",))


@provides("TD109")
def dnf_clean(target: Target, finding: Finding) -> Fix | None:
    site = target.site_of(finding)
    if site is None:
        return None
    tools = [i.command.name for i in installs(target.script(site)) if i.tool == "dnf"]
    tool = tools[0] if tools else "dnf"
    return _append_fix(target, finding, f"{tool} clean all", ("/var/cache/dnf", "/var/cache/yum"))


@provides("TD110")
def zypper_clean(target: Target, finding: Finding) -> Fix | None:
    return _append_fix(target, finding, "zypper clean --all", ("/var/cache/zypp",))


@provides("TD111")
def yarn_clean(target: Target, finding: Finding) -> Fix | None:
    return _append_fix(target, finding, "yarn cache clean", ("*/.cache/yarn", "*/.yarn/cache"))


@provides("TD112")
def npm_clean(target: Target, finding: Finding) -> Fix | None:
    return _append_fix(target, finding, "npm cache clean --force", NPM_CACHE)


# What may stand between a lone `apt-get update` and the install it is merged into: nothing
# that runs a command, changes the user or reads the package lists.
_PASSIVE = frozenset({"ENV", "ARG", "LABEL", "EXPOSE", "COPY", "ADD", "WORKDIR", "STOPSIGNAL"})


@provides("TD211")
def apt_update_merge(target: Target, finding: Finding) -> Fix | None:
    """`RUN apt-get update` then `RUN apt-get install ...`: one RUN, so the install never uses
    a stale cached index (safe: the same commands run, in the same order, as the same user)."""
    site = target.site_of(finding)
    if site is None or not shell_run(site.instruction):
        return None
    update = target.command_at(site, finding)
    script = target.script(site)
    if update is None or len(script.commands) != 1 or update.via:
        return None
    found = target.command_text(update)
    if found is None:
        return None
    following = site.stage_instructions[site.position + 1 :]
    for instruction in following:
        if instruction.keyword in _PASSIVE:
            continue
        if instruction.keyword != "RUN" or not shell_run(instruction):
            return None
        if instruction.flags != () and [f.name for f in instruction.flags] != [
            f.name for f in site.instruction.flags
        ]:
            return None
        install_site = target.site(instruction.line)
        if install_site is None:
            return None
        if not any(i.tool == "apt" for i in installs(target.script(install_site))):
            return None
        assert instruction.rest_span is not None  # shell_run checked it
        start, _end = target.index.span(instruction.rest_span)
        edits = (
            delete_lines(target, site.instruction.span.line, site.instruction.span.end_line),
            FixEdit(start, start, f"{found[2]} && "),
        )
        return Fix(
            edits, SAFE, f"merge `{found[2]}` into the install RUN on line {instruction.line}"
        )
    return None


@provides("TD122")
def npm_ci(target: Target, finding: Finding) -> Fix | None:
    """`npm install` becomes `npm ci`. Unsafe: the installed versions may change (those of the
    lock instead of newer ones), the build fails where the lock disagrees with package.json, and
    `npm ci` empties a node_modules the build copied in."""
    site = target.site_of(finding)
    if site is None:
        return None
    command = target.command_at(site, finding)
    if command is None or command.via:
        return None
    found = target.command_text(command)
    if found is None:
        return None
    start, _end, text = found
    word = command.subcommand()
    name_end = len(command.argv[0]) if text.startswith(command.argv[0]) else 0
    match = re.compile(rf"(?<![\w.-]){re.escape(word)}(?![\w.-])").search(text, name_end)
    if word not in ("install", "i") or match is None:
        return None
    return Fix(
        (FixEdit(start + match.start(), start + match.end(), "ci"),),
        UNSAFE,
        f"replace `npm {word}` by `npm ci`, which installs exactly the lock",
        NPM_LOGS,
    )
