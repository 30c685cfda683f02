"""The reclaim classifier on tables of paths that must be flagged and paths that must stay
quiet, and on small package databases."""

from __future__ import annotations

import pytest

from trimdock.layers.reclaim.classify import (
    FinalFile,
    ReclaimOptions,
    achievable,
    finish,
    path_category,
    plan_reclaim,
    secret_name,
)
from trimdock.layers.reclaim.dpkg import build_db

FLAGGED = [
    (
        "var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages.lz4",
        "apt-lists",
        "var/lib/apt/lists",
    ),
    ("var/cache/apt/archives/curl_7.88_amd64.deb", "apt-cache", "var/cache/apt"),
    ("var/cache/apt/pkgcache.bin", "apt-cache", "var/cache/apt"),
    ("var/cache/apk/APKINDEX.abc.tar.gz", "apk-cache", "var/cache/apk"),
    ("var/cache/dnf/repodata.xml", "dnf-cache", "var/cache/dnf"),
    ("root/.cache/pip/http/a/b", "pip-cache", "root/.cache/pip"),
    ("home/app/.cache/go-build/00/abc-d", "go-cache", "home/app/.cache/go-build"),
    ("root/go/pkg/mod/github.com/x/y.go", "go-cache", "root/go/pkg/mod"),
    ("root/.npm/_cacache/index-v5/aa", "npm-cache", "root/.npm"),
    ("usr/local/share/.cache/yarn/v6/x", "yarn-cache", "usr/local/share/.cache/yarn"),
    ("root/.m2/repository/org/x.jar", "jvm-cache", "root/.m2"),
    ("root/.gradle/caches/modules-2/x.jar", "jvm-cache", "root/.gradle/caches"),
    ("app/.git/objects/pack/pack-1.pack", "vcs", "app/.git"),
    ("src/.hg/store/data", "vcs", "src/.hg"),
    ("app/.idea/workspace.xml", "editor", "app/.idea"),
    ("app/.vscode/settings.json", "editor", "app/.vscode"),
    ("app/.pytest_cache/v/cache/nodeids", "tests", "app/.pytest_cache"),
    ("app/tests/test_api.py", "tests", "app/tests"),
    ("app/htmlcov/index.html", "tests", "app/htmlcov"),
    ("app/.coverage", "tests", "app/.coverage"),
    ("tmp/build/a.o", "temp", "tmp"),
    ("var/tmp/x", "temp", "var/tmp"),
    ("var/log/dpkg.log", "logs", "var/log"),
    ("app/logs/server.log", "logs", "app/logs/server.log"),
    ("app/core", "core-dumps", "app/core"),
    ("app/core.1234", "core-dumps", "app/core.1234"),
    ("usr/local/go/bin/go", "go-toolchain", "usr/local/go"),
    ("usr/include/stdio.h", "build-tools", "usr/include"),
    ("usr/local/lib/libfoo.a", "build-tools", "usr/local/lib/libfoo.a"),
    ("opt/java/openjdk/jmods/java.base.jmod", "jdk", "opt/java/openjdk/jmods"),
    ("opt/node-v20.tar.xz", "archives", "opt/node-v20.tar.xz"),
    ("app/.env", "secrets", "app/.env"),
    ("app/.env.production", "secrets", "app/.env.production"),
    ("root/.ssh/id_rsa", "secrets", "root/.ssh/id_rsa"),
    ("root/.npmrc", "secrets", "root/.npmrc"),
    ("root/.pypirc", "secrets", "root/.pypirc"),
    ("root/.aws/credentials", "secrets", "root/.aws/credentials"),
    ("etc/nginx/server.key", "secrets", "etc/nginx/server.key"),
    ("tmp/id_ed25519", "secrets", "tmp/id_ed25519"),  # a secret first, temp second
]

QUIET = [
    "usr/bin/python3.11",
    "usr/lib/python3.11/test/__init__.py",  # the interpreter's own test package
    "app/__pycache__/main.cpython-311.pyc",  # the app's own bytecode
    "usr/lib/python3/dist-packages/pip/__pycache__/x.pyc",
    "app/.env.example",
    "app/.env.sample",
    "root/.ssh/id_rsa.pub",
    "root/.ssh/known_hosts",
    "etc/ssl/certs/ca-certificates.crt",
    "etc/ssl/certs/ISRG_Root_X1.pem",
    "var/lib/apt/lists/lock",
    "var/cache/apt/archives/lock",
    "app/corefile",
    "app/core.py",
    "app/contest/x.py",
    "app/latest/x",
    "app/data.zip",  # an archive nothing extracted
    "app/.gitignore",
    "app/.github/workflows/ci.yml",
    "usr/share/doc/git/README",
    "app/node_modules/.bin/x",
    "usr/lib/x86_64-linux-gnu/libc.so.6",
    "var/lib/dpkg/status",
    "etc/apt/sources.list",
    "app/main.log.py",
]


@pytest.mark.parametrize(("path", "category", "root"), FLAGGED)
def test_flagged_paths(path: str, category: str, root: str) -> None:
    assert path_category(path, frozenset({"node-v20"})) == (category, root)


@pytest.mark.parametrize("path", QUIET)
def test_quiet_paths(path: str) -> None:
    assert path_category(path, frozenset({"node-v20", "data-1"})) is None


@pytest.mark.parametrize(
    ("name", "secret"),
    [("app/.env", True), ("x/.env.local", True), ("x/.env.template", False), ("x/env", False)],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert secret_name(name) is secret


def _files(*specs: tuple[str, int, int]) -> list[FinalFile]:
    return [FinalFile(path, nbytes, layer) for path, nbytes, layer in specs]


INSTRUCTIONS = ("FROM base", "RUN apt-get update", "RUN apt-get install -y curl", "COPY . .")


def test_report_sums_per_category_and_layer_biggest_first() -> None:
    files = _files(
        ("usr/bin/sh", 100, 0),
        ("var/lib/apt/lists/a_Packages", 5000, 1),
        ("var/lib/apt/lists/b_Packages", 3000, 1),
        ("var/lib/apt/lists/c_Packages", 1000, 2),
        ("app/.git/objects/x", 700, 3),
        ("app/main.py", 10, 3),
    )
    report = finish(plan_reclaim(files, INSTRUCTIONS), {})
    assert [(i.category, i.layer, i.bytes, i.files) for i in report.items] == [
        ("apt-lists", 1, 8000, 2),
        ("apt-lists", 2, 1000, 1),
        ("vcs", 3, 700, 1),
    ]
    assert report.items[0].instruction == "RUN apt-get update"
    assert report.items[0].rules == ("TD103", "TD104")
    assert report.certain == 9700 and report.likely == 0
    totals = report.categories()
    assert [(t.category, t.bytes, t.files, t.layers) for t in totals] == [
        ("apt-lists", 9000, 3, (1, 2)),
        ("vcs", 700, 1, (3,)),
    ]
    figures = achievable(20000, 1000, report)
    assert (figures.estimate, figures.low) == (20000 - 1000 - 9700, 20000 - 1000 - 9700)


def test_duplicates_hash_only_same_size_unclassified_candidates() -> None:
    big = 20000
    files = _files(
        ("app/a.bin", big, 1),
        ("app/copy/a.bin", big, 3),
        ("app/other.bin", big, 2),  # same size, other content
        ("app/unique.bin", big + 1, 1),  # no same-size peer: never hashed
        ("app/small1", 10, 1),  # below the minimum
        ("app/small2", 10, 1),
        ("var/cache/apt/x.deb", big, 1),  # already classified: never hashed
    )
    plan = plan_reclaim(files, INSTRUCTIONS)
    assert plan.candidate_paths == {"app/a.bin", "app/copy/a.bin", "app/other.bin"}
    report = finish(plan, {"app/a.bin": "d1", "app/copy/a.bin": "d1", "app/other.bin": "d2"})
    dup = [i for i in report.items if i.category == "duplicates"]
    assert [(i.layer, i.bytes, i.examples) for i in dup] == [(3, big, ("app/copy/a.bin",))]
    assert report.likely == big
    assert report.hashed_files == 3


STATUS = "".join(
    f"Package: {name}\nStatus: install ok installed\n{extra}\n"
    for name, extra in (
        ("libc6", "Priority: required\n"),
        ("curl", "Depends: libc6\nRecommends: ca-certificates\n"),
        ("ca-certificates", "Depends: openssl\n"),
        ("openssl", ""),
        ("gcc-12", "Depends: cpp-12, libasan8\n"),
        ("cpp-12", ""),
        ("libasan8", ""),
        ("build-essential", "Depends: gcc-12\n"),
        ("openjdk-17-jdk-headless", "Depends: openjdk-17-jre-headless\n"),
        ("openjdk-17-jre-headless", ""),
        ("python3", "Depends: libc6\n"),
    )
)
EXTENDED = "".join(
    f"Package: {n}\nAuto-Installed: 1\n\n"
    for n in (
        "ca-certificates",
        "openssl",
        "gcc-12",
        "cpp-12",
        "libasan8",
        "openjdk-17-jre-headless",
    )
)
LISTS = {
    "var/lib/dpkg/info/curl.list": "/usr/bin/curl\n",
    "var/lib/dpkg/info/ca-certificates.list": "/usr/share/ca-certificates/a.crt\n",
    "var/lib/dpkg/info/openssl.list": "/usr/bin/openssl\n",
    "var/lib/dpkg/info/gcc-12.list": "/usr/bin/gcc-12\n",
    "var/lib/dpkg/info/cpp-12.list": "/usr/lib/gcc/x86_64-linux-gnu/12/cc1\n",
    "var/lib/dpkg/info/libasan8:amd64.list": "/usr/lib/x86_64-linux-gnu/libasan.so.8\n",
    "var/lib/dpkg/info/openjdk-17-jdk-headless:amd64.list": "/usr/lib/jvm/bin/javac\n",
    "var/lib/dpkg/info/openjdk-17-jre-headless:amd64.list": "/usr/lib/jvm/bin/java\n",
    "var/lib/dpkg/info/python3.list": "/usr/bin/python3\n",
    "var/lib/dpkg/info/libc6:amd64.list": "/lib/x86_64-linux-gnu/libc.so.6\n",
}
PKG_FILES = _files(
    ("usr/bin/curl", 300, 2),
    ("usr/share/ca-certificates/a.crt", 200, 2),
    ("usr/bin/openssl", 1000, 2),
    ("usr/bin/gcc-12", 4000, 2),
    ("usr/lib/gcc/x86_64-linux-gnu/12/cc1", 30000, 2),
    ("usr/lib/x86_64-linux-gnu/libasan.so.8", 5000, 2),
    ("usr/lib/jvm/bin/javac", 700, 2),
    ("usr/lib/jvm/bin/java", 900, 2),
    ("usr/bin/python3", 800, 2),
    ("usr/lib/x86_64-linux-gnu/libc.so.6", 2000, 0),
)


def _by_category(report: object) -> dict[str, int]:
    return {t.category: t.bytes for t in report.categories()}  # type: ignore[attr-defined]


def test_packages_recommends_build_only_and_jdk() -> None:
    db = build_db(STATUS, EXTENDED, LISTS)
    report = finish(plan_reclaim(PKG_FILES, INSTRUCTIONS, db), {})
    assert _by_category(report) == {"build-tools": 39000, "recommends": 1200, "jdk": 700}
    assert [(p.name, p.bytes) for p in report.recommends] == [
        ("openssl", 1000),
        ("ca-certificates", 200),
    ]
    assert {p.name for p in report.build_packages} == {"gcc-12", "cpp-12", "libasan8"}
    assert report.package_db == "dpkg"


def test_toolchain_purpose_keeps_compilers_and_jdk() -> None:
    db = build_db(STATUS, EXTENDED, LISTS)
    options = ReclaimOptions(purpose="toolchain")
    report = finish(plan_reclaim(PKG_FILES, INSTRUCTIONS, db, options), {})
    assert _by_category(report) == {"recommends": 1200}
    go = finish(
        plan_reclaim(_files(("usr/local/go/bin/go", 9, 1)), INSTRUCTIONS, None, options), {}
    )
    assert go.items == ()


def test_runtime_that_needs_its_jdk_keeps_it() -> None:
    db = build_db(STATUS, EXTENDED, LISTS)
    options = ReclaimOptions(runtime=("/bin/sh", "-c", "javac Main.java && java Main"))
    report = finish(plan_reclaim(PKG_FILES, INSTRUCTIONS, db, options), {})
    assert "jdk" not in _by_category(report)
    assert "build-tools" in _by_category(report)


def test_secrets_listed_by_name() -> None:
    report = finish(
        plan_reclaim(_files(("app/.env", 50, 3), ("root/.ssh/id_rsa", 1700, 3)), INSTRUCTIONS),
        {},
    )
    assert report.secrets == ("app/.env", "root/.ssh/id_rsa")
    (item,) = report.items
    assert item.examples == ("root/.ssh/id_rsa", "app/.env")
    assert item.rules == ("TD302", "TD504")


def test_package_owned_files_are_not_path_classified() -> None:
    # A distro package's own test folder or log is part of what the package ships.
    db = build_db(
        "Package: python3-foo\nStatus: install ok installed\n\n",
        None,
        {"var/lib/dpkg/info/python3-foo.list": "/usr/lib/python3/dist-packages/foo/tests/t.py\n"},
    )
    files = _files(("usr/lib/python3/dist-packages/foo/tests/t.py", 100, 1))
    assert finish(plan_reclaim(files, INSTRUCTIONS, db), {}).items == ()


# --- bytecode of Python versions the image does not run ------------------------------------

_PY_FILES = (
    ("usr/bin/python3.11", 6_000_000, 1),
    ("usr/local/bin/python3.12", 15_000, 2),
    ("usr/local/bin/python3", 9, 2),  # the symlink to python3.12
)
PYC_FLAGGED = [
    # (runtime, path, root)
    (
        ("python3.12", "app.py"),
        "usr/lib/python3/dist-packages/yaml/__pycache__/constructor.cpython-311.pyc",
        "usr/lib/python3/dist-packages",
    ),
    (
        ("/usr/local/bin/python3", "app.py"),
        "usr/lib/python3/dist-packages/six/__pycache__/six.cpython-311.opt-1.pyc",
        "usr/lib/python3/dist-packages",
    ),
    (  # /usr/bin holds one python3.X: its `python3` is that one
        ("/usr/bin/python3", "app.py"),
        "usr/local/lib/python3.12/site-packages/x/__pycache__/a.cpython-312.pyc",
        "usr/local/lib/python3.12/site-packages",
    ),
    (  # no interpreter 3.9 anywhere: nothing can load it
        (),
        "usr/local/lib/python3.9/site-packages/x/__pycache__/a.cpython-39.pyc",
        "usr/local/lib/python3.9/site-packages",
    ),
]
PYC_QUIET = [
    # the interpreter the image runs
    (
        ("python3.12", "app.py"),
        "usr/local/lib/python3.12/site-packages/x/__pycache__/a.cpython-312.pyc",
    ),
    # no entrypoint naming an interpreter: both present interpreters may run
    (("gunicorn", "app:app"), "usr/lib/python3/dist-packages/yaml/__pycache__/c.cpython-311.pyc"),
    ((), "usr/local/lib/python3.12/site-packages/x/__pycache__/a.cpython-312.pyc"),
    # a `python3` whose folder holds no `python3.X`: which version it is is not known
    (
        ("/opt/py/bin/python3", "app.py"),
        "usr/lib/python3/dist-packages/y/__pycache__/c.cpython-311.pyc",
    ),
    # the app's own bytecode, whatever its version
    (("python3.12", "app.py"), "app/__pycache__/main.cpython-311.pyc"),
    (("python3.12", "app.py"), "app/pkg/__pycache__/util.cpython-39.pyc"),
    # the standard library, and bytecode outside a __pycache__ folder
    (("python3.12", "app.py"), "usr/lib/python3.11/__pycache__/os.cpython-311.pyc"),
    (("python3.12", "app.py"), "usr/lib/python3/dist-packages/legacy/mod.pyc"),
    (("python3.12", "app.py"), "usr/lib/python3/dist-packages/x/__pycache__/a.pypy39.pyc"),
]


def _pyc_plan(runtime: tuple[str, ...], path: str) -> tuple[str | None, str]:
    files = _files(*_PY_FILES, (path, 4000, 3))
    plan = plan_reclaim(files, INSTRUCTIONS, None, ReclaimOptions(runtime=runtime))
    return plan.assigned[-1], plan.roots[-1]


@pytest.mark.parametrize(("runtime", "path", "root"), PYC_FLAGGED)
def test_bytecode_of_interpreters_not_run_is_likely(
    runtime: tuple[str, ...], path: str, root: str
) -> None:
    assert _pyc_plan(runtime, path) == ("pycache", root)


@pytest.mark.parametrize(("runtime", "path"), PYC_QUIET)
def test_bytecode_that_may_run_stays_quiet(runtime: tuple[str, ...], path: str) -> None:
    assert _pyc_plan(runtime, path)[0] is None


def test_bytecode_in_an_image_without_known_interpreter_stays_quiet() -> None:
    files = _files(("usr/lib/python3/dist-packages/x/__pycache__/a.cpython-311.pyc", 10, 1))
    assert plan_reclaim(files, INSTRUCTIONS).assigned == (None,)


@pytest.mark.parametrize(
    ("path", "category"),
    [
        ("usr/local/lib/python3.12/site-packages/numpy/tests/test_a.py", "tests"),
        ("usr/lib/python3.11/site-packages/pkg/tests/__pycache__/t.cpython-311.pyc", "tests"),
        ("usr/local/lib/python3.12/test/test_os.py", None),  # the official image's stdlib
        ("usr/lib/python3.11/unittest/test/test_case.py", None),
        ("opt/venv/lib/python3.12/site-packages/pkg/test/t.py", "tests"),
    ],
)
def test_package_test_folders_but_not_the_standard_librarys(
    path: str, category: str | None
) -> None:
    found = path_category(path)
    assert (found[0] if found else None) == category


# --- source of compiled languages next to a binary built in the image -----------------------

BUILD_INSTRUCTIONS = (
    "FROM debian",  # 0
    "RUN apt-get install -y golang-go",  # 1
    "COPY . /src",  # 2
    "RUN cd /src && go build -o /usr/local/bin/hello",  # 3
    "COPY server /app/server",  # 4
)
_BUILT = ("usr/local/bin/hello", 2_000_000, 3)
SOURCE_FLAGGED = [
    # (runtime, workdir, source path and layer, root)
    (("/usr/local/bin/hello",), "", ("src/main.go", 2), "src"),
    (("hello", "--port", "80"), "", ("src/internal/x/x.go", 2), "src/internal/x"),
    (("/bin/sh", "-c", "exec hello"), "", ("src/lib/util.c", 2), "src/lib"),
    (("./hello",), "/usr/local/bin", ("src/a.rs", 2), "src"),
    # in the binary's folder, whatever layer wrote it
    (("/usr/local/bin/hello",), "", ("usr/local/bin/gen.go", 4), "usr/local/bin"),
    # under the WORKDIR of the build
    (("hello",), "/work", ("work/cmd/main.go", 4), "work/cmd"),
]
SOURCE_QUIET = [
    # no runtime, or a runtime that is an interpreter / a script / a runner
    ((), "", ("src/main.go", 2)),
    (("python3", "/src/main.py"), "", ("src/main.go", 2)),
    (("/src/run.sh",), "", ("src/main.go", 2)),
    (("java", "-jar", "/app/app.jar"), "", ("src/Main.java", 2)),
    # a binary the image did not build (copied in): sources may be shipped on purpose
    (("/app/server",), "", ("src/main.go", 2)),
    # not a compiled language, or copied after the build
    (("/usr/local/bin/hello",), "", ("src/main.py", 2)),
    (("/usr/local/bin/hello",), "", ("src/templates/page.html", 2)),
    (("/usr/local/bin/hello",), "", ("etc/hello/plugin.go", 4)),
    # a binary name that only a package's file carries
    (("/usr/bin/dpkgbin",), "", ("src/main.go", 2)),
]


def _source_plan(
    runtime: tuple[str, ...], workdir: str, source: tuple[str, int], purpose: str = "app"
) -> tuple[str | None, str]:
    files = _files(
        _BUILT,
        ("app/server", 1_000_000, 4),
        ("usr/bin/dpkgbin", 1000, 3),
        (source[0], 3000, source[1]),
    )
    db = build_db(
        "Package: dpkgbin\nStatus: install ok installed\n\n",
        None,
        {"var/lib/dpkg/info/dpkgbin.list": "/usr/bin/dpkgbin\n"},
    )
    options = ReclaimOptions(purpose=purpose, runtime=runtime, workdir=workdir)
    plan = plan_reclaim(files, BUILD_INSTRUCTIONS, db, options)
    return plan.assigned[-1], plan.roots[-1]


@pytest.mark.parametrize(("runtime", "workdir", "source", "root"), SOURCE_FLAGGED)
def test_sources_beside_a_binary_built_in_the_image_are_likely(
    runtime: tuple[str, ...], workdir: str, source: tuple[str, int], root: str
) -> None:
    assert _source_plan(runtime, workdir, source) == ("sources", root)


@pytest.mark.parametrize(("runtime", "workdir", "source"), SOURCE_QUIET)
def test_sources_stay_quiet_without_a_built_binary(
    runtime: tuple[str, ...], workdir: str, source: tuple[str, int]
) -> None:
    assert _source_plan(runtime, workdir, source)[0] is None


def test_toolchain_purpose_keeps_sources() -> None:
    assert _source_plan(("hello",), "", ("src/main.go", 2), "toolchain")[0] is None


def test_sources_and_bytecode_are_likely() -> None:
    from trimdock.layers.reclaim.categories import CATEGORIES, LIKELY

    assert CATEGORIES["sources"].confidence == LIKELY
    assert CATEGORIES["pycache"].confidence == LIKELY
