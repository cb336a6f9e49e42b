"""The JSON Schema of the configuration: made from the parser's own table of keys, shipped, and true to it."""

from __future__ import annotations

import json
import re
import tomllib
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from wiringcheck.cli import main
from wiringcheck.config import TABLES, parse_settings
from wiringcheck.config_schema import SCHEMA_FILE, json_schema, schema_text

ROOT = Path(__file__).resolve().parent.parent
VALIDATOR = jsonschema.Draft202012Validator(json_schema())


def configurations() -> list[Path]:
    """Every configuration in the repository: fixtures, the bench's, and pyproject.toml's [tool.wiringcheck]."""
    found = [ROOT / "pyproject.toml", *sorted(ROOT.glob("bench/*.toml")), *sorted(ROOT.glob("fixtures/**/*.toml"))]
    return [path for path in found if path.name != "pyproject.toml" or "[tool.wiringcheck" in path.read_text()]


def table_of(path: Path) -> dict[str, object]:
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    return document["tool"]["wiringcheck"] if path.name == "pyproject.toml" else document


def errors(table: object) -> list[str]:
    return [f"{'.'.join(map(str, error.absolute_path))}: {error.message}" for error in VALIDATOR.iter_errors(table)]


def test_the_schema_is_a_valid_draft_2020_12_schema():
    """Editors read it as JSON Schema 2020-12: the meta-schema accepts it."""
    jsonschema.Draft202012Validator.check_schema(json_schema())


@pytest.mark.parametrize("path", configurations(), ids=lambda path: str(path.relative_to(ROOT)))
def test_every_configuration_in_the_repository_validates(path):
    """What the parser accepts in the repository, the schema accepts too."""

    assert [] == errors(table_of(path))


@pytest.mark.parametrize(
    ("table", "where"),
    [
        ({"appp": "a:b"}, "'appp' was unexpected"),
        ({"probe": {"budget_msec": 100}}, "probe: Additional properties are not allowed ('budget_msec'"),
        ({"probe": {"auth": {"tokn": "x"}}}, "probe.auth: Additional properties are not allowed ('tokn'"),
        ({"preset": "ag-ui"}, "Additional properties are not allowed ('preset'"),
        ({"isolation": {"users": 32}}, "isolation.users: 32 is greater than the maximum of 16"),
        ({"probe": {"percentile": "p99"}}, "probe.percentile: 'p99' is not one of"),
        ({"probe": {"budget_ms": 0}}, "probe.budget_ms: 0 is less than or equal to the minimum of 0"),
        ({"probe": {"emit": {"agent_started": {"method": "e.emit", "argumnt": 0}}}}, "('argumnt' was unexpected)"),
        ({"probe": {"match": {"agent_started": [{"a": 1}, 3]}}}, "probe.match.agent_started.1: 3 is not of type"),
        ({"probe": {"tool_call_id_field": {"tool_executing": "/id"}}}, "tool_executing: '/id' does not match"),
        ({"env": {"1ST": "x"}}, "env: '1ST' does not match"),
        ({"roles": {"r": {"class": "a:B"}}}, "roles.r: 'path' is a required property"),
        ({"scenarios": [{"name": "s", "budget": 1}]}, "scenarios.0: Additional properties are not allowed ('budget'"),
    ],
)
def test_a_misspelled_or_misplaced_key_is_rejected(table, where):
    """A key no table has, in any table, is an error the editor shows where it is written."""

    assert any(where in error for error in errors(table)), errors(table)


NEW_KEYS = """
app = "backend.main:create_app"

[env]
AUTOGENSTUDIO_APPDIR = "{tmp}"
DATABASE_URL = "sqlite:///{tmp}/studio.db"

[probe]
trigger_file = "team.json"
tool_call_id_field = { tool_executing = "data.content.0.id", tool_completed = "data.content.0.call_id" }
tool_id_field = "call"
error_events = [{ errorCode = { "$exists" = true } }, { error = { "$exists" = true } }]

[probe.match]
tool_executing = { "content.parts.*.functionCall" = { "$exists" = true } }
agent_completed = [{ finishReason = "STOP" }, { turnComplete = true }]

[probe.emit]
agent_started = { method = "emitter.emit", argument = "kind", value = "RUN_STARTED" }
agent_thinking = { method = "emitter.emit", argument = 0 }

[isolation]
user_ids = ["amy", "ben"]
tokens = ["amy-token", "ben-token"]
tokens_env = "ISOLATION_TOKENS"

[load]
tokens_env = ["LOAD_TOKEN_1", "LOAD_TOKEN_2"]
"""


def test_the_new_keys_validate():
    """[env], trigger_file, per-event tool call ids, presence and any-of matchers, the emit map's kind
    argument and both shapes of tokens_env are in the schema."""

    assert [] == errors(tomllib.loads(NEW_KEYS))


def test_every_key_of_the_table_is_in_the_schema_with_its_description():
    """Each table's keys are the schema's properties, each with the table's description (one source)."""
    schema = json_schema()
    for name, table in TABLES.items():
        definition = schema if name == "top" else schema["$defs"][name]
        if table.values is not None:
            continue
        assert {key.name: key.doc for key in table.keys} == {
            key: value["description"].removesuffix(f" Deprecated: write {value.get('deprecated') and 'x'}.")
            for key, value in definition["properties"].items()
            if not value.get("deprecated")
        } | {key.name: key.doc for key in table.keys if key.deprecated}


def test_the_deprecated_name_is_marked_as_such():
    """tool_id_field is annotated deprecated, pointing to tool_call_id_field."""
    entry = json_schema()["$defs"]["probe"]["properties"]["tool_id_field"]

    assert (True, True) == (entry["deprecated"], entry["description"].endswith("Deprecated: write tool_call_id_field."))


def test_defaults_in_the_schema_are_the_parsers():
    """The defaults editors show are what an empty table parses to."""
    probe = json_schema()["$defs"]["probe"]["properties"]
    parsed = parse_settings({}).probe

    assert (parsed.budget_ms, parsed.deadline, list(parsed.events), parsed.trigger) == (
        probe["budget_ms"]["default"],
        probe["deadline"]["default"],
        probe["events"]["default"],
        probe["trigger"]["default"],
    )


def test_the_shipped_copy_is_the_generated_schema():
    """wiringcheck/schemas/config.schema.json, for editors, is exactly what `wiringcheck schema` prints."""
    shipped = resources.files("wiringcheck").joinpath(SCHEMA_FILE).read_text(encoding="utf-8")

    assert schema_text() == shipped, "regenerate it: wiringcheck schema > wiringcheck/schemas/config.schema.json"


def test_wiringcheck_schema_prints_it(capsys):
    """`wiringcheck schema` prints the schema as JSON and exits 0."""
    code = main(["schema"])

    assert (0, json_schema()) == (code, json.loads(capsys.readouterr().out))


def test_the_configuration_docs_toml_examples_validate():
    """Every TOML example of docs/configuration.md that is a whole table validates against the schema."""
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    checked = 0
    for block in re.findall(r"^```toml\n(.*?)^```", text, flags=re.M | re.S):
        if not re.match(r"\[+tool\.wiringcheck", block):
            continue
        try:
            document = tomllib.loads(block)
        except tomllib.TOMLDecodeError:  # an example listing alternatives of one key
            continue
        checked += 1
        assert [] == errors(document["tool"]["wiringcheck"]), block
    assert checked >= 12
