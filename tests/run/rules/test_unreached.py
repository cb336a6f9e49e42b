"""Why a run never started: no connection (WC401), credentials refused (WC413), a failed setup step (WC414)."""

from __future__ import annotations

import pytest

from tests.run.rules.tools import RUN_ID, TRIGGER_AT
from wiringcheck.config import Auth
from wiringcheck.run.recording import NOT_STARTED, Recording, RecordingEnd
from wiringcheck.run.rules.unreached import unreached_finding

URL = "ws://127.0.0.1:8000/ws?token=***"
HINT = "Is the server running?"


def ended(end: RecordingEnd, error: str = "", auth_method: str | None = None) -> Recording:
    """A recording that stopped as `end` says, with the client's `error`."""
    return Recording(
        run_id=RUN_ID, trigger_at=TRIGGER_AT, ended_at=TRIGGER_AT, end=end, error=error, auth_method=auth_method
    )


@pytest.mark.parametrize("end", sorted(set(RecordingEnd) - NOT_STARTED))
def test_silent_on_a_run_that_started(end):
    """A run that connected (whatever stopped it later: the terminal, a close, a deadline) is judged by the others."""
    assert None is unreached_finding(ended(end), URL, Auth(), hint=HINT)


def test_a_failed_connection_is_wc401_with_the_clients_words():
    """No connection: WC401 says where it tried and what the client said, with the caller's hint."""
    finding = unreached_finding(ended(RecordingEnd.CONNECT_FAILED, "connection refused"), URL, Auth(), hint=HINT)

    assert finding is not None
    assert ("WC401", f"cannot connect to {URL}: connection refused", HINT) == (
        finding.code,
        finding.message,
        finding.hint,
    )


@pytest.mark.parametrize(
    ("auth", "where"),
    [
        (Auth(query="token"), "the query parameter 'token'"),
        (Auth(header="Authorization"), "the 'Authorization' header"),
        (Auth(subprotocol="jwt.{token_b64url}"), "the subprotocol 'jwt.{token_b64url}'"),
        (Auth(first_message={"token": "{token}"}), "the first message after connecting"),
        (Auth(cookie="session"), "the cookie 'session'"),
    ],
)
def test_refused_credentials_are_wc413_saying_how_they_were_sent(auth, where):
    """Credentials refused: WC413 names how the token was sent and what the server answered."""
    recording = ended(RecordingEnd.AUTH_REJECTED, "HTTP 403", auth_method=auth.method)

    finding = unreached_finding(recording, URL, auth, hint=HINT)

    assert finding is not None
    assert ("WC413", f"{URL} refused the credentials sent as {where} ({auth.method}): HTTP 403") == (
        finding.code,
        finding.message,
    )


def test_refused_credentials_name_the_variable_never_the_token():
    """The hint points at the environment variable that holds the token; the token itself is never shown."""
    auth = Auth(header="Authorization", token_env="AGENT_TOKEN", token="s3cret-token")

    finding = unreached_finding(ended(RecordingEnd.AUTH_REJECTED, "HTTP 401"), URL, auth, hint=HINT)

    assert finding is not None
    assert (True, False) == (
        "$AGENT_TOKEN" in finding.hint,
        "s3cret-token" in f"{finding.message} {finding.hint} {finding.evidence}",
    )


def test_a_failed_setup_step_is_wc414():
    """A [[probe.setup]] step failed before connecting: WC414 carries the session's account of it."""
    recording = ended(RecordingEnd.SETUP_FAILED, "step 1 (POST /runs): expected 201, got 500")

    finding = unreached_finding(recording, URL, Auth(), hint=HINT)

    assert finding is not None
    assert ("WC414", "the run could not be set up: step 1 (POST /runs): expected 201, got 500") == (
        finding.code,
        finding.message,
    )
