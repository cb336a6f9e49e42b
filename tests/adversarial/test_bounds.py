"""Bounds everywhere a number, a size or a depth comes in: a clear usage error (exit 2), never a run, a hang or exit 4.

A careless configuration or flag (``load --duration inf``, 10⁶ users, a threshold of
``1e999``, a TOML file nested 2,000 levels deep, a ``--trigger`` nested as deep) must
be refused before anything boots, with a message naming what to change.  Every target
here is a closed loopback port, so a value that slips through ends at once (a failing
test), never a hang.
"""

from __future__ import annotations

from .support import Raw, in_process, write_config

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
