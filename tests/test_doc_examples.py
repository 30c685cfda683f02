"""Examples in the README and docs/ are real runs: every `$ trimdock ...` line of a fenced block
is run again and must print what the document shows after it (up to the next `$ ` line).

- `lint`, `context`, `explain` read files of this repository; `layers` reads the shipped example
  images (`trimdock-example/{archive,build-context}:v1..v3`, built here as scripts/demo.sh builds
  them); `df` and `prune` (dry runs only) look at the engine through `--repo 'trimdock-docs/*'`:
  three versions of an app built here with content no other image has (so no other tag of the
  same image id shows up), a created container of the newest and the volume it mounts.
- What legitimately differs between runs and machines is normalised on both sides, never edited
  by hand: hex ids and digests, ages, and for `df`/`prune` the host-wide totals (other images
  live on the engine) and the column padding that moves with them.
- A command may start with `COLUMNS=N` to show the layout at that width (default: wide enough
  that no line wraps).

Regenerate every example from real runs (after changing an output):
    .venv/bin/python -m tests.test_doc_examples --write
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
# Every `$ trimdock ...` example is run (a command added later is covered as soon as a document
# shows it); these must have one.
DOCUMENTED = ("lint", "context", "explain", "layers", "df", "prune", "fix")
# Examples re-run by a test of their own that builds the fixture image they name
# (tests/security/test_readme_example.py).
OWN_TEST = ("scan",)
# fix --diff: the diff on stdout, what it would fix on stderr.
TELLS_ON_STDERR = ("fix",)
HOST = ("df", "prune")
DEFAULT_COLUMNS = "200"
DOCS_REPOSITORY = "trimdock-docs/app"
DOCS_CONTAINER = "trimdock-docs-app"
DOCS_VOLUME = "trimdock-docs-data"
# v1..v3 share the busybox base and an 800 kB layer; each adds its own 100/200/300 kB.
DOCS_DOCKERFILE = (
    "FROM busybox:1.35\n"
    "LABEL org.trimdock.docs=app\n"
    "RUN head -c 800000 /dev/zero > /shared.bin\n"
    "RUN head -c {size} /dev/zero > /app-{version}.bin\n"
)
EXAMPLE_IMAGES = tuple(
    f"trimdock-example/{example}:{variant}"
    for example in ("build-context", "archive")
    for variant in ("v1", "v2", "v3")
)

_HEX = re.compile(r"(?<![0-9a-f])[0-9a-f]{12,64}(?![0-9a-f])")
_AGE = re.compile(r"(?<![\w.])\d+[smhdw](?![\w.])")
# df's summary rows and prune's scope count cover the whole host, not the examples.
_HOST_WIDE = re.compile(r"^(Images|Containers \(\+logs\)|Volumes|Build cache|Total)\s")
_FIGURE = re.compile(r"\d+(\.\d+)?( ?[kMGT]?i?B)?%?")
_OUTSIDE = re.compile(r"^\d+ objects? outside the scope")


@dataclass(frozen=True)
class Example:
    document: Path
    command: str  # as written after `$ `
    expected: str  # the lines after it, up to the next `$ ` or the end of the block

    @property
    def words(self) -> list[str]:
        return shlex.split(self.command)

    @property
    def subcommand(self) -> str:
        words = [w for w in self.words if not re.fullmatch(r"[A-Z_]+=.*", w)]
        return words[1] if len(words) > 1 and words[0] == "trimdock" else ""


@dataclass(frozen=True)
class Block:
    start: int  # index of the first line inside the fence
    end: int  # index of the closing fence
    lines: list[str]


def blocks(text: str) -> list[Block]:
    found: list[Block] = []
    lines = text.splitlines()
    start: int | None = None
    for index, line in enumerate(lines):
        if line.startswith("```"):
            if start is None:
                start = index + 1
            else:
                found.append(Block(start, index, lines[start:index]))
                start = None
    return found


def runs(block: Block) -> list[tuple[str, list[str]]]:
    """(command, output lines) of every `$ ` line of the block, in order."""
    out: list[tuple[str, list[str]]] = []
    for line in block.lines:
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def examples() -> list[Example]:
    found = []
    for path in DOCUMENTS:
        for block in blocks(path.read_text()):
            for command, output in runs(block):
                example = Example(path, command, "\n".join(output).rstrip("\n"))
                if example.subcommand and example.subcommand not in OWN_TEST:
                    found.append(example)
    return found


def run_example(example: Example) -> subprocess.CompletedProcess[str]:
    words = example.words
    env = {**os.environ, "COLUMNS": DEFAULT_COLUMNS, "NO_COLOR": "1", "TERM": "dumb"}
    while words and re.fullmatch(r"[A-Z_]+=.*", words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    assert words[0] == "trimdock"
    if example.subcommand == "prune":
        assert "--apply" not in words and "--yes" not in words, "examples never remove anything"
    return subprocess.run(
        [sys.executable, "-m", "trimdock", *words[1:]],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def normalise(example: Example, text: str) -> list[str]:
    """The output with what legitimately varies replaced by placeholders."""
    out = []
    for line in text.rstrip("\n").splitlines():
        line = _HEX.sub("<id>", line.rstrip())
        if example.subcommand in HOST:
            line = _AGE.sub("<age>", line)
            if _HOST_WIDE.match(line) or _OUTSIDE.match(line):
                line = _FIGURE.sub("<n>", line)
            line = " ".join(line.split())  # padding follows the widest (host-wide) figure
        out.append(line)
    return out


def prepare(needed: set[str]) -> None:
    """The example inputs the documents use: generated files, and the example images."""
    if not (REPO / "examples" / "build-context" / "v3" / "docs").is_dir():
        subprocess.run([sys.executable, str(REPO / "examples" / "prepare.py")], check=True)
    if needed & {"layers", "df", "prune"}:
        from tests.support.engine import ensure_engine

        ensure_engine()
        for tag in EXAMPLE_IMAGES:
            _, example, variant = re.split(r"[/:]", tag)
            # As scripts/demo.sh builds them (the legacy builder: the one this engine has).
            subprocess.run(
                ["docker", "build", "-q", "-t", tag, f"examples/{example}/{variant}"],
                cwd=REPO,
                env={**os.environ, "DOCKER_BUILDKIT": "0"},
                capture_output=True,
                check=True,
            )
        _docs_family()


def _docs_family() -> None:
    """The `trimdock-docs/*` images, container and volume of the df/prune examples (idempotent:
    the legacy builder's cache returns the same images, existing objects are kept)."""
    for number in (1, 2, 3):
        dockerfile = DOCS_DOCKERFILE.format(size=number * 100_000, version=f"v{number}")
        subprocess.run(
            ["docker", "build", "-q", "-t", f"{DOCS_REPOSITORY}:v{number}", "-"],
            input=dockerfile.encode(),
            env={**os.environ, "DOCKER_BUILDKIT": "0"},
            capture_output=True,
            check=True,
        )
    known = subprocess.run(
        ["docker", "container", "inspect", DOCS_CONTAINER], capture_output=True, check=False
    )
    if known.returncode != 0:
        subprocess.run(["docker", "volume", "create", DOCS_VOLUME], capture_output=True, check=True)
        subprocess.run(
            [
                *("docker", "create", "--name", DOCS_CONTAINER, "-v", f"{DOCS_VOLUME}:/data"),
                f"{DOCS_REPOSITORY}:v3",
                "true",
            ],
            capture_output=True,
            check=True,
        )


@pytest.fixture(scope="module")
def prepared() -> None:
    prepare({example.subcommand for example in examples()})


def test_the_documents_have_examples_of_every_command() -> None:
    found = examples()
    assert {e.document.name for e in found} >= {"README.md", "lint.md", "layers.md", "host.md"}
    assert {e.subcommand for e in found} >= set(DOCUMENTED)


def test_normalisation_keeps_what_matters() -> None:
    df = Example(REPO, "trimdock df", "")
    assert normalise(df, "  v1   6f89579e7404  62.4 MB  60.0 MB  2.4 MB  30s") == [
        "v1 <id> 62.4 MB 60.0 MB 2.4 MB <age>"
    ]
    assert normalise(df, "Images  32  2.7 GB  2.7 GB (100%)  69.0 MB") == [
        "Images <n> <n> <n> (<n>) <n>"
    ]
    lint = Example(REPO, "trimdock lint x", "")
    assert normalise(lint, "  x:4:1  WARNING  TD101  30s") == ["  x:4:1  WARNING  TD101  30s"]


@pytest.mark.parametrize("example", examples(), ids=lambda e: f"{e.document.name}:{e.command}")
def test_example_prints_what_the_document_shows(prepared: None, example: Example) -> None:
    result = run_example(example)
    expected = normalise(example, example.expected)
    if example.subcommand in HOST and (
        result.returncode != 0 or result.stderr or (normalise(example, result.stdout) != expected)
    ):
        # Other test runs share the engine: an image removed or tagged between the listing and
        # the inspection of one snapshot is a changed state, not a drift. Once more.
        result = run_example(example)
    assert result.returncode in (0, 1), result.stderr
    if example.subcommand not in TELLS_ON_STDERR:
        assert result.stderr == ""
    assert normalise(example, result.stdout) == expected, (
        f"{example.document.name}: `{example.command}` prints something else now: "
        "regenerate with `python -m tests.test_doc_examples --write`"
    )


def rewrite(path: Path) -> bool:
    """Replace the output of every runnable example of `path` with a fresh run's."""
    text = path.read_text()
    lines = text.splitlines()
    for block in reversed(blocks(text)):
        rebuilt: list[str] = []
        block_runs = runs(block)
        lead = block.lines[: len(block.lines) - sum(1 + len(o) for _, o in block_runs)]
        rebuilt.extend(lead)
        for index, (command, output) in enumerate(block_runs):
            rebuilt.append(f"$ {command}")
            example = Example(path, command, "\n".join(output))
            if not example.subcommand:
                rebuilt.extend(output)
                continue
            result = run_example(example)
            if result.returncode not in (0, 1) or (
                result.stderr and example.subcommand not in TELLS_ON_STDERR
            ):
                raise SystemExit(f"{path.name}: `{command}` failed: {result.stderr.strip()}")
            if normalise(example, result.stdout) == normalise(example, example.expected):
                # Only ages, ids or host-wide figures moved: keep the text (no churn in diffs).
                rebuilt.extend(example.expected.rstrip("\n").splitlines())
            else:
                rebuilt.extend(line.rstrip() for line in result.stdout.rstrip("\n").splitlines())
            if index < len(block_runs) - 1:
                rebuilt.append("")
        lines[block.start : block.end] = rebuilt
    new = "\n".join(lines) + "\n"
    if new == text:
        return False
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(new)
    temporary.replace(path)
    return True


def main(argv: list[str]) -> int:
    if argv != ["--write"]:
        print("usage: python -m tests.test_doc_examples --write", file=sys.stderr)
        return 2
    prepare({example.subcommand for example in examples()})
    for path in DOCUMENTS:
        if rewrite(path):
            print(f"rewrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))


def toml_block(document: str, heading: str) -> str:
    """The first ```toml block after `heading` in docs/`document`."""
    text = (REPO / "docs" / document).read_text()
    match = re.search(r"```toml\n(.*?)```", text[text.index(heading) :], re.S)
    assert match, f"{document}: no toml block under {heading!r}"
    return match.group(1)


def trimdock(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": DEFAULT_COLUMNS, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "trimdock", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )


def test_host_prune_config_works_as_written(prepared: None, tmp_path: Path) -> None:
    config = toml_block("host.md", "## Configuration")
    (tmp_path / ".trimdock.toml").write_text(config)
    policies = re.findall(r"^\[prune\.policies\.([\w-]+)\]", config, re.M)
    assert policies == ["nightly", "deep"]
    for policy in policies:
        for command in ("df", "prune"):
            scope = ("--repo", "trimdock-docs/*")
            result = trimdock(command, "--policy", policy, *scope, cwd=tmp_path)
            assert result.returncode == 0, result.stderr
            assert f"POLICY {policy}" in result.stdout or f"policy {policy}:" in result.stdout
            # A protect pattern of a policy shared between hosts may match nothing here: a
            # warning, never an error (documented beside the example).
            for line in result.stderr.splitlines():
                assert line.startswith("trimdock: warning: ") and "protect pattern" in line


@pytest.mark.parametrize(
    ("base", "allowed"),
    [
        ("debian:12-slim", True),
        ("debian:12", True),
        ("docker.io/library/debian:12.5", True),
        ("library/debian:12-slim", True),
        ("registry.example.com/team/app:1", True),  # the allowed registry
        ("debian:11", False),
        ("debian:bookworm", False),
        ("alpine:3.19", False),
        ("ghcr.io/library/debian:12", False),
    ],
)
def test_lint_allowed_images_example_works(tmp_path: Path, base: str, allowed: bool) -> None:
    (tmp_path / ".trimdock.toml").write_text(toml_block("lint.md", "## Configuration"))
    (tmp_path / "Dockerfile").write_text(f"FROM {base}\nUSER nobody\n")
    result = trimdock(
        "lint", "Dockerfile", "--no-shellcheck", "--format", "json", "--failure-threshold", "none",
        cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    rules = {finding["rule"] for finding in json.loads(result.stdout)["findings"]}
    assert ("TD305" not in rules) is allowed
