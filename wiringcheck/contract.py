"""Contracts: what a role's members must look like, and how a live object is compared to them.

A member is written as its callers use it::

    set_websocket_manager(manager)                          # called with one argument
    async notify_agent_started(run_id, agent_name, context=None)   # awaited; context by keyword
    websocket_manager                                       # an attribute or property

Parameters without a default are what callers pass by position; parameters with a
default are what callers may pass by keyword.  The default's text is never
evaluated: it only marks the parameter as optional.

`parse_member` is pure; `compare_member` inspects a live object and never calls
any of its methods.
"""

from __future__ import annotations

import inspect
import linecache
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from wiringcheck.errors import ContractSyntaxError
from wiringcheck.findings import Finding, Location
from wiringcheck.suggest import suggest

__all__ = ["ContractSyntaxError", "MemberSpec", "Param", "Undecidable", "compare_member", "parse_member"]

_MEMBER = re.compile(r"^\s*(?P<async>async\s+)?(?P<name>[A-Za-z_]\w*)\s*(?:\((?P<params>.*)\))?\s*$", re.DOTALL)
_PARAM = re.compile(r"^(?P<stars>\*{0,2})(?P<name>[A-Za-z_]\w*)?\s*(?::[^=]*)?(?P<default>=.*)?$", re.DOTALL)


@dataclass(frozen=True, slots=True)
class Param:
    """One parameter of a contract member: positional (required) or keyword (optional)."""

    name: str
    optional: bool = False
    kind: str = "plain"  # plain, var_positional, var_keyword


@dataclass(frozen=True, slots=True)
class MemberSpec:
    """A parsed contract member."""

    name: str
    is_async: bool = False
    is_call: bool = False
    params: tuple[Param, ...] = ()
    text: str = ""

    @property
    def positional(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.kind == "plain" and not p.optional)

    @property
    def keywords(self) -> tuple[Param, ...]:
        return tuple(p for p in self.params if p.kind == "plain" and p.optional)

    def __str__(self) -> str:
        return self.text or self.name


def _split_params(text: str) -> Iterator[str]:
    """Split on top-level commas, so defaults like `(1, 2)` or `{'a': 1}` stay whole."""
    depth, start = 0, 0
    for index, char in enumerate(text):
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            yield text[start:index].strip()
            start = index + 1
    tail = text[start:].strip()
    if tail:
        yield tail


def parse_member(text: str) -> MemberSpec:
    """Parse ``[async] name[(params)]``.

    Raises:
        ContractSyntaxError: the text is not a member spec.
    """
    match = _MEMBER.match(text)
    if not match:
        raise ContractSyntaxError(
            f"cannot read member {text!r}: write 'name', 'name(arg, opt=None)' or 'async name(arg)'"
        )
    is_async = bool(match["async"])
    is_call = match["params"] is not None
    if is_async and not is_call:
        raise ContractSyntaxError(
            f"member {text!r} is async but has no parameter list: write 'async {match['name']}()'"
        )
    params: list[Param] = []
    seen: set[str] = set()
    for raw in _split_params(match["params"] or ""):
        if raw in {"/", "*"}:
            continue
        param = _PARAM.match(raw)
        if not param or not param["name"]:
            raise ContractSyntaxError(f"cannot read parameter {raw!r} of member {text!r}")
        name = param["name"]
        if name in seen:
            raise ContractSyntaxError(f"parameter {name!r} appears twice in member {text!r}")
        seen.add(name)
        stars = param["stars"]
        kind = {"": "plain", "*": "var_positional", "**": "var_keyword"}[stars]
        params.append(Param(name=name, optional=bool(param["default"]), kind=kind))
    required_after_optional = [
        p.name
        for i, p in enumerate(params)
        if p.kind == "plain" and not p.optional and any(q.optional for q in params[:i])
    ]
    if required_after_optional:
        raise ContractSyntaxError(
            f"in member {text!r}, required parameter {required_after_optional[0]!r} follows an optional one"
        )
    return MemberSpec(name=match["name"], is_async=is_async, is_call=is_call, params=tuple(params), text=text.strip())


# -- comparison with a live object -----------------------------------------------------------


def _location_of(obj: Any) -> Location | None:
    """Where a function or class is defined, or None for builtins and C extensions."""
    target = inspect.unwrap(getattr(obj, "__func__", obj)) if callable(obj) else obj
    if isinstance(target, property) and target.fget is not None:
        target = target.fget
    try:
        path = inspect.getsourcefile(target)
        code = getattr(target, "__code__", None)
        if code is None:
            _, line = inspect.getsourcelines(target)
        elif path and linecache.getline(path, code.co_firstlineno):
            line = code.co_firstlineno  # `getsourcelines` would tokenize the whole body to say the same
        else:
            return None  # no source to point at: generated code (a dataclass's __init__), a frozen module
    except (OSError, TypeError):
        return None
    return Location(path, line) if path else None


def _is_async(value: Any) -> bool:
    function = inspect.unwrap(getattr(value, "__func__", value))
    return inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(value)


def _class_members(obj: Any) -> list[str]:
    return [name for name in dir(obj) if not (name.startswith("__") and name.endswith("__"))]


class Undecidable(Exception):
    """The member cannot be judged from the class alone (an attribute set on instances)."""


def _held(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float):
        return repr(value)
    return f"a {type(value).__name__}"


def _suggest_member(obj: Any, spec: MemberSpec) -> str | None:
    """A did-you-mean of the same kind first: a renamed method is most likely another method."""
    names = _class_members(obj)
    methods = [name for name in names if callable(inspect.getattr_static(obj, name, None))]
    same_kind = methods if spec.is_call else [name for name in names if name not in methods]
    return suggest(spec.name, same_kind) or suggest(spec.name, names)


def compare_member(role: str, obj: Any, spec: MemberSpec, *, on_class: bool = False) -> list[Finding]:
    """Compare one contract member with the live object `obj` playing `role`.

    With `on_class`, `obj` is the role's class rather than an instance: used when
    startup failed before building the role, so the contract can still explain why.

    Returns the findings (empty when the member matches). Never calls the member.

    Raises:
        Undecidable: `on_class` and the member is not on the class (it may be set on instances).
    """
    subject = f"{role}.{spec.name}"
    cls = obj if on_class else type(obj)
    sentinel = object()
    static = inspect.getattr_static(obj, spec.name, sentinel)
    if static is sentinel and on_class and not spec.is_call:
        raise Undecidable(f"{spec.name!r} is not on the class; it may be set on instances")
    if static is sentinel:
        try:
            value = getattr(obj, spec.name)  # a class with __getattr__ may still provide it
        except AttributeError:
            guess = _suggest_member(obj, spec)
            hint = f"did you mean {guess!r}? " if guess else ""
            return [
                Finding(
                    code="WC202",
                    message=f"{cls.__name__} has no member {spec.name!r}; {hint}the contract expects `{spec}`",
                    location=_location_of(cls),
                    hint="Rename the member back, or update every caller and the contract to its new name.",
                    subject=subject,
                    data={"suggestion": guess} if guess else {},
                )
            ]
    else:
        value = getattr(obj, spec.name, static)
    location = _location_of(static) or _location_of(value)

    if not spec.is_call:
        is_method = inspect.isfunction(static) or isinstance(static, staticmethod | classmethod)
        if is_method:
            return [
                Finding(
                    code="WC204",
                    message=f"{cls.__name__}.{spec.name} is a method, but the contract reads it as an attribute",
                    location=location,
                    hint=f"Write it as a call in the contract (`{spec.name}(...)`), or make it a property.",
                    subject=subject,
                )
            ]
        return []

    if not callable(value):
        return [
            Finding(
                code="WC204",
                message=f"{cls.__name__}.{spec.name} is not callable (it holds {_held(value)}); the contract calls it",
                location=location,
                hint="Make it a method again, or write it as an attribute in the contract.",
                subject=subject,
            )
        ]

    findings: list[Finding] = []
    live_async = _is_async(value)
    if live_async != spec.is_async:
        if live_async:
            message = f"{cls.__name__}.{spec.name} is async def, but the contract calls it without await"
            hint = (
                "Callers that do not await it create a coroutine and drop it: nothing happens. "
                "Await it at every call site and write `async` in the contract, or make it a plain def again."
            )
        else:
            message = f"{cls.__name__}.{spec.name} is a plain def, but the contract awaits it"
            hint = "Awaiting its result raises TypeError. Make it async def, or drop `async` from the contract."
        findings.append(
            Finding(
                code="WC203",
                message=message,
                location=location,
                hint=hint,
                subject=subject,
                data={
                    "live": "async def" if live_async else "def",
                    "contract": "async def" if spec.is_async else "def",
                },
            )
        )

    try:
        signature = inspect.signature(value)
    except (TypeError, ValueError):
        return findings  # builtins without a signature: nothing more can be known
    if on_class and inspect.isfunction(static):
        # A plain function read from the class is unbound: drop `self`, as binding would.
        signature = signature.replace(parameters=list(signature.parameters.values())[1:])
    findings.extend(_compare_signature(cls.__name__, subject, spec, signature, location))
    return findings


def _compare_signature(
    owner: str, subject: str, spec: MemberSpec, signature: inspect.Signature, location: Location | None
) -> Iterator[Finding]:
    """Yield one finding per way the contract's call would not bind to `signature`."""
    params = list(signature.parameters.values())
    P = inspect.Parameter
    positional_slots = [p for p in params if p.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD)]
    has_var_positional = any(p.kind is P.VAR_POSITIONAL for p in params)
    has_var_keyword = any(p.kind is P.VAR_KEYWORD for p in params)
    live = f"{spec.name}{signature}"

    # Required contract parameters are passed by position.
    covered: set[str] = set()
    contract_positional = spec.positional
    if len(contract_positional) > len(positional_slots) and not has_var_positional:
        extra = ", ".join(p.name for p in contract_positional[len(positional_slots) :])
        yield Finding(
            code="WC205",
            message=(
                f"{owner}.{live} takes {len(positional_slots)} positional argument(s), "
                f"but the contract passes {len(contract_positional)} ({extra} too many)"
            ),
            location=location,
            hint="Callers raise TypeError. Restore the parameter, or update the callers and the contract.",
            subject=subject,
        )
    for slot, _ in zip(positional_slots, contract_positional, strict=False):
        covered.add(slot.name)

    # Optional contract parameters are passed by keyword.
    by_name = {p.name: p for p in params}
    for keyword in spec.keywords:
        target = by_name.get(keyword.name)
        accepted = (target is not None and target.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY)) or (
            target is None and has_var_keyword
        )
        if not accepted:
            guess = suggest(keyword.name, [p.name for p in params if p.kind is not P.POSITIONAL_ONLY])
            hint = f" (did you mean {guess!r}?)" if guess else ""
            yield Finding(
                code="WC205",
                message=f"{owner}.{live} does not accept the keyword {keyword.name!r}{hint}",
                location=location,
                hint="Callers passing it raise TypeError. Rename it back, or update the callers and the contract.",
                subject=subject,
            )
        covered.add(keyword.name)

    for special in spec.params:
        if special.kind == "var_positional" and not has_var_positional:
            yield Finding(
                code="WC205",
                message=f"{owner}.{live} takes no *{special.name}, but the contract passes extra positional arguments",
                location=location,
                hint="Add *args back, or drop it from the contract.",
                subject=subject,
            )
        if special.kind == "var_keyword" and not has_var_keyword:
            yield Finding(
                code="WC205",
                message=f"{owner}.{live} takes no **{special.name}, but the contract passes extra keyword arguments",
                location=location,
                hint="Add **kwargs back, or drop it from the contract.",
                subject=subject,
            )

    missing = [
        p.name
        for p in params
        if p.default is P.empty and p.kind not in (P.VAR_POSITIONAL, P.VAR_KEYWORD) and p.name not in covered
    ]
    if missing:
        names = ", ".join(repr(name) for name in missing)
        yield Finding(
            code="WC206",
            message=f"{owner}.{live} requires {names}, which the contract `{spec}` does not pass",
            location=location,
            hint=(
                "Every caller written to the contract raises TypeError. Give the new parameter a default, "
                "or pass it at every call site and add it to the contract."
            ),
            subject=subject,
            data={"missing": missing},
        )
