"""The published JSON Schemas (docs/schemas/) against real output of every command.

Each document is produced by a real run (a crafted archive, an image built on the engine, the
example Dockerfiles, a build context made here, the engine's own host state) and validated
against its schema, whose `additionalProperties: false` makes a key added, renamed or dropped
fail here until the schema (and its version, when the change is incompatible) follows.
"""

from __future__ import annotations

import json
import re
import subprocess
import uuid
from collections.abc import Iterator
from datetime import datetime
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, get_args, get_origin, get_type_hints
from urllib.parse import urlparse

import pytest
from jsonschema import Draft202012Validator, FormatChecker

from tests.image.craft import Layout, layer_tar
from tests.support.engine import build_image, docker, save_image
from trimdock.cli.main import _register_commands, app, run

REPO = Path(__file__).resolve().parents[1]
SCHEMAS = REPO / "docs" / "schemas"
EXAMPLES = REPO / "examples"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

# Every JSON document a command writes, and the schema file describing it. A command whose
# --format offers json and that is missing here fails test_every_json_command_has_a_schema.
DOCUMENTS: dict[str, str] = {
    "layers IMAGE": "layers.json",
    "layers IMAGE --format html": "layers-html.json",  # the page's embedded data block
    "layers IMAGE --at N": "layers-at.json",
    "layers IMAGE --deleted": "layers-deleted.json",
    "layers IMAGE --at N --export DIR": "layers-export.json",
    "layers IMAGE --extract PATH --to DEST": "layers-export.json",
    "lint": "lint.json",
    "explain RULE_ID": "explain.json",
    "explain --list": "explain-list.json",
    "context DIR": "context.json",
    "df": "df.json",
    "prune": "prune.json",
    "check IMAGE": "check.json",
    "scan IMAGE": "scan.json",
    "cache": "cache.json",
    "fix FILE": "fix.json",
    "diff A B": "diff.json",
    "db status": "db-status.json",
}

# The schema's own name inside each document: trimdock/<schema file stem>/<version>.
SCHEMA_NAME = re.compile(r"^trimdock/(?P<stem>[a-z-]+)/(?P<version>[1-9][0-9]*)$")

# jsonschema checks "date-time" and "uri" only with optional packages installed; these two
# checks are what the schemas mean by them, so the formats are asserted whatever is installed.
FORMATS = FormatChecker()


@FORMATS.checks("date-time", raises=ValueError)
def _date_time(value: object) -> bool:
    # ISO 8601 with an offset: what every timestamp in the host reports is.
    return not isinstance(value, str) or datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("uri")
def _uri(value: object) -> bool:
    if not isinstance(value, str):
        return True
    parts = urlparse(value)
    return bool(parts.scheme and parts.netloc)


def load_schema(file_name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads((SCHEMAS / file_name).read_text(encoding="utf-8"))
    return schema


def declared_name(schema: dict[str, Any]) -> str:
    """The `schema` member a document of this schema carries (a const)."""
    member = schema.get("properties", {}).get("schema") or schema["$defs"]["schema"]
    name: str = member["const"]
    return name


def validate(document: Any, file_name: str) -> None:
    schema = load_schema(file_name)
    assert document["schema"] == declared_name(schema)
    errors = sorted(
        Draft202012Validator(schema, format_checker=FORMATS).iter_errors(document),
        key=lambda e: list(e.absolute_path),
    )
    assert not errors, "\n".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10]
    )


def json_of(capsys: pytest.CaptureFixture[str], *args: str, codes: tuple[int, ...] = (0,)) -> Any:
    capsys.readouterr()
    code = run([*args, "--format", "json"])
    captured = capsys.readouterr()
    assert code in codes, captured.err
    return json.loads(captured.out)


# -- the schemas themselves ----------------------------------------------------------------------


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.json")), ids=lambda p: p.name)
def test_each_schema_is_a_valid_2020_12_schema(path: Path) -> None:
    schema = load_schema(path.name)
    assert schema["$schema"] == DRAFT
    Draft202012Validator.check_schema(schema)
    match = SCHEMA_NAME.match(declared_name(schema))
    assert match and match["stem"] == path.stem


def test_every_json_command_has_a_schema() -> None:
    _register_commands([])
    with_json = set()
    for info in app.registered_commands:
        assert info.callback is not None
        name = info.name or info.callback.__name__.replace("_", "-")
        for hint in get_type_hints(info.callback, include_extras=True).values():
            choices = get_args(hint)[0] if get_origin(hint) is Annotated else hint
            is_enum = isinstance(choices, type) and issubclass(choices, Enum)
            if is_enum and "json" in {member.value for member in choices}:
                with_json.add(name)
    # Subcommands of groups (`db status`) too, named by both words.
    for group in app.registered_groups:
        assert group.typer_instance is not None
        for info in group.typer_instance.registered_commands:
            assert info.callback is not None
            hints = get_type_hints(info.callback, include_extras=True).values()
            for hint in hints:
                choices = get_args(hint)[0] if get_origin(hint) is Annotated else hint
                is_enum = isinstance(choices, type) and issubclass(choices, Enum)
                if is_enum and "json" in {member.value for member in choices}:
                    with_json.add(f"{group.name} {info.name}")
    assert with_json == {_command_of(key) for key in DOCUMENTS}
    published = {path.name for path in SCHEMAS.glob("*.json")}
    assert published == set(DOCUMENTS.values())


def _command_of(key: str) -> str:
    """The command words of a DOCUMENTS key: up to the first argument or option."""
    words = []
    for word in key.split():
        if word.startswith("-") or word.isupper():
            break
        words.append(word)
    return " ".join(words)


def test_the_readme_lists_every_schema_and_its_versions() -> None:
    readme = (SCHEMAS / "README.md").read_text(encoding="utf-8")
    for file_name in sorted(set(DOCUMENTS.values())):
        assert f"({file_name})" in readme, file_name
        assert f"`{declared_name(load_schema(file_name))}`" in readme, file_name


def closed_objects(node: Any, where: str = "#") -> Iterator[tuple[str, bool]]:
    """(location, closed) for every object schema with listed properties, at any depth."""
    if isinstance(node, dict):
        if "properties" in node:
            closed = node.get("additionalProperties") is False
            closed |= node.get("unevaluatedProperties") is False
            yield where, closed
        for key, value in node.items():
            if key not in ("if", "not"):  # conditions, not shapes
                yield from closed_objects(value, f"{where}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from closed_objects(value, f"{where}/{index}")


# Open on purpose: a finding is closed where it is used (lint adds its fingerprint).
OPEN_OBJECTS = {"#/$defs/finding"}


@pytest.mark.parametrize("file_name", sorted(set(DOCUMENTS.values())))
def test_every_object_is_closed_so_a_drift_fails(file_name: str) -> None:
    schema = load_schema(file_name)
    assert [where for where, closed in closed_objects(schema) if not closed] == sorted(
        OPEN_OBJECTS & {where for where, _ in closed_objects(schema)}
    )


def test_the_lint_golden_matches_the_schema() -> None:
    # The golden has what no command writes yet: image locations and findings with none.
    golden = json.loads((REPO / "tests" / "report" / "golden" / "json.json").read_text())
    findings = golden["findings"]
    assert {"image"} <= {key for f in findings for key in f.get("location", {})}
    assert any("location" not in f for f in findings)
    validate(golden, "lint.json")


def test_findings_have_one_shape_in_lint_and_context() -> None:
    lint, context = load_schema("lint.json"), load_schema("context.json")
    for name in ("finding", "file_location", "image_location", "position"):
        assert lint["$defs"][name] == context["$defs"][name], name


# -- layers ----------------------------------------------------------------------------------------


def crafted_image(root: Path) -> str:
    """An OCI layout whose second layer deletes a file, hides a directory behind an opaque
    whiteout and rewrites a file: every kind of entry and of waste the documents describe."""
    layout = Layout(root)
    first = layer_tar(
        [
            ("etc", None, "dir"),
            ("etc/conf", "a=1", "file"),
            ("opt", None, "dir"),
            ("opt/big", b"x" * 5000, "file"),
            ("bin", None, "dir"),
            ("bin/tool", b"t" * 100, "file"),
            ("bin/alias", "tool", "symlink"),
            ("bin/hard", "bin/tool", "hardlink"),
            ("cache", None, "dir"),
            ("cache/a", b"c" * 300, "file"),
        ]
    )
    second = layer_tar(
        [
            ("opt", None, "dir"),
            ("opt/.wh.big", "", "file"),
            ("etc", None, "dir"),
            ("etc/conf", "a=22", "file"),
            ("cache", None, "dir"),
            ("cache/.wh..wh..opq", "", "file"),
            ("cache/b", b"d" * 20, "file"),
        ]
    )
    layout.index([layout.image([first, second])])
    return f"oci:{root}"


ENGINE_DOCKERFILE = """\
FROM busybox:latest
LABEL {label}
RUN mkdir /h && dd if=/dev/zero of=/h/a bs=1000 count=50 && ln /h/a /h/b && ln -s a /h/s \
 && mkfifo /h/p && dd if=/dev/zero of=/h/c bs=1000 count=20
RUN rm -rf /h/a /h/s && chmod 600 /h/c && echo x > /h/b
"""

# The label of the objects this module creates on the engine (scope of every prune run here).
LABEL = "trimdock.test.schemas=1"


@pytest.fixture(scope="module")
def engine_image(engine: None, tmp_path_factory: pytest.TempPathFactory) -> str:
    context = tmp_path_factory.mktemp("schemas-image")
    (context / "Dockerfile").write_text(ENGINE_DOCKERFILE.format(label=LABEL))
    return build_image("schemas-layers", context)


def layers_documents(image: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Thresholds the image fails: the gate and its checks are in the report (exit 1).
    report = json_of(
        capsys, "layers", image, "--max-waste", "1%", "--min-efficiency", "0.99", codes=(1,)
    )
    validate(report, "layers.json")
    assert report["wasted_paths"] and report["gate"]["checks"]
    validate(json_of(capsys, "layers", image, "--top", "0"), "layers.json")
    deleted = json_of(capsys, "layers", image, "--deleted")
    validate(deleted, "layers-deleted.json")
    assert deleted["files"]
    for at in ("0", "-1"):
        validate(json_of(capsys, "layers", image, "--at", at), "layers-at.json")
    exported = json_of(capsys, "layers", image, "--at", "0", "--export", str(tmp_path / "export"))
    validate(exported, "layers-export.json")
    hidden = deleted["files"][0]
    extracted = json_of(
        capsys,
        "layers", image, "--extract", hidden["path"], "--to", str(tmp_path / "extracted"),
    )  # fmt: skip
    validate(extracted, "layers-export.json")
    page = tmp_path / "report.html"
    assert run(["layers", image, "--format", "html", "--output", str(page)]) == 0
    block = re.search(
        r'<script type="application/json" id="report-data">(.*?)</script>', page.read_text(), re.S
    )
    assert block is not None
    data = json.loads(block.group(1))
    validate(data, "layers-html.json")
    validate(data["report"], "layers.json")
    assert data["report"] == json_of(capsys, "layers", image)


def test_layers_documents_of_a_crafted_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = crafted_image(tmp_path / "layout")
    layers_documents(image, tmp_path, capsys)
    kinds = {item["kind"] for item in json_of(capsys, "layers", image)["wasted_paths"]}
    assert kinds == {"deleted", "opaque", "overwritten"}
    at = json_of(capsys, "layers", image, "--at", "0")
    assert {e["type"] for e in at["entries"]} == {"dir", "file", "symlink", "hardlink"}


@pytest.mark.engine
@pytest.mark.parametrize("transport", ["docker-archive", "docker-daemon"])
def test_layers_documents_of_an_engine_image(
    engine_image: str, transport: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if transport == "docker-archive":
        image = f"docker-archive:{save_image(engine_image)}"
    else:
        image = f"docker-daemon:{engine_image}"
    layers_documents(image, tmp_path, capsys)


def test_diff_document_of_two_crafted_archives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = crafted_image(tmp_path / "a")
    b = crafted_image(tmp_path / "b")
    same = json_of(capsys, "diff", a, b, "--max-growth", "0")
    validate(same, "diff.json")
    assert same["delta_bytes"] == 0 and same["gate"]["passed"]
    assert {layer["status"] for layer in same["layers"]} == {"shared"}


# -- lint and explain ------------------------------------------------------------------------------


def test_lint_document(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # The examples, plus one Dockerfile whose findings carry a peer rule, a fix, evidence and
    # ShellCheck codes.
    extra = tmp_path / "Dockerfile"
    extra.write_text(
        "FROM debian:bookworm-slim\n"
        "RUN apt-get update && apt-get install -y curl\n"
        "RUN echo $1 && cd /tmp\nCMD python app.py\n"
    )
    examples = sorted(str(p) for p in EXAMPLES.glob("*/*/Dockerfile"))
    assert len(examples) >= 6
    document = json_of(
        capsys, "lint", "--failure-threshold", "none", *examples, str(extra), codes=(0,)
    )
    validate(document, "lint.json")
    findings = document["findings"]
    assert any("fix" in f for f in findings) and any("peer_rule" in f for f in findings)
    assert any("evidence" in f for f in findings)
    assert any(f["rule"].startswith("SC") for f in findings)


def test_lint_fix_document_carries_the_fixes_left(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(
        "FROM debian:bookworm-slim\nRUN apt-get update\nRUN apt-get install -y curl\n"
    )
    document = json_of(
        capsys, "lint", "--fix", "--failure-threshold", "none", str(dockerfile), codes=(0,)
    )
    validate(document, "lint.json")
    fixes = [f["autofix"] for f in document["findings"] if "autofix" in f]
    assert fixes and all(f["applicability"] == "unsafe" for f in fixes)


@pytest.mark.parametrize("rule_id", ["TD101", "dl3008", "SC2086", "DL3010"])
def test_explain_document(rule_id: str, capsys: pytest.CaptureFixture[str]) -> None:
    validate(json_of(capsys, "explain", rule_id), "explain.json")


@pytest.mark.parametrize("args", [["--list"], ["--category", "size"]])
def test_explain_list_document(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    document = json_of(capsys, "explain", *args)
    validate(document, "explain-list.json")
    assert document["rules"]


# -- context ---------------------------------------------------------------------------------------


def build_context(root: Path) -> Path:
    (root / "src").mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "node_modules" / "x").mkdir(parents=True)
    (root / "Dockerfile").write_text(
        "FROM busybox:latest AS build\n"
        "COPY src/ /src/\n"
        "RUN --mount=type=bind,source=docs,target=/d true\n"
        "FROM busybox:latest\n"
        "COPY --from=build /src /src\n"
        "COPY . /app\n"
        "COPY missing.txt /m\n"
    )
    (root / "src" / "a.py").write_text("print(1)\n")
    (root / "docs" / "big.bin").write_bytes(b"d" * 5000)
    (root / "node_modules" / "x" / "i.js").write_text("x\n")
    (root / "unused.log").write_text("log\n")
    return root


@pytest.mark.parametrize(
    "args", [[], ["--suggest"], ["--write-dockerignore"]], ids=["plain", "suggest", "write"]
)
def test_context_document(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = build_context(tmp_path / "ctx")
    document = json_of(capsys, "context", str(root), *args, codes=(0, 1))
    validate(document, "context.json")
    assert document["instructions"] and document["findings"]
    assert (document["suggestion"] is None) == (not args)


@pytest.mark.engine
def test_context_verify_document(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--verify on the engine: differences (the suggested file leaves out a log that COPY . took,
    and COPY . copies the new ignore file itself)."""
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.py").write_text("print(1)\n")
    (tmp_path / "build.log").write_text("junk by name: the deny-list of a whole-context COPY\n")
    (tmp_path / ".dockerignore").write_text("docs\n")
    (tmp_path / "Dockerfile").write_text("FROM busybox:latest\nCOPY . /app/\n")
    document = json_of(capsys, "context", str(tmp_path), "--suggest", "--verify", codes=(1,))
    validate(document, "context.json")
    assert document["suggestion"]["verification"]["differences"]


# -- df and prune on the real engine ---------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled(engine_image: str) -> Iterator[None]:
    """A stopped container of the module's image, with a log and a volume: rows for every
    table of df and prune. Only these objects carry LABEL; they are removed afterwards."""
    run_id = uuid.uuid4().hex[:10]
    volume = f"trimdock-test-schemas-{run_id}"
    docker("volume", "create", "--label", LABEL, volume)
    container = docker(
        "run", "-d", "--label", LABEL, "--name", volume, "-v", f"{volume}:/data",
        engine_image, "sh", "-c", "echo a log line; echo x > /data/x",
    ).strip()  # fmt: skip
    docker("wait", container)
    try:
        yield
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)
        subprocess.run(["docker", "volume", "rm", volume], capture_output=True, check=False)


@pytest.mark.engine
@pytest.mark.usefixtures("labelled")
@pytest.mark.parametrize("args", [[], ["--repo", "trimdock-test/*", "--older-than", "0s"]])
def test_df_document(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    document = json_of(capsys, "df", *args)
    validate(document, "df.json")
    assert document["repositories"] and document["containers"] and document["volumes"]


@pytest.mark.engine
@pytest.mark.usefixtures("labelled")
@pytest.mark.parametrize("keep", ["0", "1"])
def test_prune_dry_run_document(keep: str, capsys: pytest.CaptureFixture[str]) -> None:
    # A dry run never removes anything; scoped to this module's objects all the same.
    document = json_of(
        capsys,
        "prune", "--label", LABEL, "--unused-older-than", "0s", "--keep-newest", keep,
        "--containers-older-than", "0s", "--volumes",
    )  # fmt: skip
    validate(document, "prune.json")
    assert document["mode"] == "dry-run"
    for kind in ("images", "containers", "volumes"):
        assert document["remove"][kind] + document["keep"][kind], kind


@pytest.mark.engine
def test_prune_apply_document(capsys: pytest.CaptureFixture[str]) -> None:
    # A label nothing carries: the plan is empty (checked by a dry run first), so --apply
    # removes nothing, and still writes the apply document with its result.
    scope = ["prune", "--label", f"trimdock.test.schemas.none={uuid.uuid4().hex}"]
    planned = json_of(capsys, *scope)
    validate(planned, "prune.json")
    assert not any(planned["remove"].values())
    document = json_of(capsys, *scope, "--apply")
    validate(document, "prune.json")
    assert document["mode"] == "apply" and document["result"]["outcomes"] == []


@pytest.mark.engine
def test_prune_apply_document_with_a_removal(
    engine: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # The outcomes of a real removal: a container this test creates, under a label of its own
    # (no dangling images: the scope then holds that container only, checked before --apply).
    label = f"trimdock.test.schemas.apply={uuid.uuid4().hex}"
    container = docker("create", "--label", label, "busybox:latest", "true").strip()
    try:
        scope = ["prune", "--label", label, "--containers-older-than", "0s", "--no-dangling"]
        planned = json_of(capsys, *scope)
        removed = planned["remove"]
        assert [c["id"] for c in removed.pop("containers")] == [container]
        assert not any(removed.values())
        document = json_of(capsys, *scope, "--apply")
        validate(document, "prune.json")
        assert [(o["kind"], o["id"], o["done"]) for o in document["result"]["outcomes"]] == [
            ("container", container, True)
        ]
    finally:
        subprocess.run(["docker", "rm", "-f", container], capture_output=True, check=False)


def test_check_document(capsys: pytest.CaptureFixture[str]) -> None:
    # The image that fails several checks: evidence of every kind (exit codes, zombies, files).
    tag = build_image("runtime-logfile", REPO / "tests" / "runtime" / "images" / "logfile")
    args = ("check", tag, "--window", "2s", "--grace", "1s")
    validate(json_of(capsys, *args, codes=(1,)), "check.json")


# -- scan ------------------------------------------------------------------------------------------


def test_scan_document_of_a_crafted_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Engine images with packages are validated in tests/security (same `validate`).
    assert run(["scan", crafted_image(tmp_path / "img"), "-F", "json"]) == 0
    validate(json.loads(capsys.readouterr().out), "scan.json")


# -- cache -----------------------------------------------------------------------------------------


def test_cache_documents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TRIMDOCK_CACHE_DIR", str(tmp_path))
    from trimdock.cache.store import ResultCache

    ResultCache.default().put("layer-entries", "sha256:" + "a" * 64, b"x")
    info = json_of(capsys, "cache", "info")
    validate(info, "cache.json")
    assert (info["files"], info["removed_files"]) == (1, None)
    cleared = json_of(capsys, "cache", "clear")
    validate(cleared, "cache.json")
    assert (cleared["files"], cleared["removed_files"]) == (0, 1)


# -- fix -------------------------------------------------------------------------------------------

FIX_DIRTY = (
    "FROM busybox:latest\nRUN mkdir -p /srv/app\n# the marker\nRUN touch /srv/app/ok\nCMD ls /srv\n"
)


@pytest.mark.parametrize("args", [["--no-verify"], ["--diff"], ["--diff", "--unsafe-fixes"]])
def test_fix_document_without_building(
    args: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(FIX_DIRTY)
    document = json_of(capsys, "fix", "--format", "json", *args, str(dockerfile))
    validate(document, "fix.json")
    assert document["fixes"] and all(f["status"] == "applied" for f in document["fixes"])
    assert document["written"] == ("--no-verify" in args)
    assert ("diff" in document) == ("--diff" in args)


def test_fix_document_of_a_verified_rewrite(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(FIX_DIRTY)
    document = json_of(capsys, "fix", "--format", "json", "--unsafe-fixes", str(dockerfile))
    validate(document, "fix.json")
    verification = document["verification"]
    assert verification["accepted"] and document["written"]
    assert verification["after"]["layers"] == verification["before"]["layers"] - 1
    assert document["first_verification"] is None
