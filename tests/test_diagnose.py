"""diagnose.py: which frames are the backend's, and where a failure startup stored came from."""

from __future__ import annotations

import sysconfig
from pathlib import Path

from wiringcheck.diagnose import is_user_file, is_wiringcheck_file, where_recorded
from wiringcheck.findings import Location
from wiringcheck.report import LogRecord


def test_console_scripts_are_not_the_backends_code():
    """`venv/bin/wiringcheck` runs wiringcheck: a frame there is never the backend's."""
    script = str(Path(sysconfig.get_paths()["scripts"]) / "wiringcheck")

    assert (False, True) == (is_user_file(script), is_user_file(__file__))


def test_wiringchecks_own_files_are_known():
    """wiringcheck's own modules are its own; the backend's (and the tests') are not."""
    import wiringcheck.tracer

    assert (True, False) == (is_wiringcheck_file(wiringcheck.tracer.__file__), is_wiringcheck_file(__file__))


def _raise_it() -> None:
    raise RuntimeError("tool 'lookup_order' failed its health check")


def test_a_stored_exception_points_where_it_was_raised():
    """An exception object startup stored keeps its traceback: its innermost backend frame is the place."""
    try:
        _raise_it()
    except RuntimeError as caught:
        stored = caught

    location, evidence = where_recorded(stored, [])

    assert (__file__, True) == (
        location.path if location else None,
        " in _raise_it: raise RuntimeError(" in evidence[-1],
    )


def test_a_stored_text_points_where_startup_logged_it():
    """Only its text was kept: the log line that carried it, as startup caught it, is where it was recorded."""
    text = "RuntimeError: tool 'lookup_order' failed its health check"
    logs = [
        LogRecord("boot", "INFO", "app", "starting", f"{__file__}:3"),
        LogRecord("boot", "ERROR", "app", f"startup failed, serving degraded: {text}", f"{__file__}:37"),
    ]

    location, evidence = where_recorded(text, logs)

    assert (Location(__file__, 37), (f"startup logged it: startup failed, serving degraded: {text}",)) == (
        location,
        evidence,
    )


def test_a_short_or_unlogged_value_points_nowhere():
    """A flag (`False`) or a text nobody logged gives no place rather than a wrong one."""
    logs = [LogRecord("boot", "ERROR", "app", "degraded: False", f"{__file__}:9")]

    assert [(None, ()), (None, ())] == [where_recorded(False, logs), where_recorded("a text never logged", logs)]
