"""Attack surface of the final filesystem and config: what an attacker who gets code execution
in the container could use (pure, over the overlay and the image config).

The point made measurable: "this image can compile and run new code (javac present, added by
layer 1)". Tools are found by name in the usual program directories, each with the layer that
put it there; setuid/setgid and world-writable entries by mode; the user from the config.
"""

from __future__ import annotations

from collections.abc import Iterable
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


def _is_program_path(path: str) -> bool:
    parent = path.rpartition("/")[0]
    return parent in _PROGRAM_DIRS or parent.endswith("/bin")


def _tool_name(name: str) -> str:
    """`python3.11`-style names stay themselves; `gcc-12` and `g++-12` count as gcc / g++."""
    base, sep, suffix = name.rpartition("-")
    if sep and suffix.replace(".", "").isdigit():
        return base
    return name


def analyse_surface(nodes: Iterable[tuple[str, Node]], config: ImageConfig) -> list[SurfaceItem]:
    items: list[SurfaceItem] = []
    for path, node in nodes:
        kind = node.e_kind
        name = path.rpartition("/")[2]
        if kind in (K_FILE, K_SYMLINK, K_HARDLINK) and _is_program_path(path):
            category = _TOOL_CATEGORY.get(_tool_name(name))
            if category is not None:
                items.append(SurfaceItem(category, path, node.e_layer, _tool_name(name)))
        if kind in (K_FILE, K_HARDLINK) and node.e_mode & 0o6000:
            bits = "setuid" if node.e_mode & 0o4000 else "setgid"
            if node.e_mode & 0o6000 == 0o6000:
                bits = "setuid+setgid"
            items.append(SurfaceItem(Category.SETUID, path, node.e_layer, bits))
        if (
            kind in (K_FILE, K_DIR, K_HARDLINK)
            and node.e_mode & 0o002
            and not any(path == d or path.startswith(d + "/") for d in _WRITABLE_OK)
        ):
            items.append(
                SurfaceItem(Category.WORLD_WRITABLE, path, node.e_layer, oct(node.e_mode)[2:])
            )
    items.sort(key=lambda i: (i.category.value, i.path))
    if is_root_user(config.user):
        items.append(SurfaceItem(Category.ROOT_USER, "", -1, config.user or "(unset)"))
    return items


def is_root_user(user: str) -> bool:
    """USER unset, `root` or uid 0 (with or without a group)."""
    name = user.strip().split(":", 1)[0]
    return name in ("", "root", "0")
