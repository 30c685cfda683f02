"""`fix --verify` on the real engine: both files built, sizes, layers, rebuild cache reuse and
the final filesystems compared; a bad rewrite and a failing build are refused."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support.engine import docker, image_exists
from trimdock.cli.main import run
from trimdock.fix.apply import AppliedFix, FixOutcome, fix_text
from trimdock.fix.text import apply_edits
from trimdock.fix.verdict import decide
from trimdock.fix.verify import verify
from trimdock.report.finding import Applicability, Fix, FixEdit

pytestmark = pytest.mark.usefixtures("engine")


def _tag(name: str, *texts: str) -> str:
    digest = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:12]
    return f"trimdock-test/fix-{name}:{digest}"


# In the style of the book's socat and jenkins examples: a config file copied before the
# package install, update and install in separate RUNs, recommended packages pulled in.
APT = """\
FROM debian:bookworm-slim
COPY app.conf /etc/app.conf
RUN apt-get update
RUN apt-get install -y procps
CMD ["ps"]
"""


def test_apt_hygiene_and_config_order_proven_by_building(tmp_path: Path) -> None:
    (tmp_path / "app.conf").write_text("level=1\n")
    outcome = fix_text(APT, str(tmp_path / "Dockerfile"), unsafe=True)
    assert {"TD211", "TD104", "TD103", "TD202"} <= {a.rule_id for a in outcome.applied}
    tag = _tag("apt", outcome.original, outcome.text)
    result = verify(tmp_path, outcome, tag=tag)
    assert result.failure is None and result.comparison is not None
    assert result.accepted, result.comparison.unexpected
    before, after = result.before, result.after
    assert after is not None
    # the measured gain: smaller, fewer layers, less waste
    assert after.filesystem.size < before.filesystem.size
    assert after.filesystem.layers == before.filesystem.layers - 1
    assert after.filesystem.wasted < before.filesystem.wasted
    lost = set(result.comparison.lost)
    assert any(p.startswith("/var/lib/apt/lists/") for p in lost)
    # the recommended package (psmisc, by dpkg's own records) is what the image lost
    assert "/var/lib/dpkg/info/psmisc.list" in lost
    assert "/var/lib/dpkg/info/procps.list" not in lost
    assert "psmisc" in before.filesystem.dpkg_lists
    # the cache-order proof: after editing app.conf the fixed file reuses the install step
    assert result.touched == "app.conf"
    assert before.rebuild is not None and after.rebuild is not None
    assert before.rebuild.cached == 0
    assert after.rebuild.cached >= 1
    assert after.rebuild.steps - after.rebuild.cached < before.rebuild.steps
    assert not image_exists(f"{tag}-before") and not image_exists(f"{tag}-after")


def test_a_rewrite_that_loses_other_paths_is_rejected(tmp_path: Path) -> None:
    original = (
        "FROM busybox:latest\n"
        "RUN mkdir -p /opt/app /root/.cache/pip && echo keep > /opt/app/config"
        " && echo wheel > /root/.cache/pip/w\n"
    )
    # A deliberately unsafe "pip cache" fix that also drops the app's config.
    bad = "FROM busybox:latest\nRUN mkdir -p /opt/app\n"
    fix = Fix((), Applicability.SAFE, "drop the pip cache", ("*/.cache/pip", "*/.cache"))
    outcome = FixOutcome("Dockerfile", original, bad, (AppliedFix("TD107", 1, 2, fix),), 0, 1)
    result = verify(tmp_path, outcome, tag=_tag("unsafe", original, bad))
    assert result.comparison is not None and not result.accepted
    assert result.comparison.unexpected == ("/opt/app/config",)
    assert "/root/.cache/pip/w" in result.comparison.lost  # meant: not reported


def test_a_fixed_file_that_does_not_build_is_rejected(tmp_path: Path) -> None:
    original = "FROM busybox:latest\nRUN true\n"
    broken = "FROM busybox:latest\nRUN false\n"
    fix = Fix((), Applicability.SAFE, "break it")
    outcome = FixOutcome("Dockerfile", original, broken, (AppliedFix("TD116", 1, 2, fix),), 0, 1)
    result = verify(tmp_path, outcome, tag=_tag("broken", original, broken))
    assert not result.accepted and result.failure is not None
    assert "returned a non-zero code" in result.failure


BUSYBOX = """\
FROM busybox:latest
COPY settings.json /etc/settings.json
RUN mkdir -p /opt/tool/docs /opt/tool/bin && echo manual > /opt/tool/docs/manual.txt
ENV PATH=/opt/tool/bin:$PATH
RUN rm -rf /opt/tool/docs
CMD ["sh"]
"""


def test_cli_verifies_writes_and_removes_its_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "settings.json").write_text("{}\n")
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text(BUSYBOX)
    before = set(docker("images", "-q", "--no-trunc").split())
    assert run(["fix", str(dockerfile)]) == 0
    out = capsys.readouterr().out
    assert "rebuild after editing settings.json" in out
    assert "Verified: every removed path is one the fixes meant to remove." in out
    assert "RUN rm -rf" not in dockerfile.read_text()
    assert "&& rm -rf /opt/tool/docs\n" in dockerfile.read_text()
    assert set(docker("images", "-q", "--no-trunc").split()) <= before  # its images are gone
    assert run(["fix", str(dockerfile)]) == 0  # nothing left to fix: nothing built
    assert "Nothing to fix" in capsys.readouterr().out


# The lab's example: a single-stage compile ships the compiler.
COMPILE = """\
FROM debian:bookworm-slim
ENV GREETING=hello
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends gcc libc6-dev \\
    && rm -rf /var/lib/apt/lists/*
COPY hello.c .
RUN gcc -O2 -o /usr/local/bin/hello hello.c
USER 65534
CMD ["hello"]
"""


def test_a_builder_stage_keeps_the_artifact_and_drops_the_compiler(tmp_path: Path) -> None:
    (tmp_path / "hello.c").write_text(
        "#include <stdio.h>\n#include <stdlib.h>\n"
        'int main(void) { printf("%s\\n", getenv("GREETING")); return 0; }\n'
    )
    outcome = fix_text(COMPILE, "Dockerfile", unsafe=True)
    assert "TD119" in {a.rule_id for a in outcome.applied}
    tag = _tag("compile", outcome.original, outcome.text)
    try:
        result = verify(tmp_path, outcome, tag=tag, keep_images=True)
        assert result.comparison is not None
        assert result.accepted, result.comparison.unexpected
        assert result.after is not None
        before, after = result.before.filesystem, result.after.filesystem
        assert any(p.startswith("/usr/bin/gcc") for p in before.paths)
        assert not any(p.startswith("/usr/bin/gcc") for p in after.paths)
        assert after.paths["/usr/local/bin/hello"] == before.paths["/usr/local/bin/hello"]
        assert after.size < before.size / 2
        # the oracle: the fixed image still runs the program, as the same user, same config
        assert docker("run", "--rm", f"{tag}-after").strip() == "hello"
        assert docker("run", "--rm", f"{tag}-after", "id", "-u").strip() == "65534"
    finally:
        for name in ("after", "before"):
            if image_exists(f"{tag}-{name}"):
                docker("rmi", f"{tag}-{name}")


def test_one_bad_fix_is_dropped_and_the_good_one_kept(tmp_path: Path) -> None:
    original = (
        "FROM busybox:latest\n"
        "RUN mkdir -p /opt/app && echo keep > /opt/app/config\n"
        "RUN mkdir /data\n"
        "# the payload\n"
        "RUN echo x > /data/x\n"
    )
    # Good: the two last RUNs merged (the real TD116 text). Bad: it "cleans" line 2 and so
    # loses the app's config, which no fix meant to remove.
    merge_at = original.index("\n# the payload")
    merge_end = original.index("echo x")
    good = Fix(
        (FixEdit(merge_at, merge_end, " \\\n# the payload\n    && "),),
        Applicability.SAFE,
        "merge the RUN on line 5 into the RUN on line 3",
    )
    cut = original.index(" && echo keep")
    bad = Fix(
        (FixEdit(cut, original.index("\nRUN mkdir /data"), ""),),
        Applicability.SAFE,
        "drop the pip cache",
        ("*/.cache/pip",),
    )
    applied = (
        AppliedFix("TD107", 1, 2, bad, ((2, 2),)),
        AppliedFix("TD116", 1, 5, good, ((3, 5),)),
    )
    text = apply_edits(original, [*bad.edits, *good.edits])
    outcome = FixOutcome("Dockerfile", original, text, applied, 0, 1)

    def refix(exclude: frozenset[str]) -> FixOutcome:
        raise AssertionError("first-round fixes are replayed, not fixed afresh")

    tag = _tag("retry", original, text)
    result = decide(tmp_path, outcome, refix, tag=tag)
    assert result.first is not None and not result.first.accepted
    assert result.first.comparison is not None
    assert result.first.comparison.unexpected == ("/opt/app/config",)
    assert result.accepted, result.verification.comparison
    assert [a.rule_id for a in result.rejected] == ["TD107"]
    assert [a.rule_id for a in result.outcome.applied] == ["TD116"]
    assert result.outcome.text == apply_edits(original, good.edits)
    after = result.verification.after
    assert after is not None
    assert after.filesystem.layers == result.verification.before.filesystem.layers - 1
    assert not image_exists(f"{tag}-retry-after")


def test_an_original_the_engine_refuses_is_one_line_about_the_build(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The engine answers 400 to a file it cannot parse: a failed build, not an engine fault.
    path = tmp_path / "Dockerfile"
    path.write_text("FROM busybox:latest\nRUN apk add curl\nFROBNICATE now\n")
    assert run(["fix", "--verify", "--unsafe-fixes", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"trimdock: {path}: the original does not build (legacy builder): ")
    assert "FROBNICATE" in err.upper() and err.count("\n") == 1
