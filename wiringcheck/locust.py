"""wiringcheck's probe as a Locust `User`: many machines, Locust's UI, CSV and distributed mode.

Install with ``pip install 'wiringcheck[load]'`` and write a locustfile::

    from wiringcheck.locust import WiringcheckUser

    class AgentChatUser(WiringcheckUser):
        config = "pyproject.toml"   # or wiringcheck.toml; default: $WIRINGCHECK_CONFIG, then found from the cwd

    # locust -f locustfile.py --host ws://127.0.0.1:8765/ws

Each task is one probe run, made with the same request (`probe.build_request`) and
judged by the same checker (`events.check_events`) as `wiringcheck run` and `load`,
through the synchronous `websockets.sync` client: Locust runs users as gevent
greenlets, where ``asyncio.run()`` fails. Each event that arrives is reported to Locust
as a request (``request_type="WS"``, name = the event, response time = its delivery
latency in ms, from the event's timestamp field; the time since the trigger when it has
none), and each error finding as a failure named after its event (or ``run``), whose
error is the finding's code and title. Delivery over budget (WC405) is left to
percentiles and Locust's own checks, as in `wiringcheck load`. A run that Locust stops
mid-way (the test's end) reports nothing, so it never counts as missing events.

This is the only module of wiringcheck that imports locust (and with it gevent's
monkey patching); nothing else imports it.
"""

from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any, ClassVar

from locust import User, task

from wiringcheck.config import Settings, find_config, load_settings
from wiringcheck.events import Latency, check_events, expectation_for
from wiringcheck.findings import Severity
from wiringcheck.load.command import user_probe, user_tokens
from wiringcheck.probe import build_request, record_run_sync

__all__ = ["FindingFailure", "WiringcheckUser"]

_NUMBERS = itertools.count(1)
"""User numbers in this process; a distributed worker adds its index times `WiringcheckUser.numbers_per_worker`."""


class FindingFailure(Exception):
    """A finding reported to Locust as a failure: its text is the code and the title, so failures group by kind."""

    def __init__(self, code: str, title: str, message: str) -> None:
        super().__init__(f"{code} {title}")
        self.code = code
        self.message = message


def _settings(config: str | os.PathLike[str] | None) -> Settings:
    path = config or os.environ.get("WIRINGCHECK_CONFIG")
    if path:
        return load_settings(Path(path))
    found = find_config()
    return load_settings(found) if found is not None else Settings()


class WiringcheckUser(User):
    """A user that runs the configured probe in a loop and reports every event to Locust.

    Attributes:
        config: the wiringcheck configuration (its [probe] and [load] tables); default
            ``$WIRINGCHECK_CONFIG``, then the one found from the working directory.
        numbers_per_worker: user numbers reserved per distributed worker, so that ``{n}``
            in [load] token and user_id is unique across workers.
    """

    abstract = True
    config: ClassVar[str | None] = None
    numbers_per_worker: ClassVar[int] = 100_000

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        settings = _settings(self.config)
        worker = getattr(environment.runner, "worker_index", 0) or 0
        self.number = worker * self.numbers_per_worker + next(_NUMBERS)
        tokens = user_tokens(settings.load, os.environ, self.number) if settings.load.tokens_env else None
        self.probe = user_probe(settings, self.number, os.environ, tokens)
        self.url = self.host or settings.url or settings.ws_url
        if not self.url:
            raise ValueError("no WebSocket URL: pass --host ws://host:port/path, or set url in the configuration")
        self.expectation = expectation_for(settings.probe, latency=Latency.TIMESTAMP)
        self.cross_talk_counts = settings.load.per_user_identity or not settings.probe.auth.enabled

    @task
    def agent_run(self) -> None:
        """One probe run; every event and every finding goes to Locust's statistics."""
        request = build_request(self.url or "", self.probe, {})
        recording = record_run_sync(request, self.probe)
        verdict = check_events(recording, self.expectation)
        fire = self.environment.events.request.fire
        reported: set[str] = set()
        for record in verdict.timeline:
            if not record.ours or record.type not in verdict.per_event or record.type in reported:
                continue
            reported.add(record.type)
            frame = recording.frames[record.index]
            fire(
                request_type="WS",
                name=record.type,
                response_time=record.latency_ms if record.latency_ms is not None else record.at_ms,
                response_length=len(frame.data),
                exception=None,
                context={"run_id": recording.run_id, "user": self.number},
            )
        failures = [
            (event, finding)
            for event, findings in verdict.per_event.items()
            for finding in findings
            if finding.code != "WC405"
        ]
        failures += [("run", finding) for finding in verdict.general]
        if recording.end == "connect_failed":
            failures.append(("run", _connect_failed(recording.error)))
        for name, finding in failures:
            if finding.severity is not Severity.ERROR:
                continue
            fire(
                request_type="WS",
                name=name,
                response_time=0,
                response_length=0,
                exception=FindingFailure(finding.code, finding.title, finding.message),
                context={"run_id": recording.run_id, "user": self.number},
            )
        if verdict.other_runs and self.cross_talk_counts:
            fire(
                request_type="WS",
                name="run",
                response_time=0,
                response_length=0,
                exception=FindingFailure("WC505", "cross-talk between users", f"{verdict.other_runs} frame(s)"),
                context={"run_id": recording.run_id, "user": self.number},
            )


def _connect_failed(error: str) -> Any:
    from wiringcheck.findings import Finding

    return Finding(code="WC401", message=f"cannot connect: {error}", subject="probe")
