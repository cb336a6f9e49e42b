"""Configuration: valid tables become frozen Settings; every problem is a ConfigError naming file, key and fix."""

from __future__ import annotations

import datetime
import json
import re
from pathlib import Path

import pytest

from wiringcheck import config
from wiringcheck.config import (
    DEFAULT_EVENTS,
    Auth,
    ConfigError,
    ProbeSettings,
    RoleSpec,
    Settings,
    find_config,
    load_settings,
    parse_settings,
)
from wiringcheck.errors import UsageError

ROOT = Path(__file__).resolve().parent.parent
SOURCE = Path("x.toml")

FULL = """\
app = "fixtures.agentchat.app:create_app"
factory = true
ws_path = "/ws"
startup_timeout = 3
shutdown_timeout = 2.5
trace = false
wires = [
  "registry.websocket_manager is bridge.websocket_manager",
  "bridge.websocket_manager is not None",
]
must_call = ["registry.set_websocket_manager"]

[roles.registry]
path = "state.agent_supervisor.registry"
class = "fixtures.agentchat.registry:AgentRegistry"
members = ["set_websocket_manager(manager)", "websocket_manager"]

[roles.bridge]
path = "state.agent_websocket_bridge"
members = ["async notify_agent_started(run_id, agent_name, context=None)"]

[probe]
trigger = '{"type": "user_message", "run_id": "{run_id}", "payload": {"text": "What is 6 times 7?"}}'
auth = { header = "Authorization", scheme = "Token", token_env = "AGENTCHAT_TOKEN", token = "dev-token" }
events = ["started", "progress", "done"]
terminal = "done"
type_field = "event"
run_id_field = "run"
timestamp_field = "ts"
budget_ms = 250
deadline = 2
connect_timeout = 1.5
linger_ms = 0
user_id = "probe-user"
percentile = "p95"
"""
"""A configuration setting every key, as a `wiringcheck.toml`."""


def as_pyproject(text: str) -> str:
    """The same configuration as a `[tool.wiringcheck]` table of a pyproject.toml."""
    body = re.sub(r"^\[", "[tool.wiringcheck.", text, flags=re.MULTILINE)
    return f'[project]\nname = "backend"\n\n[tool.wiringcheck]\n{body}'


ROLES = {
    "registry": {"path": "state.agent_supervisor.registry", "members": ["set_websocket_manager(manager)"]},
    "bridge": {"path": "state.agent_websocket_bridge"},
}


# -- valid configurations --------------------------------------------------------------------------


def test_empty_table_gives_defaults():
    """An empty table is valid: no target, no roles, and the default probe of the five agent events."""
    settings = parse_settings({}, source=SOURCE)

    assert ("none", "", {}, (), (), ProbeSettings()) == (
        settings.target_kind,
        settings.target,
        settings.roles,
        settings.wires,
        settings.must_call,
        settings.probe,
    )


def test_minimal_app():
    """One `app` key is a complete configuration."""
    settings = parse_settings({"app": "backend.main:app"}, source=SOURCE)

    assert ("app", "backend.main:app", "/ws", DEFAULT_EVENTS, "agent_completed", 100.0) == (
        settings.target_kind,
        settings.target,
        settings.ws_path,
        settings.probe.events,
        settings.probe.terminal,
        settings.probe.budget_ms,
    )


@pytest.mark.parametrize(
    ("table", "expected"),
    [
        ({"app": "backend.main:create_app"}, ("app", "backend.main:create_app")),
        ({"boot": "backend.testing:boot"}, ("boot", "backend.testing:boot")),
        ({"url": "ws://127.0.0.1:8000/ws"}, ("url", "ws://127.0.0.1:8000/ws")),
        ({"url": "wss://chat.example.com/ws?v=2"}, ("url", "wss://chat.example.com/ws?v=2")),
    ],
)
def test_targets(table, expected):
    """Each of the three target kinds is recognized."""
    settings = parse_settings(table, source=SOURCE)

    assert expected == (settings.target_kind, settings.target)


def test_full_table(tmp_path):
    """Every key of a full wiringcheck.toml lands in the Settings, typed."""
    path = tmp_path / "wiringcheck.toml"
    path.write_text(FULL, encoding="utf-8")

    settings = load_settings(path)

    assert (
        Settings(
            source=path,
            root=tmp_path.resolve(),
            app="fixtures.agentchat.app:create_app",
            factory=True,
            ws_path="/ws",
            pythonpath=(tmp_path.resolve(),),
            startup_timeout=3.0,
            shutdown_timeout=2.5,
            trace=False,
            roles={
                "registry": RoleSpec(
                    name="registry",
                    path="state.agent_supervisor.registry",
                    class_ref="fixtures.agentchat.registry:AgentRegistry",
                    members=("set_websocket_manager(manager)", "websocket_manager"),
                ),
                "bridge": RoleSpec(
                    name="bridge",
                    path="state.agent_websocket_bridge",
                    members=("async notify_agent_started(run_id, agent_name, context=None)",),
                ),
            },
            wires=("registry.websocket_manager is bridge.websocket_manager", "bridge.websocket_manager is not None"),
            must_call=("registry.set_websocket_manager",),
            probe=ProbeSettings(
                trigger={"type": "user_message", "run_id": "{run_id}", "payload": {"text": "What is 6 times 7?"}},
                auth=Auth(header="Authorization", scheme="Token", token_env="AGENTCHAT_TOKEN", token="dev-token"),
                events=("started", "progress", "done"),
                terminal="done",
                type_field="event",
                run_id_field="run",
                timestamp_field="ts",
                budget_ms=250.0,
                deadline=2.0,
                connect_timeout=1.5,
                linger_ms=0.0,
                user_id="probe-user",
                percentile="p95",
            ),
        )
        == settings
    )


def test_pyproject_form_equals_wiringcheck_toml(tmp_path):
    """The same table read from pyproject.toml's [tool.wiringcheck] gives the same settings."""
    standalone = tmp_path / "a" / "wiringcheck.toml"
    pyproject = tmp_path / "b" / "pyproject.toml"
    for path, text in ((standalone, FULL), (pyproject, as_pyproject(FULL))):
        path.parent.mkdir()
        path.write_text(text, encoding="utf-8")

    expected, actual = load_settings(standalone), load_settings(pyproject)

    assert expected.roles == actual.roles
    assert expected.probe == actual.probe
    assert (expected.app, expected.wires, expected.must_call) == (actual.app, actual.wires, actual.must_call)


def test_pythonpath_is_relative_to_the_file(tmp_path):
    """pythonpath entries are resolved against the configuration file's folder, not the working directory."""
    path = tmp_path / "conf" / "wiringcheck.toml"
    path.parent.mkdir()
    path.write_text('pythonpath = ["..", "src"]\n', encoding="utf-8")

    assert (tmp_path.resolve(), (tmp_path / "conf" / "src").resolve()) == load_settings(path).pythonpath


def test_trigger_as_json_string_and_as_toml_table_agree(tmp_path):
    """The trigger may be written as a JSON string or a TOML table; both give the same object."""
    as_json = tmp_path / "json" / "wiringcheck.toml"
    as_table = tmp_path / "table" / "wiringcheck.toml"
    as_json.parent.mkdir()
    as_table.parent.mkdir()
    as_json.write_text(
        '[probe]\ntrigger = \'{"type": "user_message", "run_id": "{run_id}", "payload": {"text": "hi"}}\'\n',
        encoding="utf-8",
    )
    as_table.write_text(
        '[probe.trigger]\ntype = "user_message"\nrun_id = "{run_id}"\npayload = { text = "hi" }\n',
        encoding="utf-8",
    )

    assert load_settings(as_json).probe.trigger == load_settings(as_table).probe.trigger


@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ({"query": "token", "token": "dev-token"}, Auth(query="token", token="dev-token")),
        ({"header": "Authorization", "token_env": "TOKEN"}, Auth(header="Authorization", token_env="TOKEN")),
    ],
)
def test_auth(auth, expected):
    """The token goes in a query parameter or a header, from the environment or a fallback."""
    settings = parse_settings({"probe": {"auth": auth}}, source=SOURCE)

    assert (expected, True) == (settings.probe.auth, settings.probe.auth.enabled)


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"AGENTCHAT_TOKEN": "secret"}, "secret"),
        ({"AGENTCHAT_TOKEN": ""}, "dev-token"),
        ({}, "dev-token"),
    ],
)
def test_auth_token_from_environment_wins(environ, expected):
    """The environment variable's token wins over the fallback, unless it is empty."""
    auth = Auth(query="token", token_env="AGENTCHAT_TOKEN", token="dev-token")

    assert expected == auth.resolve(environ)


def test_with_target_replaces_the_whole_target():
    """A target given on the command line replaces the file's target, not adds to it."""
    settings = parse_settings({"app": "backend.main:app"}, source=SOURCE)

    assert (("url", "ws://h/ws"), settings) == (
        (settings.with_target(url="ws://h/ws").target_kind, settings.with_target(url="ws://h/ws").target),
        settings.with_target(),
    )


def test_with_probe_changes_only_the_probe():
    """Overriding a probe setting keeps the rest of the probe settings."""
    settings = parse_settings({"probe": {"events": ["a", "b"]}}, source=SOURCE)

    changed = settings.with_probe(budget_ms=5.0)

    assert (5.0, ("a", "b")) == (changed.probe.budget_ms, changed.probe.events)


@pytest.mark.parametrize(
    "path",
    [
        ROOT / "pyproject.toml",
        ROOT / "fixtures" / "studio" / "wiringcheck.toml",
        ROOT / "fixtures" / "relay" / "wiringcheck.toml",
        *sorted((ROOT / "fixtures" / "faults").glob("*/wiringcheck.toml")),
    ],
    ids=lambda path: path.parent.name,
)
def test_repository_configurations_validate(path):
    """The repository's own configuration, the other reference backends' and every fault's are valid."""

    assert load_settings(path).target_kind in ("app", "boot")


# -- errors ----------------------------------------------------------------------------------------


def error_of(table, *, source=SOURCE, prefix=""):
    with pytest.raises(ConfigError) as caught:
        parse_settings(table, source=source, prefix=prefix)
    return caught.value


@pytest.mark.parametrize(
    ("table", "key", "problem"),
    [
        # unknown keys, with did-you-mean
        ({"appp": "a:b"}, "appp", "unknown key; did you mean 'app'?"),
        ({"probe": {"budget_msec": 100}}, "probe.budget_msec", "unknown key; did you mean 'budget_ms'?"),
        ({"roles": {"r": {"path": "a", "membrs": []}}}, "roles.r.membrs", "unknown key; did you mean 'members'?"),
        ({"probe": {"auth": {"tokn": "x"}}}, "probe.auth.tokn", "unknown key; did you mean 'token'?"),
        # targets
        ({"app": "a.b:c", "boot": "d:e"}, "boot", "give one target, not both 'app' and 'boot'"),
        ({"app": "a:b", "url": "ws://h/ws"}, "url", "give one target, not both 'app' and 'url'"),
        ({"app": "backend.main"}, "app", "'backend.main' is not of the form \"package.module:attribute\""),
        ({"boot": "backend:boot()"}, "boot", "'backend:boot()' is not of the form \"package.module:attribute\""),
        ({"app": ""}, "app", "expected a non-empty string, got the string ''"),
        ({"app": 3}, "app", "expected a non-empty string, got an integer"),
        (
            {"url": "ftp://h/ws"},
            "url",
            '\'ftp://h/ws\' is not of the form "ws://host:port/path", "wss://...", or "http(s)://..." '
            "for an HTTP stream",
        ),
        (
            {"ws_url": "ws:/h"},
            "ws_url",
            '\'ws:/h\' is not of the form "ws://host:port/path", "wss://...", or "http(s)://..." for an HTTP stream',
        ),
        (
            {"url": "http://h/agent", "probe": {"transport": "websocket"}},
            "url",
            "'http://h/agent' is an HTTP URL, but probe.transport is 'websocket': use a ws:// URL, or transport = "
            '"sse" or "ndjson"',
        ),
        (
            {"url": "ws://h/ws", "probe": {"transport": "sse"}},
            "url",
            "'ws://h/ws' is a WebSocket URL, but probe.transport is 'sse': give the stream's http(s):// URL",
        ),
        (
            {"probe": {"transport": "sce"}},
            "probe.transport",
            "expected one of websocket, sse, ndjson, socketio, got 'sce'; did you mean 'sse'?",
        ),
        (
            {"probe": {"transport": "sse", "auth": {"subprotocol": "jwt.{token}", "token": "t"}}},
            "probe.auth.subprotocol",
            "only a WebSocket carries a token as subprotocol; transport is 'sse': send it in a header, the query or a "
            "cookie",
        ),
        ({"probe": {"path": "agent"}}, "probe.path", "must start with '/', got 'agent'"),
        (
            {"app": "a:b", "probe": {"path": "/agent"}},
            "probe.path",
            "is the HTTP route of an SSE, NDJSON or socket.io run, and this run is a WebSocket: its route is the "
            "top-level ws_path (ws_path = '/agent'); if the server streams its runs over HTTP, set transport = "
            '"sse" or "ndjson"',
        ),
        ({"probe": {"method": "DELETE"}}, "probe.method", "expected GET, POST, PUT or PATCH, got 'DELETE'"),
        ({"probe": {"completed_by": "eof"}}, "probe.completed_by", "expected 'end_of_stream', got 'eof'"),
        ({"ws_path": "ws"}, "ws_path", "must start with '/', got 'ws'"),
        # scalar types
        (
            {"startup_timeout": 0},
            "startup_timeout",
            "must be a finite number of seconds, greater than 0 and at most 3600, got 0",
        ),
        ({"shutdown_timeout": True}, "shutdown_timeout", "expected a number, got a boolean"),
        ({"trace": "yes"}, "trace", "expected true or false, got the string 'yes'"),
        ({"factory": 1}, "factory", "expected true or false, got an integer"),
        ({"pythonpath": "src"}, "pythonpath", "expected a list of non-empty strings, got the string 'src'"),
        # roles
        ({"roles": "registry"}, "roles", "expected a table, got the string 'registry'"),
        ({"roles": {"my-role": {"path": "a"}}}, "roles.my-role", "a role name must be an identifier"),
        (
            {"roles": {"r": {"members": []}}},
            "roles.r.path",
            "missing: where startup stores this object, e.g. 'state.agent_websocket_bridge'",
        ),
        ({"roles": {"r": {"path": "state.x-y"}}}, "roles.r.path", "'state.x-y' is not of the form"),
        ({"roles": {"r": {"path": "a", "class": "Registry"}}}, "roles.r.class", "'Registry' is not of the form"),
        (
            {"roles": {"r": {"path": "a", "members": ["ok", "async foo"]}}},
            "roles.r.members[1]",
            "member 'async foo' is async but has no parameter list: write 'async foo()'",
        ),
        ({"roles": {"r": {"path": "a", "members": "x"}}}, "roles.r.members", "expected a list of non-empty strings"),
        # wires
        ({"wires": "a.b"}, "wires", "expected a list of non-empty strings, got the string 'a.b'"),
        ({"roles": ROLES, "wires": ["registry.x is"]}, "wires[0]", "cannot read wire 'registry.x is'"),
        ({"roles": ROLES, "wires": ["__import__('os')"]}, "wires[0]", "unexpected '('"),
        (
            {"roles": ROLES, "wires": ["bridge.x is not None", "regstry.x is bridge.y"]},
            "wires[1]",
            "'regstry' is not a role defined under [roles]; did you mean 'registry'?",
        ),
        (
            {"roles": ROLES, "wires": ["bridge.x is supervisor.y"]},
            "wires[0]",
            "'supervisor' is not a role defined under [roles]",
        ),
        # must_call
        ({"roles": ROLES, "must_call": ["registry"]}, "must_call[0]", "expected 'role.method', got 'registry'"),
        (
            {"roles": ROLES, "must_call": ["registry.bridge.set"]},
            "must_call[0]",
            "expected 'role.method', got 'registry.bridge.set'",
        ),
        (
            {"roles": ROLES, "must_call": ["registy.set_websocket_manager"]},
            "must_call[0]",
            "'registy' is not a role defined under [roles]; did you mean 'registry'?",
        ),
        # probe
        ({"probe": "fast"}, "probe", "expected a table, got the string 'fast'"),
        ({"probe": {"trigger": "{bad"}}, "probe.trigger", "not valid JSON: Expecting property name enclosed in"),
        ({"probe": {"trigger": "[1, 2]"}}, "probe.trigger", "expected a JSON object or a TOML table, got a list"),
        ({"probe": {"trigger": 7}}, "probe.trigger", "expected a JSON object or a TOML table, got an integer"),
        (
            {"probe": {"auth": {"query": "token", "header": "Authorization", "token": "t"}}},
            "probe.auth.header",
            "send the token one way: 'query' or 'header', not both",
        ),
        (
            {"probe": {"auth": {"token": "t"}}},
            "probe.auth.query",
            "missing: say how to send the token (query = ... or header = ... or subprotocol = ...",
        ),
        (
            {"probe": {"auth": {"query": "token"}}},
            "probe.auth.token_env",
            "missing: name the environment variable that holds the token",
        ),
        ({"probe": {"auth": "token"}}, "probe.auth", "expected a table, got the string 'token'"),
        ({"probe": {"events": []}}, "probe.events", "must name at least one event"),
        ({"probe": {"events": ["a", "b", "a"]}}, "probe.events", "lists an event twice"),
        ({"probe": {"events": ["a", 1]}}, "probe.events", "expected a list of non-empty strings, got a list"),
        ({"probe": {"events": ["a", "b"], "terminal": "c"}}, "probe.terminal", "'c' is not one of the expected"),
        ({"probe": {"terminal": "agent_done"}}, "probe.terminal", "'agent_done' is not one of the expected events"),
        (
            {"probe": {"budget_ms": 0}},
            "probe.budget_ms",
            "must be a finite number of milliseconds, greater than 0 and at most 600000, got 0",
        ),
        (
            {"probe": {"budget_ms": float("nan")}},
            "probe.budget_ms",
            "must be a finite number of milliseconds, greater than 0 and at most 600000, got nan",
        ),
        (
            {"probe": {"deadline": float("inf")}},
            "probe.deadline",
            "must be a finite number of seconds, greater than 0 and at most 3600, got inf",
        ),
        (
            {"probe": {"deadline": 1e12}},
            "probe.deadline",
            "must be a finite number of seconds, greater than 0 and at most 3600, got 1000000000000.0",
        ),
        (
            {"probe": {"linger_ms": -1}},
            "probe.linger_ms",
            "must be a finite number of milliseconds, 0 or more and at most 60000, got -1",
        ),
        ({"probe": {"budget_ms": "100ms"}}, "probe.budget_ms", "expected a number, got the string '100ms'"),
        (
            {"probe": {"deadline": -1}},
            "probe.deadline",
            "must be a finite number of seconds, greater than 0 and at most 3600, got -1",
        ),
        ({"probe": {"percentile": "p99"}}, "probe.percentile", "expected one of p50, p95, max, got 'p99'"),
    ],
)
def test_error(table, key, problem):
    """Each invalid value is refused with the file, the key path and what is wrong."""
    error = error_of(table)

    assert (str(SOURCE), key, True) == (error.source, error.key, error.problem.startswith(problem))
    assert f"x.toml: {key}: {error.problem}" == str(error)


def test_error_message_unknown_key():
    """The did-you-mean message, pinned: file, key path, problem and suggestion on one line."""

    assert "x.toml: probe.budget_msec: unknown key; did you mean 'budget_ms'?" == str(
        error_of({"probe": {"budget_msec": 100}})
    )


def test_error_message_unknown_key_without_suggestion_lists_the_keys():
    """With no close key, the message lists the keys that are allowed."""

    expected = (
        "x.toml: probe.auth.password: unknown key; known keys: "
        "ack, cookie, first_message, header, query, scheme, subprotocol, token, token_env"
    )

    assert expected == str(error_of({"probe": {"auth": {"password": "x"}}}))


def test_error_message_two_targets():
    """The two-targets message, pinned."""

    assert "x.toml: boot: give one target, not both 'app' and 'boot'" == str(
        error_of({"app": "backend.main:app", "boot": "backend.testing:boot"})
    )


def test_error_message_wire_with_unknown_role():
    """The unknown-role message of a wire, pinned."""

    assert "x.toml: wires[0]: 'regstry' is not a role defined under [roles]; did you mean 'registry'?" == str(
        error_of({"roles": ROLES, "wires": ["regstry.websocket_manager is bridge.websocket_manager"]})
    )


def test_error_message_bad_json_trigger():
    """The bad-trigger message, pinned: it says where in the JSON the problem is."""

    assert "x.toml: probe.trigger: not valid JSON: Expecting value at column 10" == str(
        error_of({"probe": {"trigger": '{"type": }'}})
    )


def test_error_in_pyproject_names_the_full_key_path():
    """In a pyproject.toml, the key path starts at tool.wiringcheck, as the user wrote it."""
    error = error_of({"probe": {"budget_msec": 1}}, source=Path("pyproject.toml"), prefix="tool.wiringcheck")

    assert "pyproject.toml: tool.wiringcheck.probe.budget_msec: unknown key; did you mean 'budget_ms'?" == str(error)


def test_error_without_source():
    """Without a source, the message starts with the key path."""
    with pytest.raises(ConfigError) as caught:
        parse_settings({"app": "nope"})

    assert "app: 'nope' is not of the form \"package.module:attribute\"" == str(caught.value)


# -- loading files ---------------------------------------------------------------------------------


def load_error(path, **kwargs):
    with pytest.raises(ConfigError) as caught:
        load_settings(path, **kwargs)
    return str(caught.value)


def test_missing_file(tmp_path):
    """A configuration file that does not exist is named in the error."""
    path = tmp_path / "wiringcheck.toml"

    assert f"{path}: file not found" == load_error(path)


def test_not_toml(tmp_path):
    """A file that is not TOML is refused with the parser's reason."""
    path = tmp_path / "wiringcheck.toml"
    path.write_text("app = \n", encoding="utf-8")

    assert load_error(path).startswith(f"{path}: not valid TOML: ")


def test_not_utf8(tmp_path):
    """A file that is not UTF-8 is refused as unreadable, not with a traceback."""
    path = tmp_path / "wiringcheck.toml"
    path.write_bytes(b'app = "\xff"\n')

    assert load_error(path).startswith(f"{path}: cannot read the file: ")


def test_pyproject_without_the_table(tmp_path):
    """A pyproject.toml given explicitly must have a [tool.wiringcheck] table."""
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "backend"\n\n[tool.ruff]\nline-length = 120\n', encoding="utf-8")

    assert f"{path}: has no [tool.wiringcheck] table" == load_error(path)


def test_error_in_a_file_names_the_file(tmp_path):
    """A validation error in a loaded file names that file and the key path inside it."""
    path = tmp_path / "pyproject.toml"
    path.write_text(as_pyproject("[probe]\nbudget_msec = 100\n"), encoding="utf-8")

    assert f"{path}: tool.wiringcheck.probe.budget_msec: unknown key; did you mean 'budget_ms'?" == load_error(path)


def test_no_configuration_found(tmp_path, monkeypatch):
    """When discovery finds nothing, the error says how to add a configuration."""
    monkeypatch.setattr(config, "find_config", lambda start=None: None)

    assert (
        "no configuration found: add a [tool.wiringcheck] table to pyproject.toml "
        "(`wiringcheck init` writes a starter) or pass --config PATH"
    ) == load_error(None, start=tmp_path)


def test_load_discovers_from_start(tmp_path):
    """Without a path, load_settings reads the configuration found from `start`."""
    (tmp_path / "wiringcheck.toml").write_text('app = "backend.main:app"\n', encoding="utf-8")
    (tmp_path / "src").mkdir()

    assert "backend.main:app" == load_settings(start=tmp_path / "src").app


# -- discovery -------------------------------------------------------------------------------------

WITH_TABLE = '[tool.wiringcheck]\napp = "backend.main:app"\n'
WITHOUT_TABLE = '[project]\nname = "backend"\n'


def write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


@pytest.mark.parametrize(
    ("files", "start", "expected"),
    [
        pytest.param(
            {"wiringcheck.toml": "", "pyproject.toml": WITH_TABLE},
            ".",
            "wiringcheck.toml",
            id="wiringcheck.toml before pyproject.toml",
        ),
        pytest.param({"pyproject.toml": WITH_TABLE}, ".", "pyproject.toml", id="pyproject with the table"),
        pytest.param(
            {"pyproject.toml": WITH_TABLE, "app/pyproject.toml": WITHOUT_TABLE},
            "app",
            "pyproject.toml",
            id="pyproject without the table is passed over",
        ),
        pytest.param(
            {"wiringcheck.toml": "", "app/api/handlers.py": ""},
            "app/api",
            "wiringcheck.toml",
            id="walks up",
        ),
        pytest.param(
            {"wiringcheck.toml": "", "app/pyproject.toml": WITH_TABLE},
            "app",
            "app/pyproject.toml",
            id="nearest folder wins",
        ),
        pytest.param(
            {"app/wiringcheck.toml": "", "pyproject.toml": WITH_TABLE},
            "app",
            "app/wiringcheck.toml",
            id="nearest wiringcheck.toml wins",
        ),
    ],
)
def test_find_config(tmp_path, files, start, expected):
    """Discovery walks up from the start folder; in each folder wiringcheck.toml comes before pyproject.toml."""
    write(tmp_path, files)

    assert (tmp_path / expected).resolve() == find_config(tmp_path / start)


def test_find_config_starts_in_the_working_directory(tmp_path, monkeypatch):
    """Without a start folder, discovery starts in the working directory."""
    write(tmp_path, {"wiringcheck.toml": ""})
    monkeypatch.chdir(tmp_path)

    assert (tmp_path / "wiringcheck.toml").resolve() == find_config()


# -- [load] ----------------------------------------------------------------------------------------


def test_load_table_is_read():
    """[load] gives the users, the test's shape, each user's identity and the thresholds."""
    table = {
        "probe": {"auth": {"query": "token", "token": "dev"}},
        "load": {
            "users": 20,
            "spawn_rate": 5,
            "duration": 3,
            "user_id": "u-{n}",
            "token": "t-{n}",
            "thresholds": ["agent_thinking.p95 < 100", "errors == 0"],
        },
    }

    load = parse_settings(table).load

    assert (20, 5.0, 3.0, None) == (load.users, load.spawn_rate, load.duration, load.runs)
    assert ("u-{n}", "t-{n}", True) == (load.user_id, load.token, load.per_user_identity)
    assert ("agent_thinking.p95 < 100", "errors == 0") == load.thresholds


def test_load_defaults_share_the_probes_identity():
    """Without [load], ten users run once each with the probe's own token (no per-user identity)."""
    load = parse_settings({}).load

    assert (10, None, None, False) == (load.users, load.duration, load.runs, load.per_user_identity)


@pytest.mark.parametrize(
    ("load", "message"),
    [
        ({"usres": 3}, "load.usres: unknown key; did you mean 'users'?"),
        ({"users": 0}, "load.users: must be a whole number from 1 to 100,000, got 0"),
        ({"users": 2.5}, "load.users: expected a whole number, got a number"),
        ({"duration": 3, "runs": 2}, "load.runs: give a duration or a number of runs per user, not both"),
        (
            {"thresholds": ["agent_thinkng.p95 < 100"]},
            "load.thresholds[0]: threshold 'agent_thinkng.p95 < 100': unknown event 'agent_thinkng'; "
            "did you mean 'agent_thinking'?",
        ),
        ({"thresholds": ["errors = 0"]}, "load.thresholds[0]: threshold 'errors = 0' is not of the form"),
        ({"token": "t-{n}"}, "load.token: the probe sends no token"),
    ],
)
def test_load_table_errors_name_the_key(load, message):
    """A bad [load] key is a ConfigError naming its key path, with a did-you-mean where one helps."""
    with pytest.raises(ConfigError) as raised:
        parse_settings({"load": load})

    assert str(raised.value).startswith(message)


def test_load_thresholds_know_the_configured_events():
    """Thresholds are checked against probe.events, so a renamed event is caught at load time."""
    table = {"probe": {"events": ["start", "done"]}, "load": {"thresholds": ["done.p99 < 50"]}}

    assert ("done.p99 < 50",) == parse_settings(table).load.thresholds
    with pytest.raises(ConfigError, match="unknown event 'agent_started'"):
        parse_settings({**table, "load": {"thresholds": ["agent_started.p99 < 50"]}})


# -- mapping a protocol ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("probe", "key", "problem"),
    [
        ({"type_field": "/data/type"}, "probe.type_field", "'/data/type' is a JSON Pointer; field paths are dotted: "
         "did you mean 'data.type'?"),
        ({"run_id_field": "events[0].run"}, "probe.run_id_field", "'events[0].run' uses brackets"),
        ({"match": {"agent_startd": "Start"}}, "probe.match.agent_startd", "'agent_startd' is not one of the "
         "expected events; did you mean 'agent_started'?"),
        ({"match": {"agent_started": {}}}, "probe.match.agent_started", "a matcher table needs at least one"),
        ({"preset": "agui"}, "probe.preset", "unknown preset 'agui'; did you mean 'ag-ui'?"),
        ({"run_id": "srever"}, "probe.run_id", "expected one of client, server, connection, got 'srever'"),
        ({"run_id_from": "Accepted"}, "probe.run_id_from", 'only the "server" correlation'),
        ({"ignore": "ping"}, "probe.ignore", "expected a list of matchers"),
        ({"error_events": [{"status": [{"x": 1}]}]}, "probe.error_events[0]", "the condition on 'status'"),
        ({"batch_field": "events..0"}, "probe.batch_field", "has an empty or invalid segment"),
        ({"auth": {"subprotocol": "jwt", "token_env": "T"}}, "probe.auth.subprotocol", "must contain {token}"),
        ({"auth": {"cookie": "s", "header": "X", "token_env": "T"}}, "probe.auth.cookie", "send the token one way"),
        ({"auth": {"ack": {"op": "ok"}, "query": "t", "token_env": "T"}}, "probe.auth.ack", "only after a first"),
        ({"auth": {"scheme": "Token", "query": "t", "token_env": "T"}}, "probe.auth.scheme", "set header too"),
        ({"auth": {"first_message": "[1]", "token_env": "T"}}, "probe.auth.first_message", "expected a JSON object"),
        ({"setup": {"path": "/x"}}, "probe.setup", "expected an array of tables"),
        ({"setup": [{"method": "POST"}]}, "probe.setup[0].path", "give the request's path"),
        ({"setup": [{"path": "/x", "url": "http://h/x"}]}, "probe.setup[0].path", "one of them"),
        ({"setup": [{"path": "x"}]}, "probe.setup[0].path", "must start with '/'"),
        ({"setup": [{"path": "/x", "method": "FETCH"}]}, "probe.setup[0].method", "expected one of GET"),
        ({"setup": [{"path": "/x", "expect_status": 999}]}, "probe.setup[0].expect_status", "expected an HTTP"),
        ({"setup": [{"path": "/x", "capture": {"run_id": "/run/id"}}]}, "probe.setup[0].capture.run_id",
         "did you mean 'run.id'?"),
        ({"setup": [{"path": "/x", "auth": {"subprotocol": "{token}", "token": "t"}}]},
         "probe.setup[0].auth.subprotocol", "unknown key"),
        ({"setup": [{"path": "/x", "timeout": 0}]}, "probe.setup[0].timeout", "must be"),
    ],
)  # fmt: skip
def test_protocol_mapping_errors(probe, key, problem):
    """Each mistake in mapping a protocol is refused with the key path and what to write instead."""
    error = error_of({"probe": probe})

    assert (key, True) == (error.key, problem in error.problem), error.problem


def test_a_protocol_of_its_own_parses_into_its_model():
    """Nested matchers, server correlation, an error terminal, auth and a setup step parse as written."""
    probe = parse_settings(
        {
            "ws_path": "/api/ws/runs/{run_id}",
            "probe": {
                "type_field": "data.type",
                "run_id": "server",
                "error_events": [{"type": "completion", "status": "error"}],
                "match": {"tool_executing": {"type": "message", "data": {"type": "ToolCallRequestEvent"}}},
                "auth": {"subprotocol": "jwt.{token_b64url}", "token_env": "T"},
                "setup": [{"path": "/api/runs", "json": '{"task": "{run_id}"}', "capture": {"run_id": "run.id"}}],
            },
        }
    ).probe
    protocol = probe.protocol()

    assert ("subprotocol", "server", "data.type", (200, 201), {"task": "{run_id}"}, True) == (
        probe.auth.method,
        protocol.correlation,
        protocol.type_path.text,
        probe.setup[0].expect_status,
        probe.setup[0].json,
        protocol.matcher_of("tool_executing").matches({"type": "message", "data": {"type": "ToolCallRequestEvent"}}),
    )


@pytest.mark.parametrize(
    ("header", "scheme", "expected"),
    [
        ("Authorization", None, "Bearer t0k"),
        ("Proxy-Authorization", None, "Bearer t0k"),
        ("X-Api-Key", None, "t0k"),
        ("Authorization", "", "t0k"),
        ("Authorization", "Token", "Token t0k"),
        ("X-Api-Key", "Key", "Key t0k"),
    ],
)
def test_which_headers_get_a_scheme(header, scheme, expected):
    """Authorization headers get Bearer by default; other headers the bare token; an explicit scheme wins."""
    from wiringcheck.config import Auth

    assert expected == Auth(header=header, scheme=scheme).header_value("t0k")


def test_an_http_url_target_speaks_sse_unless_the_table_says_ndjson():
    """url = "http(s)://..." selects an HTTP transport: SSE by default, NDJSON when probe.transport says so."""
    from wiringcheck.config import parse_settings

    assert "sse" == parse_settings({"url": "http://h:1/agent"}).probe.transport
    assert "ndjson" == parse_settings({"url": "https://h/agent", "probe": {"transport": "ndjson"}}).probe.transport
    assert "websocket" == parse_settings({"url": "ws://h/ws"}).probe.transport
    # A URL given on the command line (--url) says how to reach the server, as one in the file does.
    assert "sse" == parse_settings({}).with_target(url="http://h:1/agent").probe.transport
    assert "ndjson" == parse_settings({"probe": {"transport": "ndjson"}}).with_target(url="http://h/a").probe.transport
    assert "websocket" == parse_settings({"probe": {"preset": "ag-ui"}}).with_target(url="ws://h/ws").probe.transport
    # The route goes with the URL's transport; a preset's own path yields to a WebSocket the user asked for.
    assert "sse" == parse_settings({"url": "http://h:1", "probe": {"path": "/agent"}}).probe.transport
    assert (
        "websocket"
        == parse_settings({"app": "a:b", "probe": {"preset": "adk", "transport": "websocket"}}).probe.transport
    )


# -- a key written in the wrong table --------------------------------------------------------------


@pytest.mark.parametrize(
    ("table", "prefix", "key", "message"),
    [
        ({"preset": "ag-ui"}, "", "preset",
         "unknown key here; did you mean 'probe.preset'? Write it under a [probe] table"),
        ({"preset": "ag-ui"}, "tool.wiringcheck", "tool.wiringcheck.preset",
         "unknown key here; did you mean 'probe.preset'? Write it under a [tool.wiringcheck.probe] table"),
        ({"probe": {"auth": {"budget_ms": 50}}}, "", "probe.auth.budget_ms",
         "unknown key here; did you mean 'probe.budget_ms'? Write it under a [probe] table"),
        ({"probe": {"expect_status": 201}}, "tool.wiringcheck", "tool.wiringcheck.probe.expect_status",
         "unknown key here; did you mean 'probe.setup.expect_status'? "
         "Write it under a [[tool.wiringcheck.probe.setup]] table"),
        ({"probe": {"members": []}}, "", "probe.members",
         "unknown key here; did you mean 'roles.<name>.members'? Write it under a [roles.<name>] table"),
        ({"probe": {"startup_timeout": 3}}, "", "probe.startup_timeout",
         "unknown key here; did you mean 'startup_timeout'? Write it at the top of the file, before any [table]"),
        ({"probe": {"startup_timeout": 3}}, "tool.wiringcheck", "tool.wiringcheck.probe.startup_timeout",
         "unknown key here; did you mean 'startup_timeout'? Write it directly under [tool.wiringcheck]"),
        ({"probe": {"users": 3}}, "", "probe.users",
         "unknown key here; did you mean 'load.users' or 'isolation.users'? Each is written in its own table"),
        ({"token": "t"}, "", "token",
         "unknown key here; did you mean 'probe.auth.token', 'load.token' or 'isolation.token'? "
         "Each is written in its own table"),
        ({"scenarios": [{"name": "a", "app": "x:y"}]}, "", "scenarios[0].app",
         "unknown key here; did you mean 'app'? Write it at the top of the file, before any [table]"),
    ],
)  # fmt: skip
def test_a_key_in_the_wrong_table_is_sent_where_it_belongs(table, prefix, key, message):
    """A key of another table is refused with its right place and the table header to write, for either file."""
    error = error_of(table, prefix=prefix)

    assert (key, message) == (error.key, error.problem)


def test_a_misspelled_key_still_gets_the_closest_key_of_its_table():
    """A name no table has is matched against the keys of its own table, as before."""

    assert "unknown key; did you mean 'preset'?" == error_of({"probe": {"presett": "ag-ui"}}).problem


# -- every key of the table is read ----------------------------------------------------------------

_DATE = datetime.date(2026, 1, 1)
"""A TOML date: a value no key takes, so each key must refuse it by name."""

_KEYS_OF = {
    "top": lambda key: {key: _DATE},
    "role": lambda key: {"roles": {"r": {"path": "state.r", key: _DATE}}},
    "probe": lambda key: {"probe": {key: _DATE}},
    "auth": lambda key: {"probe": {"auth": {"query": "t", "token": "x", key: _DATE}}},
    "setup": lambda key: {"probe": {"setup": [{"path": "/x", key: _DATE}]}},
    "setup_auth": lambda key: {"probe": {"setup": [{"path": "/x", "auth": {"query": "t", "token": "x", key: _DATE}}]}},
    "emit_call": lambda key: {"roles": {"b": {"path": "state.b"}},
                              "probe": {"emit": {"agent_started": {"method": "b.emit", "argument": 0, key: _DATE}}}},
    "load": lambda key: {"probe": {"auth": {"query": "t", "token": "x"}}, "load": {key: _DATE}},
    "isolation": lambda key: {"isolation": {key: _DATE}},
    "scenario": lambda key: {"scenarios": [{"name": "s", key: _DATE}]},
}  # fmt: skip


@pytest.mark.parametrize(
    ("table", "key"),
    [(name, key.name) for name, table in config.TABLES.items() for key in table.keys if name in _KEYS_OF],
    ids=lambda value: str(value),
)
def test_every_key_of_the_table_is_read_and_checked(table, key):
    """Each key the table declares is read by the parser: a value of the wrong type is refused, naming it."""
    naming = (table, key) == ("scenario", "name")
    error = error_of({"scenarios": [{"name": _DATE}]} if naming else _KEYS_OF[table](key))

    assert key in error.key.split(".")[-1].split("[")[0] or key in error.problem, (error.key, error.problem)


def test_every_key_has_a_type_and_a_one_line_description():
    """The table documents itself: a description of one line for every key, each key once per table."""
    for table in config.TABLES.values():
        names = table.key_names()
        assert len(set(names)) == len(names), table.name
        for key in table.keys:
            assert (True, True) == ("\n" not in key.doc and key.doc.endswith("."), bool(key.type.schema)), key


# -- [env] -----------------------------------------------------------------------------------------


def test_env_is_read_with_the_config_folder_filled_in(tmp_path):
    """[env] keeps its variables in order; {config_dir} is the configuration file's folder, {tmp} stays for boot."""
    path = tmp_path / "wiringcheck.toml"
    path.write_text(
        '[env]\nAPPDIR = "{tmp}"\nDATABASE_URL = "sqlite:///{tmp}/app.db"\nFIXTURES = "{config_dir}/data"\n',
        encoding="utf-8",
    )

    assert (
        ("APPDIR", "{tmp}"),
        ("DATABASE_URL", "sqlite:///{tmp}/app.db"),
        ("FIXTURES", f"{tmp_path.resolve()}/data"),
    ) == load_settings(path).env


@pytest.mark.parametrize(
    ("env", "key", "problem"),
    [
        ({"1ST": "x"}, "env.1ST", "an environment variable's name is letters, digits and _"),
        ({"PORT": 8000}, "env.PORT", 'expected a string (quote it: PORT = "..."), got an integer'),
        ({"API_KEY": ["s3cr3t-value"]}, "env.API_KEY", 'expected a string (quote it: API_KEY = "..."), got a list'),
        ("X=1", "env", "expected a table"),
    ],
)
def test_env_errors_name_the_variable_and_never_its_value(env, key, problem):
    """A bad [env] entry names the variable and the fix; the value itself is never shown (it may be a secret)."""
    error = error_of({"env": env})

    assert (key, True, False) == (error.key, error.problem.startswith(problem), "s3cr3t" in str(error))


# -- trigger_file ----------------------------------------------------------------------------------


def write_config(folder: Path, text: str, **files: str) -> Path:
    for name, content in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(content, encoding="utf-8")
    path = folder / "wiringcheck.toml"
    path.write_text(text, encoding="utf-8")
    return path


TEAM = '{"type": "user_message", "run_id": "{run_id}", "team": {"agents": ["planner", "coder"], "max_turns": 10}}'


def test_trigger_file_is_read_relative_to_the_config_file(tmp_path, monkeypatch):
    """The trigger comes from the JSON file, relative to the configuration's folder, placeholders kept."""
    monkeypatch.chdir(tmp_path.parent)
    path = write_config(tmp_path, '[probe]\ntrigger_file = "triggers/team.json"\n', **{"triggers/team.json": TEAM})

    probe = load_settings(path).probe

    assert (json.loads(TEAM), (tmp_path / "triggers" / "team.json").resolve()) == (probe.trigger, probe.trigger_file)


def test_trigger_file_in_a_scenario_or_over_a_preset_replaces_the_inline_trigger(tmp_path):
    """A file given in a layer (a scenario, [probe] over its preset) replaces the trigger of the layer below."""
    path = write_config(
        tmp_path,
        '[probe]\npreset = "ag-ui"\ntrigger_file = "team.json"\n\n'
        '[[scenarios]]\nname = "inline"\ntrigger = { type = "x" }\n\n'
        '[[scenarios]]\nname = "from a file"\ntrigger_file = "team.json"\n',
        **{"team.json": TEAM},
    )

    settings = load_settings(path)

    assert [json.loads(TEAM), {"type": "x"}, json.loads(TEAM)] == [
        settings.probe.trigger,
        *(scenario.probe.trigger for scenario in settings.scenarios),
    ]


@pytest.mark.parametrize(
    ("files", "problem"),
    [
        ({}, "file not found: {dir}/team.json"),
        ({"team.json": '{"type": "x",\n "team": }'}, "{dir}/team.json is not valid JSON: Expecting value at line 2"),
        ({"team.json": "[1, 2]"}, "{dir}/team.json holds a list; a trigger is a JSON object"),
        ({"team.json/inner": "{}"}, "cannot read {dir}/team.json: "),
    ],
)
def test_a_missing_or_invalid_trigger_file_is_a_clear_error(tmp_path, files, problem):
    """A missing file, bad JSON (with its line) or a non-object is refused naming the key and the resolved file."""
    path = write_config(tmp_path, '[probe]\ntrigger_file = "team.json"\n', **files)

    message = load_error(path)

    assert message.startswith(f"{path}: probe.trigger_file: {problem.format(dir=tmp_path.resolve())}"), message


def test_trigger_and_trigger_file_together_are_refused():
    """One trigger: inline or from a file."""

    assert "give the trigger inline (trigger) or from a file (trigger_file), not both" == (
        error_of({"probe": {"trigger": {"type": "x"}, "trigger_file": "t.json"}}).problem
    )


# -- per-user identities: [isolation] and [load] ---------------------------------------------------

AUTH = {"auth": {"query": "token", "token_env": "PROBE_TOKEN", "token": "probe-token"}}


def identities(table: str, users: dict, environ: dict | None = None, count: int = 3) -> list[tuple[str, str | None]]:
    settings = parse_settings({"probe": AUTH, table: users})
    keys = settings.isolation if table == "isolation" else settings.load
    return [
        (identity.user_id, identity.token)
        for identity in (
            config.user_identity(keys, n, settings.probe, environ or {}, count=count) for n in range(1, count + 1)
        )
    ]


@pytest.mark.parametrize("table", ["isolation", "load"])
@pytest.mark.parametrize(
    ("users", "environ", "expected"),
    [
        pytest.param({"user_ids": ["amy", "ben", "cat"], "tokens": ["ta", "tb", "tc"]}, {},
                     [("amy", "ta"), ("ben", "tb"), ("cat", "tc")], id="literal ids and tokens"),
        pytest.param({"tokens_env": "ALL"}, {"ALL": "ta, tb\ntc"}, ["ta", "tb", "tc"], id="one variable, all tokens"),
        pytest.param({"tokens_env": ["A", "B", "C"]}, {"A": "ta", "B": "tb", "C": "tc"}, ["ta", "tb", "tc"],
                     id="a variable per user"),
        pytest.param({"tokens_env": ["A", "B", "C"], "tokens": ["la", "lb", "lc"]}, {"B": "tb"}, ["la", "tb", "lc"],
                     id="the environment wins over literals"),
        pytest.param({"tokens": ["la"], "token": "dev-{n}"}, {}, ["la", "dev-2", "dev-3"],
                     id="literals, then the template"),
    ],
)  # fmt: skip
def test_user_n_is_decided_in_one_place(table, users, environ, expected):
    """user_identity: ids literal or templated; tokens from the environment, literals, the template, in that order."""
    found = identities(table, users, environ)

    if isinstance(expected[0], tuple):
        assert expected == found
    else:
        assert expected == [token for _, token in found]


def test_user_ids_default_to_each_tables_template():
    """Without user_ids, isolation users are {probe.user_id}-{n}; load users follow [load] user_id."""

    assert (["wiringcheck-probe-1", "wiringcheck-probe-2"], ["u1", "u2"]) == (
        [user_id for user_id, _ in identities("isolation", {}, count=2)],
        [user_id for user_id, _ in identities("load", {"user_id": "u{n}"}, count=2)],
    )


def test_without_per_user_tokens_every_user_sends_the_probes():
    """No per-user source: the probe's token (its variable first), for every user."""

    assert [("wc-load-user-1", "env-token"), ("wc-load-user-2", "env-token")] == identities(
        "load", {}, {"PROBE_TOKEN": "env-token"}, count=2
    )


@pytest.mark.parametrize(
    ("table", "users", "environ", "message"),
    [
        ("load", {"tokens_env": "LOAD_TOKENS"}, {"LOAD_TOKENS": "a,b"},
         "the environment variable LOAD_TOKENS (named by [load] tokens_env) holds 2 token(s) for 3 users; "
         "give one per user, separated by commas"),
        ("isolation", {"tokens_env": ["A", "B", "C"]}, {"A": "a", "C": "c"},
         "user 2 has no token: the environment variable B (named by [isolation] tokens_env) is unset or empty"),
        ("load", {"tokens": ["a", "b"]}, {}, "[load] tokens lists 2 token(s) for 3 users: give one per user"),
        ("load", {"user_ids": ["amy"]}, {}, "[load] user_ids lists 1 user id(s) for 3 users: give one per user"),
    ],
)  # fmt: skip
def test_a_user_without_a_value_is_a_usage_error_naming_the_source(table, users, environ, message):
    """A list or variable short of users is refused at run time, naming it (never a token), not a silent fallback."""
    with pytest.raises(UsageError) as caught:
        identities(table, users, environ)

    assert message == str(caught.value)


@pytest.mark.parametrize(
    ("isolation", "key", "problem"),
    [
        ({"users": 32}, "isolation.users",
         "must be from 2 to 16, got 32: an isolation check connects at most 16 users at once"),
        ({"users": "2"}, "isolation.users", "expected a whole number of users from 2 to 16, got the string '2'"),
        ({"user_ids": ["amy"]}, "isolation.user_ids", "lists 1 user id(s) for 2 users: one per user"),
        ({"tokens": ["only-one"]}, "isolation.tokens", "lists 1 token(s) for 2 users: one per user"),
        ({"tokens": ["s3cr3t", "s3cr3t"]}, "isolation.tokens", "users 1 and 2 have the same token"),
        ({"user_ids": ["amy", "amy"]}, "isolation.user_ids", "users 1 and 2 have the same user id"),
        ({"tokens_env": 3}, "isolation.tokens_env", "expected a variable's name (holding every token"),
        ({"tokens_env": ["A"], "users": 3}, "isolation.tokens_env", "names 1 variable(s) for 3 users"),
    ],
)  # fmt: skip
def test_isolation_per_user_errors(isolation, key, problem):
    """Short lists, duplicates (named by user number, never by value) and the real user limit are refused by key."""
    error = error_of({"probe": AUTH, "isolation": isolation})

    assert (key, True, False) == (error.key, error.problem.startswith(problem), "s3cr3t" in error.problem)


def test_both_tokens_env_shapes_parse_in_both_tables():
    """tokens_env is one variable or a list of variables, in [isolation] and [load] alike."""
    one = parse_settings({"probe": AUTH, "isolation": {"tokens_env": "T"}, "load": {"tokens_env": "T"}})
    many = parse_settings({"probe": AUTH, "isolation": {"tokens_env": ["A", "B"]}, "load": {"tokens_env": ["A", "B"]}})

    assert ("T", "T", ("A", "B"), ("A", "B"), True) == (
        one.isolation.tokens_env,
        one.load.tokens_env,
        many.isolation.tokens_env,
        many.load.tokens_env,
        many.load.per_user_identity,
    )


def test_load_tokens_need_the_probe_to_send_one():
    """Literal tokens without [probe] auth would be sent nowhere: refused like the template."""

    assert "the probe sends no token" in error_of({"load": {"tokens": ["a", "b"]}}).problem


# -- the emit map of a single emit(kind, ...) method ----------------------------------------------

EMITTER = {"emitter": {"path": "state.emitter"}}


def emit_settings(emit: dict, **probe: object):
    return parse_settings({"roles": EMITTER, "probe": {"emit": emit, **probe}})


def test_an_emit_table_names_the_argument_carrying_the_kind():
    """{ method, argument, value }: value defaults to the event's name; a plain "role.method" keeps working."""
    probe = emit_settings(
        {
            "agent_started": {"method": "emitter.emit", "argument": "kind", "value": "RUN_STARTED"},
            "agent_thinking": {"method": "emitter.emit", "argument": 0},
            "agent_completed": "emitter.finish",
        }
    ).probe

    assert (
        (("agent_started", "emitter.emit"), ("agent_thinking", "emitter.emit"), ("agent_completed", "emitter.finish")),
        [
            config.EmitCall("agent_started", "emitter.emit", config.EmitKind("kind", ("RUN_STARTED",))),
            config.EmitCall("agent_thinking", "emitter.emit", config.EmitKind(0, ("agent_thinking",))),
            config.EmitCall("agent_completed", "emitter.finish"),
        ],
    ) == (probe.emit, list(probe.emit_calls))


@pytest.mark.parametrize(
    ("emit", "key", "problem"),
    [
        (dict.fromkeys(DEFAULT_EVENTS, "emitter.emit"), "probe.emit.agent_thinking",
         "'emitter.emit' emits 'agent_started' and 'agent_thinking': say which argument carries the event's kind, "
         'e.g. agent_thinking = { method = "emitter.emit", argument = "kind", value = "agent_thinking" }'),
        ({"agent_started": {"method": "emitter.emit", "argument": "kind"}, "agent_thinking": "emitter.emit"},
         "probe.emit.agent_thinking", "'emitter.emit' emits 'agent_started' and 'agent_thinking'"),
        ({"agent_started": {"method": "emitter.emit", "argument": "kind", "value": "x"},
          "agent_thinking": {"method": "emitter.emit", "argument": "kind", "value": ["y", "x"]}},
         "probe.emit.agent_thinking", "'agent_started' and 'agent_thinking' are both 'emitter.emit' with 'x'"),
        ({"agent_started": {"argument": "kind"}}, "probe.emit.agent_started.method", "missing"),
        ({"agent_started": {"method": "emitter.emit"}}, "probe.emit.agent_started.argument", "missing"),
        ({"agent_started": {"method": "emitter.emit", "argument": True}}, "probe.emit.agent_started.argument",
         "expected a parameter's name or its position"),
        ({"agent_started": {"method": "emitter.emit", "argument": -1}}, "probe.emit.agent_started.argument",
         "expected a parameter's name or its position"),
        ({"agent_started": {"method": "emitter.emit", "argument": 0, "value": {}}}, "probe.emit.agent_started.value",
         "expected the kind's value"),
        ({"agent_started": {"method": "emitter.emit", "argumnt": 0}}, "probe.emit.agent_started.argumnt",
         "unknown key; did you mean 'argument'?"),
        ({"agent_started": {"method": "emiter.emit", "argument": 0}}, "probe.emit.agent_started",
         "'emiter' is not a role defined under [roles]; did you mean 'emitter'?"),
    ],
)  # fmt: skip
def test_emit_map_errors(emit, key, problem):
    """A shared method without its kind argument, a shared value, and malformed entries are refused by key."""
    error = error_of({"roles": EMITTER, "probe": {"emit": emit}})

    assert (key, True) == (error.key, error.problem.startswith(problem)), error.problem


# -- one key for the tool call id ------------------------------------------------------------------


def test_tool_id_field_is_the_old_name_of_tool_call_id_field():
    """The deprecated name maps onto tool_call_id_field; both agreeing is fine, disagreeing is refused."""
    old = parse_settings({"probe": {"tool_id_field": "payload.call"}}).probe
    both = parse_settings({"probe": {"tool_id_field": "call", "tool_call_id_field": "call"}}).probe

    assert ("payload.call", "payload.call", "call") == (
        old.tool_call_id_field,
        old.tool_id_field,
        both.tool_call_id_field,
    )
    assert (
        "tool_id_field is the old name of tool_call_id_field"
        in error_of({"probe": {"tool_id_field": "a", "tool_call_id_field": "b"}}).problem
    )


def test_tool_call_id_field_as_a_table_of_event_paths():
    """tool_call_id_field = { event = path }: one path per event, for the protocol to read."""
    probe = parse_settings(
        {
            "probe": {
                "tool_call_id_field": {
                    "tool_executing": "data.content.0.id",
                    "tool_completed": "data.content.0.call_id",
                }
            }
        }
    ).probe

    assert (None, (("tool_executing", "data.content.0.id"), ("tool_completed", "data.content.0.call_id"))) == (
        probe.tool_call_id_field,
        probe.tool_call_id_paths,
    )


@pytest.mark.parametrize(
    ("value", "key", "problem"),
    [
        ({"tool_executng": "id"}, "probe.tool_call_id_field.tool_executng", "did you mean 'tool_executing'?"),
        ({"tool_executing": "/id"}, "probe.tool_call_id_field.tool_executing", "did you mean 'id'?"),
        ({}, "probe.tool_call_id_field", "an empty table"),
        (3, "probe.tool_call_id_field", "expected a non-empty string"),
    ],
)
def test_tool_call_id_field_errors(value, key, problem):
    """An unknown event, a bad path or an empty table are refused naming the key."""
    error = error_of({"probe": {"tool_call_id_field": value}})

    assert (key, True) == (error.key, problem in error.problem), error.problem
