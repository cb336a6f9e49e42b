"""`wiringcheck load` end to end: the backend booted here, 20 users in client processes, on loopback.

Each test lasts about a second of load; the assertions are on counts and findings,
never on a latency near a threshold (the thresholds set here are far from the figures).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from wiringcheck.cli import main

REPO = Path(__file__).resolve().parents[2]
USERS = 20

pytestmark = pytest.mark.filterwarnings("ignore::ResourceWarning")


@pytest.fixture(name="tokens", autouse=True)
def _tokens(monkeypatch):
    """The reference backend accepts one token per load user (load-token-N names load-user-N), and dev-token."""
    spec = ",".join(["dev-token:demo-user", *(f"load-token-{n}:load-user-{n}" for n in range(1, USERS + 1))])
    monkeypatch.setenv("AGENTCHAT_TOKENS", spec)


def reference_config(tmp_path: Path, load: str) -> Path:
    """The repository's reference configuration with a [load] table."""
    pyproject = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    table = pyproject[pyproject.index("[tool.wiringcheck]") : pyproject.index("[tool.ruff]")]
    table = table.replace("[tool.wiringcheck]", f'[tool.wiringcheck]\npythonpath = ["{REPO}"]')
    table = table[: table.index("[tool.wiringcheck.load]")]  # the test's own [load] table replaces the example
    path = tmp_path / "pyproject.toml"
    path.write_text(f"{table}\n[tool.wiringcheck.load]\n{load}\n", encoding="utf-8")
    return path


def run_load(config: Path, tmp_path: Path, *extra: str) -> tuple[int, dict]:
    report = tmp_path / "load.json"
    code = main(
        ["load", "-c", str(config), "--users", str(USERS), "--workers", "2", "-f", "json", "-o", str(report), *extra]
    )
    return code, json.loads(report.read_text(encoding="utf-8"))


@pytest.mark.slow
def test_reference_backend_passes_with_twenty_users(tmp_path):
    """20 users with their own tokens for 1 s: every run completes, nothing missing, no cross-talk."""
    config = reference_config(
        tmp_path,
        'user_id = "load-user-{n}"\ntoken = "load-token-{n}"\n'
        'thresholds = ["errors == 0", "completion_rate == 1", "agent_completed.p99 < 10000", "runs >= 20"]',
    )

    code, report = run_load(config, tmp_path, "--duration", "1", "--grace", "0")
    load = report["extra"]["load"]

    assert 0 == code, [f["message"] for f in report["findings"]]
    assert 1.0 == load["completion_rate"]
    assert 0 == load["errors"]
    assert 0 == load["cross_talk"]
    assert all(0 == stats["missing"] for stats in load["events"].values())
    assert load["runs"] >= USERS
    assert "load-token" not in json.dumps(report)


@pytest.mark.slow
def test_fault_that_drops_events_under_load_fails(tmp_path):
    """drops_under_load passes `run` with one user but fails under 20 users with WC502 on tool_completed."""
    config = REPO / "fixtures" / "faults" / "drops_under_load" / "wiringcheck.toml"

    code, report = run_load(config, tmp_path, "--duration", "1")
    checks = {check["name"]: check for check in report["checks"]}

    assert 1 == code
    assert ["WC502"] == [f["code"] for f in checks["event: tool_completed"]["findings"]]
    assert "passed" == checks["event: agent_completed"]["status"]
    assert report["extra"]["load"]["events"]["tool_completed"]["missing"] > 0


@pytest.mark.slow
def test_runs_mode_counts_exactly(tmp_path):
    """--runs N gives each user exactly N runs; with a shared token, cross-talk is skipped, not passed."""
    config = reference_config(tmp_path, 'thresholds = ["errors == 0"]')

    code, report = run_load(config, tmp_path, "--runs", "2", "--users", "3")
    checks = {check["name"]: check for check in report["checks"]}

    assert 0 == code
    assert 6 == report["extra"]["load"]["runs"]
    assert "skipped" == checks["load: cross-talk"]["status"]


def test_too_few_tokens_is_a_usage_error(tmp_path, monkeypatch, capsys):
    """tokens_env with fewer tokens than users is a one-line error naming the variable, exit 2."""
    monkeypatch.setenv("LOAD_TOKENS", "secret-a,secret-b")
    config = reference_config(tmp_path, 'tokens_env = "LOAD_TOKENS"')

    code = main(["load", "-c", str(config), "--users", "3", "--runs", "1"])
    err = capsys.readouterr().err

    assert 2 == code
    assert "LOAD_TOKENS (named by [load] tokens_env) holds 2 token(s) for 3 users" in err
    assert "secret-a" not in err
