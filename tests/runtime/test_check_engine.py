"""`trimdock check` on the real engine: small images built here that pass and fail each check,
and nothing left behind, also when Ctrl-C or SIGTERM ends the run."""

from __future__ import annotations

import functools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.support.engine import build_image, docker
from tests.support.signals import as_foreground_job
from trimdock.cli.main import run
from trimdock.runtime.check_rules import RULE_OF

IMAGES = Path(__file__).parent / "images"
FAST = ["--window", "3s", "--grace", "3s"]


@functools.cache
def image(name: str) -> str:
    return build_image(f"runtime-{name}", IMAGES / name)


def leftovers() -> tuple[str, str]:
    containers = docker("ps", "-aq", "--filter", "label=trimdock.check").strip()
    networks = docker("network", "ls", "-q", "--filter", "label=trimdock.check").strip()
    return containers, networks


@functools.cache
def checked(name: str, *extra: str) -> tuple[int, dict[str, Any]]:
    """Exit code and JSON report of one check run (each image is run once per session)."""
    out = Path(f"/tmp/trimdock-test-check-{os.getpid()}-{name}.json")
    try:
        code = run(["check", image(name), *FAST, *extra, "-F", "json", "-o", str(out)])
        return code, json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def verdicts(name: str, *extra: str) -> dict[str, str]:
    return {c["id"]: c["verdict"] for c in checked(name, *extra)[1]["checks"]}


def test_every_check_carries_its_td_rule_id() -> None:
    checks = checked("trap")[1]["checks"]
    assert {c["id"]: c["rule"] for c in checks} == {
        name: rule_id for name, rule_id in RULE_OF.items() if name != "config-file"
    }


def evidence(name: str, check: str) -> dict[str, Any]:
    return next(c["evidence"] for c in checked(name)[1]["checks"] if c["id"] == check)


def test_a_service_that_traps_sigterm_passes_every_check() -> None:
    code, report = checked("trap")
    assert {c["id"]: c["verdict"] for c in report["checks"] if c["verdict"] != "pass"} == {}
    assert code == 0
    stop = evidence("trap", "stop-signal")
    assert stop["exit_code"] == 0 and stop["seconds"] < 3
    assert report["summary"]["failed"] is False
    assert leftovers() == ("", "")


def test_a_shell_that_ignores_sigterm_is_killed_after_the_grace_period() -> None:
    code, _ = checked("notrap")
    assert verdicts("notrap")["stop-signal"] == "fail"
    stop = evidence("notrap", "stop-signal")
    assert stop["exit_code"] == 137 and stop["seconds"] >= 3
    assert verdicts("notrap")["user"] == "fail"  # no USER: root
    assert code == 1
    assert leftovers() == ("", "")


def test_logging_to_a_file_is_reported_with_its_size() -> None:
    found = verdicts("logfile")
    assert found["logs-stdout"] == "fail"
    assert found["log-files"] == "warn"
    files = evidence("logfile", "log-files")["files"]
    assert [f["path"] for f in files] == ["/var/log/app/app.log"]
    # Oracle: the line the script appends, times the lines it wrote; at least one was written.
    assert files[0]["size"] > 0 and files[0]["size"] % len("request served\n") == 0
    assert found["pid1"] == "fail"  # `exec sleep` as PID 1 leaves the probe's orphan a zombie
    assert found["env-defaults"] == "fail"  # API_TOKEN
    names = {v["name"] for v in evidence("logfile", "env-defaults")["variables"]}
    assert names == {"API_TOKEN", "APP_ENV", "DATABASE_URL"}


def test_an_app_that_needs_a_writable_root_names_what_it_wrote() -> None:
    found = verdicts("writable")
    assert found["startup"] == "pass"
    assert found["read-only"] == "warn"
    ro = evidence("writable", "read-only")
    assert ro["written"] == ["/app/state.pid"] and ro["exit_code"] == 3


def test_a_port_outside_expose_is_reported() -> None:
    found = verdicts("undeclared")
    assert found["exposed-ports"] == "pass"
    assert found["other-ports"] == "warn"
    assert evidence("undeclared", "other-ports")["undeclared"] == [9999]


def test_allowed_failures_do_not_fail_the_run(tmp_path: Path) -> None:
    config = tmp_path / ".trimdock.toml"
    config.write_text('[check]\nallow = ["stop-signal", "TD807"]\n')  # a name or an id
    out = tmp_path / "report.json"
    args = ["check", image("notrap"), *FAST, "--no-read-only", "-F", "json", "-o", str(out)]
    assert run([*args, "--config", str(config)]) == 0
    assert json.loads(out.read_text())["summary"]["fail"] == 2


def test_a_job_image_exits_zero_with_args_after_the_double_dash(tmp_path: Path) -> None:
    out = tmp_path / "report.json"
    argv = ["check", image("notrap"), "--job", "-F", "json", "-o", str(out), "--", "echo", "done"]
    assert run([*argv, "--no-read-only"]) == 1  # root still fails, the job itself passes
    checks = {c["id"]: c for c in json.loads(out.read_text())["checks"]}
    assert checks["startup"]["verdict"] == "pass"
    assert checks["startup"]["message"] == "exited with code 0"


def test_a_config_file_is_mounted_in_place_of_the_baked_one(tmp_path: Path) -> None:
    settings = tmp_path / "app.conf"
    settings.write_text("level = info\n")
    out = tmp_path / "report.json"
    argv = ["check", image("trap"), "--job", "--no-read-only", "-F", "json", "-o", str(out)]
    argv += ["--config-file", f"{settings}:/etc/app.conf", "--", "grep", "level", "/etc/app.conf"]
    run(argv)
    checks = {c["id"]: c for c in json.loads(out.read_text())["checks"]}
    assert checks["config-file"]["verdict"] == "pass"
    assert checks["config-file"]["evidence"]["replaced_baked_file"] is False  # none in the image


def test_a_config_file_replacing_a_baked_one_says_so(tmp_path: Path) -> None:
    tag = image("trap")
    # Oracle: the image's own /etc/group, as the image itself reports its size.
    baked = int(docker("run", "--rm", "--entrypoint", "stat", tag, "-c", "%s", "/etc/group"))
    group = tmp_path / "group"
    group.write_text("root:x:0:\nnogroup:x:65534:\napp:x:1000:\n")
    out = tmp_path / "report.json"
    argv = ["check", tag, "--job", "--no-read-only", "-F", "json", "-o", str(out)]
    argv += ["--config-file", f"{group}:/etc/group", "--", "grep", "-q", "^app:", "/etc/group"]
    run(argv)
    check = next(c for c in json.loads(out.read_text())["checks"] if c["id"] == "config-file")
    assert check["verdict"] == "pass" and check["rule"] == "TD812"
    assert check["evidence"]["replaced_baked_file"] is True
    assert check["evidence"]["baked_size"] == baked and check["evidence"]["started"] is True
    assert check["message"].startswith("/etc/group: baked file (")
    assert leftovers() == ("", "")


def test_an_image_without_cat_or_sh_is_read_from_the_host_proc() -> None:
    tag = image("distroless")
    # Oracle: the image's own config says what PID 1 runs.
    command = json.loads(docker("image", "inspect", "-f", "{{json .Config.Cmd}}", tag))
    for probe in ("cat", "sh"):  # nothing to exec: what the fallback would need is missing
        missing = ["docker", "run", "--rm", "--entrypoint", probe, tag, "/proc/1/cmdline"]
        assert subprocess.run(missing, capture_output=True, check=False).returncode != 0
    found = verdicts("distroless")
    pid1 = evidence("distroless", "pid1")
    assert pid1["argv"] == command and pid1["source"] == "host /proc"
    assert "zombies_after_probe" not in pid1  # no shell to start the orphan with
    ports = evidence("distroless", "other-ports")
    assert ports["source"] == "host /proc"
    # Docker's embedded DNS also listens in the container's namespace, on 127.0.0.11.
    public = {a.rpartition(":")[2] for a in ports["listening"] if not a.startswith("127.")}
    assert public == {"8080"}
    assert found["other-ports"] == "pass" and found["exposed-ports"] == "pass"
    assert found["user"] == "pass"  # uid 65534 from the host's /proc/<pid>/status
    assert evidence("distroless", "user")["uid"] == 65534


def test_sarif_output_carries_the_failures(tmp_path: Path) -> None:
    out = tmp_path / "report.sarif"
    argv = ["check", image("notrap"), *FAST, "--no-read-only", "-F", "sarif", "-o", str(out)]
    assert run(argv) == 1
    results = json.loads(out.read_text())["runs"][0]["results"]
    assert {"TD803", "TD807"} <= {r["ruleId"] for r in results}
    rules = json.loads(out.read_text())["runs"][0]["tool"]["driver"]["rules"]
    assert {"TD803", "TD807"} <= {r["id"] for r in rules}


def test_html_output_lists_the_failures(tmp_path: Path) -> None:
    # check takes every finding format lint and scan take (cli/common.py FindingFormatOption).
    out = tmp_path / "report.html"
    argv = ["check", image("notrap"), *FAST, "--no-read-only", "-F", "html", "-o", str(out)]
    assert run(argv) == 1
    page = out.read_text()
    assert page.lstrip().lower().startswith("<!doctype html>")
    assert "TD803" in page and "TD807" in page


def test_a_missing_image_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["check", "trimdock-test/no-such-image:0"]) == 2
    err = capsys.readouterr().err
    assert err == "trimdock: trimdock-test/no-such-image:0: no such image on the engine\n"


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_mid_run_removes_container_volumes_and_network(sig: signal.Signals) -> None:
    tag = image("trap")
    before = set(docker("volume", "ls", "-q").split())
    process = subprocess.Popen(
        [sys.executable, "-m", "trimdock", "check", tag, "--window", "60s"],
        preexec_fn=as_foreground_job,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 30
    while not docker("ps", "-q", "--filter", "label=trimdock.check", "--filter", "status=running"):
        assert process.poll() is None and time.monotonic() < deadline, "never started"
        time.sleep(0.1)
    process.send_signal(sig)
    _, err = process.communicate(timeout=30)
    assert process.returncode == (130 if sig is signal.SIGINT else 143)
    assert err.decode().strip().endswith("interrupted" if sig is signal.SIGINT else "terminated")
    assert leftovers() == ("", "")
    assert set(docker("volume", "ls", "-q").split()) <= before
