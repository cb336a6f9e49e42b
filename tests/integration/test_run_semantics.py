"""Runs judged as users feel them, end to end on the reference backend: isolation, stopping early, the break-down."""

from __future__ import annotations

import json
import tomllib
from dataclasses import replace

from wiringcheck.config import Isolation, parse_settings
from wiringcheck.findings import Status
from wiringcheck.render.json import render
from wiringcheck.report import ExitCode
from wiringcheck.runner import ISOLATION_CHECK, run

from .helpers import REPO, check, fault_report, fault_settings, healthy_settings


def isolated(settings, users: int = 2):
    return replace(settings, isolation=Isolation(enabled=True, users=users, token="dev-token-{n}"))


def test_two_users_of_the_healthy_backend_each_see_only_their_own_run():
    report = run(isolated(healthy_settings()))

    assert (ExitCode.OK, Status.PASSED, 2) == (
        report.exit_code,
        check(report, ISOLATION_CHECK).status,
        report.extra["users"],
    )


def test_a_leaked_frame_names_both_users_and_is_scrubbed_of_their_tokens(monkeypatch):
    """The broadcast fault: every frame shown is free of the users' tokens, in every string of the report."""
    settings = fault_settings("broadcast_fallback")
    settings = replace(settings, isolation=replace(settings.isolation, token="wc-secret-token-{n}"))
    monkeypatch.setenv("AGENTCHAT_TOKENS", "wc-secret-token-1:alice,wc-secret-token-2:bob")

    report = run(settings)

    leaks = [f for f in report.findings if f.code == "WC424"]
    assert {("user 1", "user 2"), ("user 2", "user 1")} == {(f.data["receiver"], f.data["owner"]) for f in leaks}
    assert "wc-secret-token" not in render(report)


def test_the_users_whose_events_went_elsewhere_says_where():
    report = fault_report("wrong_routing_key")

    missing = [f for f in report.findings if f.code == "WC402"]
    assert missing
    assert all(any("went to user" in line for line in f.evidence) for f in missing)


def test_a_silent_run_answers_in_about_a_second_not_the_deadline():
    """The seed's fault stops waiting once the first event is overdue, with the deadline at its default 5 s."""
    settings = fault_settings("legacy_setter").with_probe(deadline=5.0)

    report = run(settings)

    (stalled,) = [f for f in report.findings if f.code == "WC409"]
    assert "the probe stopped waiting" in stalled.message
    assert report.duration < 3.0


def test_without_a_gap_bound_the_probe_waits_for_the_deadline():
    settings = fault_settings("legacy_setter").with_probe(deadline=0.8, gap_ms=False)

    report = run(settings)

    (deadline,) = [f for f in report.findings if f.code == "WC409"]
    assert "within the run deadline" in deadline.message


def test_the_report_breaks_each_event_down_emit_hand_off_receipt():
    emit = tuple((event, f"bridge.notify_{event}") for event in healthy_settings().probe.events)
    report = run(healthy_settings().with_probe(emit=emit))

    ours = [e for e in report.events if e.ours]
    assert 5 == len(ours)
    for event in ours:
        assert event.emitted_at_ms <= event.sent_at_ms <= event.at_ms
    document = json.loads(render(report))
    assert {"emitted_at_ms", "sent_at_ms", "emission_ms"} <= set(document["events"][0])


def test_a_failing_tool_scenario_is_its_own_block_of_checks_and_events():
    """The healthy backend reports a tool error and ends the run; the silent fault does neither."""
    failing = {
        "name": "failing tool",
        "trigger": {
            "type": "user_message",
            "run_id": "{run_id}",
            "thread_id": "t",
            "payload": {"text": "6 divided by 0"},
        },
        "events": [
            "agent_started",
            "agent_thinking",
            "tool_executing",
            "tool_completed",
            "agent_error",
            "agent_completed",
        ],
    }
    table = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["wiringcheck"]
    scenarios = parse_settings({**table, "scenarios": [failing]}).scenarios
    healthy = replace(healthy_settings(), scenarios=scenarios)
    silent = replace(fault_settings("silent_tool_error"), scenarios=healthy.scenarios)

    good, bad = run(healthy), run(silent)

    assert ExitCode.OK == good.exit_code
    assert ["failing tool"] == [s["name"] for s in good.extra["scenarios"]]
    assert 6 == len([e for e in good.extra["scenarios"][0]["events"] if e["ours"]])
    failed = {c.name for c in bad.checks if c.status is Status.FAILED}
    assert {"scenario failing tool: event: agent_error", "scenario failing tool: probe"} <= failed


def test_users_sharing_a_token_are_a_usage_error_before_anything_boots():
    """Two users with one token are one user in two tabs: that proves nothing about isolation."""
    import pytest

    from wiringcheck.errors import UsageError

    with pytest.raises(UsageError, match="users 1 and 2 would send the same token"):
        run(replace(healthy_settings(), isolation=Isolation(enabled=True)))
