"""`wiringcheck load` end to end: the backend booted here, 20 users in client processes, on loopback.

Each test lasts about a second of load; the assertions are on counts and findings,
never on a latency near a threshold (the thresholds set here are far from the figures).
"""

from __future__ import annotations

import json
import re
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

    # Two runs each, the 20 users started at once: more than two runs in flight, which is what the fault sheds at.
    code, report = run_load(config, tmp_path, "--runs", "2", "--spawn-rate", "1000")
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


def _options(users: int, workers: int):
    from wiringcheck.load.command import LoadOptions

    return LoadOptions(users=users, spawn_rate=float(users), duration=None, runs=1, workers=workers, grace=1.0)


def test_workers_beyond_the_cpus_are_capped_with_a_note_when_asked_for():
    """Twelve client processes on two CPUs become two, and the note says why; unasked, no note."""
    from wiringcheck.load.command import fit_machine

    asked, notes = fit_machine(_options(100, 12), in_process=True, workers_asked=12, cpus=2, descriptors=(4096, 4096))
    default, quiet = fit_machine(
        _options(100, 12), in_process=True, workers_asked=None, cpus=2, descriptors=(4096, 4096)
    )

    assert (2, 2) == (asked.workers, default.workers)
    assert ["12 client processes capped at 2"] == [note.split(",")[0] for note in notes]
    assert [] == quiet


@pytest.mark.parametrize(("in_process", "workers"), [(True, 2), (False, 1)])
def test_users_past_the_hard_descriptor_limit_are_a_usage_error_naming_ulimit(in_process, workers):
    """1,500 users where a process may open 1,024 files: a usage error naming `ulimit -n`, before anything starts."""
    from wiringcheck.errors import UsageError
    from wiringcheck.load.command import fit_machine

    with pytest.raises(UsageError, match=r"ulimit -n \d+"):
        fit_machine(
            _options(1500, workers), in_process=in_process, workers_asked=None, cpus=2, descriptors=(1024, 1024)
        )


def test_users_within_the_descriptor_limit_pass_unchanged():
    """Users that fit (the client side split over the workers for a url target) are left as asked."""
    from wiringcheck.load.command import fit_machine

    options, notes = fit_machine(
        _options(1500, 2), in_process=False, workers_asked=None, cpus=2, descriptors=(1024, 1024)
    )

    assert (1500, 2, []) == (options.users, options.workers, notes)


def test_a_run_id_a_setup_step_captured_never_shows_in_the_load_report(tmp_path, capsys):
    """The studio's run ids come from its setup step, not public: a failing run's evidence shows them as ***."""
    fault = (REPO / "fixtures" / "faults" / "studio_drops_tool_call" / "wiringcheck.toml").read_text(encoding="utf-8")
    config = tmp_path / "wiringcheck.toml"
    config.write_text(
        fault.replace('{ path = "run.id", public = true }', '"run.id"').replace(
            'pythonpath = ["../../.."]', f"pythonpath = [{json.dumps(str(REPO))}]"
        ),
        encoding="utf-8",
    )

    code = main(["load", "-c", str(config), "--users", "2", "--runs", "1", "--workers", "1"])

    shown = capsys.readouterr().out
    assert (1, None) == (code, re.search(r"run-[0-9a-f]{10}", shown)), shown
    assert "run ***" in shown


@pytest.mark.parametrize(
    ("config", "code", "failed"),
    [
        ("faults/ssechat_tool_result_missing", 1, {"event: tool_completed": ["WC502"], "load: runs": ["WC507"]}),
        ("ssechat", 0, {}),
        ("ndjsonchat", 0, {}),
    ],
)
def test_load_runs_http_stream_backends_and_their_faults(tmp_path, config, code, failed):
    """Two users over SSE and NDJSON: the reference HTTP backends pass, and a dropped tool result fails under load
    as it fails `run` (its runs never reach their terminal: WC507). Thresholds on counts only: this test is about
    the transports under load, not about this machine's latency while the suite runs beside it."""
    source = (REPO / "fixtures" / config / "wiringcheck.toml").read_text(encoding="utf-8")
    pythonpath = re.search(r"^pythonpath = .*$", source, flags=re.MULTILINE)
    assert pythonpath is not None
    text = source.replace(pythonpath[0], f"pythonpath = [{json.dumps(str(REPO))}]")
    (tmp_path / "wiringcheck.toml").write_text(text + '\n[load]\nthresholds = ["runs > 0"]\n', encoding="utf-8")
    report = tmp_path / "load.json"
    load = ["load", "-c", str(tmp_path / "wiringcheck.toml"), "-u", "2", "--runs", "1", "--workers", "1"]

    exit_code = main([*load, "-f", "json", "-o", str(report)])

    checks = json.loads(report.read_text(encoding="utf-8"))["checks"]
    found = {check["name"]: [f["code"] for f in check["findings"]] for check in checks if check["status"] == "failed"}
    assert (code, failed) == (exit_code, found)
