"""TD101's fix where it is sound: `COPY . DEST` replaced by one COPY per top-level directory and
one for the files, the deny-list's names left out; the `.dockerignore` deny-list otherwise."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from tests.support.engine import docker, image_exists
from trimdock.cli.main import run
from trimdock.dockerfile import parse
from trimdock.fix.apply import FixOutcome
from trimdock.fix.explicit import Top, explicit_lines, plain_copy
from trimdock.fix.verify import verify

D, F = True, False


@pytest.mark.parametrize(
    ("flags", "dest", "entries", "expected"),
    [
        ("", ".", [Top("src", D), Top("app.py", F), Top("conf", D)],
         "COPY conf/ ./conf/\nCOPY src/ ./src/\nCOPY app.py ./"),
        ("--chown=1000:1000 ", "/app", [Top("a.txt", F), Top("b.txt", F)],
         "COPY --chown=1000:1000 a.txt b.txt /app/"),
        ("", "/srv/", [Top("web", D)], "COPY web/ /srv/web/"),
        ("--link ", "/", [Top("etc", D), Top("x", F)], "COPY --link etc/ /etc/\nCOPY --link x /"),
    ],
)  # fmt: skip
def test_explicit_lines(flags: str, dest: str, entries: list[Top], expected: str) -> None:
    assert explicit_lines(flags, dest, entries) == expected


@pytest.mark.parametrize(
    "entries",
    [
        [],  # nothing left to copy
        [Top(f"m{i}.py", F) for i in range(9)],  # too many to list
        [Top("my notes.txt", F)],  # needs quoting
        [Top("data[1]", D)],  # a glob to COPY
        [Top("$HOME", F)],  # a variable to COPY
        [Top("-rf", F)],  # an option to a reader
    ],
)
def test_explicit_lines_declined(entries: list[Top]) -> None:
    assert explicit_lines("", ".", entries) is None


def _copy(text: str) -> tuple[str, str] | None:
    dockerfile = parse(f"FROM busybox:latest\n{text}\n")
    return plain_copy(dockerfile.stages[0].instructions[-1])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("COPY . .", ("", ".")),
        ("COPY ./ /app", ("", "/app")),
        ("COPY --chown=1000:1000 --chmod=644 . /app/", ("--chown=1000:1000 --chmod=644 ", "/app/")),
        ("COPY --link . /srv", ("--link ", "/srv")),
    ],
)
def test_plain_copy(text: str, expected: tuple[str, str]) -> None:
    assert _copy(text) == expected


# Inputs that must stay unchanged: the per-entry rewrite is not known to copy the same.
UNCHANGED = [
    "COPY --from=build . /app",  # another stage's files
    "ARG SRC=.\nCOPY $SRC /app",  # an ARG in the sources
    "ARG DEST=/app\nCOPY . $DEST",  # ... or the destination
    'COPY [".", "/app"]',  # JSON form
    "ADD . /app",  # ADD unpacks archives it names
    "COPY --exclude=*.md . /app",  # a BuildKit filter
    "COPY . extra.txt /app/",  # more than the context
    "COPY <<EOF /app/x\nhi\nEOF",  # a heredoc
    "COPY src /app",  # not the whole context
]


@pytest.mark.parametrize("text", UNCHANGED)
def test_plain_copy_declined(text: str) -> None:
    assert _copy(text) is None


DOCKERFILE = """\
FROM busybox:latest
WORKDIR /app
# the whole context
COPY --chown=65534:65534 . .
USER 65534:65534
CMD ["sh", "run.sh"]
"""


def _context(root: Path) -> Path:
    (root / "app" / "__pycache__").mkdir(parents=True)
    (root / "app" / "main.py").write_text("print('ok')\n")
    (root / "app" / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0" * 4096)
    (root / "conf").mkdir()
    (root / "conf" / "settings.json").write_text("{}\n")
    (root / "empty").mkdir()
    (root / "run.sh").write_text("#!/bin/sh\necho ok\n")
    (root / "README.md").write_text("# app\n")
    (root / ".git").mkdir()
    (root / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (root / ".env").write_text("TOKEN=secret\n")
    (root / "debug.log").write_text("x" * 10_000)
    (root / "Dockerfile").write_text(DOCKERFILE)
    return root / "Dockerfile"


EXPLICIT = (
    "COPY --chown=65534:65534 app/ ./app/\n"
    "COPY --chown=65534:65534 conf/ ./conf/\n"
    "COPY --chown=65534:65534 empty/ ./empty/\n"
    "COPY --chown=65534:65534 Dockerfile README.md run.sh ./\n"
)


def test_rewritten_with_nested_junk_kept_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dockerfile = _context(tmp_path)
    assert run(["fix", "--no-verify", str(dockerfile)]) == 0
    assert "1 more fix with --unsafe-fixes" in capsys.readouterr().out
    assert run(["fix", "--no-verify", "--unsafe-fixes", "-F", "json", str(dockerfile)]) == 0
    (fix,) = json.loads(capsys.readouterr().out)["fixes"]
    assert fix["rule"] == "TD101" and fix["applicability"] == "unsafe"
    assert set(fix["removes"]) == {"*/.git", "*/.env", "*/*.log", "*/__pycache__", "*/*.pyc"}
    assert dockerfile.read_text() == DOCKERFILE.replace("COPY --chown=65534:65534 . .\n", EXPLICIT)
    # the denied names at the top are simply not listed; the nested ones go to .dockerignore
    ignore = (tmp_path / ".dockerignore").read_text().splitlines()
    assert not ignore[0].startswith("**") and set(ignore[2:]) == {"**/__pycache__", "**/*.pyc"}
    assert run(["fix", "--no-verify", "--unsafe-fixes", str(dockerfile)]) == 0
    assert "Nothing to fix" in capsys.readouterr().out  # idempotent


@pytest.mark.parametrize("why", ["symlink", "many"])
def test_the_deny_list_where_listing_is_not_sound(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], why: str
) -> None:
    dockerfile = _context(tmp_path)
    if why == "symlink":
        (tmp_path / "current").symlink_to("conf")  # COPY would follow it
    else:
        for number in range(5):
            (tmp_path / f"mod{number}.py").write_text("\n")
    assert run(["fix", "--no-verify", "--unsafe-fixes", str(dockerfile)]) == 0
    capsys.readouterr()
    assert dockerfile.read_text() == DOCKERFILE
    assert "**/.git\n" in (tmp_path / ".dockerignore").read_text()


@pytest.mark.usefixtures("engine")
def test_verified_same_files_except_the_denied_ones(tmp_path: Path) -> None:
    dockerfile = _context(tmp_path)
    from trimdock.cli.fix import with_ignore
    from trimdock.fix.apply import fix_text
    from trimdock.rules.engine import LintSettings

    settings = LintSettings()
    outcome: FixOutcome = with_ignore(
        fix_text(DOCKERFILE, str(dockerfile), settings, unsafe=True),
        tmp_path,
        dockerfile,
        settings,
        unsafe=True,
    )
    assert EXPLICIT in outcome.text and outcome.ignore is not None
    digest = hashlib.sha256(outcome.text.encode()).hexdigest()[:12]
    tag = f"trimdock-test/fix-explicit:{digest}"
    try:
        result = verify(tmp_path, outcome, tag=tag, keep_images=True)
        assert result.comparison is not None and result.after is not None
        assert result.accepted, result.comparison.unexpected
        denied = {
            "/app/.git", "/app/.git/HEAD", "/app/.env", "/app/debug.log",
            "/app/app/__pycache__", "/app/app/__pycache__/main.cpython-311.pyc",
        }  # fmt: skip
        before, after = result.before.filesystem.paths, result.after.filesystem.paths
        assert set(result.comparison.lost) == denied
        assert result.comparison.added == () and result.comparison.changed == ()
        assert {p: s for p, s in before.items() if p not in denied} == after
        assert "/app/empty" in after and "/app/Dockerfile" in after
        assert result.after.filesystem.size < result.before.filesystem.size
        # the oracle: the same owner as the original's --chown, and the app runs
        owners = "stat -c %u /app/run.sh /app/conf/settings.json /app/empty"
        for side in ("before", "after"):
            assert (
                docker("run", "--rm", f"{tag}-{side}", "sh", "-c", owners).split() == ["65534"] * 3
            )
        assert docker("run", "--rm", f"{tag}-after").strip() == "ok"
    finally:
        for side in ("after", "before", "after-rebuild", "before-rebuild"):
            if image_exists(f"{tag}-{side}"):
                docker("rmi", f"{tag}-{side}")


def test_a_retry_without_another_fix_keeps_the_rewrite_once(tmp_path: Path) -> None:
    """After the rounds, the rewrite is a round of its own; when another fix is dropped after a
    rejection, the retry proposes it again (once) on the new text."""
    from trimdock.cli.fix import with_ignore
    from trimdock.fix.apply import fix_text
    from trimdock.fix.verdict import without
    from trimdock.rules.engine import LintSettings

    dockerfile = _context(tmp_path)
    text = DOCKERFILE.replace("USER", "RUN mkdir -p /srv/a\nRUN mkdir -p /srv/b\nUSER")
    dockerfile.write_text(text)
    settings = LintSettings()

    def fixed(exclude: frozenset[str] = frozenset()) -> FixOutcome:
        again = fix_text(text, str(dockerfile), settings, unsafe=True, exclude=exclude)
        return with_ignore(again, tmp_path, dockerfile, settings, unsafe=True, exclude=exclude)

    outcome = fixed()
    assert [(a.rule_id, a.round) for a in outcome.applied] == [("TD116", 1), ("TD101", 2)]
    merge = outcome.applied[0]
    retried = without(outcome, [merge], fixed)
    assert [(a.rule_id, a.round) for a in retried.applied] == [("TD101", 1)]
    assert retried.text == text.replace("COPY --chown=65534:65534 . .\n", EXPLICIT)
    assert retried.ignore is not None
    # the rewrite itself rejected: the deny-list is proposed instead
    denied = without(outcome, [outcome.applied[1]], fixed)
    assert [a.rule_id for a in denied.applied] == ["TD116", "TD101"]
    assert not denied.applied[1].fix.edits and "COPY --chown=65534:65534 . .\n" in denied.text
