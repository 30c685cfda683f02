"""Attack surface of the final filesystem and config: what an attacker who gets code execution
in the container could use (pure, over the overlay and the image config).

The point made measurable: "this image can compile and run new code (javac present, added by
layer 1)". Tools are found by name in the usual program directories, each with the layer that
put it there; setuid/setgid and world-writable entries by mode; the user from the config.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from trimdock.image.model import ImageConfig
from trimdock.layers.overlay import K_DIR, K_FILE, K_HARDLINK, K_SYMLINK, Node


class Category(StrEnum):
    SHELL = "shell"
    PACKAGE_MANAGER = "package-manager"
    COMPILER = "compiler"
    NETWORK_TOOL = "network-tool"
    SUDO = "sudo"
    SETUID = "setuid"
    WORLD_WRITABLE = "world-writable"
    ROOT_USER = "root-user"


TOOLS: dict[Category, frozenset[str]] = {
    Category.SHELL: frozenset({"sh", "bash", "dash", "ash", "zsh", "ksh", "mksh", "busybox"}),
    Category.PACKAGE_MANAGER: frozenset(
        {
            "apt",
            "apt-get",
            "dpkg",
            "apk",
            "yum",
            "dnf",
            "microdnf",
            "rpm",
            "zypper",
            "pip",
            "pip3",
            "npm",
            "yarn",
            "pnpm",
            "gem",
        }
    ),
    Category.COMPILER: frozenset(
        {
            "gcc",
            "g++",
            "cc",
            "c++",
            "clang",
            "clang++",
            "tcc",
            "go",
            "javac",
            "rustc",
            "cargo",
            "dotnet",
        }
    ),
    Category.NETWORK_TOOL: frozenset(
        {"curl", "wget", "nc", "netcat", "ncat", "socat", "telnet", "ssh", "scp", "ftp"}
    ),
    Category.SUDO: frozenset({"sudo", "doas"}),
}
_TOOL_CATEGORY = {name: category for category, names in TOOLS.items() for name in names}

# Where programs are looked up; plus any `.../bin/` (SDKs: /usr/lib/jvm/.../bin/javac).
_PROGRAM_DIRS = ("bin", "sbin", "usr/bin", "usr/sbin", "usr/local/bin", "usr/local/sbin")
# World-writable on purpose: temporary and runtime folders.
_WRITABLE_OK = ("tmp", "var/tmp", "dev", "run", "var/lock", "var/run", "proc", "sys")


@dataclass(frozen=True)
class SurfaceItem:
    category: Category
    path: str
    layer: int
    detail: str = ""  # the tool name, or the mode


def _tool_name(name: str) -> str:
    """`python3.11`-style names stay themselves; `gcc-12` and `g++-12` count as gcc / g++."""
    base, sep, suffix = name.rpartition("-")
    if sep and suffix.replace(".", "").isdigit():
        return base
    return name


def _is_program_dir(path: str) -> bool:
    return path in _PROGRAM_DIRS or path.endswith("/bin")


def _writable_ok(path: str) -> bool:
    return any(path == d or path.startswith(d + "/") for d in _WRITABLE_OK)


def analyse_surface(
    directories: Iterable[tuple[str, Mapping[str, Node]]], config: ImageConfig
) -> list[SurfaceItem]:
    """The surface of a final filesystem given folder by folder: each folder's path ("" for the
    root) and its entries (those with a negative layer are hidden and skipped).

    Per folder, not per file: whether it is a program folder, or a temporary one where
    world-writable is normal, is decided once; a file costs a mode test (and a name look-up
    in program folders), so the hundred thousand data files of an image cost little.
    """
    items: list[SurfaceItem] = []
    for folder, kids in directories:
        prefix = f"{folder}/" if folder else ""
        programs = _is_program_dir(folder)
        writable_ok: bool | None = None
        for name, node in kids.items():
            if node.e_layer < 0:
                continue
            kind = node.e_kind
            mode = node.e_mode
            if programs and kind in (K_FILE, K_SYMLINK, K_HARDLINK):
                tool = _tool_name(name)
                category = _TOOL_CATEGORY.get(tool)
                if category is not None:
                    items.append(SurfaceItem(category, prefix + name, node.e_layer, tool))
            if not mode & 0o6002:
                continue
            if kind in (K_FILE, K_HARDLINK) and mode & 0o6000:
                bits = "setuid" if mode & 0o4000 else "setgid"
                if mode & 0o6000 == 0o6000:
                    bits = "setuid+setgid"
                items.append(SurfaceItem(Category.SETUID, prefix + name, node.e_layer, bits))
            if kind in (K_FILE, K_DIR, K_HARDLINK) and mode & 0o002:
                path = prefix + name
                if writable_ok is None:
                    writable_ok = _writable_ok(folder)
                if not writable_ok and not _writable_ok(path):
                    items.append(
                        SurfaceItem(Category.WORLD_WRITABLE, path, node.e_layer, oct(mode)[2:])
                    )
    items.sort(key=lambda i: (i.category.value, i.path))
    if is_root_user(config.user):
        items.append(SurfaceItem(Category.ROOT_USER, "", -1, config.user or "(unset)"))
    return items


def is_root_user(user: str) -> bool:
    """USER unset, `root` or uid 0 (with or without a group)."""
    name = user.strip().split(":", 1)[0]
    return name in ("", "root", "0")
