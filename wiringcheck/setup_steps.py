"""Setup steps: the HTTP requests a backend needs before its WebSocket (an I/O edge).

Many agent servers create a run over REST and only then accept a WebSocket for it
(``POST /api/runs`` -> ``{"id": "run-3f9c"}`` -> ``/api/ws/runs/run-3f9c``).  Each
`[[probe.setup]]` step is one request; values captured from its JSON response by
field path become placeholders (``{run_id}``, any name) for the later steps, the
WebSocket path or URL, the trigger and the auth templates.  The steps run afresh for
every run, so repeated runs and repeated boots each get their own.

Requests go to the served backend: `probe.http_url`, or the WebSocket URL's origin
over http(s).  Every request has its own timeout, and a failure is a `SetupFailed`
that names the step, never an exception from the HTTP library.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from wiringcheck.protocol import ABSENT, parse_path, render_trigger
from wiringcheck.secrets import looks_secret

if TYPE_CHECKING:
    import ssl

    from wiringcheck.config import SetupStep

__all__ = ["SetupFailed", "run_setup"]


class SetupFailed(Exception):
    """A setup step failed; the message names the step and what went wrong."""

    def __init__(self, index: int, step: SetupStep, problem: str, secrets: Sequence[str] = ()) -> None:
        self.index = index
        self.step = step
        self.problem = problem
        self.secrets = tuple(secrets)
        super().__init__(problem)

    def __str__(self) -> str:
        return f"setup step {self.index + 1} ({self.step.target}): {self.problem}"


def _fill(template: Any, values: Mapping[str, str]) -> Any:
    return render_trigger(template, values)


async def run_setup(
    steps: Sequence[SetupStep],
    *,
    base_url: str,
    values: Mapping[str, str],
    environ: Mapping[str, str],
    ssl_context: ssl.SSLContext | None = None,
) -> tuple[dict[str, str], tuple[str, ...]]:
    """Make each request in order; return the captured placeholders and the captured credentials.

    Raises:
        SetupFailed: a request could not be made, timed out, answered an unexpected
            status, or its response lacks a value to capture.
    """
    import httpx

    filled = dict(values)
    captured: dict[str, str] = {}
    secrets: list[str] = []
    # Building a default TLS context costs tens of milliseconds: only when a step needs one.
    encrypted = base_url.startswith("https://") or any((step.url or "").startswith("https://") for step in steps)
    verify: Any = ssl_context if ssl_context is not None else True
    if ssl_context is None and not encrypted:
        import ssl

        verify = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # never used over http://; skips loading the CA bundle
    async with httpx.AsyncClient(verify=verify, trust_env=False, follow_redirects=False) as client:
        for index, step in enumerate(steps):
            headers = {name: _fill(value, filled) for name, value in step.headers}
            params: dict[str, str] = {}
            cookies: dict[str, str] = {}
            token = step.auth.resolve(environ) if step.auth.enabled else None
            if token is not None:  # Secrets.from_settings knows the steps' tokens already
                if step.auth.query:
                    params[step.auth.query] = token
                elif step.auth.header:
                    headers[step.auth.header] = step.auth.header_value(token)
                elif step.auth.cookie:
                    headers["Cookie"] = f"{step.auth.cookie}={token}"
            url = _fill(step.url, filled) if step.url else base_url + _fill(step.path, filled)
            body = _fill(step.json, filled) if step.json is not None else None
            try:
                async with asyncio.timeout(step.timeout):
                    response = await client.request(
                        step.method,
                        url,
                        json=body,
                        headers=headers,
                        params=params or None,
                        cookies=cookies or None,
                        timeout=step.timeout,
                    )
            except TimeoutError:
                raise SetupFailed(index, step, f"no answer within {step.timeout:g} s", secrets) from None
            except httpx.HTTPError as exc:
                raise SetupFailed(index, step, f"{type(exc).__name__}: {exc}", secrets) from None
            if response.status_code not in step.expect_status:
                expected = " or ".join(str(s) for s in step.expect_status)
                raise SetupFailed(
                    index,
                    step,
                    f"HTTP {response.status_code} (expected {expected}): {response.text[:200]}",
                    secrets,
                )
            if not step.capture:
                continue
            try:
                document = response.json()
            except (ValueError, json.JSONDecodeError):
                raise SetupFailed(
                    index, step, f"the response is not JSON, so nothing can be captured: {response.text[:120]}", secrets
                ) from None
            for name, where in step.capture:
                value = parse_path(where).read(document)
                if value is ABSENT or value is None or isinstance(value, dict | list):
                    raise SetupFailed(
                        index,
                        step,
                        f"the response has no value at {where!r} to capture as {{{name}}}: {response.text[:200]}",
                        secrets,
                    )
                text = str(value)
                captured[name] = filled[name] = text
                if looks_secret(name):
                    secrets.append(text)
    return captured, tuple(secrets)
