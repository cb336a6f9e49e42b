"""The boot tracer: what startup did to the roles' classes while it ran.

For each role whose class the configuration names, it records, on instances of
that class (and its subclasses):

- every call of its methods, with the caller's file:line and a short summary of
  the arguments;
- every failed attribute lookup, which is what `hasattr(obj, "x")` and
  `getattr(obj, "x", default)` do when `x` is missing: the guard that silently
  skipped the wiring.

It is installed only for the boot and restores every class exactly afterwards:
each patched entry of a class `__dict__` is put back as it was, or deleted when
the tracer added it.
"""

from __future__ import annotations

import functools
import inspect
import linecache
import reprlib
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from wiringcheck.config import EmitCall
from wiringcheck.diagnose import FrameInfo, is_user_file, is_wiringcheck_file
from wiringcheck.errors import UsageError
from wiringcheck.findings import Finding, Location, Severity
from wiringcheck.importing import import_ref, prepend_paths
from wiringcheck.render import shown_location
from wiringcheck.run.recording import Emission
from wiringcheck.suggest import suggest

if TYPE_CHECKING:
    from wiringcheck.config import Settings

__all__ = ["Call", "Lookup", "Tracer", "emissions_recorded"]

_MISSING = object()
_repr = reprlib.Repr()
_repr.maxstring = 40
_repr.maxother = 40


@dataclass(frozen=True, slots=True)
class Call:
    """One call of a traced method: who, with what, from where, when, and in which phase of the run."""

    role: str
    method: str
    args: str
    location: Location | None
    guarded: bool = False
    at: float = 0.0
    phase: str = "boot"
    task_origin: FrameInfo | None = None
    """Where the backend created the task that made the call (a setter handed to a background task)."""

    def __str__(self) -> str:
        where = f" at {shown_location(self.location)}" if self.location else ""
        guard = ", behind a hasattr guard" if self.guarded else ""
        return f"{self.role}.{self.method}({self.args}){where}{guard}"


@dataclass(frozen=True, slots=True)
class Lookup:
    """One failed attribute lookup on a traced instance."""

    role: str
    name: str
    location: Location | None
    code: str = ""
    owner: type | None = None
    """The class of the instance the lookup failed on (a subclass of the role's class, maybe)."""


def _caller(depth: int, *, stop_at_own: bool = False) -> Location | None:
    """The nearest frame of the backend's own code, starting `depth` frames up.

    With `stop_at_own`, a wiringcheck frame met first means wiringcheck made the access
    (its contract check reads the members it compares): there is no backend caller, even
    though the backend's tests or the console script may sit further up the stack.
    """
    frame: FrameType | None = sys._getframe(depth + 1)
    while frame is not None:
        path = frame.f_code.co_filename
        if is_user_file(path):
            return Location(path, frame.f_lineno)
        if stop_at_own and is_wiringcheck_file(path):
            return None
        frame = frame.f_back
    return None


def _guarded(location: Location | None, method: str) -> bool:
    """Whether the call sits under an `if hasattr(..., "method")` within a few lines above it."""
    if location is None or location.line is None:
        return False
    for line in range(location.line, max(location.line - 4, 0), -1):
        text = linecache.getline(location.path, line)
        if "hasattr(" in text and method in text:
            return True
    return False


def _context() -> dict[str, Any]:
    """The phase of the run and the task the current call runs in, from the containment in force."""
    from wiringcheck.containment import Containment

    current = Containment.current()
    if current is None:
        return {}
    try:
        import asyncio

        task = asyncio.current_task()
    except RuntimeError:  # no running loop: a call from a thread
        task = None
    return {"phase": current.phase or "boot", "task_origin": current.origin_of(task)}


def _short(value: Any) -> str:
    """Plain values as a short repr; objects as `<ClassName>`, which is what a reader needs."""
    if value is None or isinstance(value, str | bytes | int | float | bool | list | tuple | dict | set):
        return _repr.repr(value)
    return f"<{type(value).__name__}>"


def _summary(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    parts = [_short(arg) for arg in args] + [f"{key}={_short(value)}" for key, value in kwargs.items()]
    return ", ".join(parts)


@dataclass(slots=True)
class Tracer:
    """Records calls and failed lookups on the roles' classes during boot."""

    classes: dict[str, type]
    clock: Callable[[], float] = time.monotonic
    same_object: dict[str, frozenset[str]] = field(default_factory=dict)
    """For each role, the roles configured at the same path: a call on that object is a call on each of them."""
    calls: list[Call] = field(default_factory=list)
    lookups: list[Lookup] = field(default_factory=list)
    _saved: list[tuple[type, str, Any]] = field(default_factory=list)

    @classmethod
    def for_settings(cls, settings: Settings, *, clock: Callable[[], float] = time.monotonic) -> Tracer:
        """Import each role's `class` (a usage error when it does not resolve)."""
        prepend_paths(settings.pythonpath)
        classes: dict[str, type] = {}
        for role in settings.roles.values():
            if role.class_ref:
                value = import_ref(role.class_ref)
                if not isinstance(value, type):
                    from wiringcheck.importing import ImportRefError

                    raise ImportRefError(f"{role.class_ref} (class of role {role.name!r}) is not a class")
                classes[role.name] = value
        by_path: dict[str, set[str]] = {}
        for role in settings.roles.values():
            by_path.setdefault(role.path, set()).add(role.name)
        same_object = {name: frozenset(group) for group in by_path.values() for name in group}
        return cls(classes=classes, clock=clock, same_object=same_object)

    def _role_of(self, instance: Any) -> str | None:
        for role, cls in self.classes.items():
            if isinstance(instance, cls):
                return role
        return None

    def _plays(self, recorded: str, role: str) -> bool:
        """Whether a call recorded on role `recorded` was made on the object `role` names (same path, same object)."""
        return recorded == role or recorded in self.same_object.get(role, ())

    # -- installation ----------------------------------------------------------------------------

    @contextmanager
    def installed(self) -> Iterator[Tracer]:
        """Patch the classes for the duration of the block; restore them exactly afterwards."""
        try:
            for cls in self._targets():
                self._patch_class(cls)
            yield self
        finally:
            for cls, name, original in reversed(self._saved):
                if original is _MISSING:
                    delattr(cls, name)
                else:
                    setattr(cls, name, original)
            self._saved.clear()

    def _targets(self) -> list[type]:
        """The roles' classes, their bases (inherited methods are called too) and their subclasses."""
        seen: list[type] = []

        def add(cls: type) -> None:
            if cls is not object and cls not in seen and cls.__module__ != "builtins":
                seen.append(cls)

        for cls in self.classes.values():
            for base in cls.__mro__:
                add(base)
            stack: list[type] = list(cls.__subclasses__())
            while stack:
                sub = stack.pop()
                add(sub)
                stack.extend(sub.__subclasses__())
        return seen

    def _save(self, cls: type, name: str) -> None:
        self._saved.append((cls, name, cls.__dict__.get(name, _MISSING)))

    def _patch_class(self, cls: type) -> None:
        for name, value in list(vars(cls).items()):
            if name.startswith("__") or not inspect.isfunction(value):
                continue
            self._save(cls, name)
            setattr(cls, name, self._wrap(name, value))
        if cls in self.classes.values():
            self._save(cls, "__getattr__")
            setattr(cls, "__getattr__", self._lookup_recorder(cls.__dict__.get("__getattr__")))  # noqa: B010

    def _wrap(self, name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        tracer = self

        @functools.wraps(function)
        def traced(instance: Any, *args: Any, **kwargs: Any) -> Any:
            role = tracer._role_of(instance)
            if role is not None:
                location = _caller(1)
                tracer.calls.append(
                    Call(
                        role,
                        name,
                        _summary(args, kwargs),
                        location,
                        _guarded(location, name),
                        at=tracer.clock(),
                        **_context(),
                    )
                )
            return function(instance, *args, **kwargs)

        # The wrapper stays a plain def, so that a call startup forgets to await is still recorded;
        # it is marked as a coroutine function where Python allows it (3.12+).
        mark = getattr(inspect, "markcoroutinefunction", None)
        if mark is not None and inspect.iscoroutinefunction(function):
            mark(traced)
        return traced

    def _lookup_recorder(self, original: Callable[[Any, str], Any] | None) -> Callable[[Any, str], Any]:
        tracer = self

        def __getattr__(instance: Any, name: str) -> Any:
            if original is not None:
                try:
                    return original(instance, name)
                except AttributeError:
                    pass
            role = tracer._role_of(instance)
            if role is not None and not name.startswith("__"):
                location = _caller(1, stop_at_own=True)
                if location is not None:  # a lookup of wiringcheck's own is no guard of the backend's
                    code = linecache.getline(location.path, location.line or 0).strip()
                    tracer.lookups.append(Lookup(role, name, location, code, type(instance)))
            raise AttributeError(
                f"{type(instance).__name__!r} object has no attribute {name!r}", name=name, obj=instance
            )

        return __getattr__

    # -- findings --------------------------------------------------------------------------------

    def late_call(self, call: str, ready_at: float) -> Call | None:
        """The first call of `role.method` made after startup completed at `ready_at` (from a background task, say)."""
        role, _, method = call.partition(".")
        return next(
            (c for c in self.calls if self._plays(c.role, role) and c.method == method and c.at > ready_at), None
        )

    def calls_after(self, roles: set[str], ready_at: float) -> list[Call]:
        """Calls on these roles made after startup completed at `ready_at`, in order."""
        return [c for c in self.calls if c.role in roles and c.at > ready_at]

    def check_must_call(self, call: str, ready_at: float | None = None) -> list[Finding]:
        """WC106 when startup never called `role.method` before `ready_at`, with what it called on that role instead."""
        role, _, method = call.partition(".")
        booting = [c for c in self.calls if ready_at is None or c.at <= ready_at]
        if any(self._plays(c.role, role) and c.method == method for c in booting):
            return []
        # The most telling call first: a guarded one, or one whose name is close to the missing one.
        others = sorted(
            (c for c in booting if self._plays(c.role, role)),
            key=lambda c: (not c.guarded, suggest(method, [c.method]) is None),
        )
        instead = f"; it called {others[0]}" if others else f"; it called nothing on {role}"
        lookup = next((item for item in self.lookups if self._plays(item.role, role) and item.name == method), None)
        if lookup is not None:
            instead += f"; a lookup of {method!r} failed at {shown_location(lookup.location)} (`{lookup.code}`)"
        location = others[0].location if others else (lookup.location if lookup else None)
        return [
            Finding(
                code="WC106",
                message=f"startup never called {call}{instead}",
                location=location,
                hint=f"Call {call}(...) in startup, awaited if async and unguarded, so that a rename fails loudly.",
                subject=call,
                evidence=tuple(f"called {c}" for c in others)
                + tuple(
                    f"lookup failed: {role}.{item.name} at {shown_location(item.location)}" for item in self.lookups
                ),
            )
        ]

    def guard_findings(self, failed: Mapping[str, Sequence[str]] | None = None) -> list[Finding]:
        """WC107 for each failed lookup in the backend's code: the guard that skipped something.

        A guard is a warning on its own (feature detection is legitimate), and the cause of
        the failure when it skipped what failed: `failed` names, by role, the checks that
        failed on it (a wire not made, a call never made). A guard on such a role that looked
        for a renamed member (it has a did-you-mean) or for the very call startup had to
        make is then an error, and the report leads with it.
        """
        failed = failed or {}
        findings: list[Finding] = []
        seen: set[tuple[str, str, str]] = set()
        for lookup in self.lookups:
            key = (lookup.role, lookup.name, str(lookup.location))
            if key in seen or lookup.location is None:
                continue
            seen.add(key)
            cls = lookup.owner or self.classes[lookup.role]
            guess = _guess_member(cls, lookup)
            hint_guess = f"; did you mean {guess!r}?" if guess else ""
            branch = "the guarded block never runs" if "hasattr" in lookup.code else "the default is used instead"
            roles = self.same_object.get(lookup.role, frozenset({lookup.role})) | {lookup.role}
            explained = [name for role in sorted(roles) for name in failed.get(role, ())]
            required = f"startup call: {lookup.role}.{lookup.name}"
            cause = bool(explained) and (guess is not None or any(name == required for name in explained))
            findings.append(
                Finding(
                    code="WC107",
                    message=(
                        f"{cls.__name__} has no attribute {lookup.name!r} (looked up on {lookup.role}): "
                        f"{branch}{hint_guess}"
                    ),
                    location=lookup.location,
                    hint=(
                        f"Call {guess}(...) directly, by its current name: a missing member then fails loudly."
                        if guess and cause
                        else "Call the member directly (a missing member then fails loudly), using its current name."
                    ),
                    subject=f"{lookup.role}.{lookup.name}",
                    evidence=(
                        *((f"{shown_location(lookup.location)}: {lookup.code}",) if lookup.code else ()),
                        *(f"so this failed: {name}" for name in explained if cause),
                    ),
                    severity=Severity.ERROR if cause else Severity.WARNING,
                    data={"suggestion": guess} if guess else {},
                )
            )
        return findings


def _guess_member(cls: type, lookup: Lookup) -> str | None:
    """The member a failed lookup most likely meant; a method first when the guarded code calls the name."""
    names = [name for name in dir(cls) if not name.startswith("__")]
    if lookup.location is not None and lookup.location.line:
        following = (linecache.getline(lookup.location.path, lookup.location.line + i) for i in range(4))
        if any(f".{lookup.name}(" in line for line in following):
            methods = [name for name in names if callable(inspect.getattr_static(cls, name, None))]
            guess = suggest(lookup.name, methods)
            if guess is not None:
                return guess
    return suggest(lookup.name, names)


# -- emissions during the probe --------------------------------------------------------------------


@contextmanager
def emissions_recorded(
    roles: Mapping[str, Any], emit: Sequence[EmitCall | tuple[str, str]], clock: Callable[[], float]
) -> Iterator[list[Emission]]:
    """Timestamp each call of the methods `emit` maps events to, on the live role objects, for the block.

    Each call is recorded as an `Emission` of its event, tied to its run by the call's
    ``run_id`` argument (or none, to pair by order); the method itself runs unchanged. A
    method that emits several events (``emit(kind, ...)``) is wrapped once, and each call
    is recorded as the event its kind argument names (`EmitCall.kind`); a call whose kind
    names no mapped event is not recorded. The instances get a wrapping attribute for the
    block; it is deleted afterwards, so the class's own method shows through again. Roles
    that were not found are skipped.
    """
    calls: dict[str, list[EmitCall]] = {}
    for entry in emit:
        call = entry if isinstance(entry, EmitCall) else EmitCall(entry[0], entry[1])
        calls.setdefault(call.method, []).append(call)
    recorded: list[Emission] = []
    patched: list[tuple[Any, str, bool, Any]] = []
    try:
        for target, events in calls.items():
            role, _, method = target.partition(".")
            instance = roles.get(role)
            original = getattr(instance, method, None) if instance is not None else None
            if original is None or not callable(original):
                continue
            had_own = method in getattr(instance, "__dict__", {})
            try:
                setattr(instance, method, _timed(original, events, recorded, clock))
            except (AttributeError, TypeError):  # slots or a frozen object: emission stays untimed
                continue
            patched.append((instance, method, had_own, original))
        yield recorded
    finally:
        for instance, method, had_own, original in reversed(patched):
            if had_own:
                setattr(instance, method, original)
            else:
                delattr(instance, method)


def _timed(
    original: Callable[..., Any], calls: list[EmitCall], recorded: list[Emission], clock: Callable[[], float]
) -> Callable[..., Any]:
    try:
        signature: inspect.Signature | None = inspect.signature(original)
    except (TypeError, ValueError):
        signature = None
    parameters = list(signature.parameters.values()) if signature is not None else []
    positional = [p.name for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    var_positional = next((p.name for p in parameters if p.kind is p.VAR_POSITIONAL), None)
    var_keyword = next((p.name for p in parameters if p.kind is p.VAR_KEYWORD), None)
    for call in calls:
        _check_kind_argument(call, signature, positional, var_positional, var_keyword)

    def argument(
        bound: Mapping[str, Any] | None, args: tuple[Any, ...], kwargs: Mapping[str, Any], which: str | int
    ) -> Any:
        """The call's argument `which`: by name, or by position from 0 (through ``*args`` too)."""
        if bound is None:  # no signature, or a call the method itself will refuse
            if isinstance(which, int):
                return args[which] if which < len(args) else _MISSING
            return kwargs.get(which, _MISSING)
        if isinstance(which, str):
            if which in bound:
                return bound[which]
            return bound.get(var_keyword, {}).get(which, _MISSING) if var_keyword else _MISSING
        if which < len(positional):
            return bound.get(positional[which], _MISSING)
        extra = bound.get(var_positional, ()) if var_positional else ()
        index = which - len(positional)
        return extra[index] if index < len(extra) else _MISSING

    @functools.wraps(original)
    def timed(*args: Any, **kwargs: Any) -> Any:
        at = clock()
        bound: Mapping[str, Any] | None = None
        if signature is not None:
            try:
                bound = signature.bind_partial(*args, **kwargs).arguments
            except TypeError:  # a call the method will refuse: it raises below, as it would have
                bound = None
        run_id = argument(bound, args, kwargs, "run_id")
        run = str(run_id) if run_id is not _MISSING and run_id is not None else None
        for call in calls:
            if call.kind is None or call.kind.accepts(argument(bound, args, kwargs, call.kind.argument)):
                recorded.append(Emission(call.event, run, at))
        return original(*args, **kwargs)

    return timed


def _check_kind_argument(
    call: EmitCall,
    signature: inspect.Signature | None,
    positional: list[str],
    var_positional: str | None,
    var_keyword: str | None,
) -> None:
    """Refuse a kind argument the live method cannot receive: every call would be left unrecorded.

    Raises:
        UsageError: the method has no such parameter (with the closest one), or too few positions.
    """
    if call.kind is None or signature is None:
        return
    which = call.kind.argument
    key = f"probe.emit.{call.event}.argument"
    if isinstance(which, str) and which not in signature.parameters and var_keyword is None:
        guess = suggest(which, positional)
        hint = f"; did you mean {guess!r}?" if guess else f"; its parameters: {', '.join(positional) or 'none'}"
        raise UsageError(f"{key}: {call.method}{signature} has no parameter {which!r}{hint}")
    if isinstance(which, int) and which >= len(positional) and var_positional is None:
        raise UsageError(
            f"{key}: {call.method}{signature} takes {len(positional)} positional argument(s): position {which} "
            "is past them (0 is the first after self)"
        )
