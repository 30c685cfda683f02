"""Attack surface, secrets and the policy gate on crafted images and text tables (no engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.security.crafted import crafted_image, dist_info
from tests.support.shared import SHARED_DATA
from trimdock.cli.main import run
from trimdock.security.secrets import find_in_text

KEY = "-----BEGIN OPENSSH PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        (f"{KEY}\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU=\n", "private key"),
        ("aws_access_key_id = AKIAQWERTYUIOPASDFGH", "AWS access key id"),
        ("TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB", "GitHub token"),
        (
            "//registry.example.invalid/:_authToken=npm_abcdefghijklmnopqrstuvwxyz0123456789",
            "npm token",
        ),
        ("machine example.invalid login me password Xk9#mQ2$vL", "netrc/pypirc password"),
        ("DATABASE_URL=postgres://app:S3cr3tPassw0rd@db:5432/app", "password in URL"),
        (
            '{"auths": {"r.example.invalid": {"auth": "dXNlcjpwYXNzd29yZDEyMw=="}}}',
            "registry credentials",
        ),
        ("API_KEY=9f8e7d6c5b4a39281706f5e4d3c2b1a0ZyXw", "secret assignment"),
    ],
)
def test_secrets_are_found(text: str, kind: str) -> None:
    assert [k for k, _, _ in find_in_text(text)] == [kind]


@pytest.mark.parametrize(
    "text",
    [
        "PASSWORD=${DB_PASSWORD}",
        "password = changeme",
        "api_key: <your api key>",
        "SECRET_KEY_FILE=/run/secrets/key",
        "token_type = bearer",
        "GPG_KEY=A035C8C19219BA821ECEA86B64E628F8D684696D",  # low-entropy hex fingerprints
        "sha256sum=3b5d5c3712955042212316173ccf37be800ffc1e8d5a56fa3c93a8b7cb0d4b09",
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "url = https://example.invalid/simple",
        "password_min_length = 12",
        "-----BEGIN PUBLIC KEY-----",
        "-----BEGIN CERTIFICATE-----",
    ],
)
def test_look_alikes_stay_quiet(text: str) -> None:
    assert list(find_in_text(text)) == []


def _surface_image(root: Path, *, user: str = "") -> str:
    return crafted_image(
        root,
        [
            [
                ("bin", None, 0o755),
                ("bin/sh", b"#!elf", 0o755),
                ("usr", None, 0o755),
                ("usr/bin", None, 0o755),
                ("usr/bin/passwd", b"x", 0o4755),
                ("usr/bin/curl", b"x", 0o755),
                ("tmp", None, 0o1777),
                ("srv", None, 0o755),
                ("srv/drop", None, 0o777),
            ],
            [
                ("usr/bin/gcc-12", b"x", 0o755),
                ("usr/lib/jvm/jdk/bin/javac", b"x", 0o755),
                ("usr/bin/sudo", b"x", 0o4755),
            ],
            [("usr/bin/.wh.gcc-12", b"", 0o644)],
        ],
        config={"User": user} if user else {},
        history=["ADD rootfs /", "RUN install jdk gcc sudo", "RUN rm /usr/bin/gcc-12"],
    )


def test_surface_with_layers(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    image = _surface_image(tmp_path / "img")
    assert run(["scan", image, "-F", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    items = {(i["category"], i["path"], i["layer"]) for i in document["surface"]}
    assert items == {
        ("shell", "/bin/sh", 0),
        ("network-tool", "/usr/bin/curl", 0),
        ("setuid", "/usr/bin/passwd", 0),
        ("world-writable", "/srv/drop", 0),
        ("compiler", "/usr/lib/jvm/jdk/bin/javac", 1),  # gcc-12 was deleted by layer 2
        ("sudo", "/usr/bin/sudo", 1),
        ("setuid", "/usr/bin/sudo", 1),
        ("root-user", None, None),
    }
    messages = [f["message"] for f in document["findings"] if f["rule"] == "TD913"]
    assert messages == ["this image can compile and run new code: javac (layer 1)"]


def test_non_root_user_is_not_flagged(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["scan", _surface_image(tmp_path / "img", user="1000:1000"), "-F", "json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert "root-user" not in {i["category"] for i in document["surface"]}


def _secret_image(root: Path) -> str:
    return crafted_image(
        root,
        [
            [
                ("app", None, 0o755),
                ("app/.env", b"STRIPE_SECRET=sk_live_4eC39HqLyjWDarjtT1zdp7dc\nDEBUG=1\n", 0o644),
                ("root", None, 0o700),
                ("root/.ssh", None, 0o700),
                ("root/.ssh/id_ed25519", f"{KEY}\nAAAAC3NzaC1lZDI1NTE5AAAA\n".encode(), 0o600),
            ],
            [("root/.ssh/.wh.id_ed25519", b"", 0o644)],
        ],
        config={
            "Env": ["PATH=/usr/bin", "GITHUB_TOKEN=ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"],
            "Labels": {"maintainer": "team@example.invalid"},
        },
    )


def test_secrets_in_config_and_deleted_files_are_redacted(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    image = _secret_image(tmp_path / "img")
    assert run(["scan", image, "-F", "json"]) == 0
    out = capsys.readouterr().out
    document = json.loads(out)
    found = {
        (s["kind"], s["where"], s["path"], s["layer"], s["deleted"]) for s in document["secrets"]
    }
    assert found == {
        ("GitHub token", "env", "GITHUB_TOKEN", None, False),
        ("secret assignment", "file", "/app/.env", 0, False),
        ("private key", "file", "/root/.ssh/id_ed25519", 0, True),
    }
    assert "ghp_0123456789abcdef" not in out and "sk_live_4eC39Hq" not in out
    assert {s["value"][:5] for s in document["secrets"]} == {"ghp_…", "sk_l…", "----…"}
    assert run(["scan", image, "-F", "json", "--show-secrets"]) == 0
    assert "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB" in capsys.readouterr().out


POLICY = """
[scan.policy]
forbid-compiler = true
require-non-root = true
banned-packages = ["requests"]
forbid-secrets = true
allowed-bases = ["debian:*"]
"""


@pytest.mark.parametrize("fmt", ["text", "sarif", "junit", "checkstyle", "gitlab", "json"])
def test_policy_violations_exit_1_in_every_format(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "trimdock.toml"
    config.write_text(POLICY)
    image = crafted_image(
        tmp_path / "img", [dist_info("requests", "2.19.1"), [("usr/bin/gcc", b"x", 0o755)]]
    )
    assert run(["scan", image, "--config", str(config), "-F", fmt]) == 1
    out = capsys.readouterr().out
    assert "TD904" in out
    for rule in ("forbidden compiler", "forbidden root-user", "banned-packages", "allowed-bases"):
        assert rule in out, rule


def test_policy_that_passes_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "trimdock.toml"
    config.write_text("[scan.policy]\nforbid-compiler = true\nbanned-licences = ['AGPL*']\n")
    image = crafted_image(tmp_path / "img", [dist_info("requests", "2.19.1")])
    assert run(["scan", image, "--config", str(config), "-F", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["policy"] == {"passed": True, "violations": []}


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        ("[scan.policy]\nforbid-shells = true\n", "unknown key 'forbid-shells' in [scan.policy]"),
        ("[scan.policy]\nforbid-shell = 1\n", "[scan.policy] forbid-shell: must be true or false"),
        ("[scan.policy]\nmax-severity = 'severe'\n", "unknown severity 'severe'"),
        ("[scan.policy]\nallow = ['CVE-1 until tomorrow']\n", "is not 'ID' or 'ID until"),
        ("[scan]\npolicy = 3\n", "[scan] policy has type int"),
    ],
)
def test_policy_config_errors_are_one_line_exit_2(
    tmp_path: Path, toml: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "trimdock.toml"
    config.write_text(toml)
    image = crafted_image(tmp_path / "img", [dist_info("requests", "2.19.1")])
    assert run(["scan", image, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert problem in err and err.count("\n") == 1 and err.startswith("trimdock: ")


URLLIB3 = SHARED_DATA / "osv" / "pypa-advisory-database" / "vulns" / "urllib3"


@pytest.mark.parametrize(
    ("allow", "code"),
    [
        ("", 1),
        ('allow = ["CVE-2023-43804 until 2999-12-31"]', 0),
        ('allow = ["PYSEC-2023-192 until 2020-01-01"]', 1),
    ],
)
def test_max_severity_with_allow_list_and_expiry(
    tmp_path: Path, allow: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    # urllib3 1.23's only advisory above medium is PYSEC-2023-192 (CVE-2023-43804, 8.1).
    config = tmp_path / "trimdock.toml"
    config.write_text(f"[scan.policy]\nmax-severity = 'medium'\n{allow}\n")
    image = crafted_image(tmp_path / "img", [dist_info("urllib3", "1.23")])
    args = ["scan", image, "--config", str(config), "--db", str(URLLIB3), "-F", "json"]
    assert run(args) == code
    violations = json.loads(capsys.readouterr().out)["policy"]["violations"]
    assert [v["message"].split()[0] for v in violations] == (["PYSEC-2023-192"] if code else [])
