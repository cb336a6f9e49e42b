"""`wiringcheck init`: write a commented starter ``[tool.wiringcheck]`` into ./pyproject.toml.

The starter names the app (asked for, or given with ``--app``), the WebSocket path,
the five default events and the 100 ms budget, with every other key present as a
comment that says what it is for. It never overwrites: a ``pyproject.toml`` that
already has a ``[tool.wiringcheck]`` table is left alone (exit 2). The text is
appended, so the rest of the file, comments included, stays byte for byte.

With ``--from-run``, init first boots the app, finds its WebSocket route, starts one
run with the default trigger, and writes the matchers it suggests from the frames that
arrived (`protocol.suggest_probe_table`), so a backend with its own protocol starts
from a table that already names its events.
"""

from __future__ import annotations

import json
import re
import sys
import tomllib
from pathlib import Path

from wiringcheck.config import DEFAULT_EVENTS, ProbeSettings
from wiringcheck.errors import UsageError
from wiringcheck.report import ExitCode

__all__ = ["APP_REF", "init_command", "observed_table", "starter_table"]

APP_REF = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")
"""What an app reference looks like: ``package.module:attribute``."""


def starter_table(app: str, *, ws_path: str = "/ws", observed: list[str] | None = None) -> str:
    """The commented ``[tool.wiringcheck]`` tables for `app`; they load with `load_settings` as written.

    `observed` are lines to add to the probe table (from `observed_table`): keys first, then sub-tables.
    """
    events = ", ".join(f'"{event}"' for event in DEFAULT_EVENTS)
    trigger = json.dumps(ProbeSettings().trigger)
    return f'''
# wiringcheck: boot the backend, check the objects startup wired, and probe the agent events.
# `wiringcheck inspect` shows what startup built; `wiringcheck run` checks it. Every key is
# described in wiringcheck's docs/configuration.md.
[tool.wiringcheck]
app = "{app}"   # ASGI app or zero-argument factory; or boot = "pkg.mod:boot", or url = "ws://host:port/ws"
ws_path = "{ws_path}"   # the WebSocket route the probe connects to
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
trigger = '{trigger}'
# The events a user must see, in this order; the last one ends the run.
events = [{events}]
budget_ms = 100   # each event's delivery budget, from the backend's send to the probe's receive
deadline = 5.0    # seconds to wait for the last event
# auth = {{ query = "token", token_env = "MYAPP_TOKEN" }}   # or header, subprotocol, first_message, cookie
# docs/configuration.md, "Mapping your protocol", maps any other protocol onto the five events.
''' + ("\n".join(observed) + "\n" if observed else "")


def _existing(path: Path) -> tuple[str, str | None]:
    """The file's text, and a reason to refuse when it already has the table or cannot be read."""
    if not path.exists():
        return "", None
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return "", f"cannot read {path}: {exc}"
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return text, f"{path} is not valid TOML ({exc}); fix it first"
    tool = document.get("tool")
    if isinstance(tool, dict) and "wiringcheck" in tool:
        return text, (
            f"{path} already has a [tool.wiringcheck] table; edit it (see docs/configuration.md), "
            "or remove it to write a fresh starter"
        )
    return text, None


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
            origin = backend.ws_url[: -len(settings.ws_path)] if backend.ws_url.endswith(settings.ws_path) else ""
            recording = await perform(origin + ws_path, settings.probe, {})
        protocol = settings.probe.protocol()
        messages = [item.message for frame in recording.frames for item in decode_frame(protocol, frame.data)]
        shapes = frame_shapes(messages)
        if not any(shape.conditions for shape in shapes):
            note = f"# --from-run: no typed frame arrived ({recording.end}); adapt the trigger, then run"
            return ws_path, [f"{note} `wiringcheck inspect --probe`"]
        lines = suggested_table(suggest_probe_table(shapes, settings.probe.events))
        # The first line opens [tool.wiringcheck.probe], which the starter has already opened.
        return ws_path, ["# --from-run: guessed from the frames of one run; check each line", *lines[1:]]

    return asyncio.run(observe())


def init_command(path: Path, *, app: str | None = None, from_run: bool = False) -> int:
    """Append the starter table to `path` (created when missing); returns the exit code."""
    text, refusal = _existing(path)
    if refusal is not None:
        raise UsageError(refusal)
    if app is not None and not APP_REF.match(app):
        raise UsageError(f"--app {app!r} is not of the form package.module:attribute")
    if app is None:
        app = _ask_app()
    ws_path, observed = "/ws", None
    if from_run:
        ws_path, observed = observed_table(app, pythonpath=(path.parent.resolve(),))
    separator = "" if not text or text.endswith("\n") else "\n"
    table = starter_table(app, ws_path=ws_path, observed=observed)
    try:
        with path.open("a", encoding="utf-8") as file:
            file.write(separator + table.lstrip("\n" if not text else ""))
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    action = "added [tool.wiringcheck] to" if text else "created"
    sys.stdout.write(
        f"{action} {path}\n"
        "next: describe the objects startup builds under [tool.wiringcheck.roles.*] "
        "(`wiringcheck inspect` shows them), then run `wiringcheck run`\n"
    )
    return ExitCode.OK
