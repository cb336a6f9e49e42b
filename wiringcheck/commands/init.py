"""`wiringcheck init`: write a configuration, a commented starter or one learnt from a run.

Without ``--from-run``, init writes a commented starter: the target (asked for, or given
with ``--app``, ``--boot`` or ``--url``), the WebSocket path, the five default events and
the 100 ms budget, with every other key present as a comment that says what it is for.
It goes into ``./pyproject.toml`` as ``[tool.wiringcheck]``, or with ``--output
wiringcheck.toml`` into a file of its own; it never overwrites a configuration, unless
``--force`` asks it to replace one (in a pyproject.toml, only the wiringcheck tables go;
every other line and comment stays).

With ``--from-run``, init boots the backend the way `wiringcheck run` does (any target
kind, with the setup steps, auth, ``[env]`` and preset of the configuration in force, when
there is one), aims the probe at the app's own WebSocket or streaming route, starts one
run, and writes what the frames taught (`wiringcheck.learn`): the preset, the event
matchers, run-id and timestamp fields, ignores. A configuration that exists is completed
in place, comments kept, keys the user wrote never changed; otherwise the starter is
written with the learnt keys in it. A run that could not start writes nothing: the
reason is printed, to fix (auth, a setup step) before trying again.

Whatever init writes is read back (tomllib) before it replaces the file: init never
leaves an invalid configuration. A name it learnt from what the backend sent (a route,
a frame's type or field) that holds a control character or a lone surrogate is refused
with a message naming it (`check_derived`): no protocol names its events that way, and
no UTF-8 file can hold a lone surrogate.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wiringcheck.errors import UsageError
from wiringcheck.report import ExitCode

if TYPE_CHECKING:
    from wiringcheck.backend import Backend
    from wiringcheck.commands.inspect import AppRoute
    from wiringcheck.config import ProbeSettings, Settings
    from wiringcheck.learn import Lesson
    from wiringcheck.run.recording import Recording

__all__ = ["APP_REF", "check_derived", "init_command", "learnt_settings", "starter_table"]

APP_REF = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
"""What an app reference looks like: ``package.module:attribute``."""

_TARGET_COMMENT = {
    "app": 'ASGI app or zero-argument factory; or boot = "pkg.mod:boot", or url = "ws://host:port/ws"',
    "boot": "async context manager that starts the backend and yields a handle with ws_url",
    "url": "a running backend; its objects live in another process",
}


def prefix_for(path: Path) -> str:
    """How a configuration file names wiringcheck's tables: under ``tool.wiringcheck.`` in a pyproject.toml only."""
    return "tool.wiringcheck." if path.name == "pyproject.toml" else ""


def starter_table(
    target: tuple[str, str], *, ws_path: str = "/ws", prefix: str = "tool.wiringcheck.", preset: bool = False
) -> str:
    """The commented starter tables for `target` (kind, reference); they load with `load_settings` as written.

    `prefix` is ``tool.wiringcheck.`` for a pyproject.toml, empty for a wiringcheck.toml. Under a
    `preset` (learnt, and added after), the trigger and events are the preset's: they stay comments.
    """
    kind, reference = target
    events = ", ".join(f'"{event}"' for event in _default_events())
    trigger = _default_trigger()
    unless_preset = "# " if preset else ""
    header = f"[{prefix.rstrip('.')}]\n" if prefix else ""
    route = f'ws_path = "{ws_path}"   # the WebSocket route the probe connects to\n' if kind != "url" else ""
    return f"""
# wiringcheck: boot the backend, check the objects startup wired, and probe the agent events.
# `wiringcheck inspect` shows what startup built; `wiringcheck run` checks it. Every key is
# described in wiringcheck's docs/configuration.md.
{header}{kind} = {json.dumps(reference)}   # {_TARGET_COMMENT[kind]}
{route}# Wires startup must make between roles, e.g. "registry.websocket_manager is bridge.websocket_manager":
wires = []
# Setters startup must call (traced during boot when the role names its class), e.g. "registry.set_websocket_manager":
must_call = []

# A role is an object startup builds and stores; uncomment and adapt one per object.
# [{prefix}roles.bridge]
# path = "state.agent_websocket_bridge"              # attribute path from the app
# class = "myapp.bridge:AgentWebSocketBridge"        # optional: enables the boot trace
# members = ["async notify_agent_started(run_id, agent_name, context=None)", "websocket_manager"]

[{prefix}probe]
# The message that starts one agent run; {{run_id}}, {{thread_id}} and {{user_id}} are filled in.
{unless_preset}trigger = '{trigger}'
# The events a user must see, in this order; the last one ends the run.
{unless_preset}events = [{events}]
budget_ms = 100   # each event's delivery budget, from the backend's send to the probe's receive
deadline = 5.0    # seconds to wait for the last event
# auth = {{ query = "token", token_env = "MYAPP_TOKEN" }}   # or header, subprotocol, first_message, cookie
# docs/configuration.md, "Mapping your protocol", maps any other protocol onto the five events.
"""


def _default_events() -> tuple[str, ...]:
    from wiringcheck.config import DEFAULT_EVENTS

    return tuple(DEFAULT_EVENTS)


def _default_trigger() -> str:
    from wiringcheck.config import ProbeSettings

    return json.dumps(ProbeSettings().trigger)


# -- the file --------------------------------------------------------------------------------------


def _read(path: Path) -> str:
    if not path.exists():
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {exc}") from None


def _has_configuration(path: Path, text: str) -> bool:
    """Whether `text` (the file at `path`) already configures wiringcheck; refuses a file that is not TOML."""
    if not text.strip():
        return False
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path} is not valid TOML ({exc}); fix it first") from None
    if path.name != "pyproject.toml":
        return True
    tool = document.get("tool")
    return isinstance(tool, dict) and "wiringcheck" in tool


def _write(path: Path, text: str) -> None:
    """Replace `path` with `text` at once: a crash midway leaves the old file, never half of the new one.

    Raises:
        UsageError: `text` does not read back as TOML (``tool`` written inline cannot take a
            ``[tool.wiringcheck]`` after it), so nothing is written.
    """
    try:
        tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(
            f"adding wiringcheck's configuration to {path} would not give valid TOML ({exc}); "
            "is `tool` written inline or as a dotted key? Write the table there by hand (docs/configuration.md)"
        ) from None
    partial = path.with_name(f".{path.name}.wiringcheck-init")
    try:
        partial.write_text(text, encoding="utf-8")
        os.replace(partial, path)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def _refused(char: str) -> bool:
    """A control character (tab aside) or a lone surrogate: no route or event name holds one."""
    return char != "\t" and unicodedata.category(char) in ("Cc", "Cs")


def check_derived(value: Any, what: str) -> None:
    """Refuse `value` (keys and values init learnt from what the backend sent, nested) when a text in it holds
    a control character or a lone surrogate.

    Raises:
        UsageError: naming what it was, the character, and the text (escaped).
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            bad = next((char for char in item if _refused(char)), None)
            if bad is not None:
                kind = "a lone surrogate" if unicodedata.category(bad) == "Cs" else "a control character"
                raise UsageError(
                    f"{what} holds {kind} (U+{ord(bad):04X}) in {item!a}; init writes no such name into a "
                    "configuration: fix what the backend sends, or write the table by hand (docs/configuration.md)"
                )


_HEADER = re.compile(r"^\s*\[\[?(?P<name>[^\[\]]+)\]\]?\s*(?:#.*)?$")


def _without_table(text: str) -> str:
    """`text` (a pyproject.toml) with its [tool.wiringcheck] tables taken out and every other line kept.

    A table's lines go from its header to the next one; comments and blank lines right
    before the next table's header are that table's (tomlkit would count them as ours and
    take them out too). The result must read as the same document without
    ``tool.wiringcheck``; when it does not (the table was written inline, or as dotted
    keys), tomlkit takes the table out instead.
    """
    kept: list[str] = []
    held: list[str] = []  # comments and blank lines inside our table, whose owner is not known yet
    inside = False
    for line in text.splitlines(keepends=True):
        header = _HEADER.match(line)
        if header is not None:
            name = re.sub(r"[\s\"']", "", header["name"])
            ours = name == "tool.wiringcheck" or name.startswith("tool.wiringcheck.")
            if inside and not ours:
                kept.extend(held)  # they lead into the next table
            held, inside = [], ours
            if not ours:
                kept.append(line)
        elif not inside:
            kept.append(line)
        elif not line.strip() or line.lstrip().startswith("#"):
            held.append(line)
        else:
            held = []  # they led into one of our keys: ours
    kept.extend(held)
    result = "".join(kept)
    expected = tomllib.loads(text)
    del expected["tool"]["wiringcheck"]
    if not expected["tool"]:
        del expected["tool"]
    try:
        if tomllib.loads(result) == expected:
            return result
    except tomllib.TOMLDecodeError:
        pass
    import tomlkit

    document = tomlkit.parse(text)
    tool: Any = document["tool"]
    del tool["wiringcheck"]
    if not tool:
        del document["tool"]
    return str(tomlkit.dumps(document))


def _ask_app() -> str:
    import typer

    def check(value: str) -> str:
        value = value.strip()
        if not APP_REF.match(value):
            # typer's own (vendored) click: its prompt asks again on typer.BadParameter only.
            raise typer.BadParameter(f"{value!r} is not of the form package.module:attribute")
        return value

    answer: str = typer.prompt("ASGI app or factory (package.module:attribute)", value_proc=check)
    return answer


# -- learning from one run -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Learnt:
    """What one run of the backend taught: the keys to write, and what to tell the user.

    Attributes:
        top: top-level keys (`ws_path`, when the app serves its WebSocket elsewhere).
        lesson: the probe keys and the shapes they came from.
        recording: the run.
        settings: the configuration the run was made with (aimed at the app's route).
    """

    top: dict[str, Any]
    lesson: Lesson
    recording: Recording
    settings: Settings


def _attempts(backend: Backend) -> list[tuple[Backend, dict[str, Any]]]:
    """Where to start a run, best guess first: each a backend aimed there and the keys that aim it.

    The configuration as it stands first; on an app, a route the app serves when the configured
    one is not among them (its first WebSocket route, else its first streaming route); then,
    when no preset is set, each preset whose transport the app serves (AG-UI on each streaming
    route, ADK and LangGraph where their own paths are served): the first run that gets an
    answer is the one learnt from.
    """
    from wiringcheck.commands.inspect import app_routes

    settings = backend.settings
    attempts: list[tuple[Backend, dict[str, Any]]] = [(backend, {})]
    if settings.target_kind != "app" or backend.app is None:
        if settings.probe.over_http and settings.probe.preset is None:
            # A running server's routes are unknown: the presets that name their own route, tried there.
            attempts += [
                (replace(backend, settings=replace(settings, probe=probe)), {"probe": keys})
                for probe, keys in _preset_probes(settings, None)
            ]
        return attempts
    routes = app_routes(backend.app)
    sockets = [route.path for route in routes if route.kind == "websocket"]
    streams = [route for route in routes if route.kind != "websocket"]
    origin = backend.ws_url.removesuffix(settings.ws_path)
    if settings.probe.transport == "websocket" and settings.ws_path not in sockets:
        if sockets:
            aimed = replace(settings, ws_path=sockets[0])
            handle = replace(backend.handle, ws_url=origin + sockets[0])
            attempts = [(replace(backend, settings=aimed, handle=handle), {"ws_path": sockets[0]})]
        elif streams:
            stream = next((route for route in streams if route.kind == "sse"), streams[0])
            probe: dict[str, Any] = {"transport": "sse" if stream.kind == "sse" else "ndjson", "path": stream.path}
            if stream.methods and "POST" not in stream.methods:
                probe["method"] = stream.methods[0]
            attempts = [(replace(backend, settings=settings.with_probe(**probe)), {"probe": probe})]
    if settings.probe.preset is None:
        attempts += [
            (replace(backend, settings=replace(settings, probe=probe)), {"probe": keys})
            for probe, keys in _preset_probes(settings, streams)
        ]
    return attempts


def _preset_probes(settings: Settings, streams: list[AppRoute] | None) -> list[tuple[ProbeSettings, dict[str, Any]]]:
    """The probe settings of each preset the app's streaming routes could speak, with the keys that choose it;
    with `streams` None (a running server, whose routes are not known), each preset that names its own route.

    The configuration's auth and setup steps are kept: they are how this backend lets a run in.
    """
    from wiringcheck.config import parse_settings
    from wiringcheck.protocol import PRESETS

    served = {route.path for route in streams} if streams is not None else None
    found = []
    for name, table in PRESETS.items():
        if table.get("transport") is None:
            continue  # a WebSocket mapping: the configuration's own run already tried the socket
        # AG-UI names no route: each route of the app that streams events (none known on a running server).
        paths = [table["path"]] if "path" in table else [route.path for route in streams or () if route.kind == "sse"]
        for path in paths:
            if served is not None and path not in served:
                continue
            keys: dict[str, Any] = {"preset": name} if "path" in table else {"preset": name, "path": path}
            probe = parse_settings({"probe": keys}).probe
            if settings.probe.auth.enabled:
                probe = replace(probe, auth=settings.probe.auth)
            if settings.probe.setup:
                probe = replace(probe, setup=settings.probe.setup)
            found.append((probe, keys))
    return found


async def _observe(settings: Settings) -> tuple[dict[str, Any], Recording, Settings, list[str]]:
    """Boot once, and run at each attempt until one gets an answer; also what the backend logged meanwhile.

    The backend's log records are captured, not printed: an attempt the backend refuses with
    a traceback (the wrong trigger on a route) is how init finds the right one, not news.
    """
    from wiringcheck.backend import booted
    from wiringcheck.capture import Capture
    from wiringcheck.errors import BackendError
    from wiringcheck.findings import Phase
    from wiringcheck.run.recording import NOT_STARTED

    capture = Capture()
    try:
        with capture.logs(Phase.PROBE):
            async with booted(settings) as backend:
                tried: list[tuple[dict[str, Any], Recording, Settings]] = []
                for aimed, aim in _attempts(backend):
                    # Learning needs the frames, not their pace: a server slow to start a run (a queue
                    # polled once a second) is still learnt from; `run` judges the gaps afterwards.
                    patient = replace(aimed, settings=aimed.settings.with_probe(gap_ms=False))
                    recording = await patient.probe()
                    tried.append((aim, recording, aimed.settings))
                    if recording.frames and recording.end not in NOT_STARTED:
                        break  # an answer to learn from
    except BackendError as exc:
        exc.problem += " (run `wiringcheck run` for the full diagnosis)"
        raise
    logged = [f"{record.logger}: {record.message}" for record in capture.log_records() if record.level == "ERROR"]
    chosen = tried[-1] if tried[-1][1].frames else tried[0]
    return (*chosen, logged)


def learnt_settings(settings: Settings) -> Learnt:
    """Boot the backend of `settings`, start one run, and learn its protocol.

    Raises:
        BackendError: the backend did not boot, or did not shut down.
        UsageError: the run could not start (refused, not found): nothing can be learnt.
    """
    import asyncio

    from wiringcheck.learn import learn
    from wiringcheck.run.recording import NOT_STARTED
    from wiringcheck.secrets import Secrets, shorten

    aim, recording, settings, logged = asyncio.run(_observe(settings))
    if recording.end in NOT_STARTED or not recording.frames:
        reason = recording.error or f"the run ended {recording.end.value} before any frame arrived"
        if logged:
            reason += f" (the backend logged {shorten(logged[0], 200)})"
        auth = settings.probe.auth
        if auth.enabled and auth.resolve(os.environ) is None:
            reason += f"; no token was sent: {auth.token_env or 'the token'} is not set"
        reason = Secrets([*settings.credentials(os.environ), *recording.secrets]).scrub(reason)
        raise UsageError(
            f"--from-run: nothing to learn from: {reason}. Configure what the run needs to start "
            "([probe.auth], [[probe.setup]], the trigger; docs/configuration.md), then run init --from-run again"
        )
    lesson = learn(recording, settings.probe)
    probe = {**aim.pop("probe", {}), **lesson.table}
    return Learnt(top=aim, lesson=replace(lesson, table=probe), recording=recording, settings=settings)


def _complete(path: Path, text: str, learnt: Learnt) -> tuple[str, list[str]]:
    """The file's text with the learnt keys added (to the wiringcheck table of a pyproject.toml)."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        document = tomlkit.parse(text)
    except TOMLKitError as exc:
        raise UsageError(f"{path} is not valid TOML ({exc}); fix it first") from None
    root: Any = document
    if path.name == "pyproject.toml":
        root = document["tool"]["wiringcheck"]
    from wiringcheck.commands.config_edit import merge_lesson

    added = merge_lesson(root, learnt.top, learnt.lesson.table)
    return tomlkit.dumps(document), added


# -- the command -----------------------------------------------------------------------------------


def _target(app: str | None, boot: str | None, url: str | None) -> tuple[str, str] | None:
    given = [(kind, value) for kind, value in (("app", app), ("boot", boot), ("url", url)) if value is not None]
    if len(given) > 1:
        raise UsageError("pass one of --app, --boot and --url")
    if given and given[0][0] != "url" and not APP_REF.match(given[0][1]):
        raise UsageError(f"--{given[0][0]} {given[0][1]!r} is not of the form package.module:attribute")
    return given[0] if given else None


def init_command(
    output: Path | None = None,
    *,
    config: Path | None = None,
    app: str | None = None,
    boot: str | None = None,
    url: str | None = None,
    from_run: bool = False,
    force: bool = False,
) -> int:
    """Write the starter (or, `from_run`, complete the configuration from one run); returns the exit code.

    With `force`, the starter replaces a configuration already there (it is never overwritten otherwise).

    Raises:
        UsageError: a malformed flag, a file that cannot be read or written, a configuration
            that exists already (without `from_run`), a run that could not start.
        ConfigError: the configuration in force does not load.
        BackendError: the backend did not boot or shut down.
    """
    target = _target(app, boot, url)
    if not from_run:
        return _write_starter(output or Path("pyproject.toml"), target, force=force)
    return _write_learnt(output, config, target)


def _write_starter(path: Path, target: tuple[str, str] | None, *, force: bool = False) -> int:
    text = _read(path)
    replaced = _has_configuration(path, text)
    if replaced and not force:
        raise UsageError(
            f"{path} already configures wiringcheck; edit it (see docs/configuration.md), complete it from a "
            "run with `wiringcheck init --from-run`, or pass --force to replace it with a fresh starter"
        )
    if replaced:  # a wiringcheck.toml is wiringcheck's alone; a pyproject.toml keeps all but our tables
        text = _without_table(text) if path.name == "pyproject.toml" else ""
    starter = starter_table(target or ("app", _ask_app()), prefix=prefix_for(path))
    separator = "" if not text or text.endswith("\n") else "\n"
    _write(path, text + separator + (starter if text else starter.lstrip("\n")))
    action = (
        "replaced wiringcheck's configuration in" if replaced else "added [tool.wiringcheck] to" if text else "created"
    )
    sys.stdout.write(
        f"{action} {path}\n"
        "next: describe the objects startup builds under roles (`wiringcheck inspect` shows them), "
        "or learn the protocol from a run with `wiringcheck init --from-run`, then run `wiringcheck run`\n"
    )
    return ExitCode.OK


def _write_learnt(output: Path | None, config: Path | None, target: tuple[str, str] | None) -> int:
    """Complete the configuration in force (or write a new one at `output`) from one run of the backend.

    A target flag with a configuration in force aims this run only: the file keeps its own target.
    """
    from wiringcheck.commands.inspect import inspect_settings
    from wiringcheck.config import find_config
    from wiringcheck.secrets import Secrets

    found = config or find_config()
    if found is not None and output is not None and output.resolve() != found.resolve():
        raise UsageError(
            f"--output {output} is not the configuration in force ({found}): pass --config {output}, "
            "or leave out --output to complete that file"
        )
    if found is None and target is None:
        target = ("app", _ask_app())
    flags = {target[0]: target[1]} if target is not None else {}
    settings = inspect_settings(found, **flags)
    path = found or output or Path("pyproject.toml")
    text = _read(path)
    fresh = not _has_configuration(path, text)
    learnt = learnt_settings(settings)
    check_derived(learnt.top, "the app's route")
    check_derived(learnt.lesson.table, "a frame of the observed run")
    # Nothing a run carried may reach a file that gets committed: the table holds types, never a token.
    secrets = Secrets([*learnt.settings.credentials(os.environ), *learnt.recording.secrets])
    learnt = replace(learnt, lesson=replace(learnt.lesson, table=secrets.scrub(learnt.lesson.table)))
    if fresh:
        ws_path = learnt.top.pop("ws_path", settings.ws_path)
        starter = starter_table(
            (settings.target_kind, settings.target),
            ws_path=ws_path,
            prefix=prefix_for(path),
            preset="preset" in learnt.lesson.table,
        )
        text += ("" if not text or text.endswith("\n") else "\n") + (starter if text else starter.lstrip("\n"))
        here = Path.cwd().resolve()
        if path.parent.resolve() != here:  # imports resolved from where init ran, as they were for the run
            learnt.top["pythonpath"] = [os.path.relpath(here, path.parent.resolve())]
    written, added = _complete(path, text, learnt)
    _write(path, written)
    _tell(path, learnt, added, fresh=fresh)
    return ExitCode.OK


def _tell(path: Path, learnt: Learnt, added: list[str], *, fresh: bool) -> None:
    recording = learnt.recording
    lines = [
        f"{'created' if fresh else 'completed'} {path} from one run: {len(recording.frames)} frame(s), "
        f"ended {recording.end.value}",
    ]
    if added:
        lines.append("added: " + ", ".join(added))
    else:
        lines.append("added nothing: the configuration already maps every frame the run sent")
    unmapped = learnt.lesson.table.get("unmapped", [])
    if unmapped:
        lines.append(f"{len(unmapped)} kind(s) of frame left unmapped: see the comments in {path}")
    slowest = _longest_silence(recording)
    bound = learnt.settings.probe.gap_bound
    if slowest is not None and bound is not None and slowest[1] > bound:
        lines.append(
            f"note: {slowest[0]} came {slowest[1]:.0f} ms after {slowest[2]}, past the {bound:g} ms gap bound "
            "(probe.gap_ms): `wiringcheck run` will report it as a stall unless the backend answers sooner"
        )
    lines.append("guessed from the frames' types: check each line, then run `wiringcheck run`")
    sys.stdout.write("\n".join(lines) + "\n")


def _longest_silence(recording: Recording) -> tuple[str, float, str] | None:
    """The longest wait of the learning run, before its first frame or between two: (which frame, ms, after what)."""
    times = [recording.trigger_at, *(frame.received_at for frame in recording.frames)]
    if len(times) < 2:
        return None
    index = max(range(1, len(times)), key=lambda at: times[at] - times[at - 1])
    waited = (times[index] - times[index - 1]) * 1000
    if index == 1:
        return "the first frame", waited, "the trigger"
    return f"frame {index}", waited, "the one before"
