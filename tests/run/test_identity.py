"""Whose run is this: the client's id, the server's (learnt once, from a setup step or the first start), or the
connection's; a user's earlier runs are its own."""

from __future__ import annotations

import json

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.protocol import Kind, Protocol, decode_frame
from wiringcheck.run.identity import RunIdentity


def item_of(protocol: Protocol, **message: object):
    (item,) = decode_frame(protocol, json.dumps(message))
    return item


@pytest.mark.parametrize(
    ("correlation", "known", "frames", "owned"),
    [
        ("client", "mine", [("agent_started", "mine"), ("agent_started", "theirs"), ("agent_thinking", None)],
         [True, False, True]),
        ("server", None, [("agent_thinking", "theirs"), ("agent_started", "s-1"), ("agent_thinking", "s-1"),
                          ("agent_thinking", "s-2")], [False, True, True, False]),
        ("server", "s-9", [("agent_started", "s-1"), ("agent_started", "s-9")], [False, True]),
        ("connection", "mine", [("agent_started", "other"), ("agent_thinking", "x")], [True, True]),
    ],
)  # fmt: skip
def test_correlation_modes(correlation, known, frames, owned):
    """client: the probe's id; server: captured from the first start frame (or a setup step); connection: all."""
    protocol = parse_settings({"probe": {"run_id": correlation}}).probe.protocol()
    tracker = RunIdentity(protocol, known)

    assert owned == [tracker.owns(item_of(protocol, type=t, run_id=r)) for t, r in frames]


def test_server_correlation_captures_from_a_configured_matcher():
    """run_id_from says which frame carries the server's run id."""
    protocol = parse_settings({"probe": {"run_id": "server", "run_id_from": {"type": "accepted"}}}).probe.protocol()
    tracker = RunIdentity(protocol, None)

    owned = [tracker.owns(item_of(protocol, type=t, run_id="r-3")) for t in ("agent_started", "accepted")]

    assert ([False, True], "r-3") == (owned, tracker.run_id)


def test_agui_run_error_carries_no_run_id_and_still_ends_the_run():
    """RUN_ERROR has no runId in ag-ui-protocol 1.0: it belongs to the probe's run and is an error terminal."""
    protocol = parse_settings({"probe": {"preset": "ag-ui"}}).probe.protocol()
    tracker = RunIdentity(protocol, "wc-1")

    item = item_of(protocol, type="RUN_ERROR", message="model overloaded")

    assert (Kind.ERROR, True) == (item.kind, tracker.owns(item))


def test_a_users_earlier_run_is_named_as_its_own_not_as_another_users():
    """The owner of an item of an earlier run of the same user is that run, and the identity knows it as earlier."""
    protocol = parse_settings({"probe": {}}).probe.protocol()
    identity = RunIdentity(protocol, "r-2", earlier=("r-1",))

    owner = identity.owner(item_of(protocol, type="agent_completed", run_id="r-1"))

    assert ("r-1", True) == (owner, owner in identity.earlier)
