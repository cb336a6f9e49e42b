"""`wiringcheck init`: a commented starter [tool.wiringcheck] that loads as written, and never an overwrite."""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import replace

import pytest
from typer.testing import CliRunner

from wiringcheck.cli import app, main
from wiringcheck.commands.init import starter_table
from wiringcheck.config import DEFAULT_EVENTS, load_settings, parse_settings
from wiringcheck.report import ExitCode

from .integration.helpers import REPO


@pytest.fixture(name="project")
def _project(tmp_path, monkeypatch):
    """An empty project folder as the working directory."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_init_creates_pyproject_that_loads(project, capsys):
    """With --app and no pyproject.toml, init creates one whose table loads with the five events and 100 ms."""
    code = main(["init", "--app", "myapp.main:create_app"])

    settings = load_settings(project / "pyproject.toml")
    assert ExitCode.OK == code
    assert ("myapp.main:create_app", DEFAULT_EVENTS, 100.0) == (
        settings.app,
        settings.probe.events,
        settings.probe.budget_ms,
    )
    assert "created pyproject.toml" in capsys.readouterr().out


def test_init_appends_and_keeps_the_rest_of_the_file(project):
    """An existing pyproject.toml keeps every byte; the table is appended after it."""
    original = '[project]\nname = "myapp"  # keep this comment\nversion = "1.0"'
    (project / "pyproject.toml").write_text(original)

    code = main(["init", "--app", "myapp:app"])

    text = (project / "pyproject.toml").read_text()
    assert ExitCode.OK == code
    assert text.startswith(original + "\n")
    assert "myapp:app" == load_settings(project / "pyproject.toml").app


def test_init_refuses_to_overwrite_an_existing_table(project, capsys):
    """A [tool.wiringcheck] already there is left alone: exit 2 and a message that says what to do."""
    existing = '[tool.wiringcheck]\napp = "mine:app"\n'
    (project / "pyproject.toml").write_text(existing)

    code = main(["init", "--app", "other:app"])

    assert ExitCode.USAGE_ERROR == code
    assert existing == (project / "pyproject.toml").read_text()
    assert "pyproject.toml already configures wiringcheck; edit it" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        (None, ["--app", "not a ref"], "--app 'not a ref' is not of the form package.module:attribute"),
        ("[project\nname = 1\n", ["--app", "a:b"], "pyproject.toml is not valid TOML"),
    ],
)
def test_init_bad_input_is_exit_two(project, capsys, content, args, message):
    """A malformed --app or an unreadable pyproject.toml is a one-line error, exit 2, nothing written."""
    if content is not None:
        (project / "pyproject.toml").write_text(content)

    code = main(["init", *args])

    assert ExitCode.USAGE_ERROR == code
    assert message in capsys.readouterr().err
    written = project / "pyproject.toml"
    assert content == (written.read_text() if written.exists() else None)


def test_init_asks_for_the_app_until_it_reads_as_one(project):
    """Without --app, init asks; an answer that is not package.module:attribute is asked again."""
    result = CliRunner().invoke(app, ["init"], input="myapp\nmyapp.main:create_app\n")

    assert 0 == result.exit_code
    assert "is not of the form package.module:attribute" in result.output
    assert "myapp.main:create_app" == load_settings(project / "pyproject.toml").app


def test_the_commented_role_example_is_valid_once_uncommented():
    """Uncommenting the example role and auth gives a configuration that still validates."""
    text = starter_table(("app", "myapp:app"))
    uncommented = re.sub(r"^# (\[tool\.wiringcheck\.roles|path =|class =|members =|auth =)", r"\1", text, flags=re.M)

    settings = parse_settings(tomllib.loads(uncommented)["tool"]["wiringcheck"], prefix="tool.wiringcheck")

    assert ["bridge"] == list(settings.roles)
    assert ("token", "MYAPP_TOKEN") == (settings.probe.auth.query, settings.probe.auth.token_env)


def test_init_from_run_writes_the_matchers_it_observed(project, capsys):
    """--from-run boots the app, finds its WebSocket route, and writes matchers that pass a real run."""
    from wiringcheck.runner import run

    code = main(["init", "--app", "tests.integration.edge_apps:studio_like", "--from-run"])

    settings = load_settings(project / "pyproject.toml")
    report = run(replace(settings, pythonpath=(REPO,)))
    assert (ExitCode.OK, "/api/chat", True) == (code, settings.ws_path, report.ok), report.findings
    assert ("data.type", "ToolCallRequestEvent") in dict(settings.probe.match)["tool_executing"].items()


STUDIO_START = """\
# How a run of the studio starts; init --from-run learns the rest.
app = "fixtures.studio.app:create_app"
pythonpath = [{repo}]
ws_path = "/api/ws/runs/{{run_id}}"

[probe]
trigger = {{ type = "user_message", content = "What is 6 times 7?" }}
auth = {{ subprotocol = "jwt.{{token_b64url}}", token_env = "STUDIO_TOKEN" }}
deadline = 2.0  # a learning run ends at the deadline when its terminal is not known yet

[[probe.setup]]
method = "POST"
path = "/api/runs"
json = {{ task = "What is 6 times 7?" }}
auth = {{ header = "Authorization", token_env = "STUDIO_TOKEN" }}
capture = {{ run_id = {{ path = "run.id", public = true }} }}
"""
RELAY_START = """\
# How a run of the relay starts; init --from-run learns the rest.
boot = "fixtures.relay.server:boot"
pythonpath = [{repo}]

[probe]
trigger = {{ op = "run", id = "{{run_id}}", input = "add 40 and 2" }}
auth = {{ first_message = {{ op = "auth", key = "{{token}}" }}, token_env = "RELAY_KEY" }}
deadline = 2.0  # a learning run ends at the deadline when its terminal is not known yet
"""


@pytest.mark.parametrize(
    ("start", "token_env", "token"),
    [(STUDIO_START, "STUDIO_TOKEN", "studio-dev-token"), (RELAY_START, "RELAY_KEY", "relay-dev-key")],
    ids=["studio", "relay"],
)
def test_init_from_run_completes_a_configuration_that_then_passes(
    project, monkeypatch, capsys, start, token_env, token
):
    """Given how a run starts and the token alone, --from-run learns the protocol, and `run` then passes."""
    from wiringcheck.runner import run

    config = project / "wiringcheck.toml"
    config.write_text(start.format(repo=json.dumps(str(REPO))))
    monkeypatch.setenv(token_env, token)

    code = main(["init", "--from-run"])

    written = config.read_text()
    report = run(load_settings(config))
    assert (ExitCode.OK, True) == (code, report.ok), report.findings
    assert written.startswith("# How a run of the")  # the user's file, completed in place, comments kept
    assert token not in written + capsys.readouterr().out


def test_init_from_run_writes_a_wiringcheck_toml_when_asked(project):
    """--output wiringcheck.toml: the same configuration as top-level keys, no [tool.wiringcheck]."""
    code = main(["init", "--app", "tests.integration.edge_apps:studio_like", "--from-run", "-o", "wiringcheck.toml"])

    text = (project / "wiringcheck.toml").read_text()
    settings = load_settings(project / "wiringcheck.toml")
    assert (ExitCode.OK, "/api/chat", False) == (code, settings.ws_path, "tool.wiringcheck" in text)
    assert not (project / "pyproject.toml").exists()


def test_init_from_run_that_cannot_start_writes_nothing_and_says_why(project, capsys):
    """A run the backend refuses (no token) teaches nothing: exit 2, the reason, the file untouched."""
    config = project / "wiringcheck.toml"
    start = RELAY_START.format(repo=json.dumps(str(REPO))).replace('"RELAY_KEY"', '"WC_TEST_NO_SUCH_KEY"')
    config.write_text(start)

    code = main(["init", "--from-run"])

    assert (ExitCode.USAGE_ERROR, start) == (code, config.read_text())
    assert "--from-run: nothing to learn from" in capsys.readouterr().err


def test_init_from_run_on_an_ag_ui_app_writes_the_preset_and_its_path(project):
    """pydantic-ai's AG-UI app alone: the socket refuses the plain trigger, the preset on /agent answers."""
    from wiringcheck.runner import run

    code = main(["init", "--app", "fixtures.agui.app:create_app", "--from-run"])

    settings = load_settings(project / "pyproject.toml")
    report = run(replace(settings, pythonpath=(REPO,)))
    assert (ExitCode.OK, "ag-ui", "/agent", True) == (code, settings.probe.preset, settings.probe.path, report.ok), (
        report.findings
    )


@pytest.fixture(name="langgraph_url")
def _langgraph_url():
    """The LangGraph-shaped server under uvicorn on a free loopback port, in a thread: its http:// origin."""
    from .serving import served
    from .streaming_apps import langgraph_like

    with served(langgraph_like()) as port:
        yield f"http://127.0.0.1:{port}"


def test_init_from_run_on_a_running_server_tries_the_presets_that_name_their_route(project, langgraph_url, capsys):
    """`init --from-run --url http://host:port` on a server shaped like `langgraph dev`: POST / is a 404, the
    LangGraph preset's own route answers, 150 ms late. The preset is written, and the note says `run` will call
    that wait a stall; with the gap bound raised, the run passes."""
    code = main(["init", "--url", langgraph_url, "--from-run", "-o", "wiringcheck.toml"])

    said = capsys.readouterr().out
    settings = load_settings(project / "wiringcheck.toml")
    assert (ExitCode.OK, "langgraph", langgraph_url) == (code, settings.probe.preset, settings.url), said
    assert re.search(r"note: the first frame came \d+ ms after the trigger, past the 100 ms gap bound", said), said
    assert ExitCode.CHECK_FAILED == main(["run", "-q", "-c", "wiringcheck.toml"])
    (project / "wiringcheck.toml").write_text(
        (project / "wiringcheck.toml").read_text(encoding="utf-8") + "gap_ms = 2000\n", encoding="utf-8"
    )
    assert ExitCode.OK == main(["run", "-q", "-c", "wiringcheck.toml"])
