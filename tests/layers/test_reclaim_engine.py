"""Reclaimable content and `trimdock diff` on pairs of real images (naive vs fixed), built on
the engine FROM debian:bookworm-slim, checked against what each image says about itself:

* category bytes: `find ... -printf %s` and `dpkg -L` + `stat` run inside the image;
* recommends-only / build-only packages: `dpkg-query` of the naive image minus the fixed one
  (or the base);
* the achievable estimate: the fixed image's real size (`docker image inspect`);
* diff totals: the difference of `docker image inspect` sizes.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.support.engine import build_image, docker, save_image
from tests.test_json_schemas import validate
from trimdock.cli.main import run

pytestmark = pytest.mark.engine

FIXTURES = Path(__file__).parent / "fixtures" / "reclaim"
HOST_CA = Path("/etc/ssl/certs/ca-certificates.crt")
BASE = "debian:bookworm-slim"
IGNORE = ".git\n.vscode\n"


def _build(name: str, tmp: Path) -> str:
    context = tmp / name
    shutil.copytree(FIXTURES / name, context)
    if "ca.crt" in (context / "Dockerfile").read_text():
        shutil.copy(HOST_CA, context / "ca.crt")
    return build_image(f"layers-reclaim-{name.replace('_', '-')}", context)


@pytest.fixture(scope="module")
def images(engine: None, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("reclaim")
    built = {name: _build(name, tmp) for name in ("apt_naive", "apt_fixed", "go_naive", "go_fixed")}
    built.update(_context_images(tmp))
    return built


def _context_images(tmp: Path) -> dict[str, str]:
    """A project copied whole (`COPY . /app`) with its .git, editor settings, a .env, tests and
    a file present twice; the fixed build keeps VCS and editor data out with .dockerignore."""
    built = {}
    for name, ignore in (("context_naive", None), ("context_fixed", IGNORE)):
        context = tmp / name
        (context / ".git" / "objects" / "ab").mkdir(parents=True)
        (context / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
        (context / ".git" / "objects" / "ab" / "cdef").write_bytes(bytes(range(256)) * 700)
        (context / ".vscode").mkdir()
        (context / ".vscode" / "settings.json").write_text('{"editor.tabSize": 4}\n')
        (context / "tests").mkdir()
        (context / "tests" / "test_app.py").write_text("def test_ok():\n    assert True\n" * 40)
        (context / ".env").write_text("API_TOKEN=not-a-real-token\n")
        (context / "app.py").write_text("print('hello')\n")
        data = b"".join(i.to_bytes(4, "big") for i in range(6000))  # 24 kB
        (context / "data.bin").write_bytes(data)
        (context / "copy").mkdir()
        (context / "copy" / "data.bin").write_bytes(data)
        (context / "Dockerfile").write_text(f"FROM {BASE}\nCOPY . /app\n")
        if ignore:
            (context / ".dockerignore").write_text(ignore)
        built[name] = build_image(f"layers-reclaim-{name.replace('_', '-')}", context)
    return built


def report(capsys: pytest.CaptureFixture[str], *args: str, code: int = 0) -> Any:
    capsys.readouterr()
    assert run([*args, "--format", "json"]) == code
    return json.loads(capsys.readouterr().out)


def in_image(tag: str, script: str) -> str:
    return docker("run", "--rm", "--network", "none", "--entrypoint", "sh", tag, "-c", script)


def sizes_under(tag: str, *roots: str, extra: str = "") -> int:
    """Bytes of the regular files and symlinks under `roots`, as the image's `find` sees them
    (0 when a root does not exist)."""
    paths = " ".join(roots)
    find = f"find {paths} \\( -type f -o -type l \\) {extra} -printf '%s\\n'"
    out = in_image(tag, f"{find} 2>/dev/null || true")
    return sum(int(line) for line in out.split())


def packages(tag: str) -> set[str]:
    out = in_image(tag, "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\\n'")
    return {line.split()[1] for line in out.splitlines() if line.startswith("ii")}


def package_bytes(tag: str, names: set[str]) -> int:
    """Bytes of the files `dpkg -L` lists for `names`: regular files and symlinks (not the
    top-level usrmerge links, which packages list as directories and base-files ships), each
    inode once (hard links share their bytes)."""
    script = (
        f"for p in {' '.join(sorted(names))}; do dpkg -L $p; done | sort -u | "
        'while read f; do [ -d "$f" ] && [ ! -L "$f" ] && continue; '
        'case "$f" in /bin|/sbin|/lib|/lib32|/lib64|/libx32) continue;; esac; '
        'if [ -L "$f" ] || [ -f "$f" ]; then stat -c "%i %s" "$f"; fi; done | sort -u -k1,1'
    )
    return sum(int(line.split()[1]) for line in in_image(tag, script).splitlines())


def inspect_size(tag: str) -> int:
    return int(docker("image", "inspect", "--format", "{{.Size}}", tag))


def categories(doc: Any) -> dict[str, int]:
    return {c["category"]: c["bytes"] for c in doc["reclaim"]["categories"]}


def test_apt_naive_categories_match_the_images_own_file_list(
    images: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    naive, fixed = images["apt_naive"], images["apt_fixed"]
    doc = report(capsys, "layers", naive)
    validate(doc, "layers.json")
    found = categories(doc)
    assert found["apt-lists"] == sizes_under(naive, "/var/lib/apt/lists", extra="! -name lock")
    assert found["apt-cache"] == sizes_under(naive, "/var/cache/apt", extra="! -name lock")
    assert found["apt-cache"] > 1_000_000  # the .deb files and pkgcache.bin
    # Recommends: what the naive image has and the --no-install-recommends one does not.
    extra = packages(naive) - packages(fixed)
    reclaim = doc["reclaim"]
    assert {p["name"] for p in reclaim["recommends_only_packages"]} == extra
    assert found["recommends"] == package_bytes(naive, extra)
    rows = {c["category"]: c for c in reclaim["categories"]}
    assert rows["apt-lists"]["rules"] == ["TD103", "TD104"]
    assert rows["apt-lists"]["confidence"] == "certain"
    assert rows["recommends"]["confidence"] == "likely"
    item = next(i for i in reclaim["items"] if i["category"] == "apt-lists")
    assert item["instruction"] == "RUN apt-get update"


def test_apt_achievable_is_the_fixed_images_size(
    images: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    naive, fixed = images["apt_naive"], images["apt_fixed"]
    achievable = report(capsys, "layers", naive)["reclaim"]["achievable"]
    real = inspect_size(fixed)
    assert abs(achievable["achievable_bytes"] - real) <= 0.10 * real
    assert achievable["achievable_low_bytes"] <= real * 1.10
    assert achievable["size_bytes"] == inspect_size(naive)


def test_apt_diff_totals_and_headline(
    images: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    naive, fixed = images["apt_naive"], images["apt_fixed"]
    doc = report(capsys, "diff", naive, fixed)
    validate(doc, "diff.json")
    assert doc["delta_bytes"] == inspect_size(fixed) - inspect_size(naive)
    assert doc["a"]["size_bytes"] == inspect_size(naive)
    shared = [layer for layer in doc["layers"] if layer["status"] == "shared"]
    base_ids = json.loads(docker("image", "inspect", BASE))[0]["RootFS"]["Layers"]
    assert [layer["diff_id"] for layer in shared] == base_ids
    removed = {p["name"] for p in doc["packages"] if p["status"] == "removed"}
    assert removed == packages(naive) - packages(fixed)
    files = doc["files"]
    visible = files["added_bytes"] - files["removed_bytes"] + files["changed_delta_bytes"]
    wasted = doc["b"]["wasted_bytes"] - doc["a"]["wasted_bytes"]
    assert visible + wasted == doc["delta_bytes"]
    capsys.readouterr()
    assert run(["diff", naive, fixed]) == 0
    text = capsys.readouterr().out
    assert f"{fixed} is " in text and " smaller than " in text
    assert "apt lists \u2212" in text and "apt cache (.deb, *.bin) \u2212" in text


def test_diff_max_growth_gate(images: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    naive, fixed = images["apt_naive"], images["apt_fixed"]
    grown = report(capsys, "diff", fixed, naive, "--max-growth", "5MB", code=1)
    assert grown["gate"]["checks"][0]["actual"] == inspect_size(naive) - inspect_size(fixed)
    assert report(capsys, "diff", fixed, naive, "--max-growth", "1GB")["gate"]["passed"]
    assert report(capsys, "diff", naive, fixed, "--max-growth", "2%")["gate"]["passed"]
    capsys.readouterr()
    assert run(["diff", naive, fixed, "--max-growth", "lots"]) == 2
    assert capsys.readouterr().err.startswith("trimdock: --max-growth: ")


def test_layers_reclaim_gates(images: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    naive, fixed = images["apt_naive"], images["apt_fixed"]
    failed = report(
        capsys, "layers", naive, "--max-reclaimable", "50MB", "--max-achievable-ratio", "1.5",
        code=1,
    )  # fmt: skip
    checks = {c["name"]: c for c in failed["gate"]["checks"]}
    assert not checks["max-reclaimable"]["passed"]
    assert checks["max-reclaimable"]["actual"] == failed["reclaim"]["certain_bytes"]
    assert not checks["max-achievable-ratio"]["passed"]
    passed = report(capsys, "layers", fixed, "--max-reclaimable", "10%")
    assert passed["gate"]["passed"]
    capsys.readouterr()
    assert run(["layers", fixed, "--max-reclaimable", "1MB", "--no-reclaim"]) == 2
    assert run(["layers", fixed, "--max-achievable-ratio", "0.5"]) == 2
    assert "--max-achievable-ratio" in capsys.readouterr().err


def test_go_single_stage_compiler_is_build_only(
    images: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    naive, fixed = images["go_naive"], images["go_fixed"]
    doc = report(capsys, "layers", naive)
    found = categories(doc)
    # Everything installed on top of the base came for golang-go: all of it is build-only.
    build_only = packages(naive) - packages(BASE)
    assert {p["name"] for p in doc["reclaim"]["build_only_packages"]} == build_only
    assert found["build-tools"] == package_bytes(naive, build_only)
    assert found["go-cache"] == sizes_under(naive, "/root/.cache/go-build")
    # The service's source, copied in and compiled in place, beside the binary it became.
    assert found["sources"] == sizes_under(naive, "/src", extra="-name '*.go'")
    assert found["sources"] > 0
    assert "sources" not in categories(report(capsys, "layers", fixed))
    achievable = doc["reclaim"]["achievable"]
    real = inspect_size(fixed)
    assert abs(achievable["achievable_low_bytes"] - real) <= 0.10 * real
    text_row = next(c for c in doc["reclaim"]["categories"] if c["category"] == "build-tools")
    assert "TD118" in text_row["rules"]
    # A toolchain image keeps its compiler (and sources).
    toolchain = report(capsys, "layers", naive, "--purpose", "toolchain")
    assert "build-tools" not in categories(toolchain)
    assert "sources" not in categories(toolchain)
    assert toolchain["reclaim"]["purpose"] == "toolchain"


def test_copied_context_vcs_editor_tests_secrets_and_duplicates(
    images: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    naive, fixed = images["context_naive"], images["context_fixed"]
    doc = report(capsys, "layers", naive)
    found = categories(doc)
    assert found["vcs"] == sizes_under(naive, "/app/.git")
    assert found["editor"] == sizes_under(naive, "/app/.vscode")
    assert found["tests"] == sizes_under(naive, "/app/tests")
    assert doc["reclaim"]["secret_files"] == ["/app/.env"]
    assert found["duplicates"] == sizes_under(naive, "/app/copy/data.bin")
    sums = in_image(naive, "sha256sum /app/data.bin /app/copy/data.bin | cut -d' ' -f1 | uniq")
    assert len(sums.split()) == 1  # the image agrees the two files are the same
    # Dropping what is certain gives exactly the fixed image's own achievable size (which
    # ships its .dockerignore on top).
    fixed_doc = report(capsys, "layers", fixed)
    assert doc["reclaim"]["achievable"]["achievable_bytes"] == (
        fixed_doc["reclaim"]["achievable"]["achievable_bytes"] - len(IGNORE)
    )
    assert "vcs" not in categories(fixed_doc)
    capsys.readouterr()
    assert run(["layers", naive]) == 0
    text = capsys.readouterr().out
    assert "What you could save" in text and "/app/.git" in text
    assert "not-a-real-token" not in text  # a secret's name, never its content


def test_archive_and_engine_sources_agree(
    images: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    naive = images["apt_naive"]
    archive = report(capsys, "layers", f"docker-archive:{save_image(naive)}")["reclaim"]
    daemon = report(capsys, "layers", f"docker-daemon:{naive}")["reclaim"]
    assert archive == daemon


@pytest.mark.skipif(not HOST_CA.exists(), reason="pip in the image needs the host's CA bundle")
def test_pip_naive_recommends_compilers_and_cache(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    naive, fixed = _build("pip_naive", tmp_path), _build("pip_fixed", tmp_path)
    doc = report(capsys, "layers", naive)
    found = categories(doc)
    # pip keeps its HTTP cache only for responses that allow it (a proxy may forbid it).
    assert found.get("pip-cache", 0) == sizes_under(naive, "/root/.cache/pip")
    extra = packages(naive) - packages(fixed)
    assert {p["name"] for p in doc["reclaim"]["recommends_only_packages"]} == extra
    assert {"build-essential", "gcc-12", "python3-dev"} <= extra
    assert found["recommends"] == package_bytes(naive, extra)
    real = inspect_size(fixed)
    low = doc["reclaim"]["achievable"]["achievable_low_bytes"]
    assert abs(low - real) <= 0.10 * real


@pytest.mark.skipif(not HOST_CA.exists(), reason="npm in the image needs the host's CA bundle")
def test_npm_from_debian_leaves_its_cache(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    naive = _build("npm_naive", tmp_path)
    doc = report(capsys, "layers", naive)
    found = categories(doc)
    assert found["npm-cache"] == sizes_under(naive, "/root/.npm")
    assert found["npm-cache"] > 0
    row = next(c for c in doc["reclaim"]["categories"] if c["category"] == "npm-cache")
    assert row["rules"] == ["TD112"] and row["confidence"] == "certain"
    # The installed package itself is the app's: never reclaimable.
    assert all(
        not example.startswith("/app/node_modules")
        for item in doc["reclaim"]["items"]
        for example in item["examples"]
    )


def test_bytecode_of_a_python_the_image_does_not_have(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tag = _build("pycache_mixed", tmp_path)
    doc = report(capsys, "layers", tag)
    found = categories(doc)
    old = sizes_under(tag, "/usr/local/lib/python3.9", extra="-name '*.cpython-39.pyc'")
    assert found["pycache"] == old > 0
    # Debian compiled python3-six for the python3.11 the image runs: that bytecode stays.
    assert sizes_under(tag, "/usr/lib/python3", extra="-name '*.cpython-311.pyc'") > 0
    row = next(c for c in doc["reclaim"]["categories"] if c["category"] == "pycache")
    assert row["confidence"] == "likely"


@pytest.mark.parametrize("name", ["apt_naive", "context_naive"])
def test_save_path_keeps_what_reclaim_reads_and_saves_once(
    name: str,
    images: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Through `docker save` (no layer store), the dpkg database and the duplicate candidates'
    digests come from the one streaming pass: a second save would fail here."""
    from trimdock.image import daemon

    tag = images[name]
    store = report(capsys, "layers", tag)["reclaim"]

    def no_second_save(self: object) -> None:
        raise AssertionError("the image was saved a second time")

    monkeypatch.setenv("TRIMDOCK_ENGINE_READER", "save")
    monkeypatch.setattr(daemon._LazyArchive, "_save", no_second_save)
    saved = report(capsys, "layers", tag)["reclaim"]
    assert saved == store
    if name == "context_naive":
        assert saved["hashed_files"] >= 2  # data.bin and its copy, digested in the pass
