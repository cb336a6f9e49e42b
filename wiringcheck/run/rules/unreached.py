"""Why a run never started, when it did not: no connection (WC401), credentials refused (WC413), a failed
setup step (WC414), a stream request answered with an error or a page (WC417)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wiringcheck.findings import Finding
from wiringcheck.run.recording import Recording, RecordingEnd

if TYPE_CHECKING:
    from wiringcheck.config import Auth

CODES = ("WC401", "WC413", "WC414", "WC417")

CODE_OF = {
    RecordingEnd.CONNECT_FAILED: "WC401",
    RecordingEnd.AUTH_REJECTED: "WC413",
    RecordingEnd.SETUP_FAILED: "WC414",
    RecordingEnd.HTTP_ERROR: "WC417",
}
"""The finding code of each way a run never starts."""

_AUTH_WHERE = {
    "query": "the query parameter {query!r}",
    "header": "the {header!r} header",
    "subprotocol": "the subprotocol {subprotocol!r}",
    "first_message": "the first message after connecting",
    "cookie": "the cookie {cookie!r}",
}


def connect_finding(recording: Recording, shown_url: str, *, hint: str) -> Finding:
    """WC401 for a run whose connection failed: where it tried, what the client said, what to check."""
    return Finding(
        code="WC401",
        message=f"cannot connect to {shown_url}: {recording.error}",
        hint=hint,
        subject="probe",
    )


def unreached_finding(recording: Recording, shown_url: str, auth: Auth, *, hint: str) -> Finding | None:
    """Why a run never started, if it did not; `hint` is WC401's, which depends on how the caller was told where."""
    if recording.end == RecordingEnd.CONNECT_FAILED:
        return connect_finding(recording, shown_url, hint=hint)
    if recording.end == RecordingEnd.AUTH_REJECTED:
        method = recording.auth_method or auth.method or "?"
        where = _AUTH_WHERE.get(method, method).format(
            query=auth.query, header=auth.header, subprotocol=auth.subprotocol, cookie=auth.cookie
        )
        variable = f"${auth.token_env}" if auth.token_env else "the configured token"
        return Finding(
            code="WC413",
            message=f"{shown_url} refused the credentials sent as {where} ({method}): {recording.error}",
            hint=f"Check the token in {variable} (is it valid, unexpired, for this server?) and that the server "
            f"expects it as {where}; probe.auth says how it is sent.",
            subject="probe",
            data={"auth_method": method},
        )
    if recording.end == RecordingEnd.HTTP_ERROR:
        return Finding(
            code="WC417",
            message=f"{shown_url} answered the run's request with {recording.error}",
            hint="Check probe.path (or the url), probe.method and the trigger's shape against the route; the "
            "excerpt is the start of what the server answered instead of a stream.",
            subject="probe",
        )
    if recording.end == RecordingEnd.SETUP_FAILED:
        return Finding(
            code="WC414",
            message=f"the run could not be set up: {recording.error}",
            hint="Check the [[probe.setup]] step: its path, body, credentials, expected status and the field paths "
            "it captures; the backend's log says why it refused.",
            subject="probe",
        )
    return None
