"""Which visible bytes of the final filesystem a better build would not ship, and why.

Pure: the caller gives the final filesystem's files (path, bytes, layer that added them), the
layers' instructions, the parsed package database when the image has one, and, for the
duplicate candidates this module names, their content digests. Two steps, so that only
same-size candidates are ever hashed:

1. `plan_reclaim` gives every file at most one category (the first that applies, in
   `_ORDER`'s spirit: names and places first, then package ownership) and lists the groups of
   same-size unclassified files worth hashing;
2. `finish` turns the digests into duplicates and sums everything per category and layer.

Each file lands in one category at most, so the categories add up to the reclaimable total.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple

from trimdock.layers.reclaim.categories import CATEGORIES, CERTAIN, LIKELY, Category
from trimdock.layers.reclaim.dpkg import DpkgDb, DpkgPackage, needed_packages, recommends_only
from trimdock.layers.reclaim.runtime import (
    beside_build,
    built_artefact,
    interpreters_run,
    pyc_version,
)

PURPOSES = ("app", "toolchain")
DUPLICATE_MIN = 16 * 1024  # smaller duplicates are not worth a hash or a line
_EXAMPLES = 3
_PACKAGE_CATEGORIES = frozenset({"recommends", "build-tools", "jdk"})

_VCS = {".git": "vcs", ".svn": "vcs", ".hg": "vcs", ".bzr": "vcs"}
_EDITOR = {
    ".idea": "editor",
    ".vscode": "editor",
    ".mypy_cache": "editor",
    ".ruff_cache": "editor",
}
_TESTS = {".pytest_cache": "tests", ".tox": "tests", ".nox": "tests", "htmlcov": "tests"}
_CACHE_DIRS = {".npm": "npm-cache", ".pnpm-store": "pnpm-store", ".m2": "jvm-cache"}
_COMPONENTS = {**_VCS, **_EDITOR, **_TESTS, **_CACHE_DIRS}
_DOT_CACHE = {  # ~/.cache/<name>
    "pip": "pip-cache",
    "pypoetry": "pip-cache",
    "go-build": "go-cache",
    "yarn": "yarn-cache",
    "composer": "composer-cache",
    "pnpm": "pnpm-store",
}
_TEST_DIRS = frozenset({"test", "tests", "__tests__"})
_PREFIXES = (
    ("var/lib/apt/lists/", "apt-lists"),
    ("var/cache/apt/", "apt-cache"),
    ("var/cache/apk/", "apk-cache"),
    ("var/cache/dnf/", "dnf-cache"),
    ("var/cache/yum/", "dnf-cache"),
    ("tmp/", "temp"),
    ("var/tmp/", "temp"),
    ("var/log/", "logs"),
    ("usr/local/go/", "go-toolchain"),
    ("usr/include/", "build-tools"),
    ("usr/local/include/", "build-tools"),
)
_LOCKS = frozenset({"lock"})  # apt's lock files are empty and recreated; never advice
_ARCHIVE = re.compile(
    r"^(?P<stem>.+?)\.(?:tar\.gz|tgz|tar\.xz|txz|tar\.bz2|tbz2|tar\.zst|tar|zip)$"
)
_CORE = re.compile(r"^core(?:\.\d+)?$")
_SECRET_NAMES = frozenset(
    {
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        ".npmrc",
        ".pypirc",
        ".netrc",
        ".git-credentials",
        ".pgpass",
    }
)
_ENV_SAFE = frozenset({"example", "sample", "template", "dist", "defaults", "schema"})
_KEY_FILE = re.compile(r"(?:^|[._-])(?:private|priv|secret)?key\.pem$|\.key$|\.p12$|\.pfx$")
# Packages only a build needs. Their dependencies that nothing else needs are build-only too
# (see `_build_only`), so compiler support libraries need no list of their own.
_BUILD_PACKAGE = re.compile(
    r"^(?:gcc|g\+\+|cpp|gfortran|clang|llvm|lld)(?:-\d+(?:\.\d+)?)?$"
    r"|^(?:build-essential|make|binutils|dpkg-dev|libc6-dev|libc-dev-bin|linux-libc-dev"
    r"|autoconf|automake|libtool|cmake|pkgconf|pkg-config|bison|flex|golang|golang-go"
    r"|golang-src|rustc|cargo)$"
    r"|^golang-\d+(?:\.\d+)?-go$"
    r"|-dev$"
    # apk: the build meta-package and the usual `apk add --virtual .build-deps` group.
    r"|^(?:build-base|\.build-deps.*)$"
)
_JDK_PACKAGE = re.compile(r"^(?:openjdk-\d+-jdk(?:-headless)?|default-jdk(?:-headless)?)$")
# Commands that need a JDK (not a JRE) at run time: an image running them keeps its JDK.
_JDK_TOOLS = frozenset({"javac", "jshell", "jar", "jlink", "jdeps", "mvn", "gradle", "ant"})


class FinalFile(NamedTuple):
    """A visible non-directory of the final filesystem: its bytes and the layer that added it.

    A named tuple, not a frozen dataclass: one is built per file of the image (hundreds of
    thousands), and a tuple builds several times faster."""

    path: str
    bytes: int
    layer: int


@dataclass(frozen=True, slots=True)
class ReclaimOptions:
    """`purpose="toolchain"` keeps compilers and SDKs; `runtime` is the image's entrypoint and
    command (a JDK tool there keeps the JDK; the binary or interpreter it names decides
    the source and bytecode categories), `workdir` its WORKDIR."""

    purpose: str = "app"
    runtime: tuple[str, ...] = ()
    workdir: str = ""
    duplicate_min: int = DUPLICATE_MIN


@dataclass(frozen=True, slots=True)
class PackageBytes:
    name: str
    bytes: int
    files: int


@dataclass(frozen=True, slots=True)
class ReclaimItem:
    """One category's files added by one layer."""

    category: str
    label: str
    confidence: str
    practice: str
    rules: tuple[str, ...]
    bytes: int
    files: int
    layer: int
    instruction: str
    examples: tuple[str, ...]  # the biggest roots: directories, packages' files, paths
    packages: tuple[PackageBytes, ...] = ()


@dataclass(frozen=True, slots=True)
class CategoryTotal:
    category: str
    label: str
    confidence: str
    practice: str
    rules: tuple[str, ...]
    bytes: int
    files: int
    layers: tuple[int, ...]  # biggest contribution first


@dataclass(frozen=True, slots=True)
class ReclaimReport:
    items: tuple[ReclaimItem, ...]  # biggest first
    package_db: str  # "dpkg" or "none"
    recommends: tuple[PackageBytes, ...]  # packages there only as recommendations
    build_packages: tuple[PackageBytes, ...]
    secrets: tuple[str, ...]  # secret-looking paths (names only, never content)
    hashed_files: int  # duplicate candidates hashed
    # Every classified file with its category, so pictures of the filesystem (the HTML
    # treemap, explore's tree) can mark the very paths the figures count.
    classified: tuple[tuple[FinalFile, str], ...] = field(default=(), compare=False, repr=False)

    @property
    def certain(self) -> int:
        return sum(item.bytes for item in self.items if item.confidence == CERTAIN)

    @property
    def likely(self) -> int:
        return sum(item.bytes for item in self.items if item.confidence == LIKELY)

    @property
    def total(self) -> int:
        return self.certain + self.likely

    def categories(self) -> tuple[CategoryTotal, ...]:
        """Per category, biggest first."""
        sums: dict[str, list[int]] = {}
        layers: dict[str, dict[int, int]] = defaultdict(dict)
        for item in self.items:
            entry = sums.setdefault(item.category, [0, 0])
            entry[0] += item.bytes
            entry[1] += item.files
            layers[item.category][item.layer] = item.bytes
        totals = []
        for cat_id, (nbytes, files) in sums.items():
            cat = CATEGORIES[cat_id]
            order = sorted(layers[cat_id], key=lambda i: (-layers[cat_id][i], i))
            totals.append(
                CategoryTotal(
                    cat_id,
                    cat.label,
                    cat.confidence,
                    cat.practice,
                    cat.rules,
                    nbytes,
                    files,
                    tuple(order),
                )
            )
        totals.sort(key=lambda t: (-t.bytes, t.category))
        return tuple(totals)


@dataclass(frozen=True, slots=True)
class Achievable:
    """`size - wasted - reclaimable(certain)`, and how low it goes if every likely item goes."""

    size: int
    wasted: int
    certain: int
    likely: int

    @property
    def estimate(self) -> int:
        return max(self.size - self.wasted - self.certain, 0)

    @property
    def low(self) -> int:
        return max(self.estimate - self.likely, 0)

    @property
    def size_ratio(self) -> float:
        """Size / achievable: how many times its achievable size the image weighs (1.0: no
        win; an achievable size of 0 counts as 1 byte)."""
        return self.size / max(self.estimate, 1) if self.size else 1.0


@dataclass(frozen=True, slots=True)
class Plan:
    """Step 1's result: a category (or None) per file, and the duplicate candidates to hash."""

    files: tuple[FinalFile, ...]
    assigned: tuple[str | None, ...]
    roots: tuple[str, ...]  # what groups a file in the report (directory, package or path)
    candidates: tuple[tuple[str, ...], ...]  # same-size unclassified paths, per size
    instructions: tuple[str, ...]
    package_db: str
    recommends: frozenset[str] = frozenset()
    build_only: frozenset[str] = frozenset()
    owners: Mapping[str, str] = field(default_factory=dict)

    @property
    def candidate_paths(self) -> frozenset[str]:
        return frozenset(path for group in self.candidates for path in group)


def _env_secret(name: str) -> bool:
    if name == ".env":
        return True
    if not name.startswith(".env."):
        return False
    return name[5:].lower() not in _ENV_SAFE


def secret_name(path: str) -> bool:
    """Whether a path's name says it holds a secret (private keys, tokens, `.env`)."""
    name = path.rpartition("/")[2]
    if name in _SECRET_NAMES or _env_secret(name):
        return True
    if path.endswith((".aws/credentials", ".docker/config.json")):
        return True
    return bool(_KEY_FILE.search(name.lower()))


def path_category(
    path: str,
    dirs: Container[str] = frozenset(),
    cache: dict[str, DirVerdict] | None = None,
) -> tuple[str, str] | None:
    """(category, root) from a path's name and place alone; None when nothing applies.

    `dirs` holds every directory name of the image (to see whether an archive was extracted);
    `cache` keeps each directory's verdict across calls (files share their directories).
    Precedence: a secret-looking name, then the place (caches, VCS, temp...), then the name
    (logs, core dumps, archives...), then a test folder.
    """
    parent, _, name = path.rpartition("/")
    hint = _NAME_HINT.search(name) is not None
    if hint and secret_name(path):
        return "secrets", path
    cached = None if cache is None else cache.get(parent)
    if cached is None:
        cached = directory_verdict(parent)
        if cache is not None:
            cache[parent] = cached
    place, tests = cached
    if place is not None:
        if name in _LOCKS and place[0] in ("apt-lists", "apt-cache"):
            return None
        return place
    if hint:
        found = _name_category(path, name, dirs)
        if found is not None:
            return found
    return tests


DirVerdict = tuple[tuple[str, str] | None, tuple[str, str] | None]

# Names that could be secrets, logs, core dumps, coverage data, static libraries or archives:
# only those go through the slower checks.
_NAME_HINT = re.compile(
    r"(?:\.(?:log|a|key|pem|p12|pfx|tgz|txz|tbz2|zip|tar|gz|xz|bz2|zst)$)"
    r"|^(?:core|\.coverage|\.env|id_|\.npmrc|\.pypirc|\.netrc|\.git-cred|\.pgpass)"
    r"|^(?:credentials|config\.json)$"
)


def directory_verdict(parent: str) -> DirVerdict:
    """What a file's directory alone says: (place category, test-folder category)."""
    slashed = parent + "/"
    for prefix, place in _PREFIXES:
        if slashed.startswith(prefix):
            return (place, prefix.rstrip("/")), None
    if not parent:
        return None, None
    parts = parent.split("/")
    count = len(parts)
    tests: tuple[str, str] | None = None
    for i, part in enumerate(parts):
        root = "/".join(parts[: i + 1])
        cat = _COMPONENTS.get(part)
        if cat is not None:
            return (cat, root), None
        if part == ".cache" and i + 1 < count:
            cat = _DOT_CACHE.get(parts[i + 1])
            if cat is not None:
                return (cat, "/".join(parts[: i + 2])), None
        elif part == ".gradle" and i + 1 < count and parts[i + 1] in ("caches", "wrapper"):
            return ("jvm-cache", "/".join(parts[: i + 2])), None
        elif part == ".composer" and i + 1 < count and parts[i + 1] == "cache":
            return ("composer-cache", "/".join(parts[: i + 2])), None
        elif part == "go" and parts[i + 1 : i + 3] == ["pkg", "mod"]:
            return ("go-cache", "/".join(parts[: i + 3])), None
        elif part == "jmods":
            return ("jdk", root), None
        elif part in _TEST_DIRS and tests is None and not _python_stdlib(parts[:i]):
            tests = ("tests", root)
    return None, tests


def _name_category(path: str, name: str, dirs: Container[str]) -> tuple[str, str] | None:
    if name.endswith(".log"):
        return "logs", path
    if _CORE.match(name):
        return "core-dumps", path
    if name == ".coverage" or name.startswith(".coverage."):
        return "tests", path
    if name.endswith(".a") and "/lib" in path and not name.startswith("."):
        return "build-tools", path
    archive = _ARCHIVE.match(name)
    if archive and archive.group("stem") in dirs:
        return "archives", path
    return None


def _python_stdlib(parents: Sequence[str]) -> bool:
    """Whether a folder below `parents` is in a Python standard library (`.../lib/python3.11/`,
    not in its `site-packages`): the interpreter's own test packages belong to the runtime the
    image ships. Installed packages' test folders are the packages' build leftovers."""
    for i in range(len(parents) - 1, 0, -1):
        if parents[i] in ("site-packages", "dist-packages"):
            return False
        if parents[i].startswith("python") and parents[i - 1] == "lib":
            return True
    return False


def _build_only(db: DpkgDb, recommends: frozenset[str]) -> frozenset[str]:
    """Build-only packages: named as such, or needed only by such packages.

    The runtime closure starts from every manually installed package that is not build-named;
    whatever it does not reach (and apt did not bring as a recommendation) only serves builds.
    """
    runtime_roots = {
        name: pkg
        for name, pkg in db.packages.items()
        if not _BUILD_PACKAGE.search(name) or pkg.essential
    }
    # Build-named packages become "auto" so they are not roots; anything a runtime package
    # depends on is still reached through the closure.
    pretend_auto = frozenset(db.auto | (db.packages.keys() - runtime_roots.keys()))
    needed = needed_packages(db.packages, pretend_auto)
    return frozenset(name for name in db.packages if name not in needed and name not in recommends)


def _uses_jdk(runtime: Sequence[str]) -> bool:
    for word in runtime:
        for token in word.replace(";", " ").replace("&", " ").split():
            if token.rpartition("/")[2] in _JDK_TOOLS:
                return True
    return False


def plan_reclaim(
    files: Sequence[FinalFile],
    instructions: Sequence[str],
    db: DpkgDb | None = None,
    options: ReclaimOptions | None = None,
) -> Plan:
    """Step 1: a category per file (or None) and the duplicate candidates."""
    options = options or ReclaimOptions()
    toolchain = options.purpose == "toolchain"
    keep_jdk = toolchain or _uses_jdk(options.runtime)
    recommends: frozenset[str] = frozenset()
    build_only: frozenset[str] = frozenset()
    owners: Mapping[str, str] = {}
    packages: Mapping[str, DpkgPackage] = {}
    if db is not None:
        recommends = recommends_only(db)
        build_only = _build_only(db, recommends)
        owners = db.owners
        packages = db.packages
    dirs = _LazyDirs(files)
    cache: dict[str, DirVerdict] = {}
    interpreters: frozenset[str] | None = None  # computed at the first package bytecode
    artefact = (
        None
        if toolchain
        else built_artefact(files, options.runtime, options.workdir, owners, instructions)
    )
    assigned: list[str | None] = []
    roots: list[str] = []
    by_size: dict[int, list[int]] = defaultdict(list)
    for index, file in enumerate(files):
        owner = owners.get(file.path)
        cat: str | None = None
        root = file.path
        if owner is not None:
            if owner in recommends:
                cat, root = "recommends", owner
            elif _JDK_PACKAGE.match(owner):
                cat, root = (None, root) if keep_jdk else ("jdk", owner)
            elif owner in build_only:
                cat, root = (None, root) if toolchain else ("build-tools", owner)
        else:
            found = path_category(file.path, dirs, cache)
            if found is not None:
                cat, root = found
                if CATEGORIES[cat].build_tool and (toolchain or (cat == "jdk" and keep_jdk)):
                    cat, root = None, file.path
            elif file.path.endswith(".pyc"):
                version = pyc_version(file.path)
                if version is not None:
                    if interpreters is None:
                        interpreters = interpreters_run(files, options.runtime)
                    if interpreters and version not in interpreters:
                        cat, root = "pycache", _site_packages(file.path)
            elif artefact is not None and beside_build(
                file.path, file.layer, artefact, options.workdir, instructions
            ):
                cat, root = "sources", file.path.rpartition("/")[0] or file.path
        assigned.append(cat)
        roots.append(root)
        if cat is None and owner is None and file.bytes >= options.duplicate_min:
            by_size[file.bytes].append(index)
    candidates = tuple(
        tuple(files[i].path for i in group)
        for _size, group in sorted(by_size.items())
        if len(group) > 1
    )
    return Plan(
        files=tuple(files),
        assigned=tuple(assigned),
        roots=tuple(roots),
        candidates=candidates,
        instructions=tuple(instructions),
        package_db=db.kind if db is not None and packages else "none",
        recommends=recommends,
        build_only=build_only,
        owners=owners,
    )


def _site_packages(path: str) -> str:
    """The `site-packages`/`dist-packages` folder a path is in (the report's root)."""
    parts = path.split("/")
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] in ("site-packages", "dist-packages"):
            return "/".join(parts[: i + 1])
    return path


class _LazyDirs:
    """Every directory name of the image, computed on the first question (only an archive's
    name asks: most images have none)."""

    def __init__(self, files: Sequence[FinalFile]) -> None:
        self._files = files
        self._names: frozenset[str] | None = None

    def __contains__(self, name: object) -> bool:
        if self._names is None:
            self._names = _directory_names(self._files)
        return name in self._names


def _directory_names(files: Sequence[FinalFile]) -> frozenset[str]:
    names: set[str] = set()
    parents: set[str] = set()
    for file in files:
        parent = file.path.rpartition("/")[0]
        while parent and parent not in parents:
            parents.add(parent)
            names.add(parent.rpartition("/")[2])
            parent = parent.rpartition("/")[0]
    return frozenset(names)


def finish(plan: Plan, digests: Mapping[str, str]) -> ReclaimReport:
    """Step 2: duplicates from the candidates' digests, then everything summed per category
    and layer, biggest first."""
    assigned = list(plan.assigned)
    # Only the candidates' indexes: a map of every path would be the report's biggest object.
    wanted = {path for group in plan.candidates for path in group}
    index_of = {file.path: i for i, file in enumerate(plan.files) if file.path in wanted}
    hashed = 0
    for group in plan.candidates:
        by_digest: dict[str, list[int]] = defaultdict(list)
        for path in group:
            digest = digests.get(path)
            if digest is not None:
                hashed += 1
                by_digest[digest].append(index_of[path])
        for same in by_digest.values():
            if len(same) < 2:
                continue
            # The copy kept is the one the earliest layer added (then the first path).
            same.sort(key=lambda i: (plan.files[i].layer, plan.files[i].path))
            for i in same[1:]:
                assigned[i] = "duplicates"
    sums: dict[tuple[str, int], list[int]] = {}
    root_sums: dict[tuple[str, int], dict[str, list[int]]] = defaultdict(dict)
    package_sums: dict[str, list[int]] = {}
    secrets: list[str] = []
    classified: list[tuple[FinalFile, str]] = []
    for i, cat in enumerate(assigned):
        if cat is None:
            continue
        file = plan.files[i]
        classified.append((file, cat))
        key = (cat, file.layer)
        entry = sums.get(key)
        if entry is None:
            entry = sums[key] = [0, 0]
        entry[0] += file.bytes
        entry[1] += 1
        per_root = root_sums[key].get(plan.roots[i])
        if per_root is None:
            root_sums[key][plan.roots[i]] = [file.bytes, 1]
        else:
            per_root[0] += file.bytes
            per_root[1] += 1
        if cat in _PACKAGE_CATEGORIES:
            owner = plan.owners.get(file.path)
            if owner is not None:
                pkg = package_sums.setdefault(owner, [0, 0])
                pkg[0] += file.bytes
                pkg[1] += 1
        if cat == "secrets":
            secrets.append(file.path)
    items = [
        _item(CATEGORIES[cat], layer, nbytes, files, plan, root_sums[(cat, layer)])
        for (cat, layer), (nbytes, files) in sums.items()
    ]
    items.sort(key=lambda item: (-item.bytes, item.category, item.layer))
    return ReclaimReport(
        items=tuple(items),
        package_db=plan.package_db,
        recommends=_packages(plan.recommends, package_sums),
        build_packages=_packages(plan.build_only, package_sums),
        secrets=tuple(sorted(secrets)),
        hashed_files=hashed,
        classified=tuple(classified),
    )


def _packages(names: frozenset[str], sums: Mapping[str, list[int]]) -> tuple[PackageBytes, ...]:
    found = [PackageBytes(n, sums[n][0], sums[n][1]) for n in names if n in sums]
    found.sort(key=lambda p: (-p.bytes, p.name))
    return tuple(found)


def _item(
    cat: Category,
    layer: int,
    nbytes: int,
    files: int,
    plan: Plan,
    roots: Mapping[str, list[int]],
) -> ReclaimItem:
    ordered = sorted(roots.items(), key=lambda kv: (-kv[1][0], kv[0]))
    packages: tuple[PackageBytes, ...] = ()
    if cat.id in _PACKAGE_CATEGORIES:
        packages = tuple(PackageBytes(name, b, n) for name, (b, n) in ordered)
    keep = len(ordered) if cat.id == "secrets" else _EXAMPLES
    instruction = plan.instructions[layer] if 0 <= layer < len(plan.instructions) else "unknown"
    return ReclaimItem(
        category=cat.id,
        label=cat.label,
        confidence=cat.confidence,
        practice=cat.practice,
        rules=cat.rules,
        bytes=nbytes,
        files=files,
        layer=layer,
        instruction=instruction,
        examples=tuple(name for name, _ in ordered[:keep]),
        packages=packages,
    )


def achievable(size: int, wasted: int, report: ReclaimReport) -> Achievable:
    return Achievable(size=size, wasted=wasted, certain=report.certain, likely=report.likely)
