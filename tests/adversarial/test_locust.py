"""The Locust user against a hostile server: a flood must be failures in Locust's statistics, never an abort.

Locust runs in a process of its own (its gevent monkey patching must never reach this
process), forked by `tests.prefork`, against the session's hostile server on loopback.
Before the synchronous transport drove
websockets' sans-I/O protocol itself, the client's background reader thread left libev
watching a closed descriptor, and Locust died with SIGABRT and no statistics.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

from .. import prefork
from ..locust_stop import stop_when

pytestmark = pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="locust is not installed")

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_locust_against_a_flooding_server_reports_failures_and_exits_normally(server, tmp_path):
    """One user against a server that floods every run, until a flood is reported: Locust ends normally, the run
    a WC411 failure.

    The failures are read as Locust's statistics receive them (its `request` event, written down by the
    locustfile), not from its CSV: Locust can leave that file empty after a short run on a busy machine."""
    (tmp_path / "wiringcheck.toml").write_text("[probe]\ndeadline = 2.0\n", encoding="utf-8")
    (tmp_path / "locustfile.py").write_text(
        "from locust import events\n\nfrom wiringcheck.locust import WiringcheckUser\n\n\n"
        "@events.request.add_listener\n"
        "def write_down(exception=None, **_):\n"
        "    if exception is not None:\n"
        f"        with open({str(tmp_path / 'failures.txt')!r}, 'a', encoding='utf-8') as failures:\n"
        "            failures.write(repr(exception) + '\\n')\n\n\n"
        "class Flooded(WiringcheckUser):\n"
        f"    config = {str(tmp_path / 'wiringcheck.toml')!r}\n"
        # Once a flood is reported, Locust may stop.
        + stop_when("exception is not None and 'WC411' in repr(exception)"),
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")])}
    command = [
        "-f", str(tmp_path / "locustfile.py"), "--headless", "-u", "1", "-r", "1",
        "-t", "60s", "--host", server.url("flood"), "--only-summary",
    ]  # fmt: skip
    # Locust stops itself once a flood is reported (the locustfile above): 60 s only bounds a test that fails.
    # It runs in a process of its own, forked from an interpreter that imported Locust once (`tests.prefork`).
    log = tmp_path / "locust.log"
    with prefork.locust(command, env=env, cwd=tmp_path, log=log) as locust:
        code = locust.wait(timeout=120)
    output = log.read_text(encoding="utf-8", errors="replace")

    assert code in (0, 1), output[-2000:]  # 1: Locust's "there were failures"
    written = tmp_path / "failures.txt"
    failures = written.read_text(encoding="utf-8").splitlines() if written.is_file() else []
    assert any("WC411" in failure for failure in failures), (failures, output[-2000:])
