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
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wiringcheck import runrules
from wiringcheck.boundedjson import loads
from wiringcheck.config import Auth, ProbeSettings, Settings, find_config, load_settings
from wiringcheck.errors import UsageError
from wiringcheck.events import (
    PERCENTILES,
    Latency,
    RecordingEnd,
    check_events,
    check_latency_summary,
    expectation_for,
    unreached_finding,
)
from wiringcheck.findings import CheckResult, Finding, Phase
from wiringcheck.report import Report
from wiringcheck.secrets import Secrets, mask_urls

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping, Sequence

    from wiringcheck.events import Recording, Verdict
    from wiringcheck.render import Outputs

__all__ = ["ProbeRequestOptions", "build_report", "probe_command"]


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
    assume_synced_clocks: bool = False


# -- settings ------------------------------------------------------------------------------------


def _base_settings(config: Path | None) -> Settings:
    """The configuration named, or the one found from the working directory, or the defaults."""
    if config is not None:
        return load_settings(config)
    found = find_config()
    return load_settings(found) if found is not None else Settings()


def probe_settings(options: ProbeRequestOptions, environ: Mapping[str, str]) -> ProbeSettings:
    """The probe settings: the configuration's, with each flag given replacing its key.

    Raises:
        UsageError: a flag is invalid, or the token's variable is not set.
    """
    probe = _base_settings(options.config).probe
    changes: dict[str, Any] = {}
    if options.trigger is not None:
        try:
            trigger = loads(options.trigger)
        except json.JSONDecodeError as exc:
            raise UsageError(f"--trigger is not valid JSON: {exc.msg} at column {exc.colno}") from None
        if not isinstance(trigger, dict):
            raise UsageError("--trigger must be a JSON object")
        changes["trigger"] = trigger
    events = tuple(options.events) or probe.events
    if len(set(events)) != len(events):
        raise UsageError("--event lists an event twice")
    terminal = options.terminal or (events[-1] if options.events else probe.terminal)
    if terminal not in events:
        raise UsageError(f"--terminal {terminal!r} is not one of the expected events: {', '.join(events)}")
    changes.update(events=events, terminal=terminal)
    for name in ("budget_ms", "deadline", "connect_timeout"):
        value = getattr(options, name)
        if value is not None:
            changes[name] = value
    if options.percentile is not None:
        if options.percentile not in PERCENTILES:
            raise UsageError(f"--percentile must be one of {', '.join(PERCENTILES)}, got {options.percentile!r}")
        changes["percentile"] = options.percentile
    changes["auth"] = _auth(probe.auth, options, environ)
    if options.assume_synced_clocks:
        changes["assume_synced_clocks"] = True
    return replace(probe, **changes)


def _auth(configured: Auth, options: ProbeRequestOptions, environ: Mapping[str, str]) -> Auth:
    if options.token_query and options.token_header:
        raise UsageError("send the token as a query parameter or a header: give --token-query or --token-header")
    if options.token_env is None:
        if options.token_query or options.token_header:
            raise UsageError("--token-query and --token-header need --token-env NAME (the variable holding the token)")
        return configured
    if not environ.get(options.token_env):
        raise UsageError(
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
        raise UsageError("--cafile is for wss:// URLs; this URL is not encrypted")
    if cafile is None:
        return None
    import ssl

    try:
        return ssl.create_default_context(cafile=str(cafile))
    except FileNotFoundError:
        raise UsageError(f"--cafile {cafile}: file not found") from None
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"--cafile {cafile}: not a PEM certificate bundle ({exc})") from None


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

    from wiringcheck.probe import start_run

    recordings: list[Recording] = []
    bound = probe.connect_timeout + probe.deadline + sum(step.timeout for step in probe.setup) + 2.0
    for index in range(runs):
        if observer is not None:
            observer.phase_started("probe" if runs == 1 else f"probe {index + 1}/{runs}")
        async with asyncio.timeout(bound):
            recording = await start_run(url, probe, environ, ssl_context=ssl_context)
        recordings.append(recording)
        if recording.end in (RecordingEnd.CONNECT_FAILED, RecordingEnd.AUTH_REJECTED):
            break
    return recordings


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


_CONNECT_HINT = (
    "Check the URL and its path, the token (--token-env and how it is sent), "
    "the certificate authority (--cafile), and that the server accepts WebSocket upgrades."
)


def build_report(url: str, probe: ProbeSettings, recordings: Sequence[Recording], *, runs: int) -> Report:
    """The probe's report: one check for the connection and the run, one per expected event.

    With several runs, each event's latency is summarized as p50/p95/max (in
    ``report.extra["latency_ms"]``) and the budget applies to ``probe.percentile``.
    The report is not scrubbed yet: `probe_command` does that before writing it.
    """
    expectation = expectation_for(probe, latency=Latency.TIMESTAMP)
    shown = mask_urls(url)
    report = Report(kind="probe", target=f"url {shown}", budget_ms=probe.budget_ms)
    report.clock = runrules.timestamp_clock(probe.timestamp_field, synced=probe.assume_synced_clocks)
    report.extra.update(runs=runs, completed_runs=len(recordings), percentile=probe.percentile)

    verdicts: list[tuple[int, Verdict]] = []
    general: list[tuple[int, Finding]] = []
    for index, recording in enumerate(recordings):
        unreached = unreached_finding(recording, shown, probe, hint=_CONNECT_HINT)
        if unreached is not None:
            general.append((index, unreached))
            continue
        verdict = check_events(recording, expectation)
        verdicts.append((index, verdict))
        general.extend((index, finding) for finding in verdict.general)
    if len(recordings) < runs:
        report.extra["stopped"] = f"stopped after run {len(recordings)} of {runs}: the server could not be reached"

    elapsed = sum(r.ended_at - r.trigger_at for r in recordings)
    report.add(CheckResult.judged("probe", Phase.PROBE, _merge(general, runs), duration=elapsed))

    latencies: dict[str, dict[str, float | int]] = {}
    for event in probe.events:
        name = f"event: {event}"
        if not verdicts:
            report.add(CheckResult.skipped(name, Phase.PROBE, "the probe could not connect"))
            continue
        firsts = (_first_of(verdict, event) for _, verdict in verdicts)
        samples = [record.latency_ms for record in firsts if record is not None and record.latency_ms is not None]
        per_run = [
            (index, finding)
            for index, verdict in verdicts
            for finding in verdict.per_event.get(event, [])
            if runs == 1 or finding.code != "WC405"
        ]
        findings = _merge(per_run, runs)
        duration = 0.0
        if samples:
            summary, over_budget = check_latency_summary(event, samples, expectation, probe.percentile)
            latencies[event] = summary
            duration = float(summary[probe.percentile]) / 1000
            if runs > 1:
                findings.extend(over_budget)
        report.add(CheckResult.judged(name, Phase.PROBE, findings, duration=duration))
    report.extra["latency_ms"] = latencies

    if verdicts:
        last = verdicts[-1][1]
        report.events = last.timeline
        report.timings = last.timings
    report.duration = elapsed
    return report


def _first_of(verdict: Verdict, event: str) -> Any:
    """The first arrival of `event` in the probe's own run (the one the budget applies to)."""
    return next((record for record in verdict.timeline if record.ours and record.type == event), None)


# -- the command ---------------------------------------------------------------------------------


def probe_command(
    url: str, options: ProbeRequestOptions, outputs: Outputs, *, environ: Mapping[str, str] | None = None
) -> int:
    """Probe `url` and write the report; returns the exit code (0 passed, 1 a check failed).

    Raises:
        UsageError: a flag, the URL or the configuration is unusable (exit 2).
    """
    import asyncio

    from wiringcheck.render import Format, write_outputs

    env = os.environ if environ is None else environ
    if not url.startswith(("ws://", "wss://")):
        raise UsageError(f"URL must start with ws:// or wss://, got {url!r}")
    if options.runs < 1:
        raise UsageError(f"--runs must be at least 1, got {options.runs}")
    probe = probe_settings(options, env)
    secrets = Secrets.from_settings(Settings(url=url, probe=probe), env)
    context = ssl_context_for(url, options.cafile)

    observer = None
    if outputs.format is Format.CONSOLE and outputs.output is None and outputs.verbosity >= 0:
        import sys

        from wiringcheck.render.console import ConsoleObserver, make_console

        observer = ConsoleObserver(make_console(sys.stderr), verbosity=outputs.verbosity)
    try:
        recordings = asyncio.run(
            record_runs(url, probe, env, runs=options.runs, ssl_context=context, observer=observer)
        )
    finally:
        if observer is not None:
            observer.close()
    captured = [value for recording in recordings for value in recording.secrets]
    if captured:  # a credential a setup step received is a secret too
        secrets = secrets.with_values(*captured)
    report = secrets.scrub(build_report(url, probe, recordings, runs=options.runs))
    write_outputs(report, outputs)
    return int(report.exit_code)
