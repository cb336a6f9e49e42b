"""wiringcheck's probe as a Locust `User`: many machines, Locust's UI, CSV and distributed mode.

Install with ``pip install 'wiringcheck[load]'`` and write a locustfile::

    from wiringcheck.locust import WiringcheckUser

    class AgentChatUser(WiringcheckUser):
        config = "pyproject.toml"   # or wiringcheck.toml; default: $WIRINGCHECK_CONFIG, then found from the cwd

    # locust -f locustfile.py --host ws://127.0.0.1:8765/ws

Each task is one run, made the way every entry point makes it (`run.drive.perform_sync`:
setup steps, every auth kind, the session) over the synchronous WebSocket transport,
which is safe under gevent (Locust runs users as greenlets, where ``asyncio.run()``
fails), and read the way `wiringcheck load` reads it (`run.judge.judge`, then
`load.summary.outcome_of`): the same recording fails the same way in both. Each event
that arrives is reported to Locust as a request (``request_type`` the transport: ``WS``,
``SSE``, ``NDJSON``, ``SOCKETIO``; name = the
event, response time = its delivery latency in ms, from the event's timestamp field;
the time since the trigger when it has none), and each reason the run failed as a
failure named after its event (or ``run``), whose error is the code and its title.
Slow events (WC405, WC420, WC423) are left to percentiles and Locust's own checks, as
in `wiringcheck load`. A run that Locust stops mid-way (the test's end) reports nothing,
so it never counts as missing events. After a run that could not connect, the user
waits a tenth of a second before the next, so a failing server is not hammered.
`probe.warmup` unjudged runs are made once per Locust process, before its first judged
run; the other users of the process wait for them (as `wiringcheck load` warms the
backend up once before its users start).

This is the only module of wiringcheck that imports locust (and with it gevent's
monkey patching); nothing else imports it.
"""

from __future__ import annotations

import itertools
import os
import threading
from pathlib import Path
from typing import Any, ClassVar

from locust import User, task

from wiringcheck.codes import CODES
from wiringcheck.config import Settings, find_config, load_settings
from wiringcheck.gevent_compat import import_httpcore
from wiringcheck.load.command import cross_talk_unknowable, user_probe, user_tokens
from wiringcheck.load.summary import outcome_of
from wiringcheck.run.drive import perform_sync, preload, warm_up_sync
from wiringcheck.run.judge import expectation_for, judge
from wiringcheck.run.recording import Latency

__all__ = ["FindingFailure", "WiringcheckUser"]

_NUMBERS = itertools.count(1)
"""User numbers in this process; a distributed worker adds its index times `WiringcheckUser.numbers_per_worker`."""

_OWNERS: dict[str, int] = {}
"""Recent runs of this process's users, by run id, so a cross-talk failure names the user whose run leaked."""

_OWNERS_KEPT = 10_000

_EARLIER_KEPT = 20
"""A user's earlier runs remembered: their late frames are its own, never another user's."""

_WARM_UP = threading.Lock()
"""Held while this process warms the backend up; a gevent lock once Locust has patched threading."""

_warmed_up = False

RETRY_PAUSE = 0.1
"""Seconds a user waits after a run that could not connect (as `wiringcheck load` does)."""


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
        import_httpcore()  # before the first setup step: under gevent, an installed trio breaks httpcore's import
        settings = _settings(self.config)
        worker = getattr(environment.runner, "worker_index", 0) or 0
        self.number = worker * self.numbers_per_worker + next(_NUMBERS)
        tokens = user_tokens(settings.load, os.environ, self.number) if settings.load.tokens_env else None
        self.probe = user_probe(settings, self.number, os.environ, tokens)
        preload(self.probe, sync=True)  # the first task's imports would block every greenlet of the process
        self.url = _url(self.host, settings)
        self.request_type = {"websocket": "WS"}.get(settings.probe.transport, settings.probe.transport.upper())
        self.expectation = expectation_for(settings.probe, latency=Latency.TIMESTAMP)
        # The judge's own protocol: what the session read of each frame is then not read again.
        self.protocol = self.expectation.protocol
        self.cross_talk_counts = not cross_talk_unknowable(settings)
        self.earlier: list[str] = []
        self.pause = 0.0

    def on_start(self) -> None:
        """The process's first user to start makes the warm-up runs; the others wait for them."""
        global _warmed_up
        if not self.probe.warmup:
            return
        with _WARM_UP:
            if not _warmed_up:
                _warmed_up = True
                warm_up_sync(self.url or "", self.probe, os.environ)

    def wait_time(self) -> float:
        """No pause between runs, but after one that could not connect (a failing server is not hammered)."""
        return self.pause

    @task
    def agent_run(self) -> None:
        """One run; every event and every reason it failed go to Locust's statistics."""
        recording = perform_sync(
            self.url or "", self.probe, os.environ, earlier_runs=tuple(self.earlier), protocol=self.protocol
        )
        self.earlier = [*self.earlier[-_EARLIER_KEPT + 1 :], recording.id]
        _OWNERS[recording.id] = self.number
        if len(_OWNERS) > _OWNERS_KEPT:
            del _OWNERS[next(iter(_OWNERS))]
        verdict = judge(recording, self.expectation)
        outcome = outcome_of(recording, verdict, self.expectation, user=self.number)
        self.pause = RETRY_PAUSE if outcome.errors and outcome.errors[0][0] == "WC401" else 0.0
        fire = self.environment.events.request.fire
        context = {"run_id": recording.id, "user": self.number}
        reported: set[str] = set()
        for record in verdict.timeline:
            if not record.ours or record.type not in verdict.per_event or record.type in reported:
                continue
            reported.add(record.type)
            fire(
                request_type=self.request_type,
                name=record.type,
                response_time=record.latency_ms if record.latency_ms is not None else record.at_ms,
                response_length=len(recording.frames[record.index].data) if not record.implied else 0,
                exception=None,
                context=context,
            )
        failures = outcome.failures()
        if outcome.cross_talk and self.cross_talk_counts:
            whose = ", ".join(
                f"{count} frame(s) of user {_OWNERS[run]}'s run {run}" if run in _OWNERS else f"{count} of run {run}"
                for run, count in outcome.foreign
            )
            failures.append(("run", "WC505", f"{outcome.cross_talk} frame(s) of another user's run: {whose}"))
        for name, code, message in failures:
            fire(
                request_type=self.request_type,
                name=name,
                response_time=0,
                response_length=0,
                exception=FindingFailure(code, CODES[code].title, message),
                context=context,
            )


def _url(host: str | None, settings: Settings) -> str:
    """Where users connect: ``--host`` (with the configured path when it names none: probe.path over HTTP, else
    ws_path), or the configuration's URL."""
    from urllib.parse import urlsplit

    if host:
        path = (settings.probe.path or "/") if settings.probe.transport != "websocket" else settings.ws_path
        return host.rstrip("/") + path if urlsplit(host).path in ("", "/") else host
    url = settings.url or settings.ws_url
    if not url:
        raise ValueError("no URL: pass --host ws://host:port (or a full URL), or set url in the config")
    return url
