"""Configuration: valid tables become frozen Settings; every problem is a ConfigError naming file, key and fix."""

from __future__ import annotations

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
        ({"url": "http://h/ws"}, "url", '\'http://h/ws\' is not of the form "ws://host:port/path" or "wss://..."'),
        ({"ws_url": "ws:/h"}, "ws_url", '\'ws:/h\' is not of the form "ws://host:port/path" or "wss://..."'),
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
