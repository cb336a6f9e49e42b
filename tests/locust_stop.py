"""Lines a test appends to its locustfile so that Locust stops on an event, not at a clock.

The Locust tests wait for runs: on a machine busy enough, a user's first run (its imports,
the warm-up) could outlast a fixed `--run-time`, and Locust stopped with nothing to count.
A test's `--run-time` only bounds a test that fails.
"""

from __future__ import annotations


def stop_when(condition: str, times: int = 1) -> str:
    """Locustfile lines that stop Locust once `condition` has held for `times` requests.

    `condition` is a Python expression over the arguments of Locust's `request` event,
    `name` and `exception` (None for a request that succeeded).
    """
    return (
        "\n\nimport gevent as _gevent\nfrom locust import events as _events\n\n"
        "_stopping = {'environment': None, 'seen': 0}\n\n\n"
        "@_events.init.add_listener\n"
        "def _keep(environment, **_):\n"
        "    _stopping['environment'] = environment\n\n\n"
        "@_events.request.add_listener\n"
        "def _stop_when(name=None, exception=None, **_):\n"
        f"    if {condition}:\n"
        "        _stopping['seen'] += 1\n"
        f"        if _stopping['seen'] == {times}:\n"
        "            _gevent.spawn(_stopping['environment'].runner.quit)\n"
    )
