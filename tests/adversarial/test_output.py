"""The backend's output is evidence, captured and scrubbed in every entry point, and never wiringcheck's own output.

`backends.prints_the_token` does what a careless backend does with a credential: it
prints it (to stdout, to stderr, as raw bytes), logs it with no logging configured (so
Python's last-resort handler would write it to stderr), and lets a task fail with it in
its message, unobserved ("Task exception was never retrieved"), at startup, in each
request and at shutdown.  Every entry point that boots it in-process must keep all of
that off the terminal, show it only as scrubbed evidence, and keep stdout a valid
report when it carries one (``--format json`` or ``sarif``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from .backends import PRINTED
from .support import TOKEN_ENV, in_process, leaks, write_config

TOKEN = "plain-secret-7d1e40c9b2"

AUTH = {"query": "token", "token_env": TOKEN_ENV}


def printing_config(folder: Path) -> Path:
    return write_config(
        folder, app="tests.adversarial.backends:prints_the_token", probe={"auth": AUTH, "deadline": 1.0}
    )


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_backend_print_never_corrupts_the_report_on_stdout(fmt, tmp_path):
    """`run --format json|sarif` on a backend that prints: stdout is exactly one valid JSON document."""
    config = printing_config(tmp_path)

    outcome = in_process(["run", "--config", str(config), "--format", fmt], env={TOKEN_ENV: TOKEN})

    document = json.loads(outcome.stdout)  # the whole of stdout, nothing before or after
    assert not leaks(TOKEN, outcome.everything)
    assert PRINTED not in outcome.stderr
    if fmt == "json":  # the JSON report carries it as evidence, scrubbed, by phase
        printed = [line for item in document["output"] for line in item["lines"]]
        assert f"{PRINTED} factory with token ***" in printed
        assert {"boot", "probe", "shutdown"} == {item["phase"] for item in document["output"]}
    else:  # SARIF carries findings only
        assert PRINTED not in outcome.stdout


ENTRY_POINTS = {
    "load": ["load", "--users", "2", "--runs", "1", "--workers", "1", "-q"],
    "inspect --probe": ["inspect", "--probe"],
    "run": ["run", "-q"],
}


@pytest.mark.parametrize("args", ENTRY_POINTS.values(), ids=ENTRY_POINTS.keys())
def test_backend_log_lines_prints_and_task_tracebacks_never_reach_the_terminal_raw(args, tmp_path):
    """`load -q`, `inspect --probe`, `run -q`: no log line, print or unretrieved task's traceback of the backend
    reaches stdout or stderr raw; what is shown of it is scrubbed evidence."""
    config = printing_config(tmp_path)

    outcome = in_process([*args, "--config", str(config)], env={TOKEN_ENV: TOKEN})

    assert not leaks(TOKEN, outcome.everything), outcome.everything
    assert "Task exception was never retrieved\n" not in outcome.stderr  # asyncio's raw report
    assert "Traceback (most recent call last)" not in outcome.stdout + outcome.stderr
    if args[0] == "inspect":
        assert f"{PRINTED} request with token ***" in outcome.stdout  # shown as evidence, in the tree
    else:
        assert PRINTED not in outcome.stdout + outcome.stderr  # -q: the verdict only


def test_load_reports_the_backends_output_and_logs_as_evidence(tmp_path):
    """`load --format json` on a backend that prints and logs: its report carries both, scrubbed, by phase."""
    config = printing_config(tmp_path)
    args = ["load", "--config", str(config), "--users", "2", "--runs", "1", "--workers", "1", "--format", "json"]

    outcome = in_process(args, env={TOKEN_ENV: TOKEN})

    report = json.loads(outcome.stdout)
    assert not leaks(TOKEN, outcome.everything)
    assert "load" in {item["phase"] for item in report["output"]}
    assert any("request with token ***" in record["message"] for record in report["logs"])
    runtime = next(check for check in report["checks"] if check["name"] == "load: runtime errors")
    assert ["WC111"] == [finding["code"] for finding in runtime["findings"]][:1]
