from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from trimdock.config import load_config
from trimdock.errors import ConfigError, UsageError
from trimdock.host.duration import MAX_DURATION, format_age, format_duration, parse_duration
from trimdock.host.policy import Policy, load_policy, override, validate_all


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 30 * 86400), ("12h", 43200), ("1w2d", 9 * 86400), ("90m", 5400), ("0s", 0)],
)
def test_durations(text: str, seconds: int) -> None:
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "30", "3 days", "d", "1y", "-1d", "1d foo"])
def test_invalid_durations_name_the_option(text: str) -> None:
    with pytest.raises(UsageError, match="--older-than"):
        parse_duration(text, source="--older-than")


@pytest.mark.parametrize(
    "text", ["99999999999999999999d", "36501d", "5300w", "1" + "0" * 5000 + "s", "36500d1s"]
)
def test_durations_beyond_a_century_are_refused(text: str) -> None:
    # Past timedelta's range these used to be an OverflowError ("internal error").
    with pytest.raises(UsageError, match=r"--older-than: duration .* is too long"):
        parse_duration(text, source="--older-than")


def test_the_longest_duration_is_accepted() -> None:
    assert parse_duration("36500d") == MAX_DURATION
    assert parse_duration("0" * 50 + "1d") == timedelta(days=1)  # leading zeros are no size


def test_duration_formatting() -> None:
    assert format_duration(timedelta(days=9)) == "9d"
    assert format_duration(timedelta(days=14)) == "2w"
    assert format_duration(timedelta(minutes=90)) == "1h30m"
    assert format_age(timedelta(hours=5, minutes=3)) == "5h"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / ".trimdock.toml"
    path.write_text(text)
    return path


def test_named_policy_inherits_prune_defaults(tmp_path: Path) -> None:
    write(
        tmp_path,
        """
[prune]
protect = ["debian:*"]
[prune.policies.nightly]
unused-older-than = "7d"
keep-newest = 3
containers-older-than = "1d"
volumes = true
""",
    )
    policy = load_policy(load_config(start=tmp_path), "nightly")
    assert policy == Policy(
        name="nightly",
        protect=("debian:*",),
        unused_older_than=timedelta(days=7),
        keep_newest=3,
        containers_older_than=timedelta(days=1),
        volumes=True,
    )


def test_unknown_key_in_nested_policy_names_file_and_key(tmp_path: Path) -> None:
    path = write(tmp_path, "[prune.policies.nightly]\nkeep-newst = 3\n")
    config = load_config(start=tmp_path)
    with pytest.raises(ConfigError, match=rf"{path}.*'keep-newst'.*\[prune.policies.nightly\]"):
        validate_all(config)


def test_wrong_type_in_nested_policy(tmp_path: Path) -> None:
    write(tmp_path, "[prune.policies.nightly]\nkeep-newest = '3'\n")
    with pytest.raises(ConfigError, match="keep-newest has type str"):
        load_policy(load_config(start=tmp_path), "nightly")


def test_invalid_duration_in_config_names_file_and_key(tmp_path: Path) -> None:
    write(tmp_path, "[prune.policies.nightly]\nunused-older-than = '7 days'\n")
    with pytest.raises(UsageError, match=r"\.trimdock\.toml: \[prune.policies.nightly\]"):
        load_policy(load_config(start=tmp_path), "nightly")


def test_unknown_policy_lists_the_known_ones(tmp_path: Path) -> None:
    write(tmp_path, "[prune.policies.nightly]\nkeep-newest = 3\n")
    with pytest.raises(UsageError, match=r"unknown policy 'weekly'.*nightly"):
        load_policy(load_config(start=tmp_path), "weekly")


def test_unknown_top_level_prune_key(tmp_path: Path) -> None:
    write(tmp_path, "[prune]\nkeep = 3\n")
    with pytest.raises(ConfigError, match="unknown key 'keep' in \\[prune\\]"):
        load_policy(load_config(start=tmp_path), None)


def test_command_line_overrides_scalars_and_extends_lists() -> None:
    base = Policy(protect=("a",), keep_newest=3)
    merged = override(base, protect=["b"], keep_newest=1, dangling=None)
    assert merged.protect == ("a", "b")
    assert merged.keep_newest == 1
    assert merged.dangling is True
