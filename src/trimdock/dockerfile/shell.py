"""RUN bodies as shell commands: argv lists across `&&`, `||`, `;`, pipes, subshells, `sh -c`.

bashlex does the parsing. Where it gives up (arithmetic, `case`, `[[ ]]`, very long scripts) a
quote-aware splitter on the control operators takes over, so rules always see commands.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from trimdock.dockerfile.bashlex_tables import load_bashlex
from trimdock.dockerfile.deadline import cpu_deadline
from trimdock.dockerfile.model import Instruction, SourceMap, Span

SHELLS = frozenset({"sh", "bash", "ash", "dash", "zsh", "ksh", "busybox"})
# Commands that run their arguments as another command.
_WRAPPERS = frozenset(
    {
        "sudo",
        "env",
        "nice",
        "nohup",
        "time",
        "exec",
        "command",
        "xargs",
        "su-exec",
        "gosu",
        "chroot",
        "stdbuf",
        "timeout",
        "tini",
    }
)
_MAX_BASHLEX = 20_000  # bashlex is slow and recursive on huge scripts: split those ourselves
# bashlex parses about 45 KB a second: a script gets ten times what its size needs, and at least
# a quarter second (a hundred times what a typical RUN needs), before it counts as one bashlex
# loops on; then the quick splitter takes over.
_BASHLEX_BYTES_PER_SECOND = 4_500
_MIN_BASHLEX_SECONDS = 0.25


def _bashlex_seconds(text: str) -> float:
    return max(_MIN_BASHLEX_SECONDS, len(text) / _BASHLEX_BYTES_PER_SECOND)


@dataclass(frozen=True, slots=True)
class Command:
    """One simple command: `argv[0]` is the program as written (path kept).

    Slots and a precomputed `name`: a 10 MB `&&` chain is about a million commands, and a
    per-instance dict made them most of the run's memory.
    """

    argv: tuple[str, ...]
    start: int  # offsets in the script text it came from
    end: int
    span: Span | None = None
    in_pipeline: bool = False
    background: bool = False
    via: str = ""  # "sh -c", "subshell", "wrapper" when nested
    redirects: tuple[str, ...] = ()  # targets of output redirections
    # The program without its path; rules ask for it hundreds of thousands of times per run.
    name: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", self.argv[0].rsplit("/", 1)[-1] if self.argv else "")

    @property
    def args(self) -> tuple[str, ...]:
        return self.argv[1:]

    def has_flag(self, *flags: str) -> bool:
        """True when any of `flags` is given: long flags exactly (or `--x=...`), short ones
        also inside combined groups (`-rf` has `-r` and `-f`)."""
        for arg in self.args:
            if arg == "--":
                break
            for flag in flags:
                if flag.startswith("--"):
                    if arg == flag or arg.startswith(flag + "="):
                        return True
                elif (
                    len(flag) == 2
                    and arg.startswith("-")
                    and not arg.startswith("--")
                    and flag[1] in arg[1:]
                ) or arg == flag:
                    return True
        return False

    @property
    def operands(self) -> tuple[str, ...]:
        """Arguments that are not options (a naive but useful split)."""
        result: list[str] = []
        after_dashdash = False
        for arg in self.args:
            if after_dashdash:
                result.append(arg)
            elif arg == "--":
                after_dashdash = True
            elif not arg.startswith("-") or arg == "-":
                result.append(arg)
        return tuple(result)

    def subcommand(self) -> str:
        """The first operand (`install` in `apt-get -y install x`)."""
        ops = self.operands
        return ops[0] if ops else ""


@dataclass(frozen=True)
class Script:
    text: str
    commands: tuple[Command, ...]
    parsed: bool  # False when bashlex failed and the fallback splitter was used
    has_pipe: bool = False

    @cached_property
    def _by_name(self) -> dict[str, list[Command]]:
        index: dict[str, list[Command]] = {}
        for command in self.commands:
            index.setdefault(command.name, []).append(command)
        return index

    def named(self, *names: str) -> list[Command]:
        index = self._by_name
        if len(names) == 1:
            return list(index.get(names[0], ()))
        if not any(name in index for name in names):
            return []
        return [c for c in self.commands if c.name in names]

    def has(self, *names: str) -> bool:
        index = self._by_name
        return any(name in index for name in names)


EMPTY = Script("", (), True)


# bashlex's result per script text, for the whole run: the same RUN body recurs across the files
# of a repository (one per variant or version) and bashlex is most of lint's time. The commands
# kept here have no spans (those depend on the file) and are never changed, only copied.
_BashlexResult = tuple[tuple["Command", ...] | None, bool]  # None: bashlex failed
_BASHLEX_CACHE: dict[str, _BashlexResult] = {}
_CACHE_BYTES = 16_000_000
_cached_bytes = 0


def _remember(text: str) -> bool:
    global _cached_bytes
    if _cached_bytes + len(text) > _CACHE_BYTES:
        return False
    _cached_bytes += len(text)
    return True


def _bashlex_commands(text: str) -> _BashlexResult:
    try:
        bashlex = load_bashlex()  # imported on first use: plain command lists never need it

        with cpu_deadline(_bashlex_seconds(text), only_in=("bashlex",)):
            trees = bashlex.parse(text)
        walker = _Walker(text)
        for tree in trees:
            walker.visit(tree)
        return tuple(walker.commands), walker.has_pipe
    except Exception:  # bashlex raises many types (ParsingError, NotImplementedError, ...)
        return None, False  # DeadlineExceeded too: a script bashlex loops on is split by us


def parse_script(text: str, source: SourceMap | None = None, *, exact: bool = True) -> Script:
    """Commands of a shell script. `exact=False` skips bashlex (used past a time budget)."""
    commands: list[Command] = []
    has_pipe = False
    parsed = True
    if exact and _is_simple(text):
        # Plain command lists (no compound commands, substitutions or redirections) split the
        # same way with the quick splitter, at a fraction of bashlex's cost.
        commands, has_pipe = _fallback(text, source)
    elif exact and len(text) <= _MAX_BASHLEX:
        cached = _BASHLEX_CACHE.get(text)
        if cached is None:
            cached = _bashlex_commands(text)
            if _remember(text):
                _BASHLEX_CACHE[text] = cached
        found, has_pipe = cached
        if found is None:
            parsed = False
        else:
            commands = list(found)
    else:
        parsed = False
    if not parsed:
        commands, has_pipe = _fallback(text, source)
    expanded: list[Command] = []
    for command in commands:
        if command.name in SHELLS or command.name in _WRAPPERS:
            expanded.extend(_expand(command, text, depth=0))
        else:  # most commands run nothing else: no generator for them
            expanded.append(command)
    if source is not None:
        spans: dict[tuple[int, int], Span] = {}  # a wrapper and what it runs share one
        # The quick splitter gives spans as it goes (one object per command, not two).
        expanded = [c if c.span is not None else _with_span(c, source, spans) for c in expanded]
    return Script(text, tuple(expanded), parsed, has_pipe)


def _with_span(command: Command, source: SourceMap, spans: dict[tuple[int, int], Span]) -> Command:
    key = (command.start, command.end)
    span = spans.get(key)
    if span is None:
        span = spans[key] = source.span(command.start, max(command.end, command.start))
    return Command(
        command.argv,
        command.start,
        command.end,
        span,
        command.in_pipeline,
        command.background,
        command.via,
        command.redirects,
    )


class _Walker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.commands: list[Command] = []
        self.has_pipe = False

    def visit(self, node: Any, *, in_pipeline: bool = False, via: str = "") -> None:
        kind = node.kind
        if kind == "command":
            self.command(node, in_pipeline, via)
        elif kind == "pipeline":
            self.has_pipe = True
            for part in node.parts:
                if part.kind != "pipe":
                    self.visit(part, in_pipeline=True, via=via)
        elif kind == "list":
            parts = node.parts
            for index, part in enumerate(parts):
                if part.kind == "operator":
                    continue
                self.visit(part, in_pipeline=in_pipeline, via=via)
                following = parts[index + 1] if index + 1 < len(parts) else None
                if following is not None and following.kind == "operator" and following.op == "&":
                    self._mark_background(part)
        elif kind == "compound":
            inner_via = via
            words = [p.word for p in node.list if p.kind == "reservedword"]
            if words[:1] == ["("]:
                inner_via = "subshell"
            for part in node.list:
                self.visit(part, in_pipeline=in_pipeline, via=inner_via)
        elif kind in ("if", "for", "while", "until", "function"):
            for part in node.parts:
                self.visit(part, in_pipeline=in_pipeline, via=via)
        elif kind == "commandsubstitution" or kind == "processsubstitution":
            self.visit(node.command, via="substitution")

    def _mark_background(self, node: Any) -> None:
        end = node.pos[1]
        for index in range(len(self.commands) - 1, -1, -1):
            command = self.commands[index]
            if command.end <= end and command.start >= node.pos[0]:
                self.commands[index] = replace(command, background=True)

    def command(self, node: Any, in_pipeline: bool, via: str) -> None:
        argv: list[str] = []
        redirects: list[str] = []
        for part in node.parts:
            if part.kind == "word":
                argv.append(part.word)
                for sub in getattr(part, "parts", []) or []:
                    if sub.kind in ("commandsubstitution", "processsubstitution"):
                        self.visit(sub, via="substitution")
            elif part.kind == "redirect":
                output = getattr(part, "output", None)
                if part.type in (">", ">>", ">|", "&>") and output is not None:
                    redirects.append(getattr(output, "word", ""))
            elif part.kind == "assignment":
                if argv:
                    argv.append(part.word)
                # `x="$(a | b)"` runs a and b even though the command itself is only x=...
                for sub in getattr(part, "parts", []) or []:
                    if sub.kind in ("commandsubstitution", "processsubstitution"):
                        self.visit(sub, via="substitution")
        if argv:
            self.commands.append(
                Command(
                    tuple(argv),
                    node.pos[0],
                    node.pos[1],
                    in_pipeline=in_pipeline,
                    via=via,
                    redirects=tuple(redirects),
                )
            )


_COMPLEX_RE = re.compile(
    r"[()`{}<>\\!]|\$\(|(^|[\s;&|])(if|then|else|elif|fi|for|while|until|do|done|case|esac|"
    r"function|select|time|coproc)(?=[\s;&|]|$)"
)


def _is_simple(text: str) -> bool:
    return _COMPLEX_RE.search(text) is None


_OPERATOR_RE = re.compile(r"&&|\|\||;;|[;&|\n()]")
_SPECIAL_RE = re.compile(r"""['"\\#;&|\n()]""")  # quotes, escape, comment, operators
_DOUBLE_QUOTED_RE = re.compile(r'["\\]')
_ASSIGNMENT_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SHLEX_SPACE_RE = re.compile(r"[ \t\r\n]+")
_HEREDOC_WORD_RE = re.compile(r"^\d*<<")
_HEREDOC_STRIP_RE = re.compile(r"(?<!\S)\d*<<-?\S+")
_LEADING_KEYWORDS = frozenset({"then", "do", "else", "elif", "if", "while", "until", "!"})


def _fallback(text: str, source: SourceMap | None = None) -> tuple[list[Command], bool]:
    """Split on control operators outside quotes, then split words as a POSIX shell would."""
    commands: list[Command] = []
    has_pipe = False
    start = 0
    quote = ""
    index = 0
    pieces: list[tuple[int, int, str]] = []  # (start, end, operator after)
    length = len(text)
    while index < length:
        # Jump from one character that matters to the next: everything else is word text.
        if quote:
            if quote == "'":
                close = text.find("'", index)
                index = length if close < 0 else close + 1
                quote = ""
                continue
            found = _DOUBLE_QUOTED_RE.search(text, index)
            if found is None:
                break
            index = found.start()
            if text[index] == "\\":
                index += 2
                continue
            quote = ""
            index += 1
            continue
        found = _SPECIAL_RE.search(text, index)
        if found is None:
            break
        index = found.start()
        ch = text[index]
        if ch in "'\"":
            quote = ch
            index += 1
            continue
        if ch == "\\":
            index += 2
            continue
        if ch == "#" and (index == 0 or text[index - 1] in " \t\n;&|("):
            newline = text.find("\n", index)
            pieces.append((start, index, ""))
            index = len(text) if newline < 0 else newline
            start = index
            continue
        match = _OPERATOR_RE.match(text, index)
        if match:
            pieces.append((start, index, match.group()))
            index = match.end()
            start = index
            continue
        index += 1
    pieces.append((start, len(text), ""))
    previous_op = ""
    case_depth = 0  # inside `case ... esac`, `a|b)` is a list of patterns, not a pipe
    for position, (begin, end, operator) in enumerate(pieces):
        chunk = text[begin:end]
        words = _split_words(chunk)
        if words[:1] == ["case"]:
            case_depth += 1
        elif words[:1] == ["esac"] and case_depth:
            case_depth -= 1
        if case_depth and _is_case_pattern(pieces, position, operator, previous_op):
            previous_op = "pattern"
            continue
        # Skip leading assignments by index: `pop(0)` moved the whole list each time, and
        # 500k `a=b` words on one line took half a minute.
        first = 0
        while first < len(words) and _ASSIGNMENT_RE.match(words[first]):
            first += 1
        if first < len(words) and words[first] in _LEADING_KEYWORDS:
            first += 1
        words = words[first:]
        if words and words[0] not in ("fi", "done", "esac", "{", "}"):
            pipe = operator == "|" or previous_op == "|"
            has_pipe = has_pipe or pipe
            first_char = begin + len(chunk) - len(chunk.lstrip())
            commands.append(
                Command(
                    tuple(words),
                    first_char,
                    end,
                    None if source is None else source.span(first_char, max(end, first_char)),
                    in_pipeline=pipe,
                    background=operator == "&",
                )
            )
        previous_op = operator
    # Pipes in a command substitution count too (`x="$(a | b)"`), though its commands stay
    # inside the quoted word here.
    return commands, has_pipe or _substitution_has_pipe(text)


def _is_case_pattern(
    pieces: list[tuple[int, int, str]], position: int, operator: str, previous_op: str
) -> bool:
    """A piece of `x86_64|aarch64)`: it ends the pattern list, or `|` joins it to one that does."""
    if operator == ")":
        return True
    if operator != "|":
        return False
    following = position + 1
    while following < len(pieces) and pieces[following][2] == "|":
        following += 1
    return following < len(pieces) and pieces[following][2] == ")"


def _substitution_has_pipe(text: str) -> bool:
    """True when a `$(...)` holds a pipe (`|`, not `||`), quotes inside it skipped."""
    start = text.find("$(")
    while start >= 0:
        depth = 0
        quote = ""
        index = start + 1
        while index < len(text):
            ch = text[index]
            if quote:
                if ch == quote:
                    quote = ""
                elif ch == "\\" and quote == '"':
                    index += 1
            elif ch in "'\"":
                quote = ch
            elif ch == "\\":
                index += 1
            elif ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    break
            elif ch == "|" and depth > 0:
                if not text.startswith("||", index):
                    return True
                index += 1  # `||` is a list, not a pipe
            index += 1
        start = text.find("$(", index)
    return False


def _split_words(chunk: str) -> list[str]:
    if "'" not in chunk and '"' not in chunk and "\\" not in chunk:
        # No quoting: shlex's POSIX split is a split on its whitespace (space, tab, CR, LF).
        return [word for word in _SHLEX_SPACE_RE.split(chunk) if word]
    try:
        return shlex.split(chunk, comments=False, posix=True)
    except ValueError:
        return chunk.split()


def _expand(command: Command, text: str, depth: int) -> Iterator[Command]:
    """The command itself, then what it runs: `sh -c '...'`, `sudo x`, `env A=1 x`."""
    yield command
    if depth > 4 or not command.argv:
        return
    name = command.name
    args = command.args
    if name in SHELLS:
        script_index = _shell_c_index(args)
        if script_index is not None:
            inner = parse_script(args[script_index])
            for sub in inner.commands:
                nested = replace(sub, start=command.start, end=command.end, via="sh -c", span=None)
                yield nested
        return
    if name in _WRAPPERS:
        # An index, not `pop(0)`: `env a=b a=b ... cmd` with many assignments stays linear.
        first = 0
        count = len(args)
        while first < count and (args[first].startswith("-") or "=" in args[first]):
            option = args[first]
            first += 1
            takes_value = option in ("-u", "-g", "-n")
            if name in ("sudo", "timeout", "nice") and takes_value and first < count:
                first += 1
        if name in ("timeout", "chroot") and first < count:
            first += 1  # timeout's duration, chroot's new root
        if first < count:
            inner_command = replace(command, argv=args[first:], via="wrapper")
            yield from _expand(inner_command, text, depth + 1)
            return


def _shell_c_index(args: tuple[str, ...]) -> int | None:
    for index, arg in enumerate(args):
        if arg.startswith("-") and not arg.startswith("--") and "c" in arg[1:]:
            return index + 1 if index + 1 < len(args) else None
        if not arg.startswith("-"):
            return None
    return None


def run_script(
    instruction: Instruction, shell: tuple[str, ...] = ("/bin/sh", "-c"), *, exact: bool = True
) -> Script:
    """The shell script a RUN (or shell-form CMD/ENTRYPOINT) executes, parsed into commands."""
    if instruction.json:
        argv = instruction.values
        if not argv:
            return EMPTY
        name = argv[0].rsplit("/", 1)[-1]
        if name in SHELLS:
            index = _shell_c_index(tuple(argv[1:]))
            if index is not None:
                return parse_script(argv[1 + index])
        command = Command(tuple(argv), 0, 0, span=instruction.rest_span)
        return Script(" ".join(argv), tuple(_expand(command, "", 0)), True)
    if shell and shell[0].rsplit("/", 1)[-1].lower() not in SHELLS:
        return EMPTY  # PowerShell or cmd: not ours to read
    text = instruction.rest
    if instruction.heredocs:
        return _heredoc_script(instruction, exact=exact)
    return parse_script(text, instruction.rest_map, exact=exact)


def _heredoc_script(instruction: Instruction, *, exact: bool = True) -> Script:
    """`RUN <<EOF` runs the body with the default shell; `RUN <<EOF bash` feeds it to bash."""
    text = instruction.rest
    words = _split_words(text)
    non_heredoc = [w for w in words if not _HEREDOC_WORD_RE.match(w)]
    commands: list[Command] = []
    has_pipe = False
    parsed = True
    first = instruction.heredocs[0]
    runs_body = not non_heredoc or non_heredoc[0].rsplit("/", 1)[-1] in SHELLS
    if non_heredoc:
        stripped = _HEREDOC_STRIP_RE.sub("", text)
        outer = parse_script(stripped, instruction.rest_map, exact=exact)
        commands.extend(outer.commands)
        has_pipe = outer.has_pipe
        parsed = outer.parsed
    if runs_body and first.fd == 0:
        body = first.content
        if first.chomp:
            body = "\n".join(line.lstrip("\t") for line in body.split("\n"))
        inner = parse_script(body, first.content_map, exact=exact)
        commands.extend(inner.commands)
        has_pipe = has_pipe or inner.has_pipe
        parsed = parsed and inner.parsed
    return Script(text, tuple(commands), parsed, has_pipe)
