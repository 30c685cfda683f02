"""A Compose file as plain data plus the line and column of every key and value.

PyYAML's composer keeps marks on nodes; the data is built from the nodes here (not with
`yaml.safe_load`) so each value's position is known by its path (`("services", "web",
"privileged")`). Aliases are followed with a budget: a "billion laughs" file is refused instead
of expanded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from trimdock.errors import ComposeError
from trimdock.rules.pragmas import parse_pragma

Path_ = tuple[str | int, ...]
# Nodes visited while building the data; a real Compose file has a few thousand.
MAX_NODES = 1_000_000
MAX_BYTES = 10 * 1024 * 1024
_COMMENT = re.compile(r"(?:^|\s)#(.*)$")


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based
    end_line: int
    end_column: int


@dataclass(frozen=True)
class ComposeFile:
    path: str
    text: str
    data: Any
    keys: Mapping[Path_, Position]  # where each mapping key is (its own span)
    values: Mapping[Path_, Position]  # where each value is (a whole block for a mapping)
    global_ignores: frozenset[str] = frozenset()
    # (first line, last line, ids): a pragma comment covers the node on the next line
    ignores: tuple[tuple[int, int, frozenset[str]], ...] = ()

    def at(self, path: Path_) -> Position:
        """The key of `path` when it is a mapping member, else its value; up the path until a
        position is known (a merged key has the anchor's position)."""
        while path:
            found = self.keys.get(path) or self.values.get(path)
            if found is not None:
                return found
            path = path[:-1]
        return Position(1, 1, 1, 1)

    def ignored(self, rule_ids: frozenset[str], line: int) -> bool:
        if rule_ids & self.global_ignores:
            return True
        return any(start <= line <= end and rule_ids & ids for start, end, ids in self.ignores)


class _Loader(yaml.SafeLoader):
    """YAML 1.2 scalars, as Compose reads them: `80:80` is a string (YAML 1.1 made it the
    base-60 number 4880), `yes`/`on` are strings, dates stay strings."""


_REPLACED = {"tag:yaml.org,2002:bool", "tag:yaml.org,2002:int", "tag:yaml.org,2002:float",
             "tag:yaml.org,2002:timestamp"}  # fmt: skip
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:int",
    re.compile(r"^(?:[-+]?[1-9][0-9]*|0|0x[0-9a-fA-F]+)$"),
    list("-+0123456789"),
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+\.[0-9]*)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
        r"|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)


def _position(node: yaml.Node) -> Position:
    start, end = node.start_mark, node.end_mark
    return Position(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


@dataclass
class _Builder:
    loader: yaml.SafeLoader
    keys: dict[Path_, Position] = field(default_factory=dict)
    values: dict[Path_, Position] = field(default_factory=dict)
    visited: int = 0

    def build(self, node: yaml.Node, path: Path_, depth: int = 0) -> Any:
        self.visited += 1
        if self.visited > MAX_NODES or depth > 200:
            raise ComposeError("too many nodes (aliases expanding without end?)")
        self.values.setdefault(path, _position(node))
        if isinstance(node, yaml.MappingNode):
            self.loader.flatten_mapping(node)  # `<<: *defaults` merges, as Compose does
            result: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                key = self.loader.construct_object(key_node, deep=True)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise ComposeError(
                        f"line {key_node.start_mark.line + 1}: a mapping key must be a scalar"
                    )
                name = key if isinstance(key, str) else str(key)
                self.keys.setdefault((*path, name), _position(key_node))
                result[name] = self.build(value_node, (*path, name), depth + 1)
            return result
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i), depth + 1) for i, item in enumerate(node.value)]
        return self.loader.construct_object(node, deep=True)


def _comments(text: str) -> Iterator[tuple[int, bool, str]]:
    """(line, alone on its line?, text after '#') of comment-like text; a '#' inside a quoted
    string can look like one, but only a pragma's exact shape is acted on."""
    for number, line in enumerate(text.splitlines(), start=1):
        found = _COMMENT.search(line)
        if found:
            yield number, not line[: found.start()].strip(), found.group(1)


def _pragmas(
    text: str, keys: Mapping[Path_, Position], values: Mapping[Path_, Position]
) -> tuple[frozenset[str], tuple[tuple[int, int, frozenset[str]], ...]]:
    lines = text.splitlines()
    ends: dict[int, int] = {}  # line of a key -> last line of its value
    for path, key in keys.items():
        value = values.get(path, key)
        end = value.end_line
        # A block's end mark is the next token: when only blanks precede it on its line, the
        # block ended on an earlier line.
        before_end = lines[end - 1][: value.end_column - 1] if end <= len(lines) else ""
        if end > key.line and not before_end.strip():
            end -= 1
            while end > key.line and not lines[end - 1].strip():
                end -= 1
        ends[key.line] = max(ends.get(key.line, key.line), end)
    global_ids: set[str] = set()
    ranges: list[tuple[int, int, frozenset[str]]] = []
    for line, alone, comment in _comments(text):
        parsed = parse_pragma(comment)
        if parsed is None:
            continue
        is_global, ids = parsed
        if is_global:
            global_ids |= ids
            continue
        target = line
        if alone:  # it covers the next line that is not blank or a comment
            target = line + 1
            while target <= len(lines) and (
                not lines[target - 1].strip() or lines[target - 1].lstrip().startswith("#")
            ):
                target += 1
        ranges.append((target, ends.get(target, target), ids))
    return frozenset(global_ids), tuple(ranges)


def parse_compose(text: str, path: str) -> ComposeFile:
    if len(text) > MAX_BYTES:
        raise ComposeError("larger than 10 MiB: not a Compose file", source=path)
    loader = _Loader(text)
    builder = _Builder(loader)
    try:
        node = loader.get_single_node()
        data = {} if node is None else builder.build(node, ())
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ComposeError(f"invalid YAML: {where}{problem}", source=path) from None
    except ComposeError as exc:
        raise ComposeError(str(exc), source=path) from None
    except RecursionError:
        raise ComposeError("invalid YAML: nested too deeply", source=path) from None
    finally:
        loader.dispose()
    global_ids, ranges = _pragmas(text, builder.keys, builder.values)
    return ComposeFile(path, text, data, builder.keys, builder.values, global_ids, ranges)
