"""The console report, for people: rich on a terminal, plain lines in CI or a pipe.

This is the only renderer that imports rich, and it does so lazily: `wiringcheck
--help` and the JSON path never pay for it.
"""

from __future__ import annotations

import os
import sys
from typing import IO, TYPE_CHECKING, Any, TextIO

from wiringcheck import __version__
from wiringcheck.findings import CheckResult, Finding, Severity, Status
from wiringcheck.render import finding_lines, shown_location
from wiringcheck.report import EventRecord, Report

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["ConsoleObserver", "make_console", "print_report", "render", "render_scan"]

_MARKS = {Status.PASSED: ("ok", "green"), Status.FAILED: ("FAIL", "bold red"), Status.SKIPPED: ("skip", "yellow")}


def interactive(stream: TextIO | IO[str]) -> bool:
    """Live display only on a real terminal outside CI."""
    return stream.isatty() and os.environ.get("CI", "").lower() not in {"1", "true", "yes"}


def make_console(stream: TextIO | None = None, *, color: bool | None = None) -> Console:
    from rich.console import Console

    stream = stream or sys.stdout
    live = interactive(stream)
    return Console(
        file=stream,
        force_terminal=color if color is not None else None,
        no_color=color is False or ("NO_COLOR" in os.environ and color is None),
        highlight=False,
        soft_wrap=not live,
        width=None if live else 120,
    )


class ConsoleObserver:
    """Shows progress while the run moves on.

    On a terminal (and not under ``CI=true``): a rich spinner naming the phase and the
    checks done so far. Elsewhere (a pipe, a CI log): one plain line per phase as it
    starts, so a log shows where a run was when it hung. ``-q`` (verbosity < 0) shows
    nothing until the verdict.
    """

    def __init__(self, console: Console, *, verbosity: int = 0) -> None:
        self.console = console
        self.verbosity = verbosity
        self.live = interactive(console.file) if hasattr(console.file, "isatty") else False
        self._status: Any = None
        self._phase = ""
        self._done = 0
        self._failed = 0

    def _text(self) -> str:
        failed = f", [red]{self._failed} failed[/]" if self._failed else ""
        done = f" [dim]({self._done} checks done{failed}[dim])[/]" if self._done else ""
        return f"{_escape(self._phase)}…{done}"

    def phase_started(self, phase: str) -> None:
        self._phase = phase
        if self.verbosity < 0:
            return
        if self.live:
            if self._status is None:
                self._status = self.console.status(self._text())
                self._status.start()
            else:
                self._status.update(self._text())
        else:
            self.console.print(f"[dim]… {_escape(phase)}[/]")

    def check_finished(self, check: CheckResult) -> None:
        self._done += 1
        self._failed += check.status is Status.FAILED
        if self.live and self.verbosity > 0:
            self.console.print(_check_line(check))
        if self._status is not None:
            self._status.update(self._text())

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


class LoadProgress:
    """Live progress of `wiringcheck load`: a rich status line on a terminal, a plain line every 5 s elsewhere."""

    PLAIN_EVERY = 5.0

    def __init__(self, console: Console, *, users: int) -> None:
        self.console = console
        self.users = users
        self.live = interactive(console.file) if hasattr(console.file, "isatty") else False
        self._status: Any = None
        self._printed_at = 0.0

    def _text(self, elapsed: float, runs: int, failed: int) -> str:
        rate = runs / elapsed if elapsed > 0 else 0.0
        failures = f"[red]{failed} failed[/]" if failed else "0 failed"
        return f"load: {elapsed:5.1f} s, {self.users} users, {runs} runs, {failures}, {rate:.0f} runs/s"

    def update(self, *, elapsed: float, runs: int, failed: int) -> None:
        text = self._text(elapsed, runs, failed)
        if self.live:
            if self._status is None:
                self._status = self.console.status(text)
                self._status.start()
            else:
                self._status.update(text)
        elif elapsed - self._printed_at >= self.PLAIN_EVERY:
            self._printed_at = elapsed
            self.console.print(f"[dim]… {text}[/]")

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
            self._status = None


def _check_line(check: CheckResult) -> str:
    mark, style = _MARKS[check.status]
    timed = check.status is not Status.SKIPPED and not check.reason.startswith("not timed")
    duration = f"{check.duration * 1000:7.1f} ms" if timed else " " * 10
    reason = f"  [dim]({check.reason})[/]" if check.reason else ""
    warnings = [f for f in check.findings if f.severity is not Severity.ERROR]
    note = f"  [yellow]{len(warnings)} warning(s)[/]" if warnings and check.status is not Status.FAILED else ""
    return f"  [{style}]{mark:>4}[/]  {duration}  {_escape(check.name)}{reason}{note}"


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _finding_block(console: Console, finding: Finding, *, verbose: bool) -> None:
    style = "bold red" if finding.severity is Severity.ERROR else "bold yellow"
    console.print(f"[{style}]{finding.code}[/] [bold]{_escape(finding.title)}[/]  [dim]{_escape(finding.subject)}[/]")
    lines = finding_lines(finding)
    labelled = [(label, text) for label, text in lines if label]
    for label, text in labelled:
        shown = f"[cyan]{_escape(text)}[/]" if label == "where" else _escape(text)
        console.print(f"    {label:<6} {shown}")
    evidence = finding.evidence if verbose else finding.evidence[:6]
    for line in evidence:
        console.print(f"           [dim]{_escape(line)}[/]")
    if len(finding.evidence) > len(evidence):
        console.print(f"           [dim]… {len(finding.evidence) - len(evidence)} more line(s) with -v[/]")


_TIMELINE_ROWS = 40
"""Frames the console's timeline shows at most: the first ones and the last five; JSON keeps them all."""


def _timeline(
    console: Console,
    report: Report,
    *,
    title: str = "events",
    events: list[EventRecord] | None = None,
    timings: dict[str, float | None] | None = None,
) -> None:
    from rich.table import Table

    table = Table(title=_escape(title), title_justify="left", box=None, pad_edge=False, show_edge=False)
    table.add_column("#", justify="right", style="dim")
    table.add_column("event")
    table.add_column("at", justify="right")
    table.add_column("latency", justify="right")
    table.add_column("")
    budget = report.budget_ms
    events = report.events if events is None else events
    timings = report.timings if timings is None else timings
    shown = events if len(events) <= _TIMELINE_ROWS else [*events[: _TIMELINE_ROWS - 5], *events[-5:]]
    for position, event in enumerate(shown):
        if position == _TIMELINE_ROWS - 5 and len(shown) < len(events):
            hidden = len(events) - len(shown)
            table.add_row("", f"[dim]… {hidden} more frames (all of them in --format json)[/]", "", "", "")
        latency = "[dim]not timed[/]" if event.latency_ms is None else f"{event.latency_ms:.1f} ms"
        if event.emission_ms is not None and event.sent_at_ms is not None and event.emitted_at_ms is not None:
            # emit → hand-off → receipt: which leg a slow event spent its time in.
            handoff = event.sent_at_ms - event.emitted_at_ms
            latency = f"{event.emission_ms:.1f} ms [dim](emit→send {handoff:.1f}, send→recv {latency})[/]"
        verdict = ""
        felt = event.emission_ms if event.emission_ms is not None else event.latency_ms
        if felt is not None and budget is not None:
            verdict = "[green]within budget[/]" if felt <= budget else f"[red]over {budget:g} ms[/]"
        name = _escape(event.type) if event.type else "[red](no type)[/]"
        if not event.ours:
            name = f"[dim]{name} (other run {_escape(str(event.run_id))})[/]" if event.type else name
        index = str(event.index)
        if event.implied:
            index, name, latency = "-", f"{name} [dim](implied by {_escape(event.implied)})[/]", "[dim]-[/]"
        at = f"+{event.at_ms:.1f} ms" if event.at_ms >= 0 else f"{-event.at_ms:.1f} ms before"  # a greeting frame
        table.add_row(index, name, at, latency, verdict)
    console.print(table)
    first, terminal = timings.get("time_to_first_event_ms"), timings.get("time_to_terminal_ms")
    parts = []
    if first is not None:
        parts.append(f"first event +{first:.1f} ms")
    if terminal is not None:
        parts.append(f"terminal +{terminal:.1f} ms")
    if report.clock:
        parts.append(f"clock: {report.clock}")
    if parts:
        console.print(f"[dim]{_escape('; '.join(parts))}[/]")


def _latency_table(console: Console, report: Report) -> None:
    """p50 / p95 / max delivery latency per event over several probe runs (``wiringcheck probe --runs``)."""
    from rich.table import Table

    runs = report.extra.get("runs", 1)
    chosen = str(report.extra.get("percentile", "max"))
    budget = report.budget_ms
    table = Table(
        title=f"latency over {runs} runs (budget applies to {chosen})",
        title_justify="left",
        box=None,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("event")
    for column in ("p50", "p95", "max"):
        table.add_column(f"[bold]{column}[/]" if column == chosen else column, justify="right")
    table.add_column("runs", justify="right")
    table.add_column("")
    for event, summary in report.extra["latency_ms"].items():
        value = summary.get(chosen)
        verdict = ""
        if budget is not None and value is not None:
            verdict = "[green]within budget[/]" if value <= budget else f"[red]over {budget:g} ms[/]"
        cells = [f"{summary[key]:.1f} ms" for key in ("p50", "p95", "max")]
        table.add_row(_escape(event), *cells, str(summary.get("samples", "")), verdict)
    console.print(table)
    if report.extra.get("stopped"):
        console.print(f"[yellow]{_escape(str(report.extra['stopped']))}[/]")


def _ms(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"


def _load_table(console: Console, report: Report) -> None:
    """Per-event counts and latency percentiles of a load test, and the test's totals."""
    from rich.table import Table

    load = report.extra["load"]
    table = Table(
        title=f"{load['runs']} runs of {load['users']} users in {load['duration_s']:g} s (latency in ms)",
        title_justify="left",
        box=None,
        pad_edge=False,
        show_edge=False,
    )
    table.add_column("event")
    for column in ("count", "p50", "p95", "p99", "max", "missing", "order", "dup"):
        table.add_column(column, justify="right")
    for event, stats in load["events"].items():
        table.add_row(
            _escape(event),
            str(stats["count"]),
            *(_ms(stats[key]) for key in ("p50", "p95", "p99", "max")),
            *(str(stats[key]) for key in ("missing", "out_of_order", "duplicates")),
        )
    console.print(table)
    rate = load["completion_rate"]
    completion = "-" if rate is None else f"{rate * 100:.1f}%"
    client = load["client"]
    lag = client["loop_lag_ms"]
    talk = "not checked" if load["cross_talk"] is None else load["cross_talk"]
    console.print(
        f"completion {completion}, {load['errors']} failed, {load['cut_off']} cut off at the end, "
        f"cross-talk {talk}, {load['runs_per_second']} runs/s; "
        f"client: {client['workers']} process(es), {client['cpu_ms_per_run']} ms CPU per run, "
        f"loop lag p99 {_ms(lag['p99'])} ms"
    )
    if report.extra.get("thresholds"):
        console.print(f"[dim]thresholds: {_escape(', '.join(report.extra['thresholds']))}[/]")


def print_report(console: Console, report: Report, *, verbosity: int = 0) -> None:
    """Print the report: checks, the event timeline, failure blocks, and the verdict."""
    if verbosity >= 0:
        console.print(f"[bold]wiringcheck {report.kind}[/] {_escape(report.target)}  [dim]({__version__})[/]")
        cause = report.first_cause
        if cause is not None:
            where = shown_location(cause.location)
            where = f" [cyan]{_escape(where)}[/]" if where else ""
            console.print(f"[bold red]FAILED[/] first cause: [bold]{cause.code}[/]{where} {_escape(cause.message)}")
        shown = report.checks if verbosity > 0 or len(report.checks) <= 40 else _interesting(report.checks)
        for check in shown:
            console.print(_check_line(check))
        if report.events:
            console.print()
            _timeline(console, report)
        for scenario in report.extra.get("scenarios", []):
            console.print()
            records = [EventRecord(**record) for record in scenario["events"]]
            title = f"events of scenario {scenario['name']}"
            _timeline(console, report, title=title, events=records, timings=scenario["timings"])
        if report.extra.get("latency_ms") and int(report.extra.get("runs", 1)) > 1:
            console.print()
            _latency_table(console, report)
        if report.kind == "load" and report.extra.get("load"):
            console.print()
            _load_table(console, report)
        problems = [f for f in report.findings if f.severity is Severity.ERROR or verbosity > 0]
        warnings = [f for f in report.findings if f.severity is not Severity.ERROR]
        if problems or warnings:
            console.print()
        for group in _grouped(problems) if verbosity <= 0 else [[f] for f in problems]:
            _finding_block(console, _merged(group) if len(group) > 1 else group[0], verbose=verbosity > 0)
        if verbosity <= 0:
            for finding in warnings:
                where = shown_location(finding.location)
                where = f" [cyan]{_escape(where)}[/]" if where else ""
                console.print(f"[yellow]{finding.code}[/]{where} {_escape(finding.message)}")
        _output(console, report, verbosity=verbosity)
        console.print()
    _verdict(console, report)


def _output(console: Console, report: Report, *, verbosity: int) -> None:
    """What the backend printed: a count by default, the text itself with -v."""
    if not report.output:
        return
    if verbosity <= 0:
        where = ", ".join(f"{o.stream} during {o.phase}" for o in report.output)
        lines = sum(len(o.lines) for o in report.output)
        console.print(f"[dim]the backend wrote {_plural(lines, 'line')} ({_escape(where)}); -v shows them[/]")
        return
    console.print()
    for item in report.output:
        console.print(f"[bold]the backend's {item.stream} during {_escape(item.phase)}[/]")
        for line in item.lines:
            console.print(f"  {_escape(line)}")


def _grouped(findings: list[Finding]) -> list[list[Finding]]:
    """Runs of findings with the same code and advice and no location, shown as one block.

    Five missing events are one story ("nothing arrived"); five identical blocks bury it.
    """
    groups: list[list[Finding]] = []
    for finding in findings:
        last = groups[-1][0] if groups else None
        if (
            last is not None
            and finding.location is None
            and last.location is None
            and (finding.code, finding.hint) == (last.code, last.hint)
        ):
            groups[-1].append(finding)
        else:
            groups.append([finding])
    return groups


def _merged(group: list[Finding]) -> Finding:
    from dataclasses import replace

    evidence = list(
        dict.fromkeys(line for finding in group for line in finding.evidence if "expected next" not in line)
    )
    return replace(
        group[0],
        subject=f"{len(group)}×: " + ", ".join(f.subject for f in group),
        message="; ".join(f.message for f in group),
        evidence=tuple(evidence),
    )


def _interesting(checks: list[CheckResult]) -> list[CheckResult]:
    return [c for c in checks if c.status is not Status.PASSED or c.findings]


def _verdict(console: Console, report: Report) -> None:
    counts = report.counts()
    summary = ", ".join(f"{n} {s.value}" for s, n in counts.items() if n)
    errors = sum(1 for f in report.findings if f.severity is Severity.ERROR)
    warnings = len(report.findings) - errors
    # Errors and warnings are counted apart: both are printed above, only errors fail the run.
    parts = [_plural(errors, "error")] if errors else []
    if warnings:
        parts.append(_plural(warnings, "warning"))
    found = f"; {', '.join(parts)}" if parts else ""
    seconds = f" in {report.duration:.2f} s" if report.duration else ""
    if report.ok and not counts[Status.PASSED]:
        console.print(f"[bold yellow]NOTHING CHECKED[/] {summary}{found}{seconds}")
    elif report.ok:
        console.print(f"[bold green]PASSED[/] {summary}{found}{seconds}")
    else:
        console.print(f"[bold red]FAILED[/] {summary}{found}{seconds} (exit {int(report.exit_code)})")


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def render_scan(report: Report, *, verbosity: int = 0) -> str:
    """A scan's findings one per line, as linters print them (``path:line: subject: WC301 title: message``)."""
    lines: list[str] = []
    for finding in report.findings:
        lines.append(finding.oneline())
        if verbosity > 0:
            if finding.hint:
                lines.append(f"    hint: {finding.hint}")
            lines.extend(f"    {item}" for item in finding.evidence)
    errors = sum(len(check.errors) for check in report.checks)
    warnings = len(report.findings) - errors
    summary = (
        f"wiringcheck scan: {_plural(errors, 'error')}, {_plural(warnings, 'warning')} "
        f"in {_plural(len(report.checks), 'file')} ({report.extra.get('lines', 0)} lines, {report.duration:.2f}s"
    )
    skipped = report.counts()[Status.SKIPPED]
    if skipped:
        summary += f", {skipped} skipped"
    baseline = report.extra.get("baseline")
    if isinstance(baseline, dict):
        summary += f", {baseline.get('excused', 0)} in baseline"
    lines.append(summary + ")")
    return "\n".join(lines) + "\n"


def render(report: Report, *, verbosity: int = 0, color: bool = False) -> str:
    """The console report as a string (for files and tests)."""
    import io

    if report.kind == "scan":
        return render_scan(report, verbosity=verbosity)
    buffer = io.StringIO()
    print_report(make_console(buffer, color=color), report, verbosity=verbosity)
    return buffer.getvalue()
