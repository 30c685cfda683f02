"""The pure side of `trimdock check`: /proc parsers, ENV defaults and the verdict of each check."""

from __future__ import annotations

from dataclasses import replace

import pytest

from trimdock.runtime.check_rules import RULE_OF
from trimdock.runtime.envdefaults import classify
from trimdock.runtime.model import (
    CheckResult,
    ImageFacts,
    LogFile,
    ReadOnlyFacts,
    RunFacts,
    StopFacts,
    Verdict,
)
from trimdock.runtime.procfs import argv, listening_tcp, zombie_count
from trimdock.runtime.render import text
from trimdock.runtime.verdicts import judge, log_like, written_paths

PROC_NET_TCP = """\
  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0B00007F:A8D9 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1
   1: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000 65534        0 2 1
   2: 0200A8C0:1F90 0300A8C0:D431 01 00000000:00000000 00:00000000 00000000 65534        0 3 1
"""
PROC_NET_TCP6 = """\
  sl  local_address                         remote_address                        st
   0: 00000000000000000000000000000000:270F 00000000000000000000000000000000:0000 0A 0
   1: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 0
"""


def test_listening_sockets_are_read_from_proc_net_tcp_and_tcp6() -> None:
    assert listening_tcp(PROC_NET_TCP + PROC_NET_TCP6) == (
        ("::1", 80),
        ("0.0.0.0", 8080),
        ("::", 9999),
        ("127.0.0.11", 43225),
    )


def test_zombies_are_counted_from_proc_stat_even_with_parentheses_in_comm() -> None:
    stat = "1 (sleep) S 0 1\n7 (sh) Z 1 7\n9 (a) b) Z 1 9\n10 (cat) R 0 10\n"
    assert zombie_count(stat) == 2


def test_argv_splits_cmdline_on_nul() -> None:
    assert argv(b"/bin/sh\0/run.sh\0") == ("/bin/sh", "/run.sh")


@pytest.mark.parametrize(
    ("name", "value", "kind"),
    [
        ("API_TOKEN", "abc123", "secret"),
        ("DB_PASSWORD", "hunter2", "secret"),
        ("DATABASE_URL", "postgres://app:pw@db/app", "secret"),
        ("APP_ENV", "development", "environment"),
        ("NODE_ENV", "development", "environment"),
        ("ASPNETCORE_ENVIRONMENT", "Development", "environment"),
        ("SPRING_PROFILES_ACTIVE", "dev", "environment"),
        ("API_URL", "https://staging.example.com/v1", "environment"),
        ("REDIS_HOST", "redis.internal", "environment"),
    ],
)
def test_env_defaults_the_platform_should_set_are_found(name: str, value: str, kind: str) -> None:
    found = classify(name, value)
    assert found is not None and found.kind == kind


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PATH", "/usr/local/bin:/usr/bin"),
        ("NODE_ENV", "production"),
        ("APP_ENV", "production"),
        ("LISTEN_HOST", "0.0.0.0"),
        ("HEALTH_URL", "http://localhost:8080/health"),
        ("PASSWORD_FILE", "/run/secrets/db"),
        ("API_TOKEN", ""),
        ("PYTHONUNBUFFERED", "1"),
        ("JAVA_HOME", "/opt/java"),
        ("LANG", "C.UTF-8"),
    ],
)
def test_ordinary_env_defaults_stay_quiet(name: str, value: str) -> None:
    assert classify(name, value) is None


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/var/log/app/a.txt", True), ("/app/server.log", True), ("/app/log", False),
     ("/app/catalog.json", False)],
)  # fmt: skip
def test_log_like_paths(path: str, expected: bool) -> None:
    assert log_like(path) is expected


IMAGE = ImageFacts(
    ref="app:1",
    user="app",
    exposed_tcp=(8080,),
    env=(("PATH", "/bin"),),
    healthcheck=True,
    stop_signal="SIGTERM",
    command=("/app/server",),
)
GOOD = RunFacts(
    job=False,
    window=10.0,
    running_at_end=True,
    exit_code=None,
    oom_killed=False,
    first_log_after=0.2,
    stdout_lines=3,
    stderr_lines=0,
    log_tail=("ready",),
    health_status="healthy",
    healthy_after=1.5,
    health_output="ok",
    pid1=("/app/server",),
    zombies=0,
    uid=1000,
    listening=(("0.0.0.0", 8080), ("127.0.0.11", 40000)),
    connected=((8080, True),),
    changes=(("/tmp", "C"), ("/tmp/x", "A")),
    log_files=(),
    stop=StopFacts(seconds=0.3, exit_code=0, grace=10.0),
    peak_memory=20_000_000,
    memory_limit=512 * 1024 * 1024,
    peak_cpu_percent=12.0,
    cpus=1.0,
    read_only=ReadOnlyFacts(stayed_up=True, exit_code=None, log_tail=()),
    config_file=None,
)


def verdicts(image: ImageFacts = IMAGE, run: RunFacts = GOOD) -> dict[str, Verdict]:
    return {r.check: r.verdict for r in judge(image, run)}


def test_a_well_behaved_service_passes_every_check() -> None:
    assert set(verdicts().values()) == {Verdict.PASS}


@pytest.mark.parametrize(
    ("change", "check", "verdict"),
    [
        ({"running_at_end": False, "exit_code": 1}, "startup", Verdict.FAIL),
        ({"running_at_end": False, "exit_code": 0}, "startup", Verdict.FAIL),
        ({"oom_killed": True}, "resources", Verdict.FAIL),
        ({"peak_memory": 500 * 1024 * 1024}, "resources", Verdict.WARN),
        ({"first_log_after": None}, "first-log", Verdict.WARN),
        ({"health_status": "unhealthy"}, "health", Verdict.FAIL),
        ({"health_status": "starting", "healthy_after": None}, "health", Verdict.WARN),
        ({"stop": StopFacts(10.2, 137, 10.0)}, "stop-signal", Verdict.FAIL),
        ({"stop": StopFacts(0.1, 143, 10.0)}, "stop-signal", Verdict.PASS),
        ({"stop": None, "running_at_end": False, "exit_code": 2}, "stop-signal", Verdict.UNKNOWN),
        ({"zombies": 2, "pid1": ("sleep", "3600")}, "pid1", Verdict.FAIL),
        ({"pid1": ("/bin/sh", "-c", "node server.js")}, "pid1", Verdict.WARN),
        ({"pid1": ("/sbin/tini", "--", "app")}, "pid1", Verdict.PASS),
        ({"pid1": None}, "pid1", Verdict.UNKNOWN),
        ({"stdout_lines": 0}, "logs-stdout", Verdict.FAIL),
        ({"log_files": (LogFile("/var/log/a.log", 900, 300),)}, "log-files", Verdict.WARN),
        ({"uid": 0}, "user", Verdict.FAIL),
        ({"read_only": ReadOnlyFacts(False, 1, ("EROFS",))}, "read-only", Verdict.WARN),
        ({"connected": ((8080, False),)}, "exposed-ports", Verdict.FAIL),
        ({"listening": (("0.0.0.0", 8080), ("0.0.0.0", 9000))}, "other-ports", Verdict.WARN),
        ({"listening": (("127.0.0.1", 9000),)}, "other-ports", Verdict.PASS),
        ({"listening": None}, "other-ports", Verdict.UNKNOWN),
        ({"config_file": ("/h/app.toml", "/app/app.toml")}, "config-file", Verdict.PASS),
    ],
)
def test_one_fact_changes_one_verdict(
    change: dict[str, object], check: str, verdict: Verdict
) -> None:
    assert verdicts(run=replace(GOOD, **change))[check] is verdict  # type: ignore[arg-type]


def test_a_job_must_exit_zero_and_is_not_stopped() -> None:
    job = replace(GOOD, job=True, running_at_end=False, exit_code=0, stop=None)
    assert verdicts(run=job)["startup"] is Verdict.PASS
    assert verdicts(run=job)["stop-signal"] is Verdict.UNKNOWN
    assert verdicts(run=replace(job, exit_code=1))["startup"] is Verdict.FAIL
    assert verdicts(run=replace(job, running_at_end=True))["startup"] is Verdict.FAIL


def test_user_falls_back_to_the_image_config_when_uid_is_unknown() -> None:
    run = replace(GOOD, uid=None)
    assert verdicts(replace(IMAGE, user=""), run)["user"] is Verdict.FAIL
    assert verdicts(replace(IMAGE, user="root:root"), run)["user"] is Verdict.FAIL
    assert verdicts(replace(IMAGE, user="1000:1000"), run)["user"] is Verdict.PASS


def test_env_secret_fails_and_environment_value_warns() -> None:
    secret = replace(IMAGE, env=(("API_TOKEN", "abc"),))
    assert verdicts(secret)["env-defaults"] is Verdict.FAIL
    staging = replace(IMAGE, env=(("APP_ENV", "staging"),))
    assert verdicts(staging)["env-defaults"] is Verdict.WARN


def test_written_paths_are_leaves_outside_the_tmpfs() -> None:
    run = replace(
        GOOD,
        changes=(("/app", "C"), ("/app/state.pid", "A"), ("/tmp", "C"), ("/tmp/x", "A"),
                 ("/etc/gone", "D"), ("/data", "A")),
    )  # fmt: skip
    assert written_paths(run) == ["/app/state.pid", "/data"]


def result(check: str, run: RunFacts) -> CheckResult:
    return next(r for r in judge(IMAGE, run) if r.check == check)


@pytest.mark.parametrize(
    ("baked", "ok", "message"),
    [
        ((1200, False), True, "/app/app.toml: baked file (1.2 kB) replaced, started with it"),
        (None, True, "/app/app.toml: no baked file, started with it"),
        ((1200, False), False, "/app/app.toml: baked file (1.2 kB) replaced, did not start"),
    ],
)  # fmt: skip
def test_the_config_file_says_whether_it_replaced_a_baked_one(
    baked: tuple[int, bool] | None, ok: bool, message: str
) -> None:
    run = replace(GOOD, config_file=("/h/app.toml", "/app/app.toml"), baked_config=baked)
    if not ok:
        run = replace(run, running_at_end=False, exit_code=1)
    found = result("config-file", run)
    assert found.message == message
    assert found.verdict is (Verdict.PASS if ok else Verdict.FAIL)
    assert dict(found.evidence)["replaced_baked_file"] is (baked is not None)


def test_an_oom_kill_before_the_first_sample_still_fails_resources() -> None:
    run = replace(GOOD, oom_killed=True, peak_memory=None, running_at_end=False, exit_code=137)
    assert result("resources", run).verdict is Verdict.FAIL


def test_a_sigkill_the_engine_did_not_call_an_oom_kill_still_warns_on_resources() -> None:
    # A loaded engine can record the exit before the OOM event; a low sample is no pass then.
    run = replace(GOOD, peak_memory=4_000_000, running_at_end=False, exit_code=137)
    found = result("resources", run)
    assert found.verdict is Verdict.WARN
    assert "SIGKILL" in found.message


def test_memory_is_shown_in_the_units_of_the_rest_of_trimdock() -> None:
    run = replace(GOOD, peak_memory=20_000_000, memory_limit=512_000_000, peak_cpu_percent=3.0)
    assert result("resources", run).message == "memory 20.0 MB (4% of 512.0 MB), CPU 3% of a core"


def test_every_result_carries_its_td8xx_rule_id() -> None:
    run = replace(GOOD, config_file=("/h/app.toml", "/app/app.toml"))
    assert {r.check: r.rule_id for r in judge(IMAGE, run)} == dict(RULE_OF)


def test_unknown_says_neither_the_host_nor_exec_could_look() -> None:
    found = result("pid1", replace(GOOD, pid1=None))
    assert found.message == "no host /proc (remote engine) and no cat in the image to read " \
        "/proc/1/cmdline"  # fmt: skip


def test_the_text_report_reads_at_80_columns() -> None:
    # Every check at its wordiest: lists cut to a few items and "+N more".
    env = (("API_TOKEN", "x"), ("APP_ENV", "staging"), ("DATABASE_URL", "postgres://db/app"),
           ("REDIS_HOST", "r"))  # fmt: skip
    image = replace(IMAGE, env=env)
    run = replace(
        GOOD,
        zombies=3,
        pid1=("/usr/local/bin/application-server", "--config", "/etc/app.toml"),
        log_files=tuple(LogFile(f"/var/log/app/service-{i}.log", 12_345_678, 0) for i in range(4)),
        read_only=ReadOnlyFacts(False, 1, ()),
        changes=tuple((f"/var/lib/application/state-{i}.db", "A") for i in range(4)),
        stop=StopFacts(10.4, 137, 10.0),
        config_file=("/home/user/app.toml", "/etc/application/app.toml"),
        baked_config=(12_345, False),
        listening=(("0.0.0.0", 8080), ("0.0.0.0", 9000), ("::", 9001), ("0.0.0.0", 9002)),
        peak_memory=500_000_000,
        memory_limit=512_000_000,
        peak_cpu_percent=100.0,
    )
    lines = text(image, run, judge(image, run)).splitlines()[1:]
    assert "\n".join(line for line in lines if len(line) > 80) == ""
