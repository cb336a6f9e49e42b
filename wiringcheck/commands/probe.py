"""`wiringcheck probe URL`: the pre-deploy smoke gate against a server that is already running.

It connects a real WebSocket client (``ws://`` or ``wss://``, with a private CA from
``--cafile``), starts an agent run, and judges what arrives with the same event
checker as `wiringcheck run`. ``--runs N`` repeats the run and reports p50, p95 and
max delivery latency per event (from each event's timestamp field: the server is
another process), failing on the percentile the configuration names.

The token comes from the environment variable named by ``--token-env``, never from a
flag's value, and it is scrubbed from every byte this command writes: the console,
JSON, JUnit and GitHub reports, files and error messages.
"""

from __future__ import annotations

import json
import math
import os
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit, urlunsplit

from wiringcheck.config import Auth, ConfigError, ProbeSettings, Settings, find_config, load_settings
from wiringcheck.findings import CheckResult, Finding, Status
from wiringcheck.report import ExitCode, Report

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping, Sequence

    from wiringcheck.events import Recording, Verdict

__all__ = ["PERCENTILES", "ProbeError", "build_report", "percentile", "probe_command", "shown_url"]

PERCENTILES = ("p50", "p95", "max")
"""The latency percentiles `--runs` reports; `probe.percentile` names the one that must fit the budget."""


class ProbeError(Exception):
    """Bad input to `wiringcheck probe`: printed as one line, exit code 2."""


@dataclass(frozen=True, slots=True)
class ProbeRequestOptions:
    """The flags of `wiringcheck probe` that shape what the probe sends and expects."""

    config: Path | None = None
    trigger: str | None = None
    events: tuple[str, ...] = ()
    terminal: str | None = None
    budget_ms: float | None = None
    deadline: float | None = None
    connect_timeout: float | None = None
    percentile: str | None = None
    token_env: str | None = None
    token_query: str | None = None
    token_header: str | None = None
    cafile: Path | None = None
    runs: int = 1


# -- secrets -------------------------------------------------------------------------------------


def scrub(text: str, secrets: Sequence[str]) -> str:
    """Replace every secret (as given, and URL-encoded) with ``***``."""
    for secret in secrets:
        for form in {secret, quote(secret, safe=""), quote_plus(secret)}:
            if form:
                text = text.replace(form, "***")
    return text


def shown_url(url: str) -> str:
    """The URL as it may be printed: every query value replaced by ``***`` (it may hold a token)."""
    parts = urlsplit(url)
    if not parts.query:
        return url
    query = [(key, "***") for key, _ in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(query, safe="*")))


# -- settings ------------------------------------------------------------------------------------


def _base_settings(config: Path | None) -> Settings:
    """The configuration named, or the one found from the working directory, or the defaults."""
    try:
        if config is not None:
            return load_settings(config)
        found = find_config()
        return load_settings(found) if found is not None else Settings()
    except ConfigError as exc:
        raise ProbeError(str(exc)) from None


def probe_settings(options: ProbeRequestOptions, environ: Mapping[str, str]) -> ProbeSettings:
    """The probe settings: the configuration's, with each flag given replacing its key.

    Raises:
        ProbeError: a flag is invalid, or the token's variable is not set.
    """
    probe = _base_settings(options.config).probe
    changes: dict[str, Any] = {}
    if options.trigger is not None:
        try:
            trigger = json.loads(options.trigger)
        except json.JSONDecodeError as exc:
            raise ProbeError(f"--trigger is not valid JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(trigger, dict):
            raise ProbeError("--trigger must be a JSON object")
        changes["trigger"] = trigger
    events = tuple(options.events) or probe.events
    if len(set(events)) != len(events):
        raise ProbeError("--event lists an event twice")
    terminal = options.terminal or (events[-1] if options.events else probe.terminal)
    if terminal not in events:
        raise ProbeError(f"--terminal {terminal!r} is not one of the expected events: {', '.join(events)}")
    changes.update(events=events, terminal=terminal)
    for name in ("budget_ms", "deadline", "connect_timeout"):
        value = getattr(options, name)
        if value is not None:
            changes[name] = value
    if options.percentile is not None:
        if options.percentile not in PERCENTILES:
            raise ProbeError(f"--percentile must be one of {', '.join(PERCENTILES)}, got {options.percentile!r}")
        changes["percentile"] = options.percentile
    changes["auth"] = _auth(probe.auth, options, environ)
    return replace(probe, **changes)


def _auth(configured: Auth, options: ProbeRequestOptions, environ: Mapping[str, str]) -> Auth:
    if options.token_query and options.token_header:
        raise ProbeError("send the token as a query parameter or a header: give --token-query or --token-header")
    if options.token_env is None:
        if options.token_query or options.token_header:
            raise ProbeError("--token-query and --token-header need --token-env NAME (the variable holding the token)")
        return configured
    if not environ.get(options.token_env):
        raise ProbeError(
            f"the environment variable {options.token_env} (named by --token-env) is not set or is empty; "
            "export the token in it"
        )
    query = options.token_query or (None if options.token_header else configured.query)
    header = options.token_header or (None if options.token_query else configured.header)
    if not (query or header):
        query = "token"
    # The fallback token of the configuration is dropped: a gate must never pass with a development token.
    return Auth(query=query, header=header, scheme=configured.scheme, token_env=options.token_env, token=None)


def ssl_context_for(url: str, cafile: Path | None) -> ssl.SSLContext | None:
    """The TLS context trusting the private CA in `cafile`, or None for the system's trust store."""
    if cafile is not None and not url.startswith("wss://"):
        raise ProbeError("--cafile is for wss:// URLs; this URL is not encrypted")
    if cafile is None:
        return None
    import ssl

    try:
        return ssl.create_default_context(cafile=str(cafile))
    except FileNotFoundError:
        raise ProbeError(f"--cafile {cafile}: file not found") from None
    except (OSError, ssl.SSLError) as exc:
        raise ProbeError(f"--cafile {cafile}: not a PEM certificate bundle ({exc})") from None


# -- running -------------------------------------------------------------------------------------


async def record_runs(
    url: str,
    probe: ProbeSettings,
    environ: Mapping[str, str],
    *,
    runs: int,
    ssl_context: ssl.SSLContext | None = None,
    observer: Any = None,
) -> list[Recording]:
    """Start `runs` agent runs one after the other; stop early when the server cannot be reached."""
    import asyncio

    from wiringcheck.probe import build_request, record_run

    recordings: list[Recording] = []
    for index in range(runs):
        if observer is not None:
            observer.phase_started("probe" if runs == 1 else f"probe {index + 1}/{runs}")
        request = build_request(url, probe, environ)
        async with asyncio.timeout(probe.connect_timeout + probe.deadline + 2.0):
            recording = await record_run(request, probe, ssl_context=ssl_context)
        recordings.append(recording)
        if recording.end == "connect_failed":
            break
    return recordings


def percentile(values: Sequence[float], name: str) -> float:
    """The nearest-rank percentile (``p50``, ``p95``) or the maximum (``max``) of non-empty `values`."""
    ordered = sorted(values)
    if name == "max":
        return ordered[-1]
    rank = math.ceil(float(name[1:]) / 100 * len(ordered))
    return ordered[max(rank, 1) - 1]


def _expectation(probe: ProbeSettings) -> Any:
    from wiringcheck.session import expectation_for

    return expectation_for(probe, latency="timestamp")


def _merge(findings: list[tuple[int, Finding]], runs: int) -> list[Finding]:
    """One finding per distinct message, saying in which runs it happened (only when there were several)."""
    if runs == 1:
        return [finding for _, finding in findings]
    grouped: dict[tuple[str, str], list[tuple[int, Finding]]] = {}
    for index, finding in findings:
        grouped.setdefault((finding.code, finding.message), []).append((index, finding))
    merged = []
    for occurrences in grouped.values():
        first = occurrences[0][1]
        where = (
            f"run {occurrences[0][0] + 1} of {runs}" if len(occurrences) == 1 else f"{len(occurrences)} of {runs} runs"
        )
        merged.append(replace(first, message=f"{where}: {first.message}"))
    return merged


def build_report(url: str, probe: ProbeSettings, recordings: Sequence[Recording], *, runs: int) -> Report:
    """The probe's report: one check for the connection and the run, one per expected event.

    With several runs, each event's latency is summarized as p50/p95/max (in
    ``report.extra["latency_ms"]``) and the budget applies to ``probe.percentile``.
    """
    from wiringcheck.events import check_events

    expectation = _expectation(probe)
    shown = shown_url(url)
    report = Report(kind="probe", target=f"url {shown}", budget_ms=probe.budget_ms)
    report.clock = f"wall clock: the event's {probe.timestamp_field!r} field to probe receive (assumes synced clocks)"
    report.extra.update(runs=runs, completed_runs=len(recordings), percentile=probe.percentile)

    verdicts: list[tuple[int, Verdict]] = []
    general: list[tuple[int, Finding]] = []
    for index, recording in enumerate(recordings):
        if recording.end == "connect_failed":
            general.append(
                (
                    index,
                    Finding(
                        code="WC401",
                        message=f"cannot connect to {shown}: {recording.error}",
                        hint="Check the URL and its path, the token (--token-env and how it is sent), "
                        "the certificate authority (--cafile), and that the server accepts WebSocket upgrades.",
                        subject="probe",
                    ),
                )
            )
            continue
        verdict = check_events(recording, expectation)
        verdicts.append((index, verdict))
        general.extend((index, finding) for finding in verdict.general)
    if len(recordings) < runs:
        report.extra["stopped"] = f"stopped after run {len(recordings)} of {runs}: the server could not be reached"

    probe_findings = _merge(general, runs)
    elapsed = sum(r.ended_at - r.trigger_at for r in recordings)
    report.add(_result("probe", probe_findings, elapsed))

    latencies: dict[str, dict[str, float | int]] = {}
    for event in probe.events:
        name = f"event: {event}"
        if not verdicts:
            report.add(
                CheckResult(name=name, phase="probe", status=Status.SKIPPED, reason="the probe could not connect")
            )
            continue
        samples = [
            record.latency_ms
            for _, verdict in verdicts
            for record in _first_of(verdict, event)
            if record.latency_ms is not None
        ]
        per_run = [
            (index, finding)
            for index, verdict in verdicts
            for finding in verdict.per_event.get(event, [])
            if runs == 1 or finding.code != "WC405"
        ]
        findings = _merge(per_run, runs)
        duration = 0.0
        if samples:
            summary = {key: round(percentile(samples, key), 3) for key in PERCENTILES}
            latencies[event] = {**summary, "samples": len(samples)}
            chosen = summary[probe.percentile]
            duration = chosen / 1000
            if runs > 1 and chosen > probe.budget_ms:
                findings.append(
                    Finding(
                        code="WC405",
                        message=(
                            f"{event} {probe.percentile} latency {chosen:g} ms is over the {probe.budget_ms:g} ms "
                            f"budget (p50 {summary['p50']:g}, p95 {summary['p95']:g}, max {summary['max']:g} ms "
                            f"over {len(samples)} runs)"
                        ),
                        hint="Something holds the event loop or the connection between emission and delivery "
                        "on some runs: look for blocking calls near the emitter, or a slow per-connection queue.",
                        subject=name,
                        evidence=tuple(f"run latency {value:g} ms" for value in samples),
                        data={"latency_ms": chosen},
                    )
                )
        report.add(_result(name, findings, duration))
    report.extra["latency_ms"] = latencies

    if verdicts:
        last = verdicts[-1][1]
        report.events = last.timeline
        report.timings = last.timings
    report.duration = elapsed
    return report


def _first_of(verdict: Verdict, event: str) -> list[Any]:
    """The first arrival of `event` in the probe's own run (the one the budget applies to)."""
    for record in verdict.timeline:
        if record.ours and record.type == event:
            return [record]
    return []


def _result(name: str, findings: list[Finding], duration: float) -> CheckResult:
    failed = any(f.severity.value == "error" for f in findings)
    return CheckResult(
        name=name,
        phase="probe",
        status=Status.FAILED if failed else Status.PASSED,
        findings=tuple(findings),
        duration=duration,
    )


# -- the command ---------------------------------------------------------------------------------


def probe_command(
    url: str,
    options: ProbeRequestOptions,
    *,
    fmt: str = "console",
    output: Path | None = None,
    json_path: Path | None = None,
    junit_path: Path | None = None,
    verbosity: int = 0,
    environ: Mapping[str, str] | None = None,
) -> int:
    """Probe `url` and write the report; returns the exit code (0 passed, 1 a check failed, 2 bad input)."""
    import asyncio

    from wiringcheck.cli import Format, render

    env = os.environ if environ is None else environ
    secrets: list[str] = []
    try:
        if not url.startswith(("ws://", "wss://")):
            raise ProbeError(f"URL must start with ws:// or wss://, got {shown_url(url)!r}")
        if options.runs < 1:
            raise ProbeError(f"--runs must be at least 1, got {options.runs}")
        probe = probe_settings(options, env)
        token = probe.auth.resolve(env) if probe.auth.enabled else None
        secrets = [token] if token else []
        context = ssl_context_for(url, options.cafile)
    except ProbeError as exc:
        _error(scrub(str(exc), secrets))
        return ExitCode.USAGE_ERROR

    chosen = Format(fmt)
    observer = None
    if chosen is Format.console and output is None and verbosity >= 0:
        from wiringcheck.render.console import ConsoleObserver, make_console

        observer = ConsoleObserver(make_console(sys.stderr), verbosity=verbosity)
    try:
        recordings = asyncio.run(
            record_runs(url, probe, env, runs=options.runs, ssl_context=context, observer=observer)
        )
    finally:
        if observer is not None:
            observer.close()
    report = build_report(url, probe, recordings, runs=options.runs)

    def text(kind: Format) -> str:
        if kind is Format.console:
            from wiringcheck.render.console import render as render_console

            to_terminal = output is None and sys.stdout.isatty() and "NO_COLOR" not in os.environ
            return scrub(render_console(report, verbosity=verbosity, color=to_terminal), secrets)
        return scrub(render(report, kind, verbosity=verbosity), secrets)

    try:
        for path, kind in ((json_path, Format.json), (junit_path, Format.junit), (output, chosen)):
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(text(kind), encoding="utf-8")
    except OSError as exc:
        _error(scrub(f"cannot write {exc.filename}: {exc.strerror or exc}", secrets))
        return ExitCode.USAGE_ERROR
    if output is None:
        sys.stdout.write(text(chosen))
    return int(report.exit_code)


def _error(message: str) -> None:
    sys.stderr.write(f"wiringcheck: error: {message}\n")
