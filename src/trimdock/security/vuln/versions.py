"""Version ordering of each ecosystem, as OSV's `ECOSYSTEM` ranges need it.

`univers` was tried first and fails the reference tables in ../shared/data/version-order
(dpkg `0.0.0 = 0.0.0-00`, apk `_p` suffixes and `-r` edge cases, PEP 440 legacy versions), so
the rules are implemented here from the tools' own definitions and tested on every table line:

* Debian: dpkg's `verrevcmp` (epoch, upstream, revision; `~` before everything).
* Alpine: apk-tools' token comparison (digits, letter, `_suffix[N]`, `-rN`).
* PyPI: PEP 440 (`packaging`), with pre-PEP 440 "legacy" versions ordered before every valid
  version by setuptools' historic key, as pip did.
* npm, Go (and OSV `SEMVER` ranges): Semantic Versioning 2.0 precedence (`v` prefix allowed).
* Maven: `ComparableVersion`'s rules (trimdock.security.vuln.maven).
* RPM (Red Hat, Rocky Linux, AlmaLinux, openSUSE, SUSE): rpm's `rpmvercmp` on each part of
  `[epoch:]version[-release]` (rpm's `rpmverCmp`). The shared tables have no RPM file: the
  RPM table is tests/security/fixtures/rpm-versions.txt (rpm's own test cases), checked in the
  tests against this code and against the installed rpm itself. `univers`, not a dependency,
  was not added for this one ordering: rpm's definition is forty lines and the table and rpm
  are the oracles.

`GIT` ranges are never compared: they name commits, and a record's `versions` list is what
matches them.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from packaging.version import InvalidVersion, Version

from trimdock.security.vuln.maven import compare_maven

Compare = Callable[[str, str], int]

# The OSV ecosystems whose versions are rpm's (`RPM` is trimdock's own name for an inventoried
# rpm package before its distribution is known).
RPM_ECOSYSTEMS = ("RPM", "Red Hat", "Rocky Linux", "AlmaLinux", "openSUSE", "SUSE")


def _sign(value: int) -> int:
    return (value > 0) - (value < 0)


# -- Debian -----------------------------------------------------------------------------------


def _dpkg_order(char: str) -> int:
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _verrevcmp(a: str, b: str) -> int:
    i = j = 0
    while i < len(a) or j < len(b):
        while (i < len(a) and not a[i].isdigit()) or (j < len(b) and not b[j].isdigit()):
            ac = _dpkg_order(a[i]) if i < len(a) and not a[i].isdigit() else 0
            bc = _dpkg_order(b[j]) if j < len(b) and not b[j].isdigit() else 0
            if ac != bc:
                return _sign(ac - bc)
            i += 1
            j += 1
        while i < len(a) and a[i] == "0":
            i += 1
        while j < len(b) and b[j] == "0":
            j += 1
        first_diff = 0
        while i < len(a) and a[i].isdigit() and j < len(b) and b[j].isdigit():
            if not first_diff:
                first_diff = ord(a[i]) - ord(b[j])
            i += 1
            j += 1
        if i < len(a) and a[i].isdigit():
            return 1
        if j < len(b) and b[j].isdigit():
            return -1
        if first_diff:
            return _sign(first_diff)
    return 0


def _dpkg_split(version: str) -> tuple[int, str, str]:
    version = version.strip()
    epoch = 0
    if ":" in version:
        head, _, version = version.partition(":")
        epoch = int(head) if head.isdigit() else 0
    upstream, sep, revision = version.rpartition("-")
    if not sep:
        upstream, revision = version, ""
    return epoch, upstream, revision


def compare_debian(a: str, b: str) -> int:
    ea, ua, ra = _dpkg_split(a)
    eb, ub, rb = _dpkg_split(b)
    if ea != eb:
        return _sign(ea - eb)
    return _verrevcmp(ua, ub) or _verrevcmp(ra, rb)


# -- Alpine -----------------------------------------------------------------------------------

_T_INVALID, _T_DIGIT_OR_ZERO, _T_DIGIT, _T_LETTER, _T_SUFFIX, _T_SUFFIX_NO, _T_REVISION_NO = (
    -1,
    0,
    1,
    2,
    3,
    4,
    5,
)
_T_END = 6
_PRE_SUFFIXES = ("alpha", "beta", "pre", "rc")
_POST_SUFFIXES = ("cvs", "svn", "git", "hg", "p")


class _ApkBlob:
    __slots__ = ("pos", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    @property
    def rest(self) -> int:
        return len(self.text) - self.pos

    def at(self, offset: int = 0) -> str:
        index = self.pos + offset
        return self.text[index] if index < len(self.text) else "\0"


def _apk_next_token(kind: int, blob: _ApkBlob) -> int:
    new = _T_INVALID
    char = blob.at()
    if blob.rest == 0 or char == "\0":
        new = _T_END
    elif kind in (_T_DIGIT, _T_DIGIT_OR_ZERO) and char.islower():
        new = _T_LETTER
    elif kind == _T_LETTER and char.isdigit():
        new = _T_DIGIT
    elif kind == _T_LETTER and char.islower():
        new = _T_LETTER  # apk-tools 3 takes a run of letters ("1.0bc")
    elif kind == _T_SUFFIX and char.isdigit():
        new = _T_SUFFIX_NO
    else:
        if char == ".":
            new = _T_DIGIT_OR_ZERO
        elif char == "_":
            new = _T_SUFFIX
        elif char == "-" and blob.rest > 1 and blob.at(1) == "r":
            new = _T_REVISION_NO
            blob.pos += 1
        blob.pos += 1
    if new < kind and not (
        (new == _T_DIGIT_OR_ZERO and kind == _T_DIGIT)
        or (new == _T_SUFFIX and kind == _T_SUFFIX_NO)
        or (new == _T_DIGIT and kind == _T_LETTER)
    ):
        new = _T_INVALID
    return new


def _apk_get_token(kind: int, blob: _ApkBlob) -> tuple[int, int]:
    """(value, next token kind), as apk-tools' get_token."""
    if blob.rest <= 0:
        return 0, _T_END
    value = 0
    i = 0
    next_kind = _T_INVALID
    text, pos = blob.text, blob.pos
    if kind == _T_DIGIT_OR_ZERO and text[pos] == "0":
        while pos + i < len(text) and text[pos + i] == "0":
            i += 1
        next_kind = _T_DIGIT
        value = -i
    elif kind in (_T_DIGIT_OR_ZERO, _T_DIGIT, _T_SUFFIX_NO, _T_REVISION_NO):
        while pos + i < len(text) and text[pos + i].isdigit():
            value = value * 10 + int(text[pos + i])
            i += 1
        if i == 0 and kind == _T_DIGIT_OR_ZERO:
            return 0, _T_INVALID  # "0.r1": a dot must be followed by a number
    elif kind == _T_LETTER:
        value = ord(text[pos])
        i = 1
    elif kind == _T_SUFFIX:
        rest = text[pos:]
        for index, suffix in enumerate(_PRE_SUFFIXES):
            if rest.startswith(suffix):
                value, i = index - len(_PRE_SUFFIXES), len(suffix)
                break
        else:
            for index, suffix in enumerate(_POST_SUFFIXES):
                if rest.startswith(suffix):
                    value, i = index, len(suffix)
                    break
            else:
                return 0, _T_INVALID
    else:
        return 0, _T_INVALID
    blob.pos += i
    if blob.rest == 0:
        return value, _T_END
    if next_kind != _T_INVALID:
        return value, next_kind
    return value, _apk_next_token(kind, blob)


def _apk_valid(version: str) -> bool:
    blob = _ApkBlob(version)
    kind = _T_DIGIT
    while kind not in (_T_END, _T_INVALID):
        _, kind = _apk_get_token(kind, blob)
    return kind == _T_END


def compare_alpine(a: str, b: str) -> int:
    """apk's token order. When the tokens agree up to where one version stops parsing, the
    unparsable version sorts first (two unparsable ones are equal), as apk-tools 3 orders them
    (the reference table's invalid-version cases)."""
    blob_a, blob_b = _ApkBlob(a), _ApkBlob(b)
    at = bt = _T_DIGIT
    av = bv = 0
    previous = at
    while at == bt and at not in (_T_END, _T_INVALID) and av == bv:
        previous = at
        av, at = _apk_get_token(at, blob_a)
        bv, bt = _apk_get_token(bt, blob_b)
    if av != bv:
        return -1 if av < bv else 1
    if at == bt == _T_INVALID and previous == _T_REVISION_NO:
        return 0  # what follows a revision is not part of the version
    if at == bt == _T_INVALID:
        # Both stop parsing at the same token: the unparsed rests decide, byte by byte.
        rest_a, rest_b = blob_a.text[blob_a.pos :], blob_b.text[blob_b.pos :]
        return 0 if rest_a == rest_b else (-1 if rest_a < rest_b else 1)
    valid_a, valid_b = _apk_valid(a), _apk_valid(b)
    if not (valid_a and valid_b):
        return _sign(int(valid_a) - int(valid_b))
    if at == bt:
        return 0
    if at == _T_SUFFIX and _apk_get_token(at, _ApkBlob(blob_a.text[blob_a.pos :]))[0] < 0:
        return -1
    if bt == _T_SUFFIX and _apk_get_token(bt, _ApkBlob(blob_b.text[blob_b.pos :]))[0] < 0:
        return 1
    if at > bt:
        return -1
    if bt > at:
        return 1
    return 0


# -- RPM --------------------------------------------------------------------------------------


def _rpm_alnum(char: str) -> bool:
    # rpm's risalnum: ASCII letters and digits only (a UTF-8 letter is a separator to rpm).
    return char.isascii() and char.isalnum()


def rpmvercmp(a: str, b: str) -> int:
    """rpm's `rpmvercmp` (rpmio/rpmvercmp.c, rpm 4.18): alternating runs of digits and of
    letters compared one by one, any other character a separator; digits beat letters; `~`
    sorts before everything (even the end), `^` after the end but before anything else."""
    if a == b:
        return 0
    i = j = 0
    la, lb = len(a), len(b)
    while i < la or j < lb:
        while i < la and not _rpm_alnum(a[i]) and a[i] not in "~^":
            i += 1
        while j < lb and not _rpm_alnum(b[j]) and b[j] not in "~^":
            j += 1
        ca = a[i] if i < la else ""
        cb = b[j] if j < lb else ""
        if ca == "~" or cb == "~":
            if ca != "~":
                return 1
            if cb != "~":
                return -1
            i += 1
            j += 1
            continue
        if ca == "^" or cb == "^":
            if not ca:
                return -1
            if not cb:
                return 1
            if ca != "^":
                return 1
            if cb != "^":
                return -1
            i += 1
            j += 1
            continue
        if not (ca and cb):
            break
        numeric = ca.isdigit()
        same_kind = str.isdigit if numeric else str.isalpha
        start_a, start_b = i, j
        while i < la and a[i].isascii() and same_kind(a[i]):
            i += 1
        while j < lb and b[j].isascii() and same_kind(b[j]):
            j += 1
        one, two = a[start_a:i], b[start_b:j]
        if not two:
            # Different kinds of segment: a number is newer than letters.
            return 1 if numeric else -1
        if numeric:
            one, two = one.lstrip("0"), two.lstrip("0")
            if len(one) != len(two):
                return 1 if len(one) > len(two) else -1
        if one != two:
            return 1 if one > two else -1
    if i >= la and j >= lb:
        return 0
    return -1 if i >= la else 1


def _rpm_split(evr: str) -> tuple[str, str, str | None]:
    """rpm's `parseEVR`: an epoch when digits run up to a `:` (else 0), the release after the
    last `-` (None without a dash; an empty release after a trailing dash is still one)."""
    evr = evr.strip()
    digits = 0
    while digits < len(evr) and evr[digits].isascii() and evr[digits].isdigit():
        digits += 1
    epoch, rest = "0", evr
    if digits < len(evr) and evr[digits] == ":":
        epoch, rest = evr[:digits] or "0", evr[digits + 1 :]
    version, dash, release = rest.rpartition("-")
    return (epoch, version, release) if dash else (epoch, rest, None)


def compare_rpm(a: str, b: str) -> int:
    """`[epoch:]version[-release]` as rpm 4.18 orders them (its Lua `rpm.vercmp`): epochs,
    versions, then releases by `rpmvercmp`, where a version with a release, even an empty
    one, is newer than the same version without ("1.0" < "1.0-" < "1.0-0"), as the table
    checked against rpm says."""
    ea, va, ra = _rpm_split(a)
    eb, vb, rb = _rpm_split(b)
    result = rpmvercmp(ea, eb) or rpmvercmp(va, vb)
    if result or ra == rb:
        return result
    if ra is None or rb is None:
        return -1 if ra is None else 1
    return rpmvercmp(ra, rb)


# -- PyPI ---------------------------------------------------------------------------------------

_LEGACY_COMPONENT = re.compile(r"(\d+ | [a-z]+ | \.| -)", re.VERBOSE)
_LEGACY_REPLACE = {"pre": "c", "preview": "c", "-": "final-", "rc": "c", "dev": "@"}


def _legacy_key(version: str) -> tuple[str, ...]:
    parts: list[str] = []
    for raw in _LEGACY_COMPONENT.split(version.lower()):
        part = _LEGACY_REPLACE.get(raw, raw)
        if not part or part == ".":
            continue
        part = part.zfill(8) if part[:1].isdigit() else "*" + part
        if part.startswith("*"):
            if part < "*final":
                while parts and parts[-1] == "*final-":
                    parts.pop()
            while parts and parts[-1] == "00000000":
                parts.pop()
        parts.append(part)
    parts.append("*final")
    return tuple(parts)


@functools.lru_cache(maxsize=65536)
def _pypi_key(version: str) -> tuple[int, Any]:
    try:
        return (1, Version(version))
    except InvalidVersion:
        return (0, _legacy_key(version))


def compare_pypi(a: str, b: str) -> int:
    ka, kb = _pypi_key(a), _pypi_key(b)
    if ka[0] != kb[0]:
        return _sign(ka[0] - kb[0])
    return 0 if ka[1] == kb[1] else (-1 if ka[1] < kb[1] else 1)


# -- SemVer (npm, Go, OSV SEMVER ranges) -----------------------------------------------------------


def _semver_parts(version: str) -> tuple[tuple[int, ...], tuple[str, ...]]:
    version = version.strip().removeprefix("v").removeprefix("=")
    version = version.split("+", 1)[0]
    core, _, pre = version.partition("-")
    numbers = []
    for piece in core.split("."):
        digits = re.match(r"\d*", piece)
        numbers.append(int(digits.group()) if digits and digits.group() else 0)
    while len(numbers) < 3:
        numbers.append(0)
    return tuple(numbers), tuple(pre.split(".")) if pre else ()


def compare_semver(a: str, b: str) -> int:
    (na, pa), (nb, pb) = _semver_parts(a), _semver_parts(b)
    if na != nb:
        return -1 if na < nb else 1
    if pa == pb:
        return 0
    if not pa:
        return 1
    if not pb:
        return -1
    for x, y in zip(pa, pb, strict=False):
        if x == y:
            continue
        if x.isdigit() and y.isdigit():
            return -1 if int(x) < int(y) else 1
        if x.isdigit() != y.isdigit():
            return -1 if x.isdigit() else 1
        return -1 if x < y else 1
    return _sign(len(pa) - len(pb))


COMPARATORS: dict[str, Compare] = {
    "Debian": compare_debian,
    "Alpine": compare_alpine,
    "PyPI": compare_pypi,
    "npm": compare_semver,
    "Go": compare_semver,
    "Maven": compare_maven,
    "SEMVER": compare_semver,
    **dict.fromkeys(RPM_ECOSYSTEMS, compare_rpm),
}


def comparator(ecosystem: str) -> Compare | None:
    """The ordering of an OSV ecosystem (`Debian:12` uses Debian's), None when unsupported."""
    return COMPARATORS.get(ecosystem.split(":", 1)[0])
