"""`wiringcheck probe URL`: the pre-deploy smoke gate against a server that is already running.

It makes the same run as `wiringcheck run` (`run.drive`: setup steps, auth, the session)
against a URL (``ws://`` or ``wss://``, with a private CA from ``--cafile``) and judges
what arrives with the same judge. ``--runs N`` repeats the run and reports p50, p95 and
max delivery latency per event (from each event's timestamp field: the server is
another process), failing on the percentile the configuration names. ``--isolation``
(or ``[isolation] enabled``) runs K users at once in every run, and each
``[[scenarios]]`` table is run once after the runs, as `wiringcheck run` does.

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

from wiringcheck.boundedjson import loads
from wiringcheck.config import Auth, ProbeSettings, Settings, find_config, load_settings
from wiringcheck.errors import UsageError
from wiringcheck.findings import CheckResult, Finding, Phase
from wiringcheck.report import Report
from wiringcheck.run.judge import Verdict, expectation_for, judge, judge_isolation
from wiringcheck.run.recording import EMISSION_CHECK, EMIT_ELSEWHERE, NOT_STARTED, Latency, Recording, RecordingEnd
from wiringcheck.run.rules.clocks import timestamp_clock
from wiringcheck.run.rules.percentiles import PERCENTILES, check_latency_summary
from wiringcheck.run.rules.unreached import unreached_finding
from wiringcheck.secrets import Secrets, mask_urls

if TYPE_CHECKING:
    import ssl
    from collections.abc import Mapping, Sequence

    from wiringcheck.config import Scenario
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
    isolation: bool = False


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
    if cafile is not None and not url.startswith(("wss://", "https://")):
        raise UsageError("--cafile is for wss:// and https:// URLs; this URL is not encrypted")
    if cafile is None:
        return None
    import ssl

    try:
        return ssl.create_default_context(cafile=str(cafile))
    except FileNotFoundError:
        raise UsageError(f"--cafile {cafile}: file not found") from None
    except (OSError, ssl.SSLError) as exc:
        raise UsageError(f"--cafile {cafile}: not a PEM certificate bundle ({exc})") from None


def _transport_for(url: str, probe: ProbeSettings) -> ProbeSettings:
    """An http(s):// URL is an HTTP stream (SSE unless the configuration says NDJSON); a ws(s):// one a socket."""
    over_http = url.startswith(("http://", "https://"))
    if over_http and not probe.over_http:
        return replace(probe, transport="sse")
    if not over_http and probe.over_http:
        raise UsageError(f"{url!r} is a WebSocket URL, but probe.transport is {probe.transport!r}: give an http(s) URL")
    return probe


# -- running -------------------------------------------------------------------------------------


@dataclass(slots=True)
class ProbeRuns:
    """What the probe recorded: each run's recording, each run's users (with isolation), each scenario's run."""

    recordings: list[Recording]
    users: list[list[tuple[str, Recording]]]
    scenarios: list[tuple[Scenario, Recording]]


async def record_runs(
    url: str,
    settings: Settings,
    environ: Mapping[str, str],
    *,
    runs: int,
    ssl_context: ssl.SSLContext | None = None,
    observer: Any = None,
) -> ProbeRuns:
    """Make `runs` runs one after the other (each with every isolation user at once), then each scenario once.

    `probe.warmup` unjudged runs go first. Stops early when the server cannot be reached:
    the other runs would say the same.
    """
    import time

    from wiringcheck.run.drive import WARMUP_PHASE, perform, perform_users, warm_up

    users = _users(url, settings, environ) if settings.isolation.enabled else []
    probes = [probe for _, probe in users] or [settings.probe]
    recorded = ProbeRuns([], [], [])
    await warm_up(
        url,
        settings.probe,
        environ,
        ssl_context=ssl_context,
        before_each=(lambda: observer.phase_started(WARMUP_PHASE)) if observer is not None else None,
    )
    for index in range(runs):
        if observer is not None:
            observer.phase_started("probe" if runs == 1 else f"probe {index + 1}/{runs}")
        recordings = await perform_users(url, probes, environ, ssl_context=ssl_context, clock=time.monotonic)
        recorded.recordings.append(recordings[0])
        if users:
            recorded.users.append([(label, each) for (label, _), each in zip(users, recordings, strict=True)])
        if recordings[0].end in (RecordingEnd.CONNECT_FAILED, RecordingEnd.AUTH_REJECTED):
            return recorded
    for scenario in settings.scenarios:
        if observer is not None:
            observer.phase_started(f"scenario {scenario.name}")
        recorded.scenarios.append((scenario, await perform(url, scenario.probe, environ, ssl_context=ssl_context)))
    return recorded


def _users(url: str, settings: Settings, environ: Mapping[str, str]) -> list[tuple[str, ProbeSettings]]:
    from wiringcheck.isolation import users_of

    return [(user.label, user.probe) for user in users_of(url, settings, environ)]


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


def build_report(
    url: str,
    probe: ProbeSettings,
    recordings: Sequence[Recording],
    *,
    runs: int,
    users: Sequence[Sequence[tuple[str, Recording]]] = (),
    scenarios: Sequence[tuple[Scenario, Recording]] = (),
) -> Report:
    """The probe's report: one check for the connection and the run, one per expected event.

    With several runs, each event's latency is summarized as p50/p95/max (in
    ``report.extra["latency_ms"]``) and the budget applies to ``probe.percentile``.
    With `users` (each run's isolation users, the probe's first), an ``isolation``
    check; with `scenarios`, each scenario's checks, as `wiringcheck run` reports them.
    The report is not scrubbed yet: `probe_command` does that before writing it.
    """
    expectation = expectation_for(probe, latency=Latency.TIMESTAMP)
    shown = mask_urls(url)
    report = Report(kind="probe", target=f"url {shown}", budget_ms=probe.budget_ms)
    report.clock = timestamp_clock(probe.timestamp_field, synced=probe.assume_synced_clocks)
    report.extra.update(runs=runs, completed_runs=len(recordings), percentile=probe.percentile)

    verdicts: list[tuple[int, Verdict]] = []
    general: list[tuple[int, Finding]] = []
    for index, recording in enumerate(recordings):
        unreached = unreached_finding(recording, shown, probe.auth, hint=_CONNECT_HINT)
        if unreached is not None:
            general.append((index, unreached))
            continue
        verdict = judge(recording, expectation)
        verdicts.append((index, verdict))
        general.extend((index, finding) for finding in verdict.general)
    if len(recordings) < runs:
        report.extra["stopped"] = f"stopped after run {len(recordings)} of {runs}: the server could not be reached"

    if verdicts and not any(
        record.ours and record.latency_ms is not None for _, verdict in verdicts for record in verdict.timeline
    ):
        report.clock = timestamp_clock(probe.timestamp_field, synced=probe.assume_synced_clocks, timed=False)
    elapsed = sum(r.ended_at - r.trigger_at for r in recordings)
    report.add(CheckResult.judged("probe", Phase.PROBE, _merge(general, runs), duration=elapsed))
    if probe.emit:
        report.add(CheckResult.skipped(EMISSION_CHECK, Phase.PROBE, EMIT_ELSEWHERE))

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

    if users:
        isolation = [
            (index, finding)
            for index, labelled in enumerate(users)
            if labelled[0][1].end not in NOT_STARTED
            for finding in judge_isolation(labelled, expectation)[0]
        ]
        report.add(CheckResult.judged("isolation", Phase.PROBE, _merge(isolation, runs), duration=0.0))
    for scenario, recording in scenarios:
        _add_scenario(report, shown, scenario, recording)
    if verdicts:
        last = verdicts[-1][1]
        report.events = last.timeline
        report.timings = last.timings
    report.duration = elapsed
    return report


def _add_scenario(report: Report, shown: str, scenario: Scenario, recording: Recording) -> None:
    """A scenario's run, reported as `wiringcheck run` reports it: its probe check and one check per event."""
    prefix = f"scenario {scenario.name}: "
    probe = scenario.probe
    unreached = unreached_finding(recording, shown, probe.auth, hint=_CONNECT_HINT)
    elapsed = recording.ended_at - recording.trigger_at
    if unreached is not None:
        report.add(CheckResult.judged(f"{prefix}probe", Phase.PROBE, [unreached], duration=elapsed))
        for event in probe.events:
            report.add(CheckResult.skipped(f"{prefix}event: {event}", Phase.PROBE, "the probe could not start a run"))
        return
    verdict = judge(recording, expectation_for(probe, latency=Latency.TIMESTAMP))
    report.add(CheckResult.judged(f"{prefix}probe", Phase.PROBE, verdict.general, duration=elapsed))
    for event, findings in verdict.per_event.items():
        report.add(CheckResult.judged(f"{prefix}event: {event}", Phase.PROBE, findings))
    report.extra.setdefault("scenarios", []).append({"name": scenario.name, "run_id": verdict.run_id or recording.id})


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
    if not url.startswith(("ws://", "wss://", "http://", "https://")):
        raise UsageError(f"URL must start with ws://, wss:// (a WebSocket) or http(s):// (an HTTP stream), got {url!r}")
    if options.runs < 1:
        raise UsageError(f"--runs must be at least 1, got {options.runs}")
    probe = _transport_for(url, probe_settings(options, env))
    base = _base_settings(options.config)
    isolation = replace(base.isolation, enabled=True) if options.isolation else base.isolation
    # A scenario sends what the flags say the probe sends: the same credentials, the same clocks.
    scenarios = tuple(
        replace(
            each,
            probe=replace(
                each.probe,
                auth=probe.auth,
                connect_timeout=probe.connect_timeout,
                assume_synced_clocks=probe.assume_synced_clocks,
            ),
        )
        for each in base.scenarios
    )
    settings = replace(base, url=url, app=None, boot=None, probe=probe, isolation=isolation, scenarios=scenarios)
    secrets = Secrets(settings.credentials(env))
    context = ssl_context_for(url, options.cafile)

    observer = None
    if outputs.format is Format.CONSOLE and outputs.output is None and outputs.verbosity >= 0:
        import sys

        from wiringcheck.render.console import ConsoleObserver, make_console

        observer = ConsoleObserver(make_console(sys.stderr), verbosity=outputs.verbosity)
    try:
        recorded = asyncio.run(
            record_runs(url, settings, env, runs=options.runs, ssl_context=context, observer=observer)
        )
    finally:
        if observer is not None:
            observer.close()
    everything = [
        *recorded.recordings,
        *(each for labelled in recorded.users for _, each in labelled),
        *(each for _, each in recorded.scenarios),
    ]
    captured = [value for recording in everything for value in recording.secrets]
    if captured:  # a credential a setup step received is a secret too
        secrets = secrets.with_values(*captured)
    report = build_report(
        url, probe, recorded.recordings, runs=options.runs, users=recorded.users, scenarios=recorded.scenarios
    )
    report = secrets.scrub(report)
    write_outputs(report, outputs)
    return int(report.exit_code)
