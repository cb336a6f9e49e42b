"""Absurd numbers are usage errors, the same everywhere a number comes in: file, flag, environment, marker.

NaN compares false with everything, so ``deadline = nan`` once hung `run` and
``budget_ms = nan`` let a slow event pass ("300.6 ms over nan ms", exit 0); infinity,
negative, zero and 1e12 seconds are no better.  Each is exit 2 with a message that
names the key (or the flag, the variable, the marker), never a run.

The target of every configuration here is a closed loopback port, so a value that
slips through ends the run at once with exit 1 (a failing test), never a hang.
"""

from __future__ import annotations

import pytest

from .support import Raw, in_process, write_config

pytest_plugins = ["pytester"]

BAD = {"nan": "nan", "inf": "inf", "-inf": "-inf", "negative": "-1", "zero": "0", "absurd": "1e12"}
"""TOML spellings of the values no timeout or budget may take (zero is fine for linger_ms only)."""

TOP_KEYS = ("startup_timeout", "shutdown_timeout")
PROBE_KEYS = ("deadline", "connect_timeout", "budget_ms", "linger_ms")

FILE_CASES = [
    pytest.param(key, text, id=f"{key}={name}")
    for key in (*TOP_KEYS, *PROBE_KEYS)
    for name, text in BAD.items()
    if not (key == "linger_ms" and name == "zero")  # linger_ms = 0: "do not wait after the terminal event"
]


@pytest.mark.parametrize(("key", "text"), FILE_CASES)
def test_config_file_numbers_are_usage_errors_naming_the_key(key, text, tmp_path, closed_url):
    """A number the file gives that is not finite, not positive or absurd: exit 2 naming the key."""
    if key in TOP_KEYS:
        config = write_config(tmp_path, url=closed_url, **{key: Raw(text)})
    else:
        config = write_config(tmp_path, url=closed_url, probe={key: Raw(text)})

    outcome = in_process(["run", "--config", str(config)])

    assert 2 == outcome.code, outcome.stdout
    assert key in outcome.stderr
    assert outcome.stderr.startswith("wiringcheck: error: ")
    assert "Traceback" not in outcome.stderr


FLAG_CASES = [
    pytest.param(command, flag, text, id=f"{command} {flag} {text}")
    for command, flags in (
        ("run", ("--deadline", "--budget-ms", "--startup-timeout")),
        ("probe", ("--deadline", "--budget-ms", "--connect-timeout")),
    )
    for flag in flags
    for text in ("nan", "inf", "-inf", "-1", "0", "1e12")
]


@pytest.mark.parametrize(("command", "flag", "text"), FLAG_CASES)
def test_flag_numbers_are_usage_errors_naming_the_flag(command, flag, text, tmp_path, closed_url):
    """`--deadline nan`, `--budget-ms inf`, …: exit 2 naming the flag, before anything runs."""
    config = write_config(tmp_path, url=closed_url)
    args = ["run", "--config", str(config)] if command == "run" else ["probe", closed_url, "--config", str(config)]

    outcome = in_process([*args, flag, text])

    assert 2 == outcome.code, outcome.stdout
    assert flag.removeprefix("--") in (outcome.stderr + outcome.stdout).replace("_", "-")
    assert "Traceback" not in outcome.stderr


def plugin_run(pytester, *args: str):
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        return pytester.runpytest("-p", "wiringcheck.pytest_plugin", *args)


@pytest.mark.parametrize("variable", ["WIRINGCHECK_DEADLINE", "WIRINGCHECK_BUDGET_MS"])
@pytest.mark.parametrize("text", ["nan", "inf", "-1", "0", "1e12"])
def test_environment_numbers_are_usage_errors_naming_the_variable(variable, text, pytester, monkeypatch, closed_url):
    """`WIRINGCHECK_DEADLINE=nan pytest --wiringcheck`: a pytest usage error naming the variable, nothing run."""
    config = write_config(pytester.path, url=closed_url)
    monkeypatch.setenv(variable, text)

    result = plugin_run(pytester, "--wiringcheck", f"--wiringcheck-config={config}")

    assert pytest.ExitCode.USAGE_ERROR == result.ret
    assert variable in result.stderr.str()


@pytest.mark.parametrize("flag", ["--wiringcheck-deadline", "--wiringcheck-budget-ms"])
@pytest.mark.parametrize("text", ["nan", "inf", "1e12"])
def test_pytest_flag_numbers_are_usage_errors_naming_the_flag(flag, text, pytester, closed_url):
    """`pytest --wiringcheck-deadline nan`: a usage error naming the flag."""
    config = write_config(pytester.path, url=closed_url)

    result = plugin_run(pytester, "--wiringcheck", f"--wiringcheck-config={config}", f"{flag}={text}")

    assert pytest.ExitCode.USAGE_ERROR == result.ret
    assert flag in result.stderr.str()


MARKED = '''
import pytest


@pytest.mark.wiringcheck({setting}={value})
def test_marked(wiringcheck_settings):
    """Never runs: the marker's value does not validate."""
'''


@pytest.mark.parametrize("setting", ["deadline", "budget_ms"])
@pytest.mark.parametrize("value", ['float("nan")', 'float("inf")', "-1", "0", "1e12"])
def test_marker_numbers_are_errors_naming_the_marker(setting, value, pytester, closed_url):
    """`@pytest.mark.wiringcheck(deadline=float("nan"))`: the test errors, naming the setting and the marker."""
    config = write_config(pytester.path, url=closed_url)
    pytester.makepyfile(test_marked=MARKED.format(setting=setting, value=value))

    result = plugin_run(pytester, f"--wiringcheck-config={config}")

    result.assert_outcomes(errors=1)
    output = result.stdout.str()
    assert setting in output
    assert "marker" in output
