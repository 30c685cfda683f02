"""bashlex with its parse tables computed once per installation instead of at every start.

bashlex builds its LALR tables from its grammar when it is imported (its bundled copy of PLY
never reads them back from a file): about 0.13 s of CPU in every `trimdock lint` that meets a
RUN with a compound command, a fifth of a typical single-file run. The tables are a pure
function of the grammar and of the table generator, so they are kept in the user's cache
directory under a key made of both (the generator's source and every production) and read back
as plain JSON; a missing, stale or damaged file only means they are computed again.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

_Table = dict[int, dict[str, int]]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "trimdock"


def load_bashlex() -> ModuleType:
    """The bashlex package, imported with the cached tables (imported once per process)."""
    loaded = sys.modules.get("bashlex")
    if loaded is not None:
        return loaded
    try:
        return _import_patched()
    except Exception:  # any surprise in bashlex's layout: its own (slow) import instead
        for name in [n for n in sys.modules if n == "bashlex" or n.startswith("bashlex.")]:
            del sys.modules[name]
    import bashlex

    module: ModuleType = bashlex
    return module


def _import_patched() -> ModuleType:
    """Import bashlex as `import bashlex` does, except that its table generator is replaced
    before its __init__ builds the parser: the package module is created first, then
    `bashlex.utils` and `bashlex.yacc` (which imports it), then the package runs."""
    spec = importlib.util.find_spec("bashlex")
    if spec is None or spec.loader is None or not spec.submodule_search_locations:
        raise ImportError("bashlex")
    package = importlib.util.module_from_spec(spec)
    sys.modules["bashlex"] = package
    folder = Path(next(iter(spec.submodule_search_locations)))
    for name in ("utils", "yacc"):
        module_spec = importlib.util.spec_from_file_location(
            f"bashlex.{name}", folder / f"{name}.py"
        )
        if module_spec is None or module_spec.loader is None:
            raise ImportError(f"bashlex.{name}")
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[f"bashlex.{name}"] = module
        module_spec.loader.exec_module(module)
        setattr(package, name, module)
    yacc: Any = sys.modules["bashlex.yacc"]
    generator = hashlib.sha256((folder / "yacc.py").read_bytes()).hexdigest()
    yacc.LRTable = _cached_table_class(yacc.LRTable, generator)
    spec.loader.exec_module(package)
    return package


def _cached_table_class(base: type, generator: str) -> type:
    class CachedTable(base):  # type: ignore[misc]
        def __init__(self, grammar: Any, log: Any = None) -> None:
            key = table_key(grammar, generator)
            tables = read_tables(key)
            if tables is None:
                super().__init__(grammar, log)
                built: Any = self
                write_tables(key, built.lr_action, built.lr_goto)
                return
            # What the generator leaves for the parser (LRParser reads these three).
            self.grammar = grammar
            self.lr_productions = grammar.Productions
            self.lr_action, self.lr_goto = tables
            self.sr_conflicts: list[Any] = []
            self.rr_conflicts: list[Any] = []

    return CachedTable


def table_key(grammar: Any, generator: str) -> str:
    """The grammar (productions with their precedence, start symbol) and the generator."""
    digest = hashlib.sha256(generator.encode())
    for production in grammar.Productions:
        digest.update(repr((str(production), production.prec)).encode())
    digest.update(repr(sorted(grammar.Precedence.items())).encode())
    digest.update(repr(grammar.Start).encode())
    return digest.hexdigest()[:32]


def _path(key: str) -> Path:
    return cache_dir() / f"bashlex-tables-{key}.json"


def read_tables(key: str) -> tuple[_Table, _Table] | None:
    """The cached action and goto tables, None when absent or not exactly the expected shape."""
    try:
        data = json.loads(_path(key).read_text(encoding="utf-8"))
        if data.get("key") != key:
            return None
        return _table(data["action"]), _table(data["goto"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def _table(raw: Any) -> _Table:
    table: _Table = {}
    for state, row in raw.items():
        entries = {str(symbol): value for symbol, value in row.items()}
        if not all(type(value) is int for value in entries.values()):
            raise TypeError("not a parse table")
        table[int(state)] = entries
    return table


def write_tables(key: str, action: _Table, goto: _Table) -> None:
    """Store the tables atomically; a cache that cannot be written is simply not kept."""
    path = _path(key)
    text = json.dumps({"key": key, "action": action, "goto": goto}, separators=(",", ":"))
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".bashlex-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError:
        pass
