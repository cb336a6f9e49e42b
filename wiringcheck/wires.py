"""Wires: the edges startup must have made between roles, as tiny expressions.

Grammar (no `eval`, ever)::

    wire     := operand [ op operand ]
    op       := "is" | "is not" | "==" | "!="
    operand  := path | "None" | "True" | "False"
    path     := role ( "." attribute )*

A wire without an operator (`bridge.websocket_manager`) holds when the value is truthy.
`a.x is b.y` between two paths does not hold when both are None: that identity is vacuous.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wiringcheck.errors import WireSyntaxError
from wiringcheck.findings import Finding
from wiringcheck.secrets import shorten
from wiringcheck.suggest import suggest

__all__ = ["Wire", "WireSyntaxError", "check_wire", "parse_wire"]

_TOKEN = re.compile(r"\s*(?:(?P<op>==|!=)|(?P<word>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)|(?P<bad>\S))")
_CONSTANTS: dict[str, Any] = {"None": None, "True": True, "False": False}


@dataclass(frozen=True, slots=True)
class Wire:
    """A parsed wire: two operands (paths as tuples of names, or constants) and an operator."""

    text: str
    left: tuple[str, ...] | Any
    op: str | None = None
    right: tuple[str, ...] | Any = None

    @property
    def paths(self) -> tuple[tuple[str, ...], ...]:
        operands = (self.left, self.right) if self.op else (self.left,)
        return tuple(operand for operand in operands if isinstance(operand, tuple))


def _tokens(text: str) -> list[str]:
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        if match["bad"]:
            raise WireSyntaxError(
                f"unexpected {match['bad']!r} in wire {text!r}: write 'role.attr is other.attr', "
                "'role.attr is not None' or 'role.attr == other.attr'"
            )
        tokens.append(match["op"] or match["word"])
    return tokens


def _operand(token: str) -> tuple[str, ...] | Any:
    if token in _CONSTANTS:
        return _CONSTANTS[token]
    if token in {"is", "not"}:
        raise WireSyntaxError(f"expected an attribute path, got {token!r}")
    return tuple(token.split("."))


def parse_wire(text: str) -> Wire:
    """Parse a wire expression.

    Raises:
        WireSyntaxError: the text is not a wire.
    """
    tokens = _tokens(text)
    if not tokens:
        raise WireSyntaxError("empty wire")
    if len(tokens) >= 3 and tokens[1] == "is" and tokens[2] == "not":
        tokens = [tokens[0], "is not", *tokens[3:]]
    if len(tokens) == 1:
        left = _operand(tokens[0])
        if not isinstance(left, tuple):
            raise WireSyntaxError(f"wire {text!r} compares nothing: start with a role's attribute path")
        return Wire(text=text, left=left)
    if len(tokens) != 3 or tokens[1] not in {"is", "is not", "==", "!="}:
        raise WireSyntaxError(
            f"cannot read wire {text!r}: write 'role.attr is other.attr', 'role.attr is not None' "
            "or 'role.attr == other.attr'"
        )
    left, right = _operand(tokens[0]), _operand(tokens[2])
    if not isinstance(left, tuple) and not isinstance(right, tuple):
        raise WireSyntaxError(f"wire {text!r} compares two constants: one side must be a role's attribute path")
    return Wire(text=text, left=left, op=tokens[1], right=right)


class _Unresolved(Exception):
    def __init__(self, path: tuple[str, ...], depth: int, candidates: list[str]) -> None:
        self.path, self.depth, self.candidates = path, depth, candidates


def _resolve(path: tuple[str, ...], roles: Mapping[str, Any]) -> Any:
    value = roles[path[0]]
    for depth, name in enumerate(path[1:], start=1):
        try:
            value = getattr(value, name)
        except AttributeError:
            raise _Unresolved(path, depth, [n for n in dir(value) if not n.startswith("__")]) from None
    return value


def _describe(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        return repr(value)
    if isinstance(value, BaseException):  # a recorded error: what it says is the diagnosis
        return f"{type(value).__name__}({shorten(str(value), 200)!r})"
    return f"<{type(value).__module__}.{type(value).__qualname__} at {id(value):#x}>"


def _is_status(wire: Wire) -> bool:
    """Whether a wire checks a recorded state (``startup_error is None``, ``status == "ready"``), not an edge.

    ``x.manager is not None``, ``x.manager`` and ``a.x is b.y`` say two objects were connected
    (WC211); a path compared with another constant (``x.error is None``, ``x.status == "ready"``)
    says startup recorded a state (WC213).
    """
    if wire.op is None:
        return False  # `registry.websocket_manager` alone: "is set", an edge
    constants = [operand for operand in (wire.left, wire.right) if not isinstance(operand, tuple)]
    if len(constants) != 1:
        return False
    return not (wire.op in ("is not", "!=") and constants[0] is None)


def check_wire(wire: Wire, roles: Mapping[str, Any]) -> list[Finding]:
    """Evaluate a wire over the live role objects; return findings when it does not hold."""
    values: list[Any] = []
    for operand in (wire.left, wire.right) if wire.op else (wire.left,):
        if not isinstance(operand, tuple):
            values.append(operand)
            continue
        try:
            values.append(_resolve(operand, roles))
        except _Unresolved as missing:
            name = missing.path[missing.depth]
            owner = ".".join(missing.path[: missing.depth])
            guess = suggest(name, missing.candidates)
            hint = f"; did you mean {guess!r}?" if guess else ""
            return [
                Finding(
                    code="WC212",
                    message=f"{owner} has no attribute {name!r}{hint}",
                    hint="Fix the path in the wire, or restore the attribute startup used to set.",
                    subject=f"wire: {wire.text}",
                )
            ]
    if wire.op is None:
        holds = bool(values[0])
    elif wire.op == "is":
        # Two paths that are both None are "the same object" only vacuously: nothing was wired.
        both_paths = isinstance(wire.left, tuple) and isinstance(wire.right, tuple)
        holds = values[0] is values[1] and not (both_paths and values[0] is None)
    elif wire.op == "is not":
        holds = values[0] is not values[1]
    elif wire.op == "==":
        holds = bool(values[0] == values[1])
    else:
        holds = bool(values[0] != values[1])
    if holds:
        return []
    operands = (wire.left, wire.right) if wire.op else (wire.left,)
    evidence = tuple(
        f"{'.'.join(operand)} = {_describe(value)}"
        for operand, value in zip(operands, values, strict=True)
        if isinstance(operand, tuple)
    )
    if _is_status(wire):
        path = wire.left if isinstance(wire.left, tuple) else wire.right
        value = values[0] if isinstance(wire.left, tuple) else values[1]
        expected = (
            f" (expected {wire.op} {_describe(wire.right if path is wire.left else wire.left)})" if wire.op else ""
        )
        return [
            Finding(
                code="WC213",
                message=f"{'.'.join(path)} is {_describe(value)}{expected}",
                hint=(
                    "Startup recorded this state instead of failing: find where it is set (the value above is "
                    "often the error it caught), fix the cause, and let startup raise rather than carry on."
                ),
                subject=f"wire: {wire.text}",
                evidence=evidence,
            )
        ]
    return [
        Finding(
            code="WC211",
            message=f"wire does not hold: {wire.text}",
            hint=(
                "Startup did not connect these objects. Check that it makes the call that connects them "
                "(`must_call` names it), that the call is awaited, and that no guard or except block skipped it."
            ),
            subject=f"wire: {wire.text}",
            evidence=evidence,
        )
    ]
