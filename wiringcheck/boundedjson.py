"""JSON from elsewhere, parsed with a bound on its nesting: never a `RecursionError`, in the parser or after it.

`json.loads` recurses once per level of nesting, in C, up to the interpreter's
recursion limit: a frame of 2,000 nested lists raises `RecursionError`, which no
``except ValueError`` catches, and one of 990 parses but then breaks every recursive
walk that follows (the protocol's field paths, the scrubber, the JSON renderer).
`loads` refuses anything nested deeper than `MAX_DEPTH` with `TooDeep`, a
`json.JSONDecodeError`, so a caller that already handles malformed JSON handles it too.

Every `json.loads` of text wiringcheck did not write (a server's frame, a setup
step's response, a flag) goes through `loads`.

Pure: no I/O.  The depth is measured only when the text holds more brackets than
`MAX_DEPTH` (a count at C speed), so an ordinary frame costs one `str.count` more.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["MAX_DEPTH", "TooDeep", "loads", "text_depth", "value_depth"]

MAX_DEPTH = 128
"""The deepest nesting of arrays and objects accepted: far beyond any protocol's, far below the stack's limit."""

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_INNERMOST = re.compile(r"\[\]|\{\}")


class TooDeep(json.JSONDecodeError):
    """The text nests arrays and objects deeper than the bound (a `ValueError`, like any malformed JSON)."""

    def __init__(self, limit: int) -> None:
        # The document is not kept: it may be megabytes, and the message never shows it.
        super().__init__(f"JSON nested deeper than {limit} levels", "", 0)
        self.limit = limit

    def __reduce__(self) -> tuple[Any, ...]:
        return (TooDeep, (self.limit,))


def text_depth(text: str, *, limit: int = MAX_DEPTH) -> int:
    """How deep `text` nests arrays and objects, counted up to ``limit + 1`` (past that, the exact depth is moot).

    Strings are skipped, so a bracket inside one does not count. Each pass removes the
    innermost pairs at C speed; a wide document takes a few passes, whatever its size.
    """
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    levels = 0
    while brackets and levels <= limit:
        shorter = _INNERMOST.sub("", brackets)
        if len(shorter) == len(brackets):  # unbalanced: the parser will say where
            break
        brackets = shorter
        levels += 1
    return levels


def value_depth(value: Any, *, limit: int = MAX_DEPTH) -> int:
    """How deep a parsed value nests lists, tuples and dicts, counted up to ``limit + 1``, without recursing.

    For data parsed by another parser (TOML) before anything walks it recursively.
    """
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list | tuple):
            children = item
        else:
            continue
        level += 1
        deepest = max(deepest, level)
        if deepest > limit:
            break
        stack.extend((child, level) for child in children)
    return deepest


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """`json.loads(text)`, refusing text nested deeper than `max_depth`.

    Raises:
        TooDeep: the text nests deeper than `max_depth` (a `json.JSONDecodeError`).
        json.JSONDecodeError: the text is not JSON.
    """
    if isinstance(text, bytes | bytearray):
        raw = bytes(text)
        try:
            text = raw.decode(json.detect_encoding(raw), "surrogatepass")  # as json.loads decodes bytes
        except UnicodeDecodeError as exc:
            raise json.JSONDecodeError(f"not valid {exc.encoding} ({exc.reason})", "", exc.start) from None
    if text.count("[") + text.count("{") > max_depth and text_depth(text, limit=max_depth) > max_depth:
        raise TooDeep(max_depth)
    try:
        return json.loads(text)
    except RecursionError:  # a limit set lower than ours by the embedding program
        raise TooDeep(max_depth) from None
