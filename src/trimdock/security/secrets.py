"""Secrets in an image: config (ENV, LABEL, history commands) and file contents of every layer,
including files a later layer deleted (their bytes still ship and can be extracted).

detect-secrets' plugins were considered: its keyword and entropy plugins flag most config
files of a distribution, and its line-based API has no notion of a file's role. The detectors
here are the credential formats with a fixed shape (private keys, cloud and forge tokens), the
credential files of package tools (`.npmrc`, `.pypirc`, `.netrc`, Docker `config.json`), and
assignments to secret-named keys whose value is long and random (Shannon entropy), with
placeholders (`${VAR}`, `<token>`, `changeme`) left alone. Values are redacted everywhere:
the first 4 characters and a fingerprint (sha256, 12 hex digits) identify a value without
showing it; `--show-secrets` shows it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass

from trimdock.image.model import EntryType, LayerEntry
from trimdock.security.collect import Kind, Selector


@dataclass(frozen=True)
class Secret:
    kind: str  # what was found: "AWS access key id", "private key", ...
    where: str  # "file", "env", "label", "history"
    path: str  # file path, or the variable/label name, or "history[N]"
    layer: int  # -1: the config
    line: int
    value: str
    deleted: bool = False  # the file is not in the final filesystem

    @property
    def fingerprint(self) -> str:
        return hashlib.sha256(self.value.encode("utf-8", "surrogateescape")).hexdigest()[:12]

    def shown(self, reveal: bool) -> str:
        if reveal:
            return self.value
        return f"{self.value[:4]}…(sha256:{self.fingerprint})"


@dataclass(frozen=True)
class _Detector:
    kind: str
    pattern: re.Pattern[str]
    group: int = 0
    entropy: float = 0.0  # minimum Shannon entropy (bits per char) of the value


_DETECTORS = (
    _Detector(
        "private key",
        re.compile(r"-----BEGIN (?:[A-Z]+ )?PRIVATE KEY(?: BLOCK)?-----"),
    ),
    _Detector("AWS access key id", re.compile(r"\b((?:AKIA|ASIA)[0-9A-Z]{16})\b"), 1),
    _Detector(
        "AWS secret access key",
        re.compile(r"(?i)aws_secret_access_key\s*[=:]\s*[\"']?([A-Za-z0-9/+=]{40})\b"),
        1,
    ),
    _Detector("GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{36,}|github_pat_\w{22,})")),
    _Detector("GitLab token", re.compile(r"\b(glpat-[A-Za-z0-9_-]{20,})")),
    _Detector("Slack token", re.compile(r"\b(xox[abposr]-[A-Za-z0-9-]{10,})")),
    _Detector("npm token", re.compile(r"\b(npm_[A-Za-z0-9]{36})\b")),
    _Detector("npm auth token", re.compile(r"_auth(?:Token)?\s*=\s*([^\s$][^\s]{8,})"), 1),
    _Detector("PyPI token", re.compile(r"\b(pypi-AgE[A-Za-z0-9_-]{50,})")),
    _Detector(
        "password in URL",
        re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s:/@\"']+:([^\s@/\"'$]{6,})@[\w.-]+"),
        1,
        2.5,
    ),
    _Detector(
        "registry credentials",
        re.compile(r"\"auth\"\s*:\s*\"([A-Za-z0-9+/=]{12,})\""),
        1,
    ),
    _Detector(
        "netrc/pypirc password",
        re.compile(r"(?im)^\s*(?:machine\s+\S+\s+login\s+\S+\s+)?password\s*[=: ]\s*(\S{6,})"),
        1,
        2.5,
    ),
    _Detector(
        "secret assignment",
        re.compile(
            r"(?i)\b[\w.-]*(?:secret|token|passw(?:or)?d|api[_-]?key|access[_-]?key|"
            r"private[_-]?key|credentials?)[\w.-]*[\"']?\s*[:=]\s*[\"']?([^\s\"'`;,]{16,})"
        ),
        1,
        3.5,
    ),
)

_PLACEHOLDER = re.compile(
    r"(?i)^(?:\$\{?[\w:-]+\}?|<[^>]*>|%\(?\w+\)?s?|\{\{.*\}\}|(?:x+|\*+|\.+)|"
    r".*(?:changeme|example|placeholder|your[_-]|dummy|redacted).*)$"
)

_SECRET_FILE_NAMES = frozenset(
    {
        ".npmrc",
        ".pypirc",
        ".netrc",
        "_netrc",
        ".git-credentials",
        ".env",
        ".htpasswd",
        "credentials",
        "id_rsa",
        "id_dsa",
        "id_ecdsa",
        "id_ed25519",
        ".dockercfg",
        ".s3cfg",
        ".boto",
        "secrets.yaml",
        "secrets.yml",
        "secrets.json",
    }
)
SECRET_FILE_LIMIT = 256 * 1024  # larger files are data, not configuration
_SECRET_SUFFIXES = (".pem", ".key", ".env")
_APP_ROOTS = ("root/", "home/", "app/", "srv/", "opt/", "workspace/", "usr/src/app/")
_TEXT_SUFFIXES = (
    ".env",
    ".ini",
    ".cfg",
    ".conf",
    ".yaml",
    ".yml",
    ".json",
    ".properties",
    ".toml",
    ".sh",
    ".txt",
    ".xml",
    ".config",
)
_PACKAGE_DIRS = ("/site-packages/", "/dist-packages/", "/node_modules/", "/.cache/")


def select_secret_files(entry: LayerEntry) -> Kind | None:
    """Files whose contents are searched: credential files by name anywhere, and small text
    files of application folders (never package trees: their test fixtures are full of fake
    keys)."""
    if entry.type is not EntryType.FILE or entry.size == 0 or entry.size > SECRET_FILE_LIMIT:
        return None
    path = entry.path
    name = path[path.rfind("/") + 1 :]
    by_name = (
        name in _SECRET_FILE_NAMES
        or name.endswith(_SECRET_SUFFIXES)
        or name.startswith(".env.")
        or path.endswith(".docker/config.json")
    )
    if not by_name and not (path.startswith(_APP_ROOTS) and name.endswith(_TEXT_SUFFIXES)):
        return None
    if any(marker in "/" + path for marker in _PACKAGE_DIRS):
        return None
    if by_name and path.startswith(("usr/share/", "usr/lib/", "etc/ssl/")):
        return None  # shipped certificates, test keys of packages
    return Kind.SECRET_CANDIDATE


def entropy(value: str) -> float:
    if not value:
        return 0.0
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values())


def find_in_text(text: str) -> Iterator[tuple[str, int, str]]:
    """(kind, line number, value) of every secret in a text; one finding per value."""
    seen: set[str] = set()
    for number, line in enumerate(text.splitlines(), start=1):
        if len(line) > 4096:
            line = line[:4096]
        for detector in _DETECTORS:
            for match in detector.pattern.finditer(line):
                value = match.group(detector.group)
                if value in seen or _PLACEHOLDER.match(value):
                    continue
                if detector.entropy and entropy(value) < detector.entropy:
                    continue
                if any(value in s or s in value for s in seen):
                    continue  # the same value caught by a broader detector
                seen.add(value)
                yield detector.kind, number, value


def is_text(data: bytes) -> bool:
    return b"\0" not in data[:8192]


SECRETS = Selector(
    pick=select_secret_files,
    names=_SECRET_FILE_NAMES | {"config.json"},
    extensions=frozenset({*_SECRET_SUFFIXES, *_TEXT_SUFFIXES}),
    name_prefixes=(".env.",),
)
