"""`context --suggest/--write-dockerignore --verify` on the real engine (legacy builder).

The engine parses the Dockerfile and builds it twice; these tests check that a suggestion for
the tab, continuation and flag forms of COPY/ADD builds the same image, that a difference is
listed and blocks the write, and that the images built for the check are removed again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.context.support import write_tree
from tests.support.engine import docker
from trimdock.cli.main import run
from trimdock.context.verify import BuildPlan, verify

pytestmark = pytest.mark.engine

FILES = {
    "app/main.py": b"print(1)\n",
    "app/util.py": b"x = 2\n",
    "data/seed.txt": b"seed\n",
    "docs/big.bin": b"d" * 5000,
    "notes.txt": b"unused\n",
}

# Instruction forms a second, space-splitting reader once missed; each must stay in the image.
FORMS = {
    "tab": "FROM busybox:latest\nCOPY\tapp/main.py\t/x/\nADD\tapp/util.py\t/y/\n",
    "continuation": "FROM busybox:latest\nCOPY \\\n  app/main.py \\\n  app/util.py /x/\nADD \\\n"
    "  data/seed.txt /y/\n",
    "flags": 'FROM busybox:latest\nCOPY --chown=1:1\tapp/ /app/\nCOPY ["data/seed.txt", "/d/"]\n',
    "multi-stage": "FROM busybox:latest AS build\nCOPY\tapp/main.py /src/\n"
    "FROM busybox:latest\nCOPY --from=build /src /src\nCOPY data /data\n",
}


def _verify_tags() -> set[str]:
    out = docker("image", "ls", "--format", "{{.Repository}}:{{.Tag}}", "trimdock-verify/*")
    return {line for line in out.splitlines() if line}


def _context(root: Path, dockerfile: str, ignore: str | None = None) -> Path:
    write_tree(root, FILES)
    (root / "Dockerfile").write_text(dockerfile)
    if ignore is not None:
        (root / ".dockerignore").write_text(ignore)
    return root


def _json(capsys: pytest.CaptureFixture[str], args: list[str]) -> tuple[int, dict[str, object]]:
    code = run(["context", *args, "-F", "json", "--failure-threshold", "none"])
    return code, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("form", sorted(FORMS))
def test_suggestion_for_each_form_builds_the_same_image(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str], form: str
) -> None:
    root = _context(tmp_path, FORMS[form])
    before = _verify_tags()
    code, data = _json(capsys, [str(root), "--write-dockerignore", "--verify"])
    suggestion = data["suggestion"]
    assert isinstance(suggestion, dict)
    assert suggestion["verification"] == {
        "builder": "legacy",
        "identical": True,
        "failed": None,
        "differences": [],
    }
    assert code == 0
    written = (root / ".dockerignore").read_text()
    assert written == suggestion["text"]
    after, sent = suggestion["after"], suggestion["before"]
    assert isinstance(after, dict) and isinstance(sent, dict) and after["bytes"] < sent["bytes"]
    assert _verify_tags() == before  # the check's images are gone


def test_text_claims_a_check_only_after_the_builds(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _context(tmp_path, FORMS["tab"])
    assert run(["context", str(root), "--suggest", "--failure-threshold", "none"]) == 0
    predicted = capsys.readouterr().out
    assert "predicted, not built" in predicted and "verified (" not in predicted
    assert run(["context", str(root), "--suggest", "--verify", "--failure-threshold", "none"]) == 0
    built = capsys.readouterr().out
    assert "verified (legacy build): the images built with the current and the suggested" in built


def test_a_difference_is_listed_and_nothing_is_written(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # COPY . /ctx/ copies the ignore file too: writing one changes the image, so --verify
    # must refuse what the prediction alone accepts.
    old = "docs\n"
    root = _context(tmp_path, "FROM busybox:latest\nCOPY . /ctx/\n", ignore=old)
    code, data = _json(capsys, [str(root), "--write-dockerignore", "--verify"])
    suggestion = data["suggestion"]
    assert isinstance(suggestion, dict)
    verification = suggestion["verification"]
    assert code == 1 and suggestion["written_to"] is None
    assert (root / ".dockerignore").read_text() == old
    assert verification["identical"] is False and verification["failed"] is None
    [difference] = verification["differences"]
    assert difference["path"] == "/ctx/.dockerignore"
    assert difference["before"]["size"] == len(old)
    assert difference["after"]["size"] == len(suggestion["text"].encode())
    assert run(["context", str(root), "--suggest", "--verify", "--failure-threshold", "none"]) == 1
    text = capsys.readouterr().out
    assert "not verified (legacy build): 1 path differ" in text
    assert "/ctx/.dockerignore: file" in text


def test_verify_lists_what_a_wrong_ignore_file_drops(engine: None, tmp_path: Path) -> None:
    root = _context(tmp_path, "FROM busybox:latest\nCOPY app /app\nCOPY data /data\n")
    plan = BuildPlan(root, root / "Dockerfile", root / ".dockerignore", {})
    result = verify(plan, None, "app/util.py\ndata/*.txt\n")
    # The engine copied app/ without util.py and data/ empty.
    assert result.failed is None
    assert [(d.path, d.after) for d in result.differences] == [
        ("/app/util.py", None),
        ("/data/seed.txt", None),
    ]
    assert all(d.before is not None and d.before.kind == "file" for d in result.differences)


def test_a_build_that_breaks_is_reported_not_verified(engine: None, tmp_path: Path) -> None:
    root = _context(tmp_path, "FROM busybox:latest\nCOPY app/main.py /x/\n")
    plan = BuildPlan(root, root / "Dockerfile", root / ".dockerignore", {})
    result = verify(plan, None, "app\n")
    assert not result.identical and result.failed is not None
    *log, message = result.failed.splitlines()
    assert "main.py" in message
    assert "Step 2/2 : COPY app/main.py /x/" in log  # the build's last output lines come first


def test_heredoc_cannot_be_built_by_the_legacy_builder(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The engine here has only the legacy builder, which does not know heredocs: --verify says
    # it cannot check rather than claiming anything.
    dockerfile = "FROM busybox:latest\nCOPY <<EOF /etc/conf\nCOPY notes.txt /n\nEOF\nCOPY app /a\n"
    root = _context(tmp_path, dockerfile)
    assert run(["context", str(root), "--write-dockerignore", "--verify"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("trimdock: ") and "cannot verify" in err and len(err.splitlines()) == 1
    assert not (root / ".dockerignore").exists()


def test_dockerfile_outside_the_context_and_build_args(
    engine: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "ctx"
    write_tree(root, FILES)
    dockerfile = tmp_path / "build.Dockerfile"  # not in the context: sent under another name
    dockerfile.write_text("FROM busybox:latest\nARG SRC\nCOPY $SRC /x/\n")
    args = [str(root), "-f", str(dockerfile), "--build-arg", "SRC=app/main.py"]
    code, data = _json(capsys, [*args, "--write-dockerignore", "--verify"])
    suggestion = data["suggestion"]
    assert isinstance(suggestion, dict) and code == 0
    assert suggestion["verification"]["identical"] is True
    assert (root / ".dockerignore").read_text() == suggestion["text"]
