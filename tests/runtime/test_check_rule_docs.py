"""The TD8xx rule docs are real: each example is the Dockerfile of an image that fails its check
and each "instead" one that passes it, built and checked on the engine.

A leading `# trimdock check OPTIONS` comment holds the options the run needs (a relative
--config-file PATH is a file written here). The distinct runs go four at a time: they wait on
the engine and the containers' timers far more than they use the CPU.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.engine import build_image
from trimdock.report.rules import RuleInfo
from trimdock.runtime.check_rules import CHECK_RULES, NAME_OF

FAST = ["--window", "3s", "--grace", "3s", "--health-timeout", "10s"]
OPTIONS = "# trimdock check "
CONFIG = "level=info\n"
Run = tuple[str, tuple[str, ...]]  # (Dockerfile, extra options)


def _run_of(dockerfile: str, rule_id: str) -> Run:
    first = dockerfile.splitlines()[0]
    extra = tuple(shlex.split(first[len(OPTIONS) :])) if first.startswith(OPTIONS) else ()
    if rule_id != "TD808":  # the read-only run only where it is the point
        extra = (*extra, "--no-read-only")
    return dockerfile, extra


def _check(run: Run, workdir: Path) -> dict[str, str]:
    dockerfile, extra = run
    digest = hashlib.sha256(dockerfile.encode()).hexdigest()[:12]
    context = workdir / digest
    context.mkdir(exist_ok=True)
    (context / "Dockerfile").write_text(dockerfile + "\n")
    tag = build_image("runtime-doc", context)
    (workdir / "app.conf").write_text(CONFIG)
    argv = [sys.executable, "-m", "trimdock", "check", tag, *FAST, *extra, "-F", "json"]
    done = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr
    return {c["rule"]: c["verdict"] for c in json.loads(done.stdout)["checks"]}


@pytest.fixture(scope="module")
def verdicts(tmp_path_factory: pytest.TempPathFactory) -> dict[Run, dict[str, str]]:
    workdir = tmp_path_factory.mktemp("check-docs")
    runs = sorted(
        {_run_of(text, i.rule_id) for i in CHECK_RULES.values() for text in (i.example, i.instead)}
    )
    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(lambda run: _check(run, workdir), runs))
    return dict(zip(runs, found, strict=True))


@pytest.mark.parametrize("info", CHECK_RULES.values(), ids=lambda info: info.rule_id)
def test_example_fails_the_check_and_instead_passes(
    verdicts: dict[Run, dict[str, str]], info: RuleInfo
) -> None:
    bad = verdicts[_run_of(info.example, info.rule_id)]
    good = verdicts[_run_of(info.instead, info.rule_id)]
    assert bad[info.rule_id] in ("warn", "fail"), (NAME_OF[info.rule_id], bad)
    assert good[info.rule_id] == "pass", (NAME_OF[info.rule_id], good)
