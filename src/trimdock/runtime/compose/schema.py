"""Validation against the Compose specification's JSON Schema, errors placed at their key."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from importlib import resources
from typing import TYPE_CHECKING, Any

from trimdock.runtime.compose.load import Path_

if TYPE_CHECKING:
    from jsonschema import Draft7Validator
    from jsonschema.exceptions import ValidationError

SCHEMA_FILE = "compose-spec.json"


@functools.cache
def validator() -> Draft7Validator:
    # Imported here: jsonschema loads its format checkers (a grammar compiled at import, over a
    # second of start-up) and `trimdock lint` of Dockerfiles alone never validates a Compose file.
    from jsonschema import Draft7Validator

    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return Draft7Validator(json.loads(text))


def _describe(error: ValidationError) -> str:
    """The schema error in the file's terms (not the validator's wording)."""
    from jsonschema.exceptions import best_match

    while error.context:  # oneOf/anyOf: the branch that got deepest into the value says most
        error = (
            max(error.context, key=lambda e: (len(e.absolute_path), e.validator != "type"))
            if any(len(e.path) for e in error.context)
            else best_match(error.context)
        )
    where = ".".join(str(p) for p in error.absolute_path) or "the file"
    validator_name = error.validator
    if validator_name == "additionalProperties":
        extra = sorted(
            set(error.instance) - set(error.schema.get("properties", {}))
            if isinstance(error.instance, dict)
            else set()
        )
        return f"{where}: unknown key {', '.join(repr(k) for k in extra) or '?'}"
    if validator_name == "type":
        expected = error.validator_value
        shown = " or ".join(expected) if isinstance(expected, list) else expected
        return f"{where}: expected {shown}, got {_kind(error.instance)}"
    if validator_name == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{where}: {error.instance!r} is not one of {allowed}"
    if validator_name == "required":
        return f"{where}: {error.message.split(' is a required')[0]} is required"
    if (
        validator_name == "pattern"
        and len(error.absolute_path)
        and isinstance(error.absolute_path[-1], str)
    ):
        return f"{where}: invalid name {error.absolute_path[-1]!r}"
    return f"{where}: {error.message}"


def _kind(value: Any) -> str:
    names = {dict: "a mapping", list: "a list", str: "a string", bool: "a boolean", int: "a number",
             float: "a number", type(None): "null"}  # fmt: skip
    return names.get(type(value), type(value).__name__)


def schema_errors(data: Any) -> Iterator[tuple[Path_, str]]:
    """(path of the offending value, message) for each violation, in file order."""
    errors = sorted(validator().iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    for error in errors:
        path: Path_ = tuple(error.absolute_path)
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            path = (*path, extra[0]) if extra else path  # point at the misspelt key itself
        yield path, _describe(error)
