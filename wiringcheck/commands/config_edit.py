"""Writing what a run taught into a configuration document (TOML), keeping what the user wrote.

`init --from-run` completes a file with `merge_lesson`; `inspect --probe` prints the same
keys with `suggested_table`, so both show a lesson one way. tomlkit keeps the file's
comments, order and formatting: only the keys added are new text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["merge_lesson", "suggested_table", "toml_value"]

_PROBE_KEYS = (
    "preset",
    "transport",
    "path",
    "method",
    "type_field",
    "batch_field",
    "run_id",
    "run_id_field",
    "timestamp_field",
    "tool_call_id_field",
    "ignore",
    "error_events",
)
"""The learnt `[probe]` keys, in the order they are written (`match` follows, as its own table)."""


def toml_value(value: Any) -> str:
    """`value` as an inline TOML value (strings, numbers, booleans, lists, inline tables)."""
    import json

    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict):
        pairs = (f"{_toml_key(key)} = {toml_value(item)}" for key, item in value.items())
        return "{ " + ", ".join(pairs) + " }"
    return json.dumps(str(value), ensure_ascii=False)


def _toml_key(key: str) -> str:
    import json
    import re

    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else json.dumps(key)


def _toml(value: Any) -> Any:
    """`value` as a tomlkit item, written as `toml_value` writes it; a list of three tables or more, one per line."""
    import tomlkit

    if isinstance(value, list | tuple) and len(value) > 2 and any(isinstance(entry, Mapping) for entry in value):
        array = tomlkit.array()
        array.extend(tomlkit.value(toml_value(entry)) for entry in value)
        array.multiline(True)
        return array
    return tomlkit.value(toml_value(value))


def merge_lesson(root: Any, top: Mapping[str, Any], probe: Mapping[str, Any]) -> list[str]:
    """Add the learnt keys to `root` (a tomlkit table: the document, or its ``tool.wiringcheck``).

    Never changes a key the user wrote: a key already there stays as it is, except that
    `ignore` and `error_events` gain the new entries and `match` the events it lacks.
    Unmapped shapes become comments. Returns the dotted names of what was added.
    """
    import tomlkit

    added: list[str] = []
    for key, value in top.items():
        if key not in root:
            root[key] = _toml(value)
            added.append(key)
    if "probe" not in root:
        root["probe"] = tomlkit.table()
    table = root["probe"]
    for key in _PROBE_KEYS:
        if key not in probe:
            continue
        if key not in table:
            table[key] = _toml(probe[key])
            added.append(f"probe.{key}")
        elif key in ("ignore", "error_events"):
            present = table[key].unwrap() if hasattr(table[key], "unwrap") else table[key]
            present = present if isinstance(present, list) else [present]
            fresh = [entry for entry in probe[key] if entry not in present]
            if fresh:
                table[key] = _toml([*present, *fresh])
                added.append(f"probe.{key}")
    for matcher in probe.get("unmapped", ()):
        table.add(tomlkit.comment(f"unmapped (a frame the run sent; map or ignore it): {toml_value(matcher)}"))
    match = probe.get("match") or {}
    if match:
        if "match" not in table:
            table["match"] = tomlkit.table()
        for role, matcher in match.items():
            if role not in table["match"]:
                table["match"][role] = _toml(matcher)
                added.append(f"probe.match.{role}")
    return added


def suggested_table(table: dict[str, Any], *, prefix: str = "tool.wiringcheck.") -> list[str]:
    """The lines of a learnt probe table, as `init --from-run` would write them (unmapped shapes as comments).

    `prefix` is how the configuration file names wiringcheck's tables: ``tool.wiringcheck.``
    in a pyproject.toml, nothing in a wiringcheck.toml (which rejects the ``tool`` table).
    """
    import tomlkit

    document = tomlkit.document()
    merge_lesson(document, {}, table)
    lines = tomlkit.dumps(document).strip("\n").splitlines()
    return [f"[{prefix}{line[1:]}" if line.startswith("[") else line for line in lines if line.strip()]
