"""The `wiringcheck` command line: arguments in, exit code and output out (run and explain)."""

from __future__ import annotations

import json

import pytest

from wiringcheck.cli import main
from wiringcheck.report import ExitCode

from .integration.helpers import FAULTS, REPO


@pytest.fixture(name="in_repo")
def _in_repo(monkeypatch):
    monkeypatch.chdir(REPO)


def test_run_healthy_prints_a_passing_report(in_repo, capsys):
    """`wiringcheck run` on the repository's config passes and says so."""
    code = main(["run"])

    out = capsys.readouterr().out
    assert ExitCode.OK == code
    assert "PASSED" in out
    assert "agent_completed" in out


def test_run_fault_exits_one_and_names_the_wire(in_repo, capsys):
    """The seed's fault exits 1 and names the broken wire and the missing events."""
    config = FAULTS / "legacy_setter" / "wiringcheck.toml"

    code = main(["run", "--config", str(config), "--deadline", "0.5"])

    out = capsys.readouterr().out
    assert ExitCode.CHECK_FAILED == code
    assert "wire: bridge.websocket_manager is not None" in out
    assert "agent_started never arrived" in out


def test_run_writes_json_and_junit_files(in_repo, tmp_path, capsys):
    """--json and --junit leave files behind for CI, next to the console report."""
    json_path, junit_path = tmp_path / "out" / "report.json", tmp_path / "junit.xml"

    code = main(["run", "-q", "--json", str(json_path), "--junit", str(junit_path)])

    data = json.loads(json_path.read_text())
    assert ExitCode.OK == code
    assert (1, True) == (data["schema_version"], data["ok"])
    assert "<testsuites" in junit_path.read_text()


def test_run_format_json_prints_only_json(in_repo, capsys):
    """--format json prints a JSON document and nothing else on stdout."""
    code = main(["run", "--format", "json"])

    data = json.loads(capsys.readouterr().out)
    assert ExitCode.OK == code
    assert ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"] == [
        e["type"] for e in data["events"]
    ]


def test_run_boot_failure_exits_three(in_repo, capsys):
    """A backend that crashes in startup exits 3 and shows the exception."""
    code = main(["run", "--config", str(FAULTS / "boot_crash" / "wiringcheck.toml")])

    assert ExitCode.BOOT_FAILED == code
    assert "redis connection refused" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "--config", "missing.toml"], "missing.toml: file not found"),
        (["run", "--app", "no_such_module:app"], "cannot import 'no_such_module'"),
        (["run", "--app", "fixtures.agentchat.app:create_ap"], "did you mean 'create_app'?"),
        (["run", "--url", "ftp://example.invalid/ws"], "--url: 'ftp://example.invalid/ws' is not of the form"),
        (["explain", "WC999"], "unknown code 'WC999'"),
        (["run", "--bogus"], "No such option: --bogus"),
    ],
)
def test_bad_input_is_a_one_line_error_with_exit_two(in_repo, capsys, args, message):
    """Bad input gets a clear one-line error on stderr and exit 2, never a traceback."""
    code = main(args)

    err = capsys.readouterr().err
    assert ExitCode.USAGE_ERROR == code
    assert message in err
    assert "Traceback" not in err


def test_malformed_config_names_file_and_key(tmp_path, capsys):
    """A config with a typo names the file, the key path and a did-you-mean."""
    config = tmp_path / "wiringcheck.toml"
    config.write_text('app = "a.b:c"\n[probe]\nbudget_msec = 100\n')

    code = main(["run", "--config", str(config)])

    assert ExitCode.USAGE_ERROR == code
    assert f"{config}: probe.budget_msec: unknown key; did you mean 'budget_ms'?" in capsys.readouterr().err


def test_explain_prints_the_code_page(capsys):
    """`wiringcheck explain WC211` prints that code's page."""
    code = main(["explain", "wc211"])

    assert ExitCode.OK == code
    assert "WC211" in capsys.readouterr().out
