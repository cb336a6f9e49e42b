"""`wiringcheck inspect`: boot the backend and show what startup built, as a tree.

For each role: the object's class and bases, and each member with its signature
(``async def`` marked), its kind, where it is defined (file:line, and whether the
class defines it or inherits it from which base), and, for members in the contract,
whether they match it. Then the state of each wire, with the values on both sides.
The backend is shut down before the tree is printed.

It is the first thing to run when a contract check fails, and the way to write a
contract for a new backend: each method also shows the contract line that matches it.
Nothing here calls a member: properties are listed, never evaluated.

It also lists the app's WebSocket routes, and with ``--probe`` starts one run and shows
the distinct frame shapes that arrived, with a suggested ``[tool.wiringcheck.probe]``
table mapping them onto the five events: the way to map a protocol wiringcheck did not write.
"""

from __future__ import annotations

import functools
import inspect as pyinspect
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wiringcheck.commands.config_edit import toml_value
from wiringcheck.report import ExitCode

if TYPE_CHECKING:
    from wiringcheck.backend import Backend
    from wiringcheck.capture import Capture
    from wiringcheck.config import RoleSpec, Settings
    from wiringcheck.findings import Location
    from wiringcheck.run.recording import Recording
    from wiringcheck.supervisor import Relay

__all__ = [
    "AppRoute",
    "Node",
    "app_routes",
    "inspect_command",
    "inspect_settings",
    "inspect_tree",
    "render_plain",
    "role_paths",
    "table_prefix",
    "toml_value",
    "websocket_routes",
]


@dataclass(slots=True)
class Node:
    """One line of the tree: a text, an optional rich style, and children."""

    text: str
    style: str = ""
    children: list[Node] = field(default_factory=list)

    def add(self, text: str, style: str = "") -> Node:
        child = Node(text, style)
        self.children.append(child)
        return child


# -- members -------------------------------------------------------------------------------------


def _annotation(annotation: Any) -> str:
    if isinstance(annotation, str):  # `from __future__ import annotations` keeps them as text
        return annotation
    return pyinspect.formatannotation(annotation)


def format_signature(signature: pyinspect.Signature) -> str:
    """A signature as its source reads, annotations unquoted."""
    parts: list[str] = []
    seen_keyword_only = False
    previous_positional_only = False
    for param in signature.parameters.values():
        if previous_positional_only and param.kind is not param.POSITIONAL_ONLY:
            parts.append("/")
        previous_positional_only = param.kind is param.POSITIONAL_ONLY
        if param.kind is param.KEYWORD_ONLY and not seen_keyword_only:
            parts.append("*")
        if param.kind in (param.VAR_POSITIONAL, param.KEYWORD_ONLY):
            seen_keyword_only = True
        stars = "*" if param.kind is param.VAR_POSITIONAL else "**" if param.kind is param.VAR_KEYWORD else ""
        text = stars + param.name
        if param.annotation is not param.empty:
            text += f": {_annotation(param.annotation)}"
        if param.default is not param.empty:
            text += f"{' = ' if param.annotation is not param.empty else '='}{_short(param.default)}"
        parts.append(text)
    if previous_positional_only:
        parts.append("/")
    result = f"({', '.join(parts)})"
    if signature.return_annotation is not signature.empty:
        result += f" -> {_annotation(signature.return_annotation)}"
    return result


def contract_line(name: str, signature: pyinspect.Signature | None, *, is_async: bool, bound: bool) -> str:
    """The contract member that matches this method: ``async name(a, b, c=None)``, without self."""
    if signature is None:
        return f"{'async ' if is_async else ''}{name}(...)"
    params = list(signature.parameters.values())
    if bound and params and params[0].kind in (params[0].POSITIONAL_ONLY, params[0].POSITIONAL_OR_KEYWORD):
        params = params[1:]
    parts = []
    for param in params:
        if param.kind is param.VAR_POSITIONAL:
            parts.append(f"*{param.name}")
        elif param.kind is param.VAR_KEYWORD:
            parts.append(f"**{param.name}")
        elif param.default is not param.empty:
            default = repr(param.default)
            parts.append(f"{param.name}={default if len(default) <= 16 else '...'}")
        else:
            parts.append(param.name)
    return f"{'async ' if is_async else ''}{name}({', '.join(parts)})"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _robust_signature(function: Any) -> pyinspect.Signature | None:
    try:
        return pyinspect.signature(function)
    except (TypeError, ValueError):
        return None


def _location(obj: Any) -> Location | None:
    from wiringcheck.findings import Location

    target: Any = obj.fget if isinstance(obj, property) else getattr(obj, "func", obj)
    target = getattr(target, "__func__", target)
    if callable(target):
        target = pyinspect.unwrap(target)
    try:
        path = pyinspect.getsourcefile(target)
        _, line = pyinspect.getsourcelines(target)
    except (OSError, TypeError):
        return None
    return Location(path, line or 1) if path else None


def _where(location: Location | None) -> str:
    from wiringcheck.render import shown_location

    return shown_location(location) if location else "no source"


def _describe(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        return _short(value)
    return f"<{type(value).__module__}.{type(value).__qualname__} at {id(value):#x}>"


@dataclass(frozen=True, slots=True)
class Member:
    """One member of a role's class (or of the object itself), as the tree shows it."""

    name: str
    kind: str
    signature: str = ""
    contract: str = ""
    origin: str = ""
    location: Location | None = None


def members_of(obj: Any, *, private: bool = False) -> list[Member]:
    """The members of `obj`: its class's (own or inherited) in definition order, then instance attributes."""
    cls = type(obj)
    owners = [klass for klass in cls.__mro__ if klass is not object]
    found: list[Member] = []
    seen: set[str] = set()
    for owner in owners:
        for name, raw in vars(owner).items():
            if name in seen or _hidden(name, private=private):
                continue
            seen.add(name)
            origin = "own" if owner is cls else f"inherited from {owner.__qualname__}"
            found.append(_member(name, raw, origin))
    instance = _attributes(obj)
    if instance is not None:
        for name, value in instance.items():
            if name in seen or _hidden(name, private=private):
                continue
            found.append(Member(name, "instance attribute", signature=f"= {_describe(value)}", origin="instance"))
    return found


def _attributes(obj: Any) -> dict[str, Any] | None:
    """What an object holds by name: its `__dict__`, or a Starlette `State`'s own dict (``app.state``)."""
    state = getattr(obj, "__dict__", {}).get("_state") if hasattr(obj, "__dict__") else None
    if type(obj).__name__ == "State" and isinstance(state, dict):
        return dict(state)
    instance = getattr(obj, "__dict__", None)
    return instance if isinstance(instance, dict) else None


def _hidden(name: str, *, private: bool) -> bool:
    if name.startswith("__") and name.endswith("__"):
        return True
    return name.startswith("_") and not private


def _member(name: str, raw: Any, origin: str) -> Member:
    if isinstance(raw, staticmethod | classmethod):
        function = raw.__func__
        is_async = pyinspect.iscoroutinefunction(function)
        kind = f"{'async ' if is_async else ''}{type(raw).__name__}"
        signature = _robust_signature(function)
        bound = isinstance(raw, classmethod)
        return Member(
            name,
            kind,
            signature=format_signature(signature) if signature else "(...)",
            contract=contract_line(name, signature, is_async=is_async, bound=bound),
            origin=origin,
            location=_location(function),
        )
    if isinstance(raw, property):
        settable = " (settable)" if raw.fset is not None else ""
        return Member(name, f"property{settable}", contract=name, origin=origin, location=_location(raw))
    if isinstance(raw, functools.cached_property):
        return Member(name, "cached_property", contract=name, origin=origin, location=_location(raw.func))
    if pyinspect.isfunction(raw) or pyinspect.ismethoddescriptor(raw):
        function = pyinspect.unwrap(raw)
        is_async = pyinspect.iscoroutinefunction(function)
        signature = _robust_signature(raw)
        return Member(
            name,
            "async def" if is_async else "def",
            signature=format_signature(signature) if signature else "(...)",
            contract=contract_line(name, signature, is_async=is_async, bound=True),
            origin=origin,
            location=_location(raw),
        )
    return Member(name, "class attribute", signature=f"= {_describe(raw)}", contract=name, origin=origin)


# -- the tree ------------------------------------------------------------------------------------


def _role_node(root: Node, role: RoleSpec, backend: Backend, *, private: bool) -> None:
    from wiringcheck.contract import Undecidable, compare_member, parse_member

    if role.name not in backend.roles:
        root.add(f"✗ {role.name}: {backend.roles.missing.get(role.name, 'not found')}", "bold red")
        return
    obj = backend.roles[role.name]
    cls = type(obj)
    bases = [base.__qualname__ for base in cls.__mro__[1:] if base is not object]
    header = f"{role.name}: {cls.__module__}.{cls.__qualname__}  at {role.path}  ({_where(_location(cls))})"
    node = root.add(header, "bold")
    if bases:
        node.add(f"bases: {', '.join(bases)}", "dim")

    verdicts: dict[str, str] = {}
    for text in role.members:
        spec = parse_member(text)
        try:
            findings = compare_member(role.name, obj, spec)
        except Undecidable as exc:
            verdicts[spec.name] = f"contract ? {exc}"
            continue
        errors = [f for f in findings if f.severity == "error"]
        verdicts[spec.name] = f"contract ✓ {spec}" if not errors else f"contract ✗ {errors[0].code} {errors[0].message}"

    listed: set[str] = set()
    for member in members_of(obj, private=private):
        listed.add(member.name)
        signature = (
            f"{member.kind} {member.name}{member.signature}"
            if member.signature.startswith("(")
            else (f"{member.kind} {member.name} {member.signature}".rstrip())
        )
        where = member.origin if member.location is None else f"{member.origin}, {_where(member.location)}"
        verdict = verdicts.get(member.name, "")
        style = "red" if verdict.startswith("contract ✗") else "green" if verdict.startswith("contract ✓") else ""
        line = node.add(signature, style)
        line.add(where, "dim")
        if verdict:
            line.add(verdict, style)
        elif member.kind.endswith(("def", "staticmethod", "classmethod")):
            line.add(f'contract: "{member.contract}"', "dim")
    for name, verdict in verdicts.items():
        if name not in listed:  # a member the contract names that the listing hides (private, or dynamic)
            ok = verdict.startswith("contract ✓")
            node.add(f"{name}: {verdict}", "green" if ok else "red")


def _path_value(path: tuple[str, ...], backend: Backend) -> str:
    value: Any = backend.roles[path[0]]
    for name in path[1:]:
        try:
            value = getattr(value, name)
        except AttributeError:
            return f"no attribute {name!r}"
        except Exception as exc:  # a property that raises: show it, never crash the tree
            return f"raised {type(exc).__name__}: {exc}"
    return _describe(value)


def _wire_nodes(root: Node, settings: Settings, backend: Backend) -> None:
    from wiringcheck.wires import check_wire, parse_wire

    if not settings.wires:
        root.add("(no wires configured)", "dim")
        return
    for text in settings.wires:
        wire = parse_wire(text)
        missing = [path[0] for path in wire.paths if path[0] not in backend.roles]
        if missing:
            root.add(f"? {text}  (role {missing[0]!r} was not found)", "yellow")
            continue
        findings = check_wire(wire, backend.roles)
        node = root.add(f"✓ {text}" if not findings else f"✗ {text}", "green" if not findings else "bold red")
        for path in wire.paths:
            node.add(f"{'.'.join(path)} = {_path_value(path, backend)}", "dim")
        for finding in findings:
            if finding.code != "WC211":
                node.add(f"{finding.code} {finding.message}", "red")


@dataclass(frozen=True, slots=True)
class AppRoute:
    """A route the probe could talk to: a WebSocket, or an HTTP route that streams its answer.

    Attributes:
        path: the full path, prefixes of mounts and included routers joined.
        kind: ``websocket``, ``sse`` (answers ``text/event-stream``) or ``stream`` (another streamed body).
        methods: the HTTP methods, for HTTP routes.
        why: how the stream was recognised (its response class, its return annotation, its source).
    """

    path: str
    kind: str
    methods: tuple[str, ...] = ()
    why: str = ""

    def __str__(self) -> str:
        methods = f"{' '.join(self.methods)} " if self.methods else ""
        why = f"  ({self.why})" if self.why else ""
        return f"{self.kind} {methods}{self.path}{why}"


_SSE_MARKS = (
    "EventSourceResponse",
    "text/event-stream",
    "ServerSentEvent",
    "AGUIAdapter",
    "handle_ag_ui_request",
    "EventEncoder",
)
"""What an endpoint's annotation or source says when it answers with Server-Sent Events; AG-UI's adapters and
encoder too: pydantic-ai's `AGUIAdapter.dispatch_request` builds the response where the endpoint cannot show it."""
_STREAM_MARKS = ("StreamingResponse", "application/x-ndjson")


def app_routes(app: Any, prefix: str = "") -> list[AppRoute]:
    """The WebSocket and HTTP streaming routes an ASGI app serves (Starlette, FastAPI, mounts, included routers).

    Nothing is called: the routes are read from the router, and an HTTP route is a stream
    when its response class, its endpoint's return annotation or its endpoint's source says
    so. FastAPI (0.165 and later) keeps `include_router` routes in a wrapper of their own;
    they are read from the router it wraps, under its prefix.
    """
    found: list[AppRoute] = []
    for route in getattr(getattr(app, "router", app), "routes", None) or []:
        included = getattr(route, "original_router", None)
        context = getattr(route, "include_context", None)
        if included is not None and context is not None:  # FastAPI's _IncludedRouter
            found.extend(app_routes(included, prefix + str(getattr(context, "prefix", "") or "")))
            continue
        path = f"{prefix}{getattr(route, 'path', '')}"
        if "websocket" in type(route).__name__.lower():
            found.append(AppRoute(path, "websocket"))
        elif getattr(route, "routes", None):
            found.extend(app_routes(route, path))
        elif (stream := _streaming(route)) is not None:
            methods = tuple(sorted(set(getattr(route, "methods", None) or ()) - {"HEAD"}))
            found.append(AppRoute(path, stream[0], methods, stream[1]))
    return found


def _streaming(route: Any) -> tuple[str, str] | None:
    """(``sse`` or ``stream``, how it was told) when an HTTP route streams its answer, else None."""
    if getattr(route, "is_sse_stream", False):
        return "sse", "FastAPI server-sent events"
    response_class = getattr(route, "response_class", None)
    names = [klass.__name__ for klass in getattr(response_class, "__mro__", ())]
    if "EventSourceResponse" in names:
        return "sse", f"response_class={names[0]}"
    if "StreamingResponse" in names:
        return "stream", f"response_class={names[0]}"
    endpoint = getattr(route, "endpoint", None)
    if endpoint is None:
        return None
    signature = _robust_signature(endpoint)
    annotation = str(signature.return_annotation) if signature is not None else ""
    try:
        source = pyinspect.getsource(pyinspect.unwrap(endpoint))
    except (OSError, TypeError):
        source = ""
    for kind, marks in (("sse", _SSE_MARKS), ("stream", _STREAM_MARKS)):
        mark = next((mark for mark in marks if mark in annotation), None)
        if mark is not None:
            return kind, f"returns {mark}"
        mark = next((mark for mark in marks if mark in source), None)
        if mark is not None:
            return kind, f"its endpoint answers with {mark}"
    return None


def websocket_routes(app: Any, prefix: str = "") -> list[str]:
    """The WebSocket paths an ASGI app routes (Starlette and FastAPI routers, mounts and included routers)."""
    return [route.path for route in app_routes(app, prefix) if route.kind == "websocket"]


def table_prefix(settings: Settings) -> str:
    """How `settings`' own file names wiringcheck's tables: ``tool.wiringcheck.`` unless it is a wiringcheck.toml."""
    source = settings.source
    return "" if source is not None and source.name != "pyproject.toml" else "tool.wiringcheck."


def _frames_node(root: Node, settings: Settings, recording: Recording) -> None:
    import json

    from wiringcheck.learn import learn
    from wiringcheck.secrets import shorten

    frames = root.add(f"frames: {len(recording.frames)} received, run ended: {recording.end}", "bold")
    if recording.error:
        frames.add(recording.error, "red")
    lesson = learn(recording, settings.probe)
    for shape in lesson.shapes:
        label = toml_value(shape.matcher) if shape.conditions else "(no type-like field)"
        known = f"  [{shape.role or shape.kind}]" if shape.kind is not None and shape.kind.value != "unexpected" else ""
        node = frames.add(f"{shape.count}x {label}{known}")
        node.add(shorten(json.dumps(shape.example, default=str), 160), "dim")
    if not lesson.shapes:
        return
    table = lesson.table
    where = settings.source.name if settings.source is not None else "pyproject.toml"
    if not any(value for key, value in table.items()):
        root.add(f"suggested configuration: none, {where} already maps every frame that arrived", "bold")
        return
    suggestion = root.add(
        f"suggested additions to {where} (guessed from the frames' types: check each line; "
        "`wiringcheck init --from-run` writes them)",
        "bold",
    )
    from wiringcheck.commands.config_edit import suggested_table

    for line in suggested_table(table, prefix=table_prefix(settings)):
        suggestion.add(line)


def inspect_tree(
    settings: Settings, backend: Backend, *, private: bool = False, recording: Recording | None = None
) -> Node:
    """The tree `wiringcheck inspect` prints, built from a booted backend (reads only; calls nothing)."""
    where = "probed at" if settings.target_kind == "url" else "served at"
    root = Node(f"wiringcheck inspect: {settings.target_kind} {settings.target}  ({where} {backend.ws_url})", "bold")
    in_process = settings.target_kind != "url"
    if in_process and backend.app is not None:
        _routes_node(root, app_routes(backend.app))
        _paths_node(root, backend.app, settings)
    roles = root.add("roles", "bold")
    if not in_process:
        roles.add(
            "(a running URL: its objects live in another process; roles, contracts and wires are checked "
            "on an app or boot target)",
            "dim",
        )
    elif not settings.roles:
        roles.add("(no roles configured: add a roles table per object, with the path startup stores it at)", "dim")
    for role in settings.roles.values() if in_process else ():
        _role_node(roles, role, backend, private=private)
    if in_process:
        _wire_nodes(root.add("wires", "bold"), settings, backend)
    if recording is not None:
        _frames_node(root, settings, recording)
    elif not in_process:
        root.add("(pass --probe to start one run and see the frames it sends)", "dim")
    if in_process:
        _emit_node(root, settings, backend)
    return root


def _routes_node(root: Node, routes: list[AppRoute]) -> None:
    """The app's WebSocket routes, its HTTP streaming routes, and which transport the probe needs for them."""
    sockets = [route for route in routes if route.kind == "websocket"]
    streams = [route for route in routes if route.kind != "websocket"]
    if sockets:
        node = root.add("websocket routes", "bold")
        for route in sockets:
            node.add(route.path)
    if streams:
        node = root.add("http streaming routes", "bold")
        for route in streams:
            node.add(str(route))
    if streams and not sockets:
        first = next((route for route in streams if route.kind == "sse"), streams[0])
        method = f', method = "{first.methods[0]}"' if first.methods and first.methods[0] != "POST" else ""
        root.add(
            "no WebSocket route: this app streams its answers over HTTP, and the probe speaks WebSocket "
            f'unless told otherwise: set transport = "sse", path = "{first.path}"{method} in the probe table',
            "yellow",
        )


_PATH_CHILDREN = 12
"""Attributes listed at most under one object of the paths tree: enough to find a role, never a dump."""


def role_paths(root: Any, *, depth: int = 2) -> list[tuple[str, Any, int]]:
    """(path, value, level) of what role paths can reach from the root startup stores things on.

    For an ASGI app that is ``app.state`` (``state.agent_supervisor``, and one level into the
    objects found there: ``state.agent_supervisor.registry``); for a boot target, the handle
    it yielded. Only public names, only the backend's own objects are opened (not builtins
    or containers), and each object shows at most `_PATH_CHILDREN` attributes.
    """
    found: list[tuple[str, Any, int]] = []

    def walk(prefix: str, obj: Any, level: int) -> None:
        held = obj if isinstance(obj, Mapping) else _attributes(obj)
        if not held:
            return
        names = [name for name in held if isinstance(name, str) and not name.startswith("_")][:_PATH_CHILDREN]
        for name in names:
            value = held[name]
            found.append((f"{prefix}{name}", value, level))
            if level + 1 < depth and _openable(value):
                walk(f"{prefix}{name}.", value, level + 1)

    state = getattr(root, "state", None)
    if state is not None and type(state).__name__ == "State":
        walk("state.", state, 0)
    else:
        walk("", root, 0)
    return found


def _openable(value: Any) -> bool:
    """Whether an object is the backend's own, worth opening: not a builtin, a container or a module."""
    module = type(value).__module__
    return not (module == "builtins" or module.startswith(("typing", "collections")) or pyinspect.ismodule(value))


def _paths_node(root: Node, app: Any, settings: Settings) -> None:
    """What sits on ``app.state`` (or the boot handle): the values a role's `path` can take."""
    found = role_paths(app)
    if not found:
        return
    configured = {role.path: name for name, role in settings.roles.items()}
    title = "app.state (role paths)" if found[0][0].startswith("state.") else "the boot handle (role paths)"
    node = root.add(title, "bold")
    parents = [node]
    for path, value, level in found:
        role = f"  (role {configured[path]})" if path in configured else ""
        del parents[level + 1 :]
        parents.append(parents[level].add(f"{path}: {_describe_type(value)}{role}", "green" if role else ""))


def _describe_type(value: Any) -> str:
    if value is None or isinstance(value, bool | int | float | str):
        from wiringcheck.secrets import shorten

        return shorten(repr(value), 100)
    return f"{type(value).__module__}.{type(value).__qualname__}"


def suggest_emit(events: tuple[str, ...], roles: Mapping[str, Any]) -> list[tuple[str, str]]:
    """For each event, the role method whose name says it emits it (``notify_agent_thinking`` for
    ``agent_thinking``), as ``(event, "role.method")``; events no method names are left out."""
    suggested: list[tuple[str, str]] = []
    for event in events:
        candidates = [
            (not name.endswith(event), len(name), f"{role}.{name}")
            for role, obj in roles.items()
            for name in dir(type(obj))
            if event in name and not name.startswith("__") and callable(getattr(type(obj), name, None))
        ]
        if candidates:
            suggested.append((event, min(candidates)[2]))
    return suggested


def _emit_node(root: Node, settings: Settings, backend: Backend) -> None:
    """The `probe.emit` map: as configured, or suggested from the roles' methods, ready to paste."""
    if settings.probe.emit:
        node = root.add("probe.emit (emission latency is measured from these calls)", "bold")
        for event, method in settings.probe.emit:
            node.add(f"{event} = {method!r}")
        return
    suggested = suggest_emit(settings.probe.events, dict(backend.roles))
    if not suggested:
        return
    node = root.add("probe.emit: suggested; add it to measure each event from the call that emits it", "bold")
    node.add(f"[{table_prefix(settings)}probe.emit]", "dim")
    for event, method in suggested:
        node.add(f'{event} = "{method}"')


def render_plain(node: Node, depth: int = 0) -> str:
    """The tree as indented plain text (two spaces per level), for logs and pipes."""
    lines = [f"{'  ' * depth}{node.text}"]
    lines.extend(render_plain(child, depth + 1) for child in node.children)
    return "\n".join(lines)


def _render_rich(node: Node) -> Any:
    from rich.markup import escape
    from rich.tree import Tree

    def label(item: Node) -> str:
        return f"[{item.style}]{escape(item.text)}[/]" if item.style else escape(item.text)

    tree = Tree(label(node))

    def grow(parent: Any, item: Node) -> None:
        for child in item.children:
            grow(parent.add(label(child)), child)

    grow(tree, node)
    return tree


# -- the command ---------------------------------------------------------------------------------


async def _build(
    settings: Settings,
    *,
    private: bool,
    probe: bool = False,
    capture: Capture | None = None,
    observer: Relay | None = None,
) -> tuple[Node, tuple[str, ...]]:
    """The tree, and the credentials the probe's setup steps received (to scrub with the configured ones).

    What the backend logs, prints and lets fail goes to `capture` (a fresh one when not given).
    """
    from wiringcheck.backend import booted
    from wiringcheck.capture import Capture
    from wiringcheck.findings import Phase

    capture = capture if capture is not None else Capture()

    def enter(phase: str) -> None:
        capture.phase = phase
        if observer is not None:
            observer.phase_started(phase)

    enter(Phase.BOOT)
    with capture.logs(Phase.BOOT), capture.runtime("inspect"):
        async with booted(settings) as backend:
            enter(Phase.PROBE if probe else "inspect")
            recording = await backend.probe() if probe else None
            tree = inspect_tree(settings, backend, private=private, recording=recording)
            enter(Phase.SHUTDOWN)
    return tree, recording.secrets if recording is not None else ()


def _evidence_node(root: Node, capture: Capture) -> None:
    """What the backend logged, printed and let fail unobserved while it was inspected: evidence, like in a report."""
    from wiringcheck.render import finding_text

    findings = [*capture.runtime_findings(), *capture.findings()]
    if findings:
        node = root.add("the backend's warnings", "bold yellow")
        for finding in findings:
            text = finding_text(finding).splitlines()
            item = node.add(text[0], "yellow")
            for line in text[1:]:
                item.add(line.strip(), "dim")
    for output in capture.output_records():
        node = root.add(f"the backend's {output.stream} during {output.phase}", "bold")
        for line in output.lines:
            node.add(line)


def _supervised_tree(settings: Settings, private: bool, probe: bool) -> Node:
    from wiringcheck.errors import BackendError
    from wiringcheck.secrets import Secrets
    from wiringcheck.supervisor import death_report, supervise
    from wiringcheck.watchdog import MARGIN, budget

    outcome = supervise(inspect_here, (settings, private, probe), timeout=budget(settings) + 3 * MARGIN)
    secrets = Secrets([*settings.credentials(os.environ), *outcome.secrets])
    output = secrets.scrub(outcome.output)
    if outcome.death is None:
        assert outcome.verdict is not None
        tree = outcome.verdict
        for item in output:  # what reached the child's descriptors without passing through sys.stdout
            node = tree.add(f"the backend's {item.stream} (descriptor) during {item.phase}", "bold")
            for line in item.lines:
                node.add(line)
        return tree
    report = secrets.scrub(death_report(outcome.death, kind="run", target="", output=output))
    finding = report.checks[-1].findings[0]
    where = f" at {finding.location}" if finding.location else ""
    error = BackendError(finding.subject or "boot", f"{finding.message}{where} (WC108)")
    error.exit_code = 3
    raise error


def inspect_here(relay: Relay | None, settings: Settings, private: bool, probe: bool) -> Node:
    """Boot (or reach), build the tree, shut down: the tree, scrubbed; in a supervised child, phases go to `relay`.

    Raises:
        BackendError: the backend did not boot (exit 3) or did not shut down (exit 1).
    """
    import asyncio

    from wiringcheck.capture import Capture, scrubbed_logs
    from wiringcheck.errors import BackendError
    from wiringcheck.secrets import Secrets

    secrets = Secrets(settings.credentials(os.environ))
    capture = Capture()
    try:
        # What the backend logs and prints is shown in the tree, scrubbed; never raw on stdout or stderr.
        with scrubbed_logs(secrets), capture.output():
            tree, captured = asyncio.run(
                _build(settings, private=private, probe=probe, capture=capture, observer=relay)
            )
    except BackendError as exc:
        exc.problem = secrets.scrub_text(exc.problem) + " (run `wiringcheck run` for the full diagnosis)"
        raise
    _evidence_node(tree, capture)
    # A role's attribute may hold the token (a client's api key): the tree is output like any report.
    return secrets.with_values(*captured).scrub(tree)


def inspect_settings(
    config: Path | None, *, app: str | None = None, boot: str | None = None, url: str | None = None
) -> Settings:
    """The configuration to inspect with: the file (given or found), its target replaced by a flag's.

    With a target flag and no configuration file, a bare configuration whose imports start
    from the working directory: `inspect` is how a configuration gets written.

    Raises:
        UsageError: no target anywhere, or a malformed --url.
        ConfigError: the configuration file does not load.
    """
    from wiringcheck.config import Settings, check_ws_url, find_config, load_settings
    from wiringcheck.errors import UsageError

    if url is not None:
        try:
            check_ws_url(url)
        except ValueError as exc:
            raise UsageError(f"--url: {exc}") from None
    if config is None and find_config() is None and (app or boot or url):
        cwd = Path.cwd().resolve()
        settings = Settings(root=cwd, pythonpath=(cwd,))
    else:
        settings = load_settings(config)
    settings = settings.with_target(app=app, boot=boot, url=url)
    if settings.target_kind == "none":
        raise UsageError("no target: pass --app, --boot or --url, or set app, boot or url in the configuration")
    return settings


def inspect_command(settings: Settings, *, private: bool = False, probe: bool = False, supervised: bool = False) -> int:
    """Boot (or reach), build the tree, shut down, print; returns the exit code.

    With `supervised`, an in-process backend runs in a child process (`wiringcheck.supervisor`):
    if it ends that process, the error says so (WC108) and the exit code is 3.

    Raises:
        UsageError: the target's import path does not resolve.
        BackendError: the backend did not boot (exit 3) or did not shut down (exit 1), or ended the process (3).
    """
    from wiringcheck.errors import UsageError
    from wiringcheck.render.console import interactive, make_console

    if settings.target_kind == "none":
        raise UsageError("no target: pass --app, --boot or --url, or set app, boot or url in the configuration")
    in_process = settings.target_kind in ("app", "boot")
    if supervised and in_process:
        tree = _supervised_tree(settings, private, probe)
    else:
        tree = inspect_here(None, settings, private, probe)
    if interactive(sys.stdout):
        make_console().print(_render_rich(tree))
    else:
        sys.stdout.write(render_plain(tree) + "\n")
    return ExitCode.OK
