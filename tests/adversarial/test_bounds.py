"""Bounds everywhere a number, a size or a depth comes in: a clear usage error (exit 2), never a run, a hang or exit 4.

A careless configuration or flag (``load --duration inf``, 10⁶ users, a threshold of
``1e999``, a TOML file nested 2,000 levels deep, a ``--trigger`` nested as deep) must
be refused before anything boots, with a message naming what to change.  Every target
here is a closed loopback port, so a value that slips through ends at once (a failing
test), never a hang.
"""

from __future__ import annotations

import json

import pytest

from .support import REPO, Raw, cli, in_process, write_config

DEEP = 2_000
"""Levels of nesting: past the interpreter's recursion limit, which is what the attack relies on."""


def assert_usage_error(outcome, *names: str) -> None:
    """Exit 2, a one-line `wiringcheck: error:` naming each of `names`, and no traceback."""
    assert 2 == outcome.code, outcome.stdout + outcome.stderr
    assert outcome.stderr.startswith("wiringcheck: error: "), outcome.stderr
    for name in names:
        assert name in outcome.stderr
    assert "Traceback" not in outcome.stderr
    assert "internal error" not in outcome.stderr


# -- depth -----------------------------------------------------------------------------------------


def test_config_nested_2000_deep_is_a_usage_error(tmp_path, closed_url):
    """A wiringcheck.toml with an array nested 2,000 deep: exit 2 naming the file, not exit 4 (RecursionError)."""
    config = write_config(tmp_path, url=closed_url, probe={"ignore": Raw("[" * DEEP + "]" * DEEP)})

    outcome = in_process(["run", "--config", str(config)])

    assert_usage_error(outcome, str(config), "nested deeper than")


def test_config_dotted_keys_2000_deep_is_a_usage_error(tmp_path, closed_url):
    """``trigger.a.a.a… = 1`` builds a table 2,000 deep without any bracket: refused as too deep, exit 2."""
    config = write_config(tmp_path, url=closed_url)
    config.write_text(config.read_text() + "[probe]\ntrigger" + ".a" * DEEP + " = 1\n")

    outcome = in_process(["run", "--config", str(config)])

    assert_usage_error(outcome, str(config), "nested deeper than")


def test_config_trigger_json_nested_2000_deep_is_a_usage_error(tmp_path, closed_url):
    """``trigger = '{"a":{"a":…}}'`` 2,000 deep: exit 2 naming probe.trigger."""
    config = write_config(tmp_path, url=closed_url, probe={"trigger": '{"a":' * DEEP + "1" + "}" * DEEP})

    outcome = in_process(["run", "--config", str(config)])

    assert_usage_error(outcome, "probe.trigger", "nested deeper than")


def test_trigger_flag_nested_2000_deep_is_a_usage_error(tmp_path, closed_url):
    """`probe --trigger '[[[…]]]'` 2,000 deep: exit 2 naming --trigger."""
    config = write_config(tmp_path)

    outcome = in_process(["probe", closed_url, "--config", str(config), "--trigger", "[" * DEEP + "]" * DEEP])

    assert_usage_error(outcome, "--trigger", "nested deeper than")


# -- load flags ------------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["inf", "1e9"])
def test_load_duration_inf_is_a_usage_error_not_a_test_that_never_ends(value, tmp_path, closed_url):
    """`load --duration inf` (or 1e9) was accepted and never ended: exit 2 naming --duration, at once.

    In a subprocess with a timeout, so that a version that accepts it fails instead of hanging the suite.
    """
    config = write_config(tmp_path, url=closed_url)

    outcome = cli(["load", "--config", str(config), "--duration", value], timeout=30.0)

    assert 2 == outcome.code, outcome.stdout + outcome.stderr
    assert "--duration" in outcome.stderr


LOAD_FLAGS = [
    ("--duration", "nan"),
    ("--duration", "86401"),
    ("--spawn-rate", "1e12"),
    ("--spawn-rate", "nan"),
    ("--grace", "inf"),
    ("--grace", "-1"),
    ("--users", "1000000"),
    ("--users", "0"),
    ("--runs", "100000000"),
    ("--workers", "100000"),
    ("--workers", "0"),
]


@pytest.mark.parametrize(("flag", "value"), LOAD_FLAGS, ids=[f"{flag} {value}" for flag, value in LOAD_FLAGS])
def test_load_flags_go_through_the_same_limits_as_the_config(flag, value, tmp_path, closed_url):
    """`load --duration inf` (which never ended), `--users 1000000` (2.5 GB, then exit 4), …: exit 2 naming the flag."""
    config = write_config(tmp_path, url=closed_url)

    outcome = in_process(["load", "--config", str(config), flag, value])

    assert 2 == outcome.code, outcome.stdout + outcome.stderr
    assert flag in outcome.stderr + outcome.stdout
    assert "Traceback" not in outcome.stderr


def test_more_users_than_the_descriptor_limit_is_a_usage_error_naming_ulimit(tmp_path, closed_url):
    """1,500 users on a 1,024-descriptor limit: exit 2 naming `ulimit -n`, not WC401/WC507 blamed on the backend."""
    import resource
    import subprocess
    import sys

    config = write_config(tmp_path, url=closed_url)

    def limited() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (1024, 1024))

    completed = subprocess.run(
        [sys.executable, "-m", "wiringcheck", "load", "--config", str(config), "--users", "1500", "--workers", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=limited,
        check=False,
    )

    assert 2 == completed.returncode, completed.stdout + completed.stderr
    assert "ulimit -n" in completed.stderr
    assert "WC401" not in completed.stdout
    assert "WC507" not in completed.stdout


def test_more_workers_than_cpus_are_capped_with_a_note(tmp_path, closed_url):
    """`-w 1024` on a machine with a few CPUs starts one client process per CPU and says so."""
    from wiringcheck.load.command import usable_cpus

    config = write_config(tmp_path, url=closed_url, probe={"deadline": 1.0, "connect_timeout": 1.0})
    report = tmp_path / "report.json"
    args = ["load", "--config", str(config), "--users", "8", "--runs", "1", "--workers", "1024", "--json", str(report)]

    outcome = in_process(args, files=[report])

    assert f"1024 client processes capped at {usable_cpus()}" in outcome.stderr
    assert min(usable_cpus(), 8) == outcome.json_report()["extra"]["workers"]


# -- thresholds ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("thresholds", "expect"),
    [
        (["agent_thinking.p95 < 1e999"], "thresholds[0]"),
        (["errors == 0"] * 20_000, "thresholds"),
        (["errors == 0", "agent_thinking.p95 < 100", "errors == 0"], "thresholds[2]"),
    ],
    ids=["1e999", "20,000 thresholds", "a duplicate"],
)
def test_absurd_thresholds_are_usage_errors(thresholds, expect, tmp_path, closed_url):
    """A threshold of 1e999 (infinity: it bounds nothing), 20,000 of them, or one given twice: exit 2."""
    config = write_config(tmp_path, url=closed_url)
    config.write_text(config.read_text() + f"[load]\nthresholds = {json.dumps(thresholds)}\n")

    outcome = in_process(["load", "--config", str(config)])

    assert_usage_error(outcome, f"load.{expect}")


# -- BaseException from the backend ---------------------------------------------------------------

BASE_EXCEPTIONS = {
    "CancelledError in the factory": ({"app": "tests.adversarial.backends:cancelled_in_factory"}, "CancelledError"),
    "its own BaseException in the lifespan": (
        {"app": "tests.adversarial.backends:custom_base_exception_in_lifespan"},
        "Abandon",
    ),
    "CancelledError in the boot function": ({"boot": "tests.adversarial.backends:cancelled_in_boot"}, "CancelledError"),
    "KeyboardInterrupt in the factory": (
        {"app": "tests.adversarial.backends:keyboard_interrupt_in_factory"},
        "KeyboardInterrupt",
    ),
}


@pytest.mark.parametrize(("target", "name"), BASE_EXCEPTIONS.values(), ids=BASE_EXCEPTIONS.keys())
def test_base_exception_from_the_backend_is_a_boot_failure_with_a_report(target, name, tmp_path):
    """A BaseException that is not wiringcheck's own (CancelledError, KeyboardInterrupt, a custom one) raised while
    the backend starts: exit 3 with the boot check failed and a report, never a raw traceback."""
    config = write_config(tmp_path, **target, startup_timeout=5.0, probe={"deadline": 1.0})
    report = tmp_path / "report.json"

    outcome = in_process(["run", "--config", str(config), "--json", str(report)], files=[report])

    assert 3 == outcome.code, outcome.stdout + outcome.stderr
    (boot,) = [check for check in outcome.json_report()["checks"] if check["name"] == "boot"]
    assert "failed" == boot["status"]
    assert name in json.dumps(boot["findings"])
    assert "Traceback (most recent call last)" not in outcome.stdout + outcome.stderr


def test_base_exception_in_shutdown_fails_the_shutdown_check(tmp_path):
    """The lifespan's shutdown raising its own BaseException: the shutdown check fails, the report is written."""
    config = write_config(
        tmp_path, app="tests.adversarial.backends:custom_base_exception_in_shutdown", probe={"deadline": 1.0}
    )
    report = tmp_path / "report.json"

    outcome = in_process(["run", "--config", str(config), "--json", str(report)], files=[report])

    assert 1 == outcome.code, outcome.stdout + outcome.stderr
    (shutdown,) = [check for check in outcome.json_report()["checks"] if check["name"] == "shutdown"]
    assert "failed" == shutdown["status"]


# -- sys.path --------------------------------------------------------------------------------------

APP = """
from starlette.applications import Starlette


def create_app():
    return Starlette()
"""


@pytest.mark.parametrize("command", [["run"], ["inspect"]])
def test_an_in_process_run_leaves_no_entry_on_sys_path(command, tmp_path):
    """After `run` or `inspect` of an app in its own folder (`pythonpath`), sys.path is as it was."""
    import sys

    folder = tmp_path / "backend"
    folder.mkdir()
    (folder / f"app_{command[0]}_on_path.py").write_text(APP)
    config = tmp_path / "wiringcheck.toml"
    config.write_text(f'pythonpath = [{json.dumps(str(folder))}]\napp = "app_{command[0]}_on_path:create_app"\n')
    before = list(sys.path)

    outcome = in_process([*command, "--config", str(config)])

    assert outcome.code in (0, 1), outcome.stdout + outcome.stderr  # it booted: the path was used
    assert before == sys.path
