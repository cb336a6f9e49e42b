"""The work of test_supervisor.py's children: module-level functions, so a spawned child can unpickle them.

A module of its own, importing nothing of the test suite: a spawned child imports it to find
the function, and importing the tests' conftest there (hypothesis, pytest) cost 0.9 s a child.
"""

from __future__ import annotations

import os
import signal
import sys
import time

from wiringcheck.errors import BackendError, UsageError
from wiringcheck.findings import CheckResult, Phase

TIMEOUT = 30.0
"""Far beyond what any child takes: only the timeout test waits for its bound."""


def answers(relay, value):
    relay.phase_started("boot")
    relay.check_finished(CheckResult.judged("boot", Phase.BOOT, []))
    relay.secrets_learned(["learnt-secret-1234"])
    return {"verdict": value}


def prints_then_answers(relay):
    os.write(1, b"written to descriptor 1\n")
    os.write(2, b"written to descriptor 2\n")
    return "done"


def exits(relay, code):
    relay.phase_started("probe")
    relay.check_finished(CheckResult.judged("boot", Phase.BOOT, []))
    print("last words")  # noqa: T201 (descriptor 1 of the child: the parent keeps it)
    sys.stdout.flush()
    os._exit(code)


def kills_itself(relay):
    relay.phase_started("boot")
    os.kill(os.getpid(), signal.SIGKILL)


def hangs(relay):
    relay.phase_started("shutdown")
    time.sleep(TIMEOUT)


def raises_usage_error(relay):
    raise UsageError("--flag: bad value")


def raises_backend_error(relay):
    raise BackendError("boot", "startup raised RuntimeError")


def crashes(relay):
    raise ZeroDivisionError("a bug in wiringcheck")
