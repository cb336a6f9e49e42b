"""WC424: with several users at once, no user receives another user's run."""

from __future__ import annotations

import json

from tests.run.rules.tools import TRIGGER_AT, event
from wiringcheck.run.recording import Frame, Recording
from wiringcheck.run.rules.cross_talk import UserRun, check_cross_talk, user_run


def user(label: str, run_id: str, *data: str, **identity: str) -> UserRun:
    """A user whose run `run_id` received these frames, 5 ms apart; its identity is its run id and its user id."""
    frames = tuple(Frame(received_at=TRIGGER_AT + 0.005 * n, data=item) for n, item in enumerate(data, start=1))
    return UserRun(
        label=label,
        identity={"run_id": run_id, "user_id": f"{label}-id", **identity},
        recording=Recording(run_id=run_id, trigger_at=TRIGGER_AT, ended_at=TRIGGER_AT + 1, frames=frames),
    )


def test_isolated_users_have_no_finding():
    """Each user received only its own run (and a frame that is not JSON): no WC424, nothing went elsewhere."""
    one = user("user 1", "run-a", event("agent_started", run_id="run-a"), "not json")
    two = user("user 2", "run-b", event("agent_started", run_id="run-b"))

    assert ([], {}) == check_cross_talk([one, two])


def test_a_value_both_users_carry_identifies_neither():
    """Two users in one thread: a frame naming only the thread they share is neither's, and no cross-talk."""
    one = user("user 1", "run-a", json.dumps({"type": "x", "thread": "t-1"}), thread="t-1")
    two = user("user 2", "run-b", json.dumps({"type": "x", "thread": "t-1"}), thread="t-1")

    assert ([], {}) == check_cross_talk([one, two])


def test_a_frame_of_another_users_run_names_both_users_and_the_field():
    """user 2 received a frame of run-a: WC424 names the receiver, the owner, the run and the revealing field."""
    one = user("user 1", "run-a", event("agent_started", run_id="run-a"))
    two = user("user 2", "run-b", event("agent_started", run_id="run-b"), event("agent_started", run_id="run-a"))

    findings, went = check_cross_talk([one, two])

    (finding,) = findings
    assert ("WC424", "user 2 received 1 frame(s) of user 1's run 'run-a' (revealed by the field 'run_id')") == (
        finding.code,
        finding.message,
    )
    assert {"user 1": ["1 of its frame(s) went to user 2"]} == went


def test_a_nested_identity_field_reveals_the_owner():
    """A user id deep in a payload still says whose frame it is, and the finding gives its dotted path."""
    one = user("user 1", "run-a")
    two = user("user 2", "run-b", json.dumps({"type": "x", "payload": {"context": {"user": "user 1-id"}}}))

    (finding,), _ = check_cross_talk([one, two])

    assert "payload.context.user" == finding.data["field"]


def test_runs_the_judge_found_foreign_are_named_with_their_owner():
    """Frames the judge counted as another run's (no identifying field to search): WC424 names whose run it was."""
    owner = UserRun("user 1", {"run": "run-a"}, user("user 1", "run-a").recording)
    two = UserRun("user 2", {"run": "run-b"}, user("user 2", "run-b").recording, foreign={"run-a": 2})

    (finding,), went = check_cross_talk([owner, two])

    assert ("user 2 received 2 frame(s) of user 1's run 'run-a', not its own 'run-b'", {}) == (finding.message, went)


def test_users_that_took_one_run_as_their_own_are_named():
    """Two users whose runs have one id: the first user's run reached the others from its first event."""
    one = UserRun("user 1", {"run": "run-a"}, user("user 1", "run-a").recording)
    two = UserRun("user 2", {"run": "run-a"}, user("user 2", "run-a").recording)

    (finding,), _ = check_cross_talk([one, two])

    assert (
        "user 1 and user 2 each took run 'run-a' as their own: one user's run reached the others from its first event"
    ) == finding.message


def test_a_user_is_known_by_the_run_id_the_server_assigned_and_the_one_it_sent():
    """A server-assigned run keeps the id the probe sent in the user's identity too: both say whose a frame is."""
    recording = Recording(
        run_id="sent-1", trigger_at=TRIGGER_AT, ended_at=TRIGGER_AT + 1, server_run_id="srv-1", ids=(("user", "u1"),)
    )

    assert {"user": "u1", "sent run": "sent-1", "run": "srv-1"} == dict(user_run("user 1", recording).identity)
