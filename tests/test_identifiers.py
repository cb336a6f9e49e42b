"""identifiers.py: the probe's ids seen in one another's place, in log lines and frames; silent otherwise."""

from __future__ import annotations

import json

import pytest

from wiringcheck.identifiers import Text, swapped_ids

IDS = {"user": "probe-user-1", "thread": "wc-thread-5f3a", "run": "wc-run-9c2d"}


@pytest.mark.parametrize(
    "line",
    [
        "run wc-run-9c2d started for user probe-user-1 (thread wc-thread-5f3a)",
        "conversation wc-thread-5f3a: 5 events",
        "user_id=probe-user-1 run_id=wc-run-9c2d",
        "dropped agent_started for run wc-run-9c2d",
        "nothing of ours here: user alice, thread t-1",
        "user ab",  # too short to be one of ours by chance
    ],
)
def test_ids_in_their_own_place_are_silent(line):
    """Each id after its own kind's word, or no id of ours at all: nothing to report."""
    assert [] == swapped_ids(IDS, [Text(line, "log WARNING from app")])


def test_a_frame_with_ids_in_their_own_fields_is_silent():
    """A frame whose user, thread and run fields hold the right ids is fine."""
    frame = json.dumps({"userId": "probe-user-1", "thread_id": "wc-thread-5f3a", "run": {"id": "wc-run-9c2d"}})

    assert [] == swapped_ids(IDS, [Text(frame, "frame #0")])


@pytest.mark.parametrize(
    ("line", "kind", "meant"),
    [
        ("no open connection for user wc-thread-5f3a; agent_started dropped", "thread", "user"),
        ("registered run wc-thread-5f3a for user probe-user-1", "thread", "run"),
        ("session=wc-run-9c2d closed", "run", "thread"),
    ],
)
def test_an_id_after_another_kinds_word_is_wc440(line, kind, meant):
    """The thread id written as a user, the thread id as a run, the run id as a session: WC440 naming both."""
    (finding,) = swapped_ids(IDS, [Text(line, "log WARNING from app")])

    assert "WC440" == finding.code
    assert f"{kind} id {IDS[kind]!r} as a {meant} id" in finding.message


def test_a_frame_field_of_another_kind_is_wc440():
    """A frame whose user_id field carries the thread id says so, naming the field."""
    frame = json.dumps({"type": "agent_started", "user_id": "wc-thread-5f3a"})

    (finding,) = swapped_ids(IDS, [Text(frame, "frame #0")])

    assert "in field 'user_id'" in finding.message


def test_one_finding_per_pair_of_kinds():
    """Five warnings about the same swap are one finding."""
    lines = [Text(f"no open connection for user wc-thread-5f3a; event {n} dropped", "log") for n in range(5)]

    assert 1 == len(swapped_ids(IDS, lines))
