"""Maven version ordering: the rules of Maven's `ComparableVersion` (documented in Maven's
"POM Reference", Version Order Specification), re-implemented, checked against the shared
version-order tables (tests/security/test_versions.py).

A version is lower-cased and split at `.` and `-` and at each change between digits and
letters; `-` (and a letter/digit change) opens a nested list. Numbers compare numerically;
qualifiers rank alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp,
and unknown qualifiers after those, alphabetically; `a1`, `b1`, `m1` mean alpha-1, beta-1,
milestone-1. Trailing zeros and empty qualifiers of each list are dropped, so 1 = 1.0 = 1-ga.
"""

from __future__ import annotations

_QUALIFIERS = ("alpha", "beta", "milestone", "rc", "snapshot", "", "sp")
_ALIASES = {"ga": "", "final": "", "release": "", "cr": "rc"}
_RELEASE = str(_QUALIFIERS.index(""))
_SHORT = {"a": "alpha", "b": "beta", "m": "milestone"}


class _Int:
    __slots__ = ("value",)

    def __init__(self, text: str) -> None:
        self.value = int(text)

    def is_null(self) -> bool:
        return self.value == 0


class _Str:
    __slots__ = ("value",)

    def __init__(self, text: str, followed_by_digit: bool) -> None:
        if followed_by_digit and len(text) == 1:
            text = _SHORT.get(text, text)
        self.value = _ALIASES.get(text, text)

    def is_null(self) -> bool:
        return _rank(self.value) == _RELEASE


class _List(list["_Item"]):
    def is_null(self) -> bool:
        return not self

    def normalize(self) -> None:
        dropped_qualifier = False
        for i in range(len(self) - 1, -1, -1):
            if self[i].is_null():
                dropped_qualifier = dropped_qualifier or isinstance(self[i], _Str)
                del self[i]
            elif not isinstance(self[i], _List):
                break
        if dropped_qualifier and len(self) == 1 and isinstance(self[0], _List):
            # `1-ga-1`: the release qualifier dropped, its list holds only the next list,
            # which then stands in its place (Maven orders 1-ga-1 = 1-1).
            self[:] = self[0]


_Item = _Int | _Str | _List


def _rank(qualifier: str) -> str:
    if qualifier in _QUALIFIERS:
        return str(_QUALIFIERS.index(qualifier))
    return f"{len(_QUALIFIERS)}-{qualifier}"


def _cmp_int(a: int, b: int) -> int:
    return (a > b) - (a < b)


def _cmp_str(a: str, b: str) -> int:
    return (a > b) - (a < b)


def _compare(a: _Item | None, b: _Item | None) -> int:
    """Maven's Item.compareTo, `None` standing for a missing item."""
    if a is None:
        return 0 if b is None else -_compare(b, None)
    if isinstance(a, _Int):
        if b is None:
            return 0 if a.value == 0 else 1
        return _cmp_int(a.value, b.value) if isinstance(b, _Int) else 1
    if isinstance(a, _Str):
        if b is None:
            return _cmp_str(_rank(a.value), _RELEASE)
        if isinstance(b, _Str):
            return _cmp_str(_rank(a.value), _rank(b.value))
        return -1
    if b is None:
        return _compare(a[0], None) if a else 0
    if isinstance(b, _Int):
        return -1
    if isinstance(b, _Str):
        return 1
    for index in range(max(len(a), len(b))):
        left = a[index] if index < len(a) else None
        right = b[index] if index < len(b) else None
        result = _compare(left, right)
        if result:
            return result
    return 0


def _item(text: str, digit: bool, followed_by_digit: bool = False) -> _Item:
    return _Int(text) if digit else _Str(text, followed_by_digit)


def parse_maven(version: str) -> _List:
    text = version.lower()
    root = _List()
    current = root
    stack = [root]
    digit = False
    start = 0
    for i, char in enumerate(text):
        if char == ".":
            current.append(_Int("0") if i == start else _item(text[start:i], digit))
            start = i + 1
        elif char == "-":
            current.append(_Int("0") if i == start else _item(text[start:i], digit))
            start = i + 1
            nested = _List()
            current.append(nested)
            current = nested
            stack.append(nested)
        elif char.isdigit() and char.isascii():
            if not digit and i > start:
                current.append(_Str(text[start:i], True))
                start = i
                nested = _List()
                current.append(nested)
                current = nested
                stack.append(nested)
            digit = True
        else:
            if digit and i > start:
                current.append(_Int(text[start:i]))
                start = i
                nested = _List()
                current.append(nested)
                current = nested
                stack.append(nested)
            digit = False
    if len(text) > start:
        current.append(_item(text[start:], digit))
    for item in reversed(stack):
        item.normalize()
    return root


def compare_maven(a: str, b: str) -> int:
    """-1, 0 or 1 as Maven orders versions `a` and `b`."""
    return _compare(parse_maven(a), parse_maven(b))
