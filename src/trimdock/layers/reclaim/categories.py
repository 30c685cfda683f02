"""The reclaimable categories: what each is, the practice that avoids it, the lint rules.

A category's confidence says how sure the advice is:

* **certain**: the bytes serve nothing at run time (package indexes and caches, VCS data,
  logs, temp folders); dropping them cannot break the image.
* **likely**: almost always removable, but the image could be meant to use them (a compiler in
  a toolchain image, a test folder a framework loads, duplicates a program expects twice).
"""

from __future__ import annotations

from dataclasses import dataclass

CERTAIN = "certain"
LIKELY = "likely"


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    label: str
    confidence: str
    practice: str
    rules: tuple[str, ...]
    build_tool: bool = False  # silenced for images whose purpose is a toolchain


def _c(
    id: str,
    label: str,
    confidence: str,
    practice: str,
    rules: tuple[str, ...] = (),
    *,
    build_tool: bool = False,
) -> Category:
    return Category(id, label, confidence, practice, rules, build_tool)


_APT = "install with `--no-install-recommends` and remove `/var/lib/apt/lists/*` in the same RUN"

CATEGORIES: dict[str, Category] = {
    c.id: c
    for c in (
        _c("apt-lists", "apt lists", CERTAIN, _APT, ("TD103", "TD104")),
        _c(
            "apt-cache",
            "apt cache (.deb, *.bin)",
            CERTAIN,
            "run `apt-get clean` (or remove `/var/cache/apt/*`) in the RUN that installs",
            ("TD104",),
        ),
        _c("apk-cache", "apk cache", CERTAIN, "use `apk add --no-cache`", ("TD106",)),
        _c(
            "dnf-cache",
            "dnf/yum cache",
            CERTAIN,
            "run `dnf clean all` / `yum clean all` in the RUN that installs",
            ("TD108", "TD109"),
        ),
        _c("pip-cache", "pip cache", CERTAIN, "use `pip install --no-cache-dir`", ("TD107",)),
        _c(
            "npm-cache",
            "npm cache",
            CERTAIN,
            "run `npm cache clean --force` in the RUN that installs (or `npm ci` in a builder "
            "stage)",
            ("TD112",),
        ),
        _c(
            "yarn-cache",
            "yarn cache",
            CERTAIN,
            "run `yarn cache clean` in the RUN that installs",
            ("TD111",),
        ),
        _c(
            "pnpm-store",
            "pnpm store",
            CERTAIN,
            "run `pnpm store prune` or install in a builder stage",
        ),
        _c(
            "composer-cache",
            "composer cache",
            CERTAIN,
            "use `composer install --no-cache` or remove the cache in the same RUN",
        ),
        _c(
            "go-cache",
            "Go build and module caches",
            CERTAIN,
            "build in a builder stage and `COPY --from` only the binary",
            ("TD117", "TD119"),
        ),
        _c(
            "jvm-cache",
            "Maven/Gradle caches",
            LIKELY,
            "build in a builder stage and `COPY --from` only the jar",
            ("TD117", "TD119"),
        ),
        _c(
            "vcs",
            "VCS data (.git, .svn, .hg)",
            CERTAIN,
            "add it to .dockerignore and copy only what the image needs",
            ("TD101", "TD503"),
        ),
        _c(
            "editor",
            "editor settings (.idea, .vscode)",
            CERTAIN,
            "add it to .dockerignore and copy only what the image needs",
            ("TD101",),
        ),
        _c(
            "recommends",
            "recommends-only packages",
            LIKELY,
            "install with `--no-install-recommends`",
            ("TD103",),
        ),
        _c(
            "build-tools",
            "compilers, -dev headers, static libraries",
            LIKELY,
            "build in a builder stage and `COPY --from` only the result",
            ("TD118", "TD119"),
            build_tool=True,
        ),
        _c(
            "go-toolchain",
            "Go toolchain",
            LIKELY,
            "build in a builder stage and `COPY --from` only the binary",
            ("TD117",),
            build_tool=True,
        ),
        _c(
            "jdk",
            "JDK where a JRE would do",
            LIKELY,
            "run on a JRE base; build with the JDK in a builder stage",
            ("TD117",),
            build_tool=True,
        ),
        _c(
            "sources",
            "source of compiled languages",
            LIKELY,
            "build in a builder stage and `COPY --from` only the binary",
            ("TD119", "TD101"),
        ),
        _c(
            "pycache",
            "bytecode of Python versions not run",
            LIKELY,
            "install packages for the interpreter the image runs only (or set "
            "PYTHONDONTWRITEBYTECODE=1 where others compile)",
        ),
        _c(
            "tests",
            "tests and coverage output",
            LIKELY,
            "copy only what the image runs; keep tests out with .dockerignore",
            ("TD120",),
        ),
        _c(
            "archives",
            "downloaded archives also extracted",
            CERTAIN,
            "download, extract and delete the archive in one RUN (or extract in a builder stage)",
            ("TD114",),
        ),
        _c(
            "duplicates",
            "duplicate files (same content)",
            LIKELY,
            "copy or install each file once (or hard-link the copies)",
        ),
        _c(
            "logs",
            "log files",
            CERTAIN,
            "remove logs in the RUN that writes them; log to stdout at run time",
            ("TD404",),
        ),
        _c("core-dumps", "core dumps", CERTAIN, "remove core dumps in the RUN that made them"),
        _c(
            "temp",
            "temp folders (/tmp, /var/tmp)",
            CERTAIN,
            "clean /tmp and /var/tmp in the RUN that fills them",
            ("TD120",),
        ),
        _c(
            "secrets",
            "secret-looking files",
            LIKELY,
            "never copy secrets into an image: use build secrets (`RUN --mount=type=secret`) "
            "and .dockerignore",
            ("TD302", "TD504"),
        ),
    )
}


def category(id: str) -> Category:
    return CATEGORIES[id]
