"""Setup steps, sans-I/O: which request comes next, what an answer captures, and failures that never show
a value the server issued."""

from __future__ import annotations

import json

import pytest

from wiringcheck.config import parse_settings
from wiringcheck.run.setup import BODY_LIMIT, SetupFailed, SetupSteps


def steps(*tables, values=None) -> SetupSteps:
    probe = parse_settings({"probe": {"setup": list(tables)}}).probe
    return SetupSteps(probe.setup, base_url="http://h:1", values=values or {"run_id": "r1"}, environ={})


def test_each_step_is_one_request_and_its_captures_fill_the_next():
    """A value captured from one answer is a placeholder of the next step's path (%-encoded)."""
    run = steps(
        {"method": "POST", "path": "/runs", "json": {"x": "{run_id}"}, "capture": {"rid": "id"}},
        {"path": "/runs/{rid}/start"},
    )
    first = run.next_call()
    run.answered(201, json.dumps({"id": "a/b"}).encode())
    second = run.next_call()
    run.answered(200, b"")

    assert ("POST", "http://h:1/runs", {"x": "r1"}) == (first.method, first.url, first.json)
    assert ("http://h:1/runs/a%2Fb/start", {"rid": "a/b"}, None) == (second.url, run.captured, run.next_call())


def test_an_unexpected_status_names_the_step_with_a_cut_excerpt():
    """A refused step says its status and the start of the body, cut with a mark."""
    run = steps({"path": "/runs"})
    run.next_call()

    with pytest.raises(SetupFailed) as failure:
        run.answered(500, b"E" * 1000)

    assert str(failure.value).startswith("setup step 1 (POST /runs): HTTP 500 (expected 200 or 201): EEE")
    assert str(failure.value).endswith("…")


def test_a_missing_capture_lists_the_fields_never_their_values():
    """A wrong capture path shows the answer's field names and kinds: a credential it holds is never printed."""
    run = steps({"path": "/login", "capture": {"run_id": "data.id"}})
    run.next_call()

    with pytest.raises(SetupFailed) as failure:
        run.answered(200, json.dumps({"access_token": "eyJ-issued-secret", "data": {"ttl": 5}}).encode())

    message = str(failure.value)
    assert "its fields are: access_token (string), data.ttl (number)" in message
    assert "eyJ-issued-secret" not in message


def test_a_body_over_the_limit_is_a_failure_not_a_memory_error():
    """A body cut at the limit by the driver fails the step plainly: nothing is captured from half a document."""
    run = steps({"path": "/big", "capture": {"x": "x"}})
    run.next_call()

    with pytest.raises(SetupFailed, match=f"larger than {BODY_LIMIT // 1024} KiB"):
        run.answered(200, b"{", complete=False)


def test_a_credential_captured_is_a_secret_of_the_run():
    """A value whose name says it is a credential is handed back to be scrubbed from every output."""
    run = steps({"path": "/login", "capture": {"session_token": "t"}})
    run.next_call()
    run.answered(200, b'{"t": "tok-issued-1"}')

    assert ["tok-issued-1"] == run.secrets


def test_every_captured_value_is_a_secret_unless_declared_public():
    """A value the server issued is a credential whatever its name (jwt, sid); an id declared public is shown."""
    run = steps({"path": "/login", "capture": {"jwt": "t", "run_id": {"path": "id", "public": True}}})
    run.next_call()
    run.answered(200, b'{"t": "eyJ-issued", "id": "run-7"}')

    assert (["eyJ-issued"], {"jwt": "eyJ-issued", "run_id": "run-7"}) == (run.secrets, run.captured)
