"""Hostile backends never win: exiting, blocking or leaving threads cannot turn a gate into a pass or a hang.

Each test boots a backend from `backends` with ``python -m wiringcheck run`` in a
subprocess that the test kills after a hard timeout, so an attack that works fails
the test instead of ending or hanging the test run.  Time bounds are generous
upper bounds: the deadline wiringcheck was given, plus one second of grace, plus
`OVERHEAD` for starting an interpreter and importing uvicorn on a busy machine.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from . import backends
from .support import MS, REPO, cli, write_config

pytest_plugins = ["pytester"]

OVERHEAD = 5000 * MS
"""Interpreter start, imports, and booting a small app, on a loaded two-core machine."""

BACKENDS = Path(backends.__file__)


def marked_lines(marker: str, path: Path = BACKENDS) -> list[int]:
    """The line numbers of `path` carrying `marker` (``# BLOCKS HERE``)."""
    return [number for number, line in enumerate(path.read_text().splitlines(), 1) if marker in line]


def run_backend(folder: Path, timeout: float = 60.0, **config) -> tuple:
    """`wiringcheck run` on a scratch config, with --json and --junit files; the outcome and both paths."""
    path = write_config(folder, **config)
    report, junit = folder / "report.json", folder / "report.xml"
    outcome = cli(
        ["run", "--config", str(path), "--json", str(report), "--junit", str(junit)],
        files=[report, junit],
        timeout=timeout,
    )
    return outcome, report, junit


def check(outcome, name: str) -> dict:
    return next(c for c in outcome.json_report()["checks"] if c["name"] == name)


def codes_of(check_: dict) -> set[str]:
    return {finding["code"] for finding in check_["findings"]}


def assert_no_traceback(outcome) -> None:
    assert "Traceback (most recent call last)" not in outcome.stdout + outcome.stderr


# -- sys.exit --------------------------------------------------------------------------------------

BOOT_EXITS = {
    "at import": "tests.adversarial.exit_at_import:create_app",
    "in the factory": "tests.adversarial.backends:exit_in_factory",
    "in lifespan startup": "tests.adversarial.backends:exit_in_startup",
}


@pytest.mark.parametrize("app", BOOT_EXITS.values(), ids=BOOT_EXITS.keys())
def test_sys_exit_during_boot_is_a_boot_failure_with_reports(app, tmp_path):
    """sys.exit(0) before boot completes: exit 3, WC108 in the boot check, and both report files written."""
    outcome, report, junit = run_backend(tmp_path, app=app, startup_timeout=5.0, probe={"deadline": 1.0})

    assert 3 == outcome.code, outcome.stdout + outcome.stderr
    assert report.is_file()
    assert junit.is_file()
    assert "WC108" in codes_of(check(outcome, "boot"))
    assert "WC108" in outcome.stdout
    assert_no_traceback(outcome)


RUN_EXITS = {
    "in the request handler": ("tests.adversarial.backends:exit_in_request", "probe"),
    "in an agent task": ("tests.adversarial.backends:exit_in_agent_task", "probe"),
    "in lifespan shutdown": ("tests.adversarial.backends:exit_in_shutdown", "shutdown"),
}


@pytest.mark.parametrize(("app", "where"), RUN_EXITS.values(), ids=RUN_EXITS.keys())
def test_sys_exit_after_boot_fails_the_run_with_reports(app, where, tmp_path):
    """sys.exit(0) during the probe or in shutdown: exit 1, WC108 in that check, and both report files written."""
    outcome, report, junit = run_backend(
        tmp_path, app=app, startup_timeout=5.0, shutdown_timeout=2.0, probe={"deadline": 1.0}
    )

    assert 1 == outcome.code, outcome.stdout + outcome.stderr
    assert report.is_file()
    assert junit.is_file()
    assert "WC108" in codes_of(check(outcome, where))
    assert_no_traceback(outcome)


def plugin_session(pytester, app: str):
    """`pytest --wiringcheck` in a subprocess (a backend that exits must not end this one) on a config booting `app`."""
    config = write_config(pytester.path, app=app, probe={"deadline": 1.0})
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        patch.setenv("PYTHONPATH", str(REPO))  # this worktree's wiringcheck, not the installed one
        return pytester.runpytest_subprocess(
            "-p", "wiringcheck.pytest_plugin", "--wiringcheck", f"--wiringcheck-config={config}", "-v", timeout=60
        )


def test_pytest_plugin_fails_when_the_backend_exits(pytester):
    """`pytest --wiringcheck` on a factory calling sys.exit(0): the session fails and names WC108, never passes."""
    result = plugin_session(pytester, "tests.adversarial.backends:exit_in_factory")

    assert result.ret not in (0, 5)  # 5: no tests collected
    assert "WC108" in result.stdout.str()
    result.stdout.fnmatch_lines(["*wiringcheck::boot FAILED*"])


# -- threads ---------------------------------------------------------------------------------------


def test_a_thread_left_behind_does_not_keep_the_process_alive(tmp_path):
    """A healthy backend that leaves a non-daemon thread: the process exits within ~2 s of the verdict, WC109."""
    config = write_config(tmp_path, app="tests.adversarial.backends:leaves_thread", probe={"deadline": 2.0})
    report = tmp_path / "report.json"
    command = [sys.executable, "-m", "wiringcheck", "run", "--config", str(config), "--json", str(report)]
    process = subprocess.Popen(
        command, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=_env()
    )
    # A hard stop, whatever happens: the readline below cannot hang the test for longer.
    killer = threading.Timer(60.0, process.kill)
    killer.start()
    verdict_at = exited_at = None
    lines = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            if line.startswith(("PASSED", "FAILED")):
                verdict_at = time.monotonic()
                break
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=2.0 + 4000 * MS)
            exited_at = time.monotonic()
    finally:
        killer.cancel()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
        if process.stdout is not None:
            lines.append(process.stdout.read())
            process.stdout.close()

    output = "".join(lines)
    assert verdict_at is not None, output
    assert exited_at is not None, f"still running 2 s after the verdict:\n{output}"
    assert exited_at - verdict_at < 2.0 + 2000 * MS
    assert 0 == process.returncode, output
    findings = [f for c in json.loads(report.read_text())["checks"] for f in c["findings"]]
    (left,) = [f for f in findings if f["code"] == "WC109"]
    assert "warning" == left["severity"]
    assert "left-behind" in json.dumps(left)  # names the thread


def _env() -> dict[str, str]:
    import os

    return {**os.environ, "PYTHONUNBUFFERED": "1", "NO_COLOR": "1"}


# -- blocking code ---------------------------------------------------------------------------------

STARTUP_TIMEOUT = 1.0
SHUTDOWN_TIMEOUT = 1.0


def assert_names_line(outcome, marker: str) -> None:
    """The report's evidence names the line the main thread is blocked on (by file:line, or its code)."""
    text = outcome.files["report.json"]
    lines = marked_lines(marker)
    places = [f"backends.py:{line}" for line in lines]
    codes = ["time.sleep(_BLOCK)", "reader.recv(1)"]
    assert any(place in text for place in places) or any(code in text for code in codes), text


@pytest.mark.parametrize(
    "target",
    [{"app": "tests.adversarial.backends:sleeps_in_factory"}, {"boot": "tests.adversarial.backends:blocking_boot"}],
    ids=["time.sleep in the factory", "blocking socket read in the boot manager"],
)
@pytest.mark.slow
def test_blocking_startup_is_a_hang_within_the_startup_timeout(target, tmp_path):
    """A factory or boot manager blocking the thread: WC102 within startup_timeout + 1 s, naming the blocking line."""
    outcome, report, junit = run_backend(
        tmp_path, **target, startup_timeout=STARTUP_TIMEOUT, probe={"deadline": 1.0}, timeout=15.0
    )

    assert outcome.elapsed < STARTUP_TIMEOUT + 1.0 + OVERHEAD
    assert 3 == outcome.code, outcome.stdout + outcome.stderr
    assert report.is_file()
    assert junit.is_file()
    assert "WC102" in codes_of(check(outcome, "boot"))
    assert_names_line(outcome, "BLOCKS HERE")
    assert_no_traceback(outcome)


@pytest.mark.slow
def test_blocking_shutdown_is_a_shutdown_failure_within_the_shutdown_timeout(tmp_path):
    """A lifespan shutdown blocking in time.sleep: WC103 within shutdown_timeout + 1 s, and the reports written."""
    outcome, report, junit = run_backend(
        tmp_path,
        app="tests.adversarial.backends:blocks_in_shutdown",
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        probe={"deadline": 2.0},
        timeout=15.0,
    )

    assert outcome.elapsed < SHUTDOWN_TIMEOUT + 1.0 + OVERHEAD
    assert 1 == outcome.code, outcome.stdout + outcome.stderr
    assert report.is_file()
    assert junit.is_file()
    assert "WC103" in codes_of(check(outcome, "shutdown"))
    assert "passed" == check(outcome, "probe")["status"]
    assert_no_traceback(outcome)


# -- os._exit and signals: a death without a verdict ----------------------------------------------

FORMATS = ("console", "json", "github", "junit", "sarif")


@pytest.mark.parametrize("fmt", FORMATS)
def test_os_exit_0_in_the_factory_exits_3_with_a_report_in_every_format(fmt, tmp_path):
    """`os._exit(0)` in the app factory: exit 3 (not 0), the report on stdout in the chosen format naming WC108
    and the line that exited, and the --json and --junit files written."""
    config = write_config(tmp_path, app="tests.adversarial.backends:os_exit_in_factory", probe={"deadline": 1.0})
    report, junit = tmp_path / "report.json", tmp_path / "report.xml"

    outcome = cli(
        ["run", "--config", str(config), "--format", fmt, "--json", str(report), "--junit", str(junit)],
        files=[report, junit],
    )

    assert 3 == outcome.code, outcome.stdout + outcome.stderr
    assert "WC108" in outcome.stdout
    assert "WC108" in outcome.files["report.xml"]
    (boot,) = [c for c in outcome.json_report()["checks"] if c["name"] == "boot"]
    (finding,) = boot["findings"]
    assert "os._exit(0)" in finding["message"]
    assert marked_lines("EXITS HERE")[0] <= finding["location"]["line"]
    assert 3 == outcome.json_report()["exit_code"]
    if fmt in ("json", "sarif"):
        json.loads(outcome.stdout)  # the report, and only the report
    assert_no_traceback(outcome)


def test_os_exit_0_during_the_probe_exits_3_with_the_checks_made_before(tmp_path):
    """`os._exit(0)` in a request handler, after boot: exit 3, the checks that passed before it, WC108 on the probe."""
    outcome, _, junit = run_backend(
        tmp_path, app="tests.adversarial.backends:os_exit_in_request", probe={"deadline": 1.0}
    )

    assert 3 == outcome.code, outcome.stdout + outcome.stderr
    assert "passed" == check(outcome, "boot")["status"]
    assert {"WC108"} == codes_of(check(outcome, "probe"))
    assert junit.is_file()


def test_sigkill_in_the_factory_exits_3_with_a_report(tmp_path):
    """The backend's process killed by SIGKILL (as the OOM killer does): exit 3 and a report saying so."""
    outcome, _, _ = run_backend(tmp_path, app="tests.adversarial.backends:kills_itself_in_factory")

    assert 3 == outcome.code, outcome.stdout + outcome.stderr
    (finding,) = check(outcome, "boot")["findings"]
    assert "WC108" == finding["code"]
    assert "SIGKILL" in finding["message"]


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["load", "--users", "2", "--runs", "1", "--workers", "1"], "WC108"),
        (["inspect"], "WC108"),
    ],
    ids=["load", "inspect"],
)
def test_os_exit_0_in_the_factory_fails_load_and_inspect_with_exit_3(args, expect, tmp_path):
    """`load` and `inspect` of a factory that calls os._exit(0): exit 3 naming WC108, not 0 and silence."""
    config = write_config(tmp_path, app="tests.adversarial.backends:os_exit_in_factory", probe={"deadline": 1.0})

    outcome = cli([*args, "--config", str(config)])

    assert 3 == outcome.code, outcome.stdout + outcome.stderr
    assert expect in outcome.stdout + outcome.stderr
    assert_no_traceback(outcome)


def test_pytest_plugin_fails_when_the_backend_calls_os_exit(pytester):
    """`pytest --wiringcheck` on a factory calling os._exit(0): the boot item fails with WC108; the session
    goes on to its summary and fails, instead of ending with status 0."""
    result = plugin_session(pytester, "tests.adversarial.backends:os_exit_in_factory")

    assert pytest.ExitCode.TESTS_FAILED == result.ret
    result.stdout.fnmatch_lines(["*wiringcheck::boot FAILED*", "*WC108*os._exit(0)*", "*failed*"])
