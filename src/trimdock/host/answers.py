"""Reading the engine's JSON answers: every field is checked for its type before use.

The socket may lead to anything (a proxy, a fake, a broken engine): a list where an object was
expected, a number where a string was, must be one clear line naming the engine and the field,
not an `AttributeError` deep in the snapshot code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trimdock.errors import EngineError

Answer = Mapping[str, Any]


class AnswerReader:
    """Typed access to one engine's answers; errors name the engine (`source`)."""

    def __init__(self, source: str) -> None:
        self.source = source

    def error(self, what: str, problem: str) -> EngineError:
        return EngineError(
            f"unexpected answer from the engine to {what}: {problem}", source=self.source
        )

    def obj(self, value: object, what: str) -> Answer:
        if not isinstance(value, Mapping):
            raise self.error(what, f"expected an object, got {_kind(value)}")
        return value

    def objects(self, value: object, what: str) -> list[Answer]:
        """A list of objects; a missing list (JSON null) is empty."""
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.error(what, f"expected a list, got {_kind(value)}")
        return [self.obj(item, what) for item in value]

    def text(self, answer: Answer, key: str, what: str, default: str = "") -> str:
        value = answer.get(key)
        if value is None:
            return default
        if not isinstance(value, str):
            raise self.error(what, f"{key} is {_kind(value)}, expected a string")
        return value

    def required_text(self, answer: Answer, key: str, what: str) -> str:
        value = self.text(answer, key, what)
        if not value:
            raise self.error(what, f"{key} is missing")
        return value

    def number(self, answer: Answer, key: str, what: str, default: int = 0) -> int:
        value = answer.get(key)
        if value is None:
            return default
        # bool is an int in Python but not a size; a float size is not a byte count.
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.error(what, f"{key} is {_kind(value)}, expected an integer")
        return value

    def flag(self, answer: Answer, key: str, what: str) -> bool:
        value = answer.get(key)
        if value is None:
            return False
        if not isinstance(value, bool):
            raise self.error(what, f"{key} is {_kind(value)}, expected true or false")
        return value

    def table(self, answer: Answer, key: str, what: str) -> Answer:
        value = answer.get(key)
        return {} if value is None else self.obj(value, f"{what} ({key})")

    def texts(self, answer: Answer, key: str, what: str) -> list[str]:
        value = answer.get(key)
        if value is None:
            return []
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise self.error(what, f"{key} is {_kind(value)}, expected a list of strings")
        return value

    def labels(self, answer: Answer, key: str, what: str) -> dict[str, str]:
        value = self.table(answer, key, what)
        if not all(isinstance(v, str) for v in value.values()):
            raise self.error(what, f"{key} has a value that is not a string")
        return {str(k): str(v) for k, v in value.items()}


def _kind(value: object) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}
    if value is None:
        return "null"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "a number"
    return names.get(type(value), type(value).__name__)
