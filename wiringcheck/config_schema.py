"""The JSON Schema of the configuration, made from the table of keys the parser reads (`config.TABLES`).

Editors that speak JSON Schema (Taplo, "Even Better TOML" in VS Code, JetBrains IDEs)
complete and check a `wiringcheck.toml` or a `[tool.wiringcheck]` table with it.
Nothing here is written twice: a key, its type, its default and its description come
from `config.TABLES`, so a key the parser accepts is a key the schema describes.
The schema checks shapes (names, types, bounds, choices); what depends on several
keys at once (one target, events that exist) stays the parser's, with its messages.
"""

from __future__ import annotations

import json
from typing import Any

from wiringcheck.config import TABLES, Key, Table
from wiringcheck.protocol import EXISTS

__all__ = ["SCHEMA_FILE", "json_schema", "schema_text"]

SCHEMA_FILE = "schemas/config.schema.json"
"""The copy shipped in the package (relative to it), for editors; a test keeps it equal to `json_schema()`."""

_SCALAR = {"type": ["string", "number", "boolean"]}
_MATCHER_DEFS: dict[str, Any] = {
    "matcher": {
        "description": "An event name, a table of conditions (all must hold), or a list of names and tables "
        "(any may hold).",
        "if": {"type": "array"},
        "then": {"minItems": 1, "items": {"$ref": "#/$defs/name_or_conditions"}},
        "else": {"$ref": "#/$defs/name_or_conditions"},
    },
    "name_or_conditions": {
        "if": {"type": "object"},
        "then": {"$ref": "#/$defs/conditions"},
        "else": {"type": "string", "minLength": 1},
    },
    "conditions": {
        "description": 'field path = value, list of values (any of them), or { "$exists" = true/false }; '
        "a '*' segment looks into every element of a list.",
        "type": "object",
        "minProperties": 1,
        "additionalProperties": {"$ref": "#/$defs/condition"},
    },
    "condition": {
        "anyOf": [
            _SCALAR,
            {"type": "array", "minItems": 1, "items": _SCALAR},
            {
                "type": "object",
                "properties": {EXISTS: {"type": "boolean", "description": "true: the field is there; false: not."}},
                "required": [EXISTS],
                "additionalProperties": False,
            },
            {"$ref": "#/$defs/conditions"},
        ]
    },
}


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a `wiringcheck.toml`, which is also that of `[tool.wiringcheck]`."""
    top = TABLES["top"]
    definitions = {name: _table(table) for name, table in TABLES.items() if table is not top}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "wiringcheck configuration",
        **_table(top),
        "$defs": {**definitions, **_MATCHER_DEFS},
    }


def schema_text() -> str:
    """`json_schema()` as the text `wiringcheck schema` prints and the package ships."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


def _table(table: Table) -> dict[str, Any]:
    if table.values is not None:
        names = {"propertyNames": {"pattern": table.names.pattern}} if table.names is not None else {}
        return {
            "description": table.doc,
            "type": "object",
            **names,
            "additionalProperties": dict(table.values.schema),
        }
    schema: dict[str, Any] = {
        "description": table.doc,
        "type": "object",
        "properties": {key.name: _key(key) for key in table.keys},
        "additionalProperties": False,
    }
    required = [key.name for key in table.keys if key.required]
    if required:
        schema["required"] = required
    return schema


def _key(key: Key) -> dict[str, Any]:
    schema: dict[str, Any] = {**key.type.schema, "description": key.doc}
    if key.choices:
        schema["enum"] = list(key.choices)
    if key.has_default:
        schema["default"] = _json(key.default)
    if key.deprecated:
        schema["deprecated"] = True
        schema["description"] = f"{key.doc} Deprecated: write {key.deprecated}."
    return schema


def _json(value: Any) -> Any:
    """A default as JSON: tuples are lists."""
    if isinstance(value, tuple | list):
        return [_json(item) for item in value]
    if isinstance(value, dict):
        return {key: _json(item) for key, item in value.items()}
    return value
