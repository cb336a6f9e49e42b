"""WC412: the backend ended the run with an error terminal; the finding shows its payload and what came before."""

from __future__ import annotations

import json

from tests.run.rules.tools import (
    EVENTS,
    EXPECTATION,
    RELAY,
    batch,
    codes_of,
    expectation_from,
    frames,
    recording,
    run_of,
)
from wiringcheck.run.judge import judge
from wiringcheck.run.rules import error


def test_silent_on_a_healthy_run():
    """A run that completes sent no error terminal."""
    assert [] == codes_of(error, judge(run_of(*EVENTS), EXPECTATION))


def test_silent_on_another_runs_error_terminal():
    """Another run failing on this socket is counted apart; this run completed and is not failed for it."""
    failure = json.dumps({"kind": "failed", "run": "run-2", "reason": "tool crashed"})
    items = frames(batch("start", "think"), failure, batch("tool.call", "tool.result", "done"))

    verdict = judge(recording(*items), expectation_from(RELAY))

    assert ([], [], 1) == (codes_of(error, verdict), verdict.findings, verdict.other_runs)


def test_an_error_terminal_is_wc412_with_its_payload_and_no_deadline_finding():
    """The backend's failure frame ends the run: WC412 shows the payload; missing events follow, no WC409."""
    failure = json.dumps({"kind": "failed", "reason": "tool crashed: " + "x" * 400})
    items = frames(batch("start", "think"), failure)

    verdict = judge(recording(*items, end="error"), expectation_from(RELAY))

    (found,) = [f for f in verdict.general if f.code == "WC412"]
    assert (["WC412"], ["WC402", "WC402", "WC402"], True, True) == (
        [f.code for f in verdict.general],
        sorted(f.code for f in verdict.findings if f.code != "WC412"),
        "tool crashed" in found.message,
        all(len(line) < 400 for line in found.evidence),
    )
