"""`wiringcheck init`: write a commented starter ``[tool.wiringcheck]`` into ./pyproject.toml.

The starter names the app (asked for, or given with ``--app``), the WebSocket path,
the five default events and the 100 ms budget, with every other key present as a
comment that says what it is for. It never overwrites: a ``pyproject.toml`` that
already has a ``[tool.wiringcheck]`` table is left alone (exit 2) unless ``--force``
asks to replace it. The text is appended, so the rest of the file, comments included,
stays byte for byte; with ``--force`` the old table is taken out by tomlkit, which
keeps every other line and comment as it was.

Every value is written by tomlkit (escaped so it reads back as itself), and the file is
parsed again, by tomlkit and by tomllib, before it is written: init never leaves an
invalid ``pyproject.toml``. A value init derives from what a backend sent (a route, a
frame's type or field, with ``--from-run``) that holds a control character or a lone
surrogate is refused, with a message naming it: no protocol names its events that way.

With ``--from-run``, init first boots the app, finds its WebSocket route, starts one
run with the default trigger, and writes the matchers it suggests from the frames that
arrived (`protocol.suggest_probe_table`), so a backend with its own protocol starts
from a table that already names its events.
"""

from __future__ import annotations

import json
import os
import re
import sys
import tomllib
import unicodedata
from pathlib import Path
from typing import Any

from wiringcheck.config import DEFAULT_EVENTS, ProbeSettings
from wiringcheck.errors import UsageError
from wiringcheck.report import ExitCode

__all__ = ["APP_REF", "check_derived", "init_command", "observed_table", "starter_table"]

APP_REF = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
"""What an app reference looks like: ``package.module:attribute``."""


def starter_table(app: str, *, ws_path: str = "/ws", observed: list[str] | None = None) -> str:
    """The commented ``[tool.wiringcheck]`` tables for `app`; they load with `load_settings` as written.

    `observed` are lines to add to the probe table (from `observed_table`): keys first, then sub-tables.
    """
    from wiringcheck.commands.inspect import toml_value

    events = ", ".join(toml_value(event) for event in DEFAULT_EVENTS)
    trigger = _literal(json.dumps(ProbeSettings().trigger))
    app, ws_path = toml_value(app), toml_value(ws_path)
    return f"""
# wiringcheck: boot the backend, check the objects startup wired, and probe the agent events.
# `wiringcheck inspect` shows what startup built; `wiringcheck run` checks it. Every key is
# described in wiringcheck's docs/configuration.md.
[tool.wiringcheck]
app = {app}   # ASGI app or zero-argument factory; or boot = "pkg.mod:boot", or url = "ws://host:port/ws"
ws_path = {ws_path}   # the WebSocket route the probe connects to
# Wires startup must make between roles, e.g. "registry.websocket_manager is bridge.websocket_manager":
wires = []
# Setters startup must call (traced during boot when the role names its class), e.g. "registry.set_websocket_manager":
must_call = []

# A role is an object startup builds and stores; uncomment and adapt one per object.
# [tool.wiringcheck.roles.bridge]
# path = "state.agent_websocket_bridge"              # attribute path from the app
# class = "myapp.bridge:AgentWebSocketBridge"        # optional: enables the boot trace
# members = ["async notify_agent_started(run_id, agent_name, context=None)", "websocket_manager"]

[tool.wiringcheck.probe]
# The message that starts one agent run; {{run_id}}, {{thread_id}} and {{user_id}} are filled in.
trigger = {trigger}
# The events a user must see, in this order; the last one ends the run.
events = [{events}]
budget_ms = 100   # each event's delivery budget, from the backend's send to the probe's receive
deadline = 5.0    # seconds to wait for the last event
# auth = {{ query = "token", token_env = "MYAPP_TOKEN" }}   # or header, subprotocol, first_message, cookie
# docs/configuration.md, "Mapping your protocol", maps any other protocol onto the five events.
""" + ("\n".join(observed) + "\n" if observed else "")


def _literal(text: str) -> str:
    """`text` as a TOML literal string when it can be one (readable JSON), else as a basic string."""
    import tomlkit

    literal = "'" not in text and "\n" not in text and not any(_refused(char) for char in text)
    return str(tomlkit.string(text, literal=literal).as_string())


def _refused(char: str) -> bool:
    """A control character (tab aside) or a lone surrogate: no route or event name holds one."""
    return char != "\t" and unicodedata.category(char) in ("Cc", "Cs")


def check_derived(value: Any, what: str) -> None:
    """Refuse `value` (a key or value init derived from what the backend sent, or any inside it) when it holds
    a control character or a lone surrogate.

    Raises:
        UsageError: naming what it was, the character and the text, escaped.
    """
    texts: list[str] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            texts.extend(str(key) for key in item)
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
        elif isinstance(item, str):
            texts.append(item)
    for text in texts:
        bad = next((char for char in text if _refused(char)), None)
        if bad is not None:
            kind = "a lone surrogate" if unicodedata.category(bad) == "Cs" else "a control character"
            raise UsageError(
                f"{what} holds {kind} (U+{ord(bad):04X}) in {text!a}; init writes no such name into "
                "pyproject.toml: fix the backend's frames, or write the table by hand (docs/configuration.md)"
            )


def _existing(path: Path, *, force: bool) -> tuple[str, bool, str | None]:
    """The file's text, whether it has the table, and a reason to refuse (unreadable, invalid, or the table
    is there and `force` was not given)."""
    if not path.exists():
        return "", False, None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return "", False, f"cannot read {path}: {exc}"
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return text, False, f"{path} is not valid TOML ({exc}); fix it first"
    except RecursionError:
        return text, False, f"{path} nests arrays or tables too deeply to read; fix it first"
    tool = document.get("tool")
    if isinstance(tool, dict) and "wiringcheck" in tool:
        refusal = (
            None
            if force
            else (
                f"{path} already has a [tool.wiringcheck] table; edit it (see docs/configuration.md), "
                "or pass --force to replace it with a fresh starter (the rest of the file is kept)"
            )
        )
        return text, True, refusal
    return text, False, None


_HEADER = re.compile(r"^\s*\[\[?(?P<name>[^\[\]]+)\]\]?\s*(?:#.*)?$")


def _without_table(text: str) -> str:
    """`text` with its [tool.wiringcheck] tables taken out and every other line kept, comments included.

    The table's lines go from its header to the next one; comments and blank lines right
    before the next table's header are that table's (tomlkit would count them as ours and
    take them out too). The result is checked: it must read as the same document without
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
    kept.extend(held)  # the file's last comments, after our table
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


def _checked(path: Path, text: str) -> str:
    """`text` when both tomlkit and tomllib read it and it has the table; a usage error otherwise."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    try:
        tomlkit.parse(text)
        document = tomllib.loads(text)
    except (TOMLKitError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(
            f"adding [tool.wiringcheck] to {path} would not give valid TOML ({exc}); "
            "is `tool` defined inline or as a dotted key? Write the table by hand there"
        ) from None
    if "wiringcheck" not in document.get("tool", {}):
        raise UsageError(f"{path}: the [tool.wiringcheck] table did not read back; write it by hand")
    return text


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


def observed_table(app: str, *, pythonpath: tuple[Path, ...] = ()) -> tuple[str, list[str]]:
    """Boot `app`, start one run on its first WebSocket route, and return the route and the lines to add.

    Raises:
        BackendError: the app did not boot or shut down.
    """
    import asyncio

    from wiringcheck.config import Settings

    async def observe() -> tuple[str, list[str]]:
        from wiringcheck.backend import booted
        from wiringcheck.commands.inspect import suggested_table, websocket_routes
        from wiringcheck.protocol import decode_frame, frame_shapes, suggest_probe_table
        from wiringcheck.run.drive import perform

        settings = Settings(app=app, pythonpath=pythonpath)
        async with booted(settings) as backend:
            routes = websocket_routes(backend.app)
            ws_path = routes[0] if routes else settings.ws_path
            check_derived(ws_path, "the app's WebSocket route")
            origin = backend.ws_url[: -len(settings.ws_path)] if backend.ws_url.endswith(settings.ws_path) else ""
            recording = await perform(origin + ws_path, settings.probe, {})
        protocol = settings.probe.protocol()
        messages = [item.message for frame in recording.frames for item in decode_frame(protocol, frame.data)]
        shapes = frame_shapes(messages)
        if not any(shape.conditions for shape in shapes):
            note = f"# --from-run: no typed frame arrived ({recording.end}); adapt the trigger, then run"
            return ws_path, [f"{note} `wiringcheck inspect --probe`"]
        table = suggest_probe_table(shapes, settings.probe.events)
        check_derived(table, "a frame of the observed run")
        lines = suggested_table(table)
        # The first line opens [tool.wiringcheck.probe], which the starter has already opened.
        return ws_path, ["# --from-run: guessed from the frames of one run; check each line", *lines[1:]]

    return asyncio.run(observe())


def init_command(path: Path, *, app: str | None = None, from_run: bool = False, force: bool = False) -> int:
    """Append the starter table to `path` (created when missing); returns the exit code.

    With `force`, an existing [tool.wiringcheck] table is replaced; without, it is left alone (exit 2).
    """
    text, present, refusal = _existing(path, force=force)
    if refusal is not None:
        raise UsageError(refusal)
    if app is not None and not APP_REF.match(app):
        raise UsageError(f"--app {app!r} is not of the form package.module:attribute")
    if app is None:
        app = _ask_app()
    ws_path, observed = "/ws", None
    if from_run:
        ws_path, observed = observed_table(app, pythonpath=(path.parent.resolve(),))
    kept = _without_table(text) if present else text
    separator = "" if not kept or kept.endswith("\n") else "\n"
    table = starter_table(app, ws_path=ws_path, observed=observed)
    added = separator + table.lstrip("\n" if not kept else "")
    _checked(path, kept + added)
    try:
        if present:  # replaced: the whole file, written aside and moved in place
            aside = path.with_name(f".{path.name}.wiringcheck-init")
            aside.write_text(kept + added, encoding="utf-8")
            os.replace(aside, path)
        else:  # appended: the rest of the file stays byte for byte
            with path.open("a", encoding="utf-8") as file:
                file.write(added)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    action = "replaced [tool.wiringcheck] in" if present else "added [tool.wiringcheck] to" if text else "created"
    sys.stdout.write(
        f"{action} {path}\n"
        "next: describe the objects startup builds under [tool.wiringcheck.roles.*] "
        "(`wiringcheck inspect` shows them), then run `wiringcheck run`\n"
    )
    return ExitCode.OK
