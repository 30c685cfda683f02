"""The Go expressions moby/patternmatcher builds, parsed into a Thompson NFA (never backtracks).

Docker runs these expressions with Go's regexp (RE2), whose cost is linear in the path length.
Python's `re` backtracks: `*` x 20 + `b` against a 10k-file context took minutes. So the
expression is parsed here into a small program of instructions (character test, split, assertion,
match) that `automaton.py` runs as a set of states; nothing is ever retried.

The parser reads exactly the syntax `pattern.go_regexp` emits and keeps the quirks trimdock
checks against the engine: a `*` inside `[...]` becomes `[^/]*` and closes the class early,
`\\d`/`\\s`/`\\w` and POSIX classes work, a raw `^` anchors at the start, `\\b` is an ASCII word
boundary. Errors (a bad escape or range, a quantifier with nothing to repeat) raise BadPattern,
as Docker refuses such a pattern.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

from trimdock.context.gopath import BadPattern

Range = tuple[str, str]


@dataclass(frozen=True)
class CharSet:
    """A test for one character: inside any range, or outside every range of a complement."""

    ranges: tuple[Range, ...]
    complements: tuple[tuple[Range, ...], ...] = ()
    negated: bool = False

    def contains(self, ch: str) -> bool:
        hit = any(lo <= ch <= hi for lo, hi in self.ranges) or any(
            not any(lo <= ch <= hi for lo, hi in comp) for comp in self.complements
        )
        return hit != self.negated


def literal(ch: str) -> CharSet:
    return CharSet(((ch, ch),))


ANY = CharSet((), negated=True)  # what a string-prefix or -suffix shortcut lets through
ANY_BUT_NEWLINE = CharSet((("\n", "\n"),), negated=True)  # RE2's `.` without the s flag

_DIGIT: tuple[Range, ...] = (("0", "9"),)
_WORD: tuple[Range, ...] = (("0", "9"), ("A", "Z"), ("a", "z"), ("_", "_"))
_POSIX: dict[str, tuple[Range, ...]] = {
    "alnum": (("0", "9"), ("A", "Z"), ("a", "z")),
    "alpha": (("A", "Z"), ("a", "z")),
    "ascii": (("\x00", "\x7f"),),
    "blank": (("\t", "\t"), (" ", " ")),
    "cntrl": (("\x00", "\x1f"), ("\x7f", "\x7f")),
    "digit": _DIGIT,
    "graph": (("!", "~"),),
    "lower": (("a", "z"),),
    "print": ((" ", "~"),),
    "punct": (("!", "/"), (":", "@"), ("[", "`"), ("{", "~")),
    "space": (("\t", "\r"), (" ", " ")),
    "upper": (("A", "Z"),),
    "word": _WORD,
    "xdigit": (("0", "9"), ("A", "F"), ("a", "f")),
}
_PERL: dict[str, tuple[Range, ...]] = {
    "d": _DIGIT,
    "s": (("\t", "\n"), ("\f", "\r"), (" ", " ")),
    "w": _WORD,
}
_CONTROL = {"a": "\x07", "f": "\x0c", "t": "\t", "n": "\n", "r": "\r", "v": "\x0b"}


def is_word(ch: str) -> bool:
    """An ASCII word character (what `\\b` looks at)."""
    return ch == "_" or ("0" <= ch <= "9") or ("A" <= ch <= "Z") or ("a" <= ch <= "z")


class Assertion(IntEnum):
    START = 0  # `^`, `\A`
    END = 1  # the final `$`, `\z`
    WORD = 2  # `\b`
    NOT_WORD = 3  # `\B`


class Op(IntEnum):
    CHAR = 0  # consume one character in `test`, go to `x`
    SPLIT = 1  # go to `x` and to `y`
    ASSERT = 2  # go to `x` when `assertion` holds here
    MATCH = 3


@dataclass(frozen=True)
class Inst:
    op: Op
    x: int = -1
    y: int = -1
    test: CharSet | None = None
    assertion: Assertion | None = None


@dataclass(frozen=True)
class Program:
    """A Thompson NFA for one pattern; `start` is where matching begins."""

    insts: tuple[Inst, ...]
    start: int


# The parsed expression: ("set", CharSet) | ("assert", Assertion) | ("group", list) |
# ("star", node) | ("quest", node).
Node = tuple[str, object]


def _escape(src: str, i: int) -> tuple[str, object, int]:
    """The escape at src[i] == '\\': ("lit", char) | ("set", CharSet) | ("assert", Assertion)."""
    if i + 1 >= len(src):
        raise BadPattern("trailing backslash")
    c = src[i + 1]
    if c in _CONTROL:
        return "ctl", _CONTROL[c], i + 2
    if c.isascii() and (c.isalnum() or c == "_"):
        if c.lower() in _PERL:
            return "set", CharSet(_PERL[c.lower()], negated=c.isupper()), i + 2
        if c in "bB":
            return "assert", Assertion.WORD if c == "b" else Assertion.NOT_WORD, i + 2
        if c == "A":
            return "assert", Assertion.START, i + 2
        if c == "z":
            return "assert", Assertion.END, i + 2
        raise BadPattern(f"unsupported escape \\{c}")
    return "lit", c, i + 2


def _parse_class(src: str, i: int) -> tuple[CharSet, int]:
    """The RE2 character class starting at src[i] == '['."""
    i += 1
    negated = False
    if i < len(src) and src[i] == "^":
        negated = True
        i += 1
    ranges: list[Range] = []
    complements: list[tuple[Range, ...]] = []
    first = True
    while True:
        if i >= len(src):
            raise BadPattern("missing closing ]")
        c = src[i]
        if c == "]" and not first:
            i += 1
            break
        first = False
        if c == "[" and src.startswith("[:", i):
            end = src.find(":]", i + 2)
            if end != -1:
                name = src[i + 2 : end]
                body = _POSIX.get(name.lstrip("^"))
                if body is None:
                    raise BadPattern(f"invalid character class [:{name}:]")
                if name.startswith("^"):
                    complements.append(body)
                else:
                    ranges.extend(body)
                i = end + 2
                continue
        if c == "\\":
            kind, value, i = _escape(src, i)
            if kind == "set":
                assert isinstance(value, CharSet)
                if value.negated:
                    complements.append(value.ranges)
                else:
                    ranges.extend(value.ranges)
                continue
            if kind == "ctl":
                assert isinstance(value, str)
                ranges.append((value, value))
                continue  # a control escape never starts a range (as before)
            if kind == "assert":
                raise BadPattern("assertion inside a class")
            assert isinstance(value, str)
            lo = value
        else:
            lo = c
            i += 1
        if i + 1 < len(src) and src[i] == "-" and src[i + 1] != "]":
            i += 1
            if src[i] == "\\":
                kind, hi_value, i = _escape(src, i)
                if kind != "lit":
                    raise BadPattern("bad range")
                assert isinstance(hi_value, str)
                hi = hi_value
            else:
                hi = src[i]
                i += 1
            if hi < lo:
                raise BadPattern(f"invalid character class range {lo}-{hi}")
            ranges.append((lo, hi))
        else:
            ranges.append((lo, lo))
    return CharSet(tuple(ranges), tuple(complements), negated), i


def _quantify(items: list[Node], op: str, lazy_ok: list[bool]) -> None:
    """Apply `*` or `?` to the last item; a `?` right after a quantifier only makes it lazy."""
    if not items or items[-1][0] == "assert":
        raise BadPattern("nothing to repeat")
    if items[-1][0] in ("star", "quest"):
        if op == "?" and lazy_ok[-1]:
            lazy_ok[-1] = False  # lazy or greedy: the same answer for a whole-path match
            return
        raise BadPattern("multiple repeat")
    items[-1] = ("star" if op == "*" else "quest", items[-1])
    lazy_ok[-1] = True


def parse(src: str) -> list[Node]:
    """Parse the Go expression `go_regexp` produced into a node list (BadPattern on errors)."""
    stack: list[list[Node]] = [[]]
    lazy: list[bool] = [False]
    i = 0
    n = len(src)
    while i < n:
        c = src[i]
        items = stack[-1]
        if c in "*?":
            _quantify(items, c, lazy)
            i += 1
            continue
        lazy[-1] = False
        if c == "\\":
            kind, value, i = _escape(src, i)
            if kind in ("lit", "ctl"):
                assert isinstance(value, str)
                items.append(("set", literal(value)))
            else:
                items.append((kind, value))
            continue
        if c == "[":
            charset, i = _parse_class(src, i)
            items.append(("set", charset))
            continue
        if c == "(":
            stack.append([])
            lazy.append(False)
        elif c == ")":
            if len(stack) == 1:
                raise BadPattern("unbalanced parenthesis")
            group = stack.pop()
            lazy.pop()
            stack[-1].append(("group", group))
        elif c == "|":
            raise BadPattern("alternation")  # patternmatcher escapes `|`: never produced
        elif c == "^":
            items.append(("assert", Assertion.START))
        elif c == "$" and i == n - 1:
            items.append(("assert", Assertion.END))
        elif c == ".":
            items.append(("set", ANY_BUT_NEWLINE))
        else:
            items.append(("set", literal(c)))
        i += 1
    if len(stack) != 1:
        raise BadPattern("missing )")
    return stack[0]


class _Builder:
    """Emits instructions back to front: each node is compiled knowing where it continues."""

    def __init__(self) -> None:
        self.insts: list[Inst] = [Inst(Op.MATCH)]

    def emit(self, inst: Inst) -> int:
        self.insts.append(inst)
        return len(self.insts) - 1

    def sequence(self, nodes: list[Node], out: int) -> int:
        for node in reversed(nodes):
            out = self.node(node, out)
        return out

    def node(self, node: Node, out: int) -> int:
        kind, value = node
        if kind == "set":
            assert isinstance(value, CharSet)
            return self.emit(Inst(Op.CHAR, x=out, test=value))
        if kind == "assert":
            assert isinstance(value, Assertion)
            return self.emit(Inst(Op.ASSERT, x=out, assertion=value))
        if kind == "group":
            assert isinstance(value, list)
            return self.sequence(value, out)
        assert isinstance(value, tuple)
        if kind == "quest":
            body = self.node(value, out)
            return self.emit(Inst(Op.SPLIT, x=body, y=out))
        loop = self.emit(Inst(Op.SPLIT))  # patched below: the body loops back to it
        body = self.node(value, loop)
        self.insts[loop] = Inst(Op.SPLIT, x=body, y=out)
        return loop


def compile_nodes(nodes: list[Node]) -> Program:
    builder = _Builder()
    start = builder.sequence(nodes, 0)
    return Program(tuple(builder.insts), start)


def compile_regexp(src: str) -> Program:
    """The program for a Go expression from `go_regexp` (anchored at both ends by it)."""
    return compile_nodes(parse(src))


def literal_nodes(text: str) -> list[Node]:
    return [("set", literal(ch)) for ch in text]


def anything() -> Node:
    return ("star", ("set", ANY))
