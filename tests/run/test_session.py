"""The run session, sans-I/O: fed by hand what arrived and when, it says what to send and when the run ends."""

from __future__ import annotations

import json

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.run.recording import RecordingEnd
from wiringcheck.run.request import build_request
from wiringcheck.run.session import RunSession, State

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")


def session(probe: dict | None = None, *, environ: dict | None = None, **options) -> RunSession:
    settings = parse_settings({"probe": {"deadline": 5.0, "connect_timeout": 2.0, **(probe or {})}})
    request = build_request("ws://127.0.0.1:9/ws", settings.probe, environ or {}, run_id="r1", **options)
    return RunSession(request)


def frame(kind: str, run_id: str | None = "r1", **fields) -> str:
    return json.dumps({"type": kind, **({"run_id": run_id} if run_id is not None else {}), **fields})


def started(run: RunSession, at: float = 10.0) -> RunSession:
    run.begin(at)
    run.connected(at)
    run.start(at)
    return run


def test_nothing_is_sent_before_the_driver_starts_the_run():
    """Connected without first-message auth, the session is ready but sends the trigger only on `start`."""
    run = session()
    run.begin(0.0)
    run.connected(0.01)

    assert (True, []) == (run.ready, run.to_send())


def test_start_sends_the_trigger_once_and_the_deadline_counts_from_it():
    """The trigger goes out on `start`; the deadline is `deadline` seconds after it."""
    run = session({"gap_ms": False})
    run.begin(0.0)
    run.connected(0.0)
    run.start(1.0)

    (trigger,) = run.to_send()
    assert ("r1", [], 6.0) == (json.loads(trigger)["run_id"], run.to_send(), run.wake_at())


def test_a_healthy_run_ends_after_the_terminal_and_its_linger():
    """The terminal event starts the linger; a tick after it ends the run as `terminal`, frames kept in order."""
    run = started(session())
    for offset, kind in enumerate(EVENTS, start=1):
        run.receive(frame(kind), 10.0 + offset / 100)

    assert (State.LINGERING, pytest.approx(10.1)) == (run.state, run.wake_at())
    run.tick(run.wake_at())

    recording = run.recording()
    assert (RecordingEnd.TERMINAL, 5) == (recording.end, len(recording.frames))


def test_a_frame_after_the_terminal_is_still_recorded_during_the_linger():
    """What the backend sends after its terminal event is evidence (WC404): the linger records it."""
    run = started(session())
    for kind in EVENTS:
        run.receive(frame(kind), 10.01)
    run.receive(frame("agent_thinking"), 10.02)
    run.tick(run.wake_at())

    assert 6 == len(run.recording().frames)


def test_an_error_terminal_ends_the_run_at_once():
    """An error frame of the run ends it immediately: a backend that says it failed never costs the deadline."""
    run = started(session({"error_events": ["run_failed"]}))
    run.receive(frame("agent_started"), 10.01)
    run.receive(frame("run_failed"), 10.02)

    assert (True, RecordingEnd.ERROR, 10.02) == (run.done, run.recording().end, run.recording().ended_at)


def test_silence_past_the_gap_bound_and_budget_stops_the_run_early():
    """Nothing of the run for gap + budget + the evidence window: the run can no longer pass, it stalls."""
    run = started(session({"budget_ms": 100, "gap_ms": 100}))
    run.receive(frame("agent_started"), 10.01)

    assert pytest.approx(10.51) == run.wake_at()
    run.tick(run.wake_at())
    assert (RecordingEnd.STALLED, True) == (run.recording().end, run.abort)


def test_frames_of_other_runs_do_not_keep_a_stalled_run_alive():
    """Only the run's own events are progress: another run's chatter does not postpone the stall."""
    run = started(session({"budget_ms": 100, "gap_ms": 100}))
    run.receive(frame("agent_started"), 10.01)
    run.receive(frame("agent_thinking", run_id="someone-else"), 10.4)

    assert pytest.approx(10.51) == run.wake_at()


def test_without_a_gap_bound_the_deadline_decides():
    """gap_ms = false: the run waits for the deadline, which ends it as `deadline`."""
    run = started(session({"gap_ms": False}))

    run.tick(run.wake_at())
    assert RecordingEnd.DEADLINE == run.recording().end


def test_a_tick_before_the_bound_changes_nothing():
    """A driver that wakes early (timer resolution) does not end a phase early."""
    run = started(session({"gap_ms": False}))
    run.tick(run.wake_at() - 0.001)

    assert State.RUNNING == run.state


def test_the_frame_cap_ends_a_flood_and_asks_for_an_abort():
    """Past the frame cap the run ends as an overflow, and the driver is told to drop the connection."""
    run = started(session())
    limit = run.request.limits.max_frames
    for n in range(limit + 5):
        run.receive(frame("agent_thinking"), 10.0 + n / 1e6)

    assert (RecordingEnd.OVERFLOW, limit, True) == (run.recording().end, len(run.recording().frames), run.abort)


def test_a_server_assigned_id_is_learnt_once_and_becomes_the_runs_id():
    """run_id = "server": the first start event's id is the run's; later frames of other ids are not the run's."""
    run = started(session({"run_id": "server", "error_events": ["failed"]}))
    run.receive(frame("agent_started", run_id="srv-7"), 10.01)
    run.receive(frame("failed", run_id="srv-other"), 10.02)

    recording = run.recording()
    assert ("srv-7", "srv-7", "r1", False) == (recording.id, recording.server_run_id, recording.run_id, run.done)


def test_a_setup_captured_server_id_is_the_run_from_the_start():
    """A server id captured by a setup step is the run's id before any frame arrives."""
    run = started(session({"run_id": "server"}, server_run_id="srv-1"))
    run.receive(frame("agent_started", run_id="srv-2"), 10.01)

    assert ("srv-1", False) == (run.recording().id, run.done)


def test_first_message_auth_sends_the_message_and_waits_for_the_ack():
    """With an ack, the session sends the first message and becomes ready only when the ack arrives."""
    auth = {"first_message": {"op": "auth", "key": "{token}"}, "ack": {"op": "ok"}, "token": "k-123456"}
    run = session({"auth": auth})
    run.begin(0.0)
    run.connected(0.0)

    (hello,) = run.to_send()
    run.receive(json.dumps({"op": "hello"}), 0.1)
    assert ({"op": "auth", "key": "k-123456"}, State.AUTHENTICATING) == (json.loads(hello), run.state)
    run.receive(json.dumps({"op": "ok"}), 0.2)
    assert run.ready


def test_no_ack_within_the_connect_timeout_is_a_refusal_that_shows_what_came_instead():
    """The server's answer instead of the ack is evidence: the refusal frame is in the error."""
    auth = {"first_message": {"op": "auth"}, "ack": {"op": "ok"}, "token": "k-123456"}
    run = session({"auth": auth})
    run.begin(0.0)
    run.connected(0.0)
    run.receive(json.dumps({"op": "denied", "why": "expired"}), 0.1)
    run.tick(run.wake_at())

    recording = run.recording()
    assert RecordingEnd.AUTH_REJECTED == recording.end
    assert "no acknowledgement within 2 s; it sent instead: " in recording.error
    assert '"why": "expired"' in recording.error


@pytest.mark.parametrize(("status", "end"), [(403, RecordingEnd.AUTH_REJECTED), (404, RecordingEnd.CONNECT_FAILED)])
def test_a_refused_upgrade_with_credentials_is_an_auth_refusal_only_for_401_and_403(status, end):
    """HTTP 401/403 with a token sent means the credentials were refused; any other refusal is a failed connection."""
    run = session({"auth": {"query": "token", "token": "tok-123"}})
    run.begin(0.0)
    run.refused(0.1, f"InvalidStatus: HTTP {status}", status=status)

    assert end == run.recording().end


def test_an_auth_close_code_before_any_frame_is_an_auth_refusal():
    """Close 4401 right after connecting, with a token sent and nothing received: credentials refused."""
    run = started(session({"auth": {"header": "Authorization", "token": "tok-123"}}))
    run.closed(10.1, 4401, "bad token")

    assert ("auth_rejected", "the server closed with code 4401 (bad token)") == (
        run.recording().end,
        run.recording().error,
    )


def test_a_close_after_the_terminal_ends_the_run_as_terminal():
    """The server closing once the run is complete is a normal end, with its code kept."""
    run = started(session())
    for kind in EVENTS:
        run.receive(frame(kind), 10.01)
    run.closed(10.02, 1000, "bye")

    assert (RecordingEnd.TERMINAL, 1000) == (run.recording().end, run.recording().close_code)


def test_a_close_the_client_made_is_the_probes():
    """The client refusing what the server sent (1009 too big) is the probe's close, not the server's."""
    run = started(session())
    run.closed(10.1, 1009, "message too big", by_client=True)

    assert RecordingEnd.PROBE_CLOSED == run.recording().end


def test_the_earlier_runs_of_the_user_are_carried_to_the_recording():
    """A user's earlier runs travel with the recording, so the judge can tell its own late frames apart."""
    run = started(session(earlier_runs=("r0",)))

    assert ("r0",) == run.recording().earlier_runs


def test_an_interrupted_run_ends_at_its_deadline_and_is_dropped():
    """The driver's last line of defence ends the run as `deadline` and asks for the connection to be dropped."""
    run = started(session())
    run.interrupted(12.0)

    assert (RecordingEnd.DEADLINE, 12.0, True) == (run.recording().end, run.recording().ended_at, run.abort)


def test_a_connect_handler_that_says_no_to_credentials_sent_refused_them():
    """socket.io's connect_error with a token sent is the token refused (WC413's end), in the server's words."""
    run = session({"transport": "socketio", "auth": {"first_message": {"t": "{token}"}, "token": "k-123456"}})
    run.begin(0.0)

    run.refused(0.1, "the server refused the socket.io connection: bad token", by_handler=True)

    recording = run.recording()
    assert (RecordingEnd.AUTH_REJECTED, "the server refused the socket.io connection: bad token") == (
        recording.end,
        recording.error,
    )
