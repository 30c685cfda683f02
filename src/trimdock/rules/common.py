"""Shared helpers for rules: package-manager commands, cache mounts, spans of commands."""

from __future__ import annotations

import re
from dataclasses import dataclass

from trimdock.dockerfile.model import Instruction, Span
from trimdock.dockerfile.mounts import mounts
from trimdock.dockerfile.shell import Command, Script

# Options that take a value in the next word, per tool: skipping them keeps operands right.
_VALUE_OPTIONS = {
    "apt": {"-o", "-t", "-c", "--target-release", "--option", "--config-file"},
    "apk": {
        "-t",
        "--virtual",
        "-X",
        "--repository",
        "-p",
        "--root",
        "--arch",
        "--repositories-file",
    },
    "pip": {
        "-r",
        "--requirement",
        "-c",
        "--constraint",
        "-e",
        "--editable",
        "-i",
        "--index-url",
        "--extra-index-url",
        "-t",
        "--target",
        "--prefix",
        "--root",
        "--trusted-host",
        "-f",
        "--find-links",
        "--platform",
        "--python-version",
        "--implementation",
        "--abi",
        "--only-binary",
        "--no-binary",
        "--progress-bar",
        "--upgrade-strategy",
        "--src",
        "--cache-dir",
        "--user-agent",
        "--proxy",
        "--timeout",
        "--retries",
    },
    "npm": {"--prefix", "--registry", "--cache", "-w", "--workspace", "--tag"},
    "yum": {
        "--setopt",
        "--enablerepo",
        "--disablerepo",
        "--releasever",
        "-c",
        "--installroot",
        "--repo",
    },
    "zypper": {"-r", "--repo", "--from"},
    "gem": {
        "-v",
        "--version",
        "-i",
        "--install-dir",
        "-n",
        "--bindir",
        "--source",
        "-s",
        "--platform",
    },
}

APT = ("apt-get", "apt")
YUM = ("yum",)
DNF = ("dnf", "microdnf", "tdnf")
PIP = ("pip", "pip3", "pip2")


@dataclass(frozen=True)
class Install:
    """A package-manager install: the command and the package operands."""

    tool: str  # apt, apk, pip, npm, yarn, yum, dnf, zypper, gem
    command: Command
    packages: tuple[str, ...]


def operands(command: Command, tool: str, skip: int = 0) -> tuple[str, ...]:
    values = _VALUE_OPTIONS.get(tool, set())
    result: list[str] = []
    args = list(command.args)
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in values:
            index += 2
            continue
        if arg == "--":
            result.extend(args[index + 1 :])
            break
        if not arg.startswith("-"):
            result.append(arg)
        index += 1
    return tuple(result[skip:])


def _pip_command(command: Command) -> Command | None:
    """`pip install`, `pip3 install`, `python -m pip install` as a pip command."""
    if command.name in PIP:
        return command
    if re.fullmatch(r"python[0-9.]*", command.name) and command.args[:2] == ("-m", "pip"):
        from dataclasses import replace

        return replace(command, argv=("pip", *command.args[2:]))
    return None


_INSTALL_CACHE: dict[int, tuple[Script, list[Install]]] = {}


def installs(script: Script) -> list[Install]:
    """Package installs in a script (memoised: many rules ask about the same script)."""
    cached = _INSTALL_CACHE.get(id(script))
    if cached is not None and cached[0] is script:
        return cached[1]
    if len(_INSTALL_CACHE) > 4096:
        _INSTALL_CACHE.clear()
    found = _installs(script)
    _INSTALL_CACHE[id(script)] = (script, found)
    return found


def _installs(script: Script) -> list[Install]:
    found: list[Install] = []
    for command in script.commands:
        name = command.name
        if name in APT:
            ops = operands(command, "apt")
            if ops[:1] == ("install",):
                found.append(Install("apt", command, ops[1:]))
        elif name == "apk":
            ops = operands(command, "apk")
            if ops[:1] == ("add",):
                found.append(Install("apk", command, ops[1:]))
        elif (pip := _pip_command(command)) is not None:
            ops = operands(pip, "pip")
            if ops[:1] == ("install",):
                found.append(Install("pip", pip, ops[1:]))
        elif name == "npm":
            ops = operands(command, "npm")
            if ops[:1] in (("install",), ("i",), ("ci",), ("add",)):
                found.append(Install("npm", command, ops[1:]))
        elif name == "yarn":
            ops = operands(command, "npm")
            if not ops or ops[0] in ("install", "add"):
                found.append(Install("yarn", command, ops[1:]))
        elif name in YUM or name in DNF:
            ops = operands(command, "yum")
            if ops[:1] in (("install",), ("groupinstall",), ("localinstall",)):
                found.append(Install("yum" if name in YUM else "dnf", command, ops[1:]))
        elif name == "zypper":
            ops = operands(command, "zypper")
            if ops[:1] in (("install",), ("in",)):
                found.append(Install("zypper", command, ops[1:]))
        elif name == "gem":
            ops = operands(command, "gem")
            if ops[:1] == ("install",):
                found.append(Install("gem", command, ops[1:]))
    return found


def cache_mounts(instruction: Instruction) -> tuple[str, ...]:
    """Targets of `--mount=type=cache` on a RUN."""
    return tuple(m.target or "" for m in mounts(instruction) if m.type == "cache")


def has_cache_mount(instruction: Instruction, *fragments: str) -> bool:
    return any(
        any(fragment in target for fragment in fragments) for target in cache_mounts(instruction)
    )


def capped_int(digits: str, cap: int) -> int:
    """The value of a string of ASCII digits, at most `cap`.

    `int()` refuses strings over 4300 digits (Python's guard against quadratic conversion), so a
    `COPY --from=111...1` or `EXPOSE 111...1` of 5000 digits was an internal error.
    """
    significant = digits.lstrip("0")
    if len(significant) > len(str(cap)):
        return cap
    return min(int(significant or "0"), cap)


def command_span(command: Command, instruction: Instruction) -> Span:
    return command.span or instruction.span


def removes(script: Script, *patterns: str) -> bool:
    """True when the script runs `rm` on a path matching any regex in `patterns`."""
    for command in script.named("rm"):
        for operand in command.operands:
            if any(re.search(pattern, operand) for pattern in patterns):
                return True
    return False


def first_span(instruction: Instruction) -> Span:
    return instruction.keyword_span
