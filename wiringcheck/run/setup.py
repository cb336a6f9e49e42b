"""Setup steps, sans-I/O: the HTTP requests a backend needs before its run, and what they capture.

Many agent servers create a run over REST and only then accept a connection for it
(``POST /api/runs`` -> ``{"id": "run-3f9c"}`` -> ``/api/ws/runs/run-3f9c``).  Each
`[[probe.setup]]` step is one request; values captured from its JSON response by field
path become placeholders (``{run_id}``, any name) for the later steps, the URL, the
trigger and the auth templates.  The steps run afresh for every run.

`SetupSteps` says which request to make next and judges each answer; a driver (async or
sync, `wiringcheck.run.drive`) makes the requests.  A failure is a `SetupFailed` that
names the step and never shows a value the server issued: a capture that is missing
lists the response's field names, not its values.  Every captured value is a secret of
the run, scrubbed from every output, unless its capture is declared ``public = true``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from wiringcheck import boundedjson
from wiringcheck.protocol import ABSENT, parse_path, render_trigger
from wiringcheck.run.request import fill_url
from wiringcheck.secrets import shorten

if TYPE_CHECKING:
    from wiringcheck.config import SetupStep

__all__ = ["BODY_LIMIT", "HttpCall", "SetupFailed", "SetupSteps"]

BODY_LIMIT = 1024 * 1024
"""Bytes of a setup response read at most, after decompression: a 2 GB body or a gzip bomb stops here."""

_EXCERPT = 200
"""Characters of an unexpected answer a failure shows (cut with a mark, scrubbed like everything else)."""


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


@dataclass(frozen=True, slots=True)
class HttpCall:
    """One request to make: everything an HTTP client needs, nothing it has to decide."""

    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, str]
    json: Any
    timeout: float


class SetupSteps:
    """The setup steps of one run: the next request to make, and what each answer captured.

    Drive it with ``while (call := steps.next_call()) is not None: steps.answered(...)``.
    """

    def __init__(
        self, steps: Sequence[SetupStep], *, base_url: str, values: Mapping[str, str], environ: Mapping[str, str]
    ) -> None:
        self._steps = tuple(steps)
        self._base_url = base_url
        self._environ = environ
        self._index = 0
        self.values = dict(values)
        """The run's placeholders, with every value captured so far."""
        self.captured: dict[str, str] = {}
        self.secrets: list[str] = []
        """Captured credentials: whoever reports on the run scrubs them."""

    @property
    def encrypted(self) -> bool:
        """Whether any request goes over https (a TLS context is then worth building)."""
        return self._base_url.startswith("https://") or any(
            (step.url or "").startswith("https://") for step in self._steps
        )

    def next_call(self) -> HttpCall | None:
        """The request of the next step, or None when every step is done."""
        if self._index >= len(self._steps):
            return None
        step = self._steps[self._index]
        headers = {name: str(render_trigger(value, self.values)) for name, value in step.headers}
        params: dict[str, str] = {}
        token = step.auth.resolve(self._environ) if step.auth.enabled else None
        if token is not None:  # Settings.credentials knows the steps' tokens already
            if step.auth.query:
                params[step.auth.query] = token
            elif step.auth.header:
                headers[step.auth.header] = step.auth.header_value(token)
            elif step.auth.cookie:
                headers["Cookie"] = f"{step.auth.cookie}={token}"
        url = fill_url(step.url, self.values) if step.url else self._base_url + fill_url(step.path or "", self.values)
        body = render_trigger(step.json, self.values) if step.json is not None else None
        return HttpCall(step.method, url, headers, params, body, step.timeout)

    def failed(self, problem: str) -> SetupFailed:
        """The current step's failure (no answer, a timeout, a refused connection), to raise."""
        return SetupFailed(self._index, self._steps[self._index], problem, self.secrets)

    def answered(self, status: int, body: bytes, *, complete: bool = True) -> None:
        """Judge the current step's answer and capture its values; `complete` is False when the body was cut.

        Raises:
            SetupFailed: an unexpected status, a body over `BODY_LIMIT`, or a value to capture that is missing.
        """
        step = self._steps[self._index]
        if not complete:
            raise self.failed(f"the response body is larger than {BODY_LIMIT // 1024} KiB; nothing was captured")
        if status not in step.expect_status:
            expected = " or ".join(str(s) for s in step.expect_status)
            raise self.failed(f"HTTP {status} (expected {expected}): {_excerpt(body)}")
        if step.capture:
            try:
                document = boundedjson.loads(body)
            except ValueError:  # not JSON, or nested past the bound (boundedjson.TooDeep)
                raise self.failed(
                    f"the response is not JSON, so nothing can be captured: {_excerpt(body, 120)}"
                ) from None
            for name, where in step.capture:
                value = parse_path(where).read(document)
                if value is ABSENT or value is None or isinstance(value, dict | list):
                    raise self.failed(
                        f"the response has no value at {where!r} to capture as {{{name}}}; "
                        f"its fields are: {_fields(document)}"
                    )
                text = str(value)
                self.captured[name] = self.values[name] = text
                if name not in step.public:  # a value the server issued is a credential, whatever its name
                    self.secrets.append(text)
        self._index += 1


def _excerpt(body: bytes, limit: int = _EXCERPT) -> str:
    return shorten(body[: limit * 4].decode("utf-8", "replace"), limit)


def _fields(document: Any, prefix: str = "", depth: int = 0) -> str:
    """The field paths of a JSON document with the kind of each value (never the value: it may be a credential)."""
    if not isinstance(document, dict):
        return f"(a JSON {type(document).__name__}, not an object)" if not prefix else ""
    shown: list[str] = []
    for key, value in list(document.items())[:20]:
        path = f"{prefix}{key}"
        if isinstance(value, dict) and depth < 2:
            inner = _fields(value, f"{path}.", depth + 1)
            shown.append(inner or f"{path} (object)")
        else:
            kind = {str: "string", bool: "boolean", int: "number", float: "number", list: "list", dict: "object"}
            shown.append(f"{path} ({kind.get(type(value), 'null')})")
    return ", ".join(shown) or "none"
