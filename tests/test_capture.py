"""capture.py: what the backend says while it boots and runs, read as findings."""

from __future__ import annotations

import logging
import sys

from wiringcheck.capture import Capture


def test_disabled_loggers_of_the_configured_packages_are_named_first_with_how_many_others():
    """WC112 names the backend's own disabled loggers before its dependencies', and counts the rest."""
    names = [f"anthropic.m{index}" for index in range(8)] + ["myapp.db", "myapp.web"]
    capture = Capture()
    try:
        with capture.logging_watch(packages=("myapp",)):
            for name in names:
                logging.getLogger(name).disabled = True
    finally:
        for name in names:
            logging.getLogger(name).disabled = False

    (finding,) = [f for f in capture.findings() if f.code == "WC112"]
    assert (
        "the backend disabled logging while it booted: 10 logger(s) disabled, 2 of them from myapp "
        "(myapp.db, myapp.web, anthropic.m0, anthropic.m1, anthropic.m2 and 5 others)"
    ) == finding.message


def test_a_servers_log_of_the_backends_exception_names_the_exception_and_the_backends_line():
    """A library logging the backend's exception (uvicorn's "Exception in ASGI application") is told by its cause."""
    capture = Capture()

    def handler() -> None:
        raise AttributeError("'State' object has no attribute 'agent_supervisor'")

    with capture.logs("probe"):
        try:
            handler()
        except AttributeError:
            # As a server logs it: from its own file, with the backend's exception attached.
            record = logging.LogRecord(
                "server.error", logging.ERROR, logging.__file__, 1, "Exception in ASGI application\n", None, None
            )
            record.exc_info = sys.exc_info()
            logging.getLogger().handle(record)

    (finding,) = [f for f in capture.findings() if f.code == "WC105"]
    assert (
        "ERROR during probe from server.error: Exception in ASGI application: "
        "AttributeError: 'State' object has no attribute 'agent_supervisor'",
        __file__,
    ) == (finding.message, finding.location.path if finding.location else None)
