"""One run, every door: each entry point by each feature of a run, on one backend (`matrix_app`).

Every entry point makes its runs through the one session (`run.drive`) and judges them
with the one judge; this matrix proves that each of them has each feature: the five
auth kinds, a setup step whose captured id goes into the path, a server-assigned run id,
the emit map, isolation between users, and a hostile server.  Where a feature cannot
apply to an entry point (emission latency when the backend runs in another process),
the entry point must say so in its report: a skipped check with its reason, never a
silent pass.

Entry points: `run` (the runner), `probe` (the command, against the served app),
`fixture` (the pytest plugin's `Backend.probe` + `assert_events`), `load` (a load
worker's loop, in this process), `locust` (the Locust user's `perform_sync` +
`outcome_of`, in a thread: importing Locust would monkey-patch this process), and
`inspect` (`inspect --probe`'s run).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from wiringcheck.config import Settings, parse_settings
from wiringcheck.findings import Severity, Status

from ..conftest import MS

APP = "tests.integration.matrix_app"
REPO = Path(__file__).resolve().parents[2]
TOKEN = "matrix-token-1"

FEATURES: dict[str, dict[str, Any]] = {
    "query": {"probe": {"auth": {"query": "token", "token": TOKEN}}},
    "header": {"probe": {"auth": {"header": "Authorization", "token": TOKEN}}},
    "subprotocol": {"probe": {"auth": {"subprotocol": "bearer.{token_b64url}", "token": TOKEN}}},
    "first_message": {
        "probe": {"auth": {"first_message": {"op": "auth", "token": "{token}"}, "ack": {"op": "ready"}, "token": TOKEN}}
    },
    "cookie": {"probe": {"auth": {"cookie": "sid", "token": TOKEN}}},
    "setup_captured_path": {
        "ws_path": "/ws/{run_id}",
        "probe": {
            "run_id": "server",
            "auth": {"query": "token", "token": TOKEN},
            "setup": [{"method": "POST", "path": "/api/runs", "capture": {"run_id": "run.id"}}],
        },
    },
    "server_id": {
        "probe": {
            "run_id": "server",
            "trigger": {"type": "user_message", "text": "What is 6 times 7?"},
            "auth": {"query": "token", "token": TOKEN},
        }
    },
    "emit": {
        "roles": {"emitter": {"path": "state.emitter"}},
        "probe": {
            "auth": {"query": "token", "token": TOKEN},
            "emit": {
                "agent_started": "emitter.started",
                "agent_thinking": "emitter.thinking",
                "tool_executing": "emitter.tool",
                "tool_completed": "emitter.result",
                "agent_completed": "emitter.completed",
            },
        },
    },
    "isolation": {
        "app": f"{APP}:broadcast_app",
        "probe": {"auth": {"query": "token", "token": TOKEN}},
        "isolation": {"enabled": True, "users": 2, "token": "matrix-token-{n}"},
    },
    "hostile": {"app": f"{APP}:hostile_app", "probe": {"auth": {"query": "token", "token": TOKEN}}},
}
"""Each feature as a configuration fragment for `matrix_app` (the app, unless the feature names its own)."""

FAILS = {"isolation", "hostile"}
"""Features whose backend is broken on purpose: every entry point must fail them."""

ENTRY_POINTS = ("run", "probe", "fixture", "load", "locust", "inspect")


@dataclass
class Outcome:
    """What an entry point said of one run: passed or not, its finding codes, its skipped checks and their reasons."""

    passed: bool
    codes: set[str] = field(default_factory=set)
    skipped: dict[str, str] = field(default_factory=dict)
    emitted: bool = False


def settings_for(feature: str, url: str | None = None) -> Settings:
    fragment = json.loads(json.dumps(FEATURES[feature]))
    probe = {"deadline": 2.0, "connect_timeout": 2.0, "timestamp_field": "ts", **fragment.pop("probe")}
    table: dict[str, Any] = {"app": f"{APP}:create_app", **fragment, "probe": probe}
    if url is not None:
        table.pop("app")
        table["url"] = url + table.pop("ws_path", "/ws")
    return parse_settings(table, source=REPO / "wiringcheck.toml")


# -- the served apps (for the entry points that connect to a URL) -----------------------------------


class _Served:
    """An app under uvicorn on a free loopback port, in a thread of its own."""

    def __init__(self, factory: Callable[[], Any]) -> None:
        config = uvicorn.Config(factory, factory=True, host="127.0.0.1", port=0, log_level="warning", log_config=None)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="matrix-app", daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        give_up = time.monotonic() + 5
        while not self.server.started:
            assert time.monotonic() < give_up, "uvicorn did not start"
            time.sleep(2 * MS)
        port = self.server.servers[0].sockets[0].getsockname()[1]
        return f"ws://127.0.0.1:{port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=5)


@pytest.fixture(name="served", scope="module")
def _served() -> Iterator[dict[str, str]]:
    from tests.integration import matrix_app

    with contextlib.ExitStack() as stack:
        yield {
            mode: stack.enter_context(_Served(factory))
            for mode, factory in (
                ("healthy", matrix_app.create_app),
                ("broadcast", matrix_app.broadcast_app),
                ("hostile", matrix_app.hostile_app),
            )
        }


def served_url(served: dict[str, str], feature: str) -> str:
    return served[{"isolation": "broadcast", "hostile": "hostile"}.get(feature, "healthy")]


# -- each entry point, driven through its own code path ---------------------------------------------


def of_report(report: Any) -> Outcome:
    errors = [f for f in report.findings if f.severity is Severity.ERROR]
    return Outcome(
        passed=report.ok,
        # A load report counts runs that failed with a code (WC507): that code is the run's own finding.
        codes={f.code for f in errors} | {f.data["code"] for f in errors if "code" in f.data},
        skipped={c.name: c.reason for c in report.checks if c.status is Status.SKIPPED},
        emitted=any(e.emitted_at_ms is not None for e in report.events),
    )


def via_run(feature: str, served: dict[str, str]) -> Outcome:
    from wiringcheck.runner import run

    return of_report(run(settings_for(feature)))


def via_probe(feature: str, served: dict[str, str], tmp_path: Path) -> Outcome:
    from tests.adversarial.support import write_config
    from wiringcheck.commands.probe import ProbeRequestOptions, probe_command
    from wiringcheck.render import Format, Outputs

    settings = settings_for(feature, served_url(served, feature))
    table = settings_table(feature, settings.url or "")
    config = write_config(tmp_path, probe=table.pop("probe"), **table)
    report_path = tmp_path / "probe.json"
    options = ProbeRequestOptions(config=config, isolation=settings.isolation.enabled)
    probe_command(settings.url or "", options, Outputs(Format.JSON, report_path, None, None, verbosity=-1))
    data = json.loads(report_path.read_text(encoding="utf-8"))
    findings = [f for check in data["checks"] for f in check["findings"]]
    return Outcome(
        passed=data["ok"],
        codes={f["code"] for f in findings if f["severity"] == "error"},
        skipped={c["name"]: c["reason"] for c in data["checks"] if c["status"] == "skipped"},
    )


def via_fixture(feature: str, served: dict[str, str]) -> Outcome:
    from wiringcheck.backend import assert_events, booted

    async def probe() -> Outcome:
        async with booted(settings_for(feature)) as backend:
            recording = await backend.probe()
        try:
            verdict = assert_events(recording)
        except AssertionError as failure:
            return Outcome(passed=False, codes=set(_codes_in(str(failure))))
        return Outcome(passed=True, emitted=any(r.emitted_at_ms is not None for r in verdict.timeline))

    return asyncio.run(probe())


def via_load(feature: str, served: dict[str, str]) -> Outcome:
    """A load worker's own loop (`run_users`) in this process, reported by the load command's own `load_report`."""
    from wiringcheck.load.command import LoadOptions, load_report, plan_users, plan_workers
    from wiringcheck.load.worker import run_users

    settings = settings_for(feature, served_url(served, feature))
    users = 2 if feature == "isolation" else 1
    settings = replace(settings, load=replace(settings.load, token="matrix-token-{n}"))
    options = LoadOptions(users=users, spawn_rate=1000.0, duration=None, runs=1, workers=1, grace=1.0)
    (plan,) = plan_workers(settings.url or "", settings, options, plan_users(settings, options, {}))
    result = asyncio.run(run_users(plan, time.time()))
    return of_report(load_report(settings, options, [result], 1.0))


def via_locust(feature: str, served: dict[str, str]) -> Outcome:
    """What the Locust user's task does (`perform_sync`, the judge, `outcome_of`), for one or two users at once."""
    from wiringcheck.load.command import user_probe
    from wiringcheck.load.summary import outcome_of
    from wiringcheck.run.drive import perform_sync
    from wiringcheck.run.judge import expectation_for, judge
    from wiringcheck.run.recording import Latency

    settings = settings_for(feature, served_url(served, feature))
    settings = replace(settings, load=replace(settings.load, token="matrix-token-{n}"))
    expectation = expectation_for(settings.probe, latency=Latency.TIMESTAMP)
    numbers = (1, 2) if feature == "isolation" else (1,)
    outcomes: list[Any] = []
    barrier = threading.Barrier(len(numbers))

    def one(number: int) -> None:
        probe = user_probe(settings, number, {}, None)
        barrier.wait(timeout=5)
        recording = perform_sync(settings.url or "", probe, {})
        outcomes.append(outcome_of(recording, judge(recording, expectation), expectation, user=number))

    threads = [threading.Thread(target=one, args=(n,)) for n in numbers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    failures = {code for outcome in outcomes for _, code, _ in outcome.failures()}
    if any(outcome.cross_talk for outcome in outcomes):
        failures.add("WC505")
    return Outcome(passed=not failures and len(outcomes) == len(numbers), codes=failures)


def via_inspect(feature: str, served: dict[str, str]) -> Outcome:
    from wiringcheck.commands.inspect import _build

    tree, _ = asyncio.run(_build(settings_for(feature), private=False, probe=True))
    frames = next(node for node in _walk(tree) if node.text.startswith("frames: "))
    return Outcome(passed=frames.text.endswith("run ended: terminal"))


def _walk(node: Any) -> Iterator[Any]:
    yield node
    for child in node.children:
        yield from _walk(child)


def _codes_in(text: str) -> list[str]:
    import re

    return re.findall(r"\bWC\d{3}\b", text)


def settings_table(feature: str, url: str) -> dict[str, Any]:
    fragment = json.loads(json.dumps(FEATURES[feature]))
    probe = {"deadline": 2.0, "connect_timeout": 2.0, "timestamp_field": "ts", **fragment.pop("probe")}
    fragment.pop("app", None)
    fragment.pop("ws_path", None)
    return {"url": url, **fragment, "probe": probe}


DRIVERS: dict[str, Callable[..., Outcome]] = {
    "run": via_run,
    "probe": via_probe,
    "fixture": via_fixture,
    "load": via_load,
    "locust": via_locust,
    "inspect": via_inspect,
}

NOT_APPLICABLE = {("inspect", "isolation"), ("inspect", "hostile")}
"""`inspect --probe` shows one run's frames for a person to map; it judges nothing, so a broken backend is shown,
not failed (its frames node says how the run ended)."""


@pytest.mark.parametrize("feature", sorted(FEATURES))
@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_every_entry_point_has_every_feature(entry, feature, served, tmp_path):
    """Healthy features pass at every door; a broken backend fails at every door; nothing passes silently."""
    if (entry, feature) in NOT_APPLICABLE:
        pytest.skip("inspect judges nothing: it shows the run's frames")
    driver = DRIVERS[entry]
    outcome = driver(feature, served, tmp_path) if entry == "probe" else driver(feature, served)

    if feature in FAILS:
        assert not outcome.passed, outcome
        expected = {"isolation": {"WC424", "WC505"}, "hostile": {"WC406", "WC408"}}[feature]
        assert outcome.codes & expected, outcome
    else:
        assert outcome.passed, outcome


@pytest.mark.parametrize("entry", ["run", "fixture"])
def test_in_process_entry_points_measure_emission(entry, served):
    """With the backend in this process, every event is timed from the call that emitted it."""
    assert DRIVERS[entry]("emit", served).emitted


@pytest.mark.parametrize("entry", ["probe", "load"])
def test_entry_points_whose_backend_runs_elsewhere_say_emission_does_not_apply(entry, served, tmp_path):
    """probe and load cannot time the backend's emitting calls: they report it as skipped, with the reason."""
    from wiringcheck.run.recording import EMISSION_CHECK

    outcome = via_probe("emit", served, tmp_path) if entry == "probe" else via_load("emit", served)

    assert "in another one" in outcome.skipped[EMISSION_CHECK]


# -- the same doors over HTTP streams and socket.io ------------------------------------------------

STREAMS = {
    "sse": "ssechat",
    "ndjson": "ndjsonchat",
    "ndjson error page": "faults/ndjsonchat_html_error",
    "socketio": "socketchat",
    "socketio refused auth": "faults/socketchat_refused_auth",
}
"""A streaming transport's reference backend (or fault), by what it exercises."""

STREAM_FAILS = {"ndjson error page": {"WC417", "http_error"}, "socketio refused auth": {"WC413", "auth_rejected"}}
"""The faults among them: every door fails them, with one of these codes (or ends)."""


def stream_settings(name: str, url: str | None = None) -> Settings:
    from wiringcheck.config import load_settings

    settings = load_settings(REPO / "fixtures" / STREAMS[name] / "wiringcheck.toml")
    if url is None:
        return settings
    return replace(settings, app=None, url=url + (settings.probe.path or "/"))


@pytest.fixture(name="served_streams", scope="module")
def _served_streams() -> Iterator[dict[str, str]]:
    from wiringcheck.importing import import_ref

    with contextlib.ExitStack() as stack:
        served = {}
        for name in STREAMS:
            factory = import_ref(stream_settings(name).app or "")
            served[name] = stack.enter_context(_Served(factory)).replace("ws://", "http://")
        yield served


def stream_via(entry: str, name: str, served: dict[str, str]) -> Outcome:
    """One run over an HTTP stream through `entry`'s own code path."""
    if entry == "run":
        from wiringcheck.runner import run

        return of_report(run(stream_settings(name)))
    if entry == "fixture":
        from wiringcheck.backend import assert_events, booted

        async def probe() -> Outcome:
            async with booted(stream_settings(name)) as backend:
                recording = await backend.probe()
            try:
                assert_events(recording)
            except AssertionError as failure:
                return Outcome(passed=False, codes=set(_codes_in(str(failure))) | {recording.end.value})
            return Outcome(passed=True)

        return asyncio.run(probe())
    settings = stream_settings(name, served[name])
    if entry == "probe":
        from wiringcheck.commands.probe import build_report, record_runs

        recorded = asyncio.run(record_runs(settings.url or "", settings, {}, runs=1))
        return of_report(build_report(settings.url or "", settings.probe, recorded.recordings, runs=1))
    if entry == "load":
        from wiringcheck.load.command import LoadOptions, load_report, plan_users, plan_workers
        from wiringcheck.load.worker import run_users

        options = LoadOptions(users=2, spawn_rate=1000.0, duration=None, runs=1, workers=1, grace=1.0)
        (plan,) = plan_workers(settings.url or "", settings, options, plan_users(settings, options, {}))
        return of_report(load_report(settings, options, [asyncio.run(run_users(plan, time.time()))], 1.0))
    from wiringcheck.load.summary import outcome_of
    from wiringcheck.run.drive import perform_sync
    from wiringcheck.run.judge import expectation_for, judge
    from wiringcheck.run.recording import Latency

    expectation = expectation_for(settings.probe, latency=Latency.TIMESTAMP)
    recording = perform_sync(settings.url or "", settings.probe, {})
    outcome = outcome_of(recording, judge(recording, expectation), expectation, user=1)
    return Outcome(passed=not outcome.failures(), codes={code for _, code, _ in outcome.failures()})


@pytest.mark.parametrize("name", sorted(STREAMS))
@pytest.mark.parametrize("entry", ["run", "probe", "fixture", "load", "locust"])
def test_every_entry_point_speaks_every_streaming_transport(entry, name, served_streams):
    """SSE, NDJSON and socket.io reference backends pass at every door; a stream route answering an HTML page fails
    at every door with WC417, a socket.io server refusing the auth payload with WC401 (the Locust user's task, and
    load, read them as runs that failed with that code)."""
    outcome = stream_via(entry, name, served_streams)

    if name in STREAM_FAILS:
        assert not outcome.passed, outcome
        assert STREAM_FAILS[name] & outcome.codes, outcome
    else:
        assert outcome.passed, outcome


def test_inspect_shows_a_socketio_run():
    """inspect --probe makes its run over socket.io like any other, and shows how it ended."""
    from wiringcheck.commands.inspect import _build

    tree, _ = asyncio.run(_build(stream_settings("socketio"), private=False, probe=True))
    frames = next(node for node in _walk(tree) if node.text.startswith("frames: "))

    assert frames.text.endswith("run ended: terminal"), frames.text


@pytest.mark.parametrize("entry", ["run", "probe"])
def test_socketio_users_start_together_and_see_only_their_own_runs(entry, served_streams):
    """Isolation over socket.io: two users connect and authenticate, then trigger at once; neither sees the other's."""
    from wiringcheck.config import Isolation

    url = served_streams["socketio"] if entry == "probe" else None
    users = Isolation(enabled=True, users=2, token="socketchat-dev-token-{n}")
    settings = replace(stream_settings("socketio", url), isolation=users)
    if entry == "run":
        from wiringcheck.runner import run

        report = run(settings)
    else:
        from wiringcheck.commands.probe import build_report, record_runs

        recorded = asyncio.run(record_runs(settings.url or "", settings, {}, runs=1))
        report = build_report(settings.url or "", settings.probe, recorded.recordings, runs=1, users=recorded.users)

    assert report.ok, [f.message for f in report.findings]
    assert Status.PASSED == next(c.status for c in report.checks if c.name == "isolation")
