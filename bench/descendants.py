"""CPU of every process a command starts, grandchildren included (Linux): the bench scripts' one way to count it.

`/usr/bin/time` counts the processes it waits for; a process whose parent exits first (a
fork server, a process forked from a server, a backend's own children) is reparented and
never counted. `become_subreaper` makes this process the subreaper of all it starts
(Linux's PR_SET_CHILD_SUBREAPER), and `measure` waits for every descendant after the
command, so their CPU lands in this process's children's rusage.
"""

from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time
from typing import Any

PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> None:
    """Adopt every orphan this process's descendants leave; exit with a message where Linux's prctl is missing."""
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("this benchmark needs Linux's PR_SET_CHILD_SUBREAPER")


def _reap_all() -> None:
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def measure(command: list[str], **run: Any) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """Run `command` (`subprocess.run` keywords in `run`); its wall seconds, the CPU seconds of every process it
    started, and what it printed."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False, **run)
    wall = time.perf_counter() - started
    _reap_all()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done
