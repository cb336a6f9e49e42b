"""`wiringcheck probe`: flags, percentiles, the report of several runs, and the token scrubbed from everything.

The TLS gate against the reference backend is in `test_probe_tls.py`; here a tiny
loopback server that echoes the request (token included) back as an event makes sure
that a token reaching the report is still never written.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator

import pytest

from wiringcheck.cli import main
from wiringcheck.commands.probe import build_report
from wiringcheck.config import ProbeSettings
from wiringcheck.findings import Status
from wiringcheck.render.console import ConsoleObserver, make_console
from wiringcheck.report import ExitCode
from wiringcheck.run.recording import Frame, Recording
from wiringcheck.run.rules.percentiles import percentile
from wiringcheck.secrets import Secrets, mask_urls

from .conftest import MS

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")


@pytest.mark.parametrize(
    ("values", "name", "expected"),
    [
        ([5.0], "p50", 5.0),
        ([5.0], "max", 5.0),
        ([1.0, 2.0, 3.0, 4.0], "p50", 2.0),
        ([4.0, 3.0, 2.0, 1.0], "max", 4.0),
        ([float(n) for n in range(1, 21)], "p95", 19.0),
        ([float(n) for n in range(1, 101)], "p95", 95.0),
        ([float(n) for n in range(1, 101)], "p50", 50.0),
    ],
)
def test_percentile_is_nearest_rank(values, name, expected):
    """p50 and p95 are nearest-rank percentiles (a value that was measured), max is the largest."""
    assert expected == percentile(values, name)


def test_shown_url_hides_every_query_value():
    """A URL is printed with its query values replaced, since any of them may be a token."""
    assert "wss://h:1/ws?token=***&x=***" == mask_urls("wss://h:1/ws?token=abc&x=1")
    assert "ws://h/ws" == mask_urls("ws://h/ws")


def test_scrub_replaces_the_token_and_its_url_encodings():
    """The token is replaced as written, percent-encoded and form-encoded."""
    secret = "a+b/c d"

    text = Secrets([secret]).scrub_text(f"1 {secret} 2 a%2Bb%2Fc%20d 3 a%2Bb%2Fc+d")

    assert "1 *** 2 *** 3 ***" == text


def SYNCED(**changes: object) -> ProbeSettings:
    """Probe settings that trust the timestamps: these recordings model synced clocks and absolute latencies."""
    return ProbeSettings(assume_synced_clocks=True, **changes)  # type: ignore[arg-type]


def _recording(run: int, latencies_ms: tuple[float, ...], *, missing: str | None = None) -> Recording:
    """A run whose events arrive with the given delivery latencies (from their timestamp field)."""
    frames = []
    for index, (event, latency) in enumerate(zip(EVENTS, latencies_ms, strict=True)):
        if event == missing:
            continue
        wall = 1_000.0 + index * 0.01
        message = {"type": event, "run_id": f"r{run}", "timestamp": wall - latency / 1000}
        frames.append(Frame(received_at=5.0 + index * 0.01, received_wall=wall, data=json.dumps(message)))
    end = "terminal" if missing != EVENTS[-1] else "deadline"
    return Recording(run_id=f"r{run}", trigger_at=5.0, ended_at=5.1, frames=tuple(frames), end=end)


def test_several_runs_fail_on_the_configured_percentile():
    """One slow run in ten puts max over budget but not p50: only the percentile configured decides."""
    runs = [_recording(n, (1.0,) * 5) for n in range(9)] + [_recording(9, (1.0, 1.0, 1.0, 1.0, 400.0))]

    by_p50 = build_report("ws://h/ws", SYNCED(percentile="p50"), runs, runs=10)
    by_max = build_report("ws://h/ws", SYNCED(percentile="max"), runs, runs=10)

    assert Status.PASSED == by_p50.checks[-1].status
    assert Status.FAILED == by_max.checks[-1].status
    (finding,) = by_max.checks[-1].findings
    assert "WC405" == finding.code
    assert "agent_completed max latency 400 ms is over the 100 ms budget" in finding.message
    assert {"p50": 1.0, "p95": 400.0, "max": 400.0, "samples": 10} == by_max.extra["latency_ms"]["agent_completed"]


def test_findings_repeated_across_runs_are_merged_with_their_count():
    """An event missing from two of three runs is one finding saying so, not two copies."""
    runs = [_recording(0, (1.0,) * 5), *(_recording(n, (1.0,) * 5, missing="agent_thinking") for n in (1, 2))]

    report = build_report("ws://h/ws", SYNCED(), runs, runs=3)

    check = next(c for c in report.checks if c.name == "event: agent_thinking")
    assert ["2 of 3 runs: agent_thinking never arrived after agent_started"] == [f.message for f in check.findings]


def test_a_single_run_reads_like_wiringcheck_run():
    """With one run, findings are the event checker's own, unprefixed, and the budget applies per event."""
    report = build_report("ws://h/ws", SYNCED(), [_recording(0, (1.0, 1.0, 250.0, 1.0, 1.0))], runs=1)

    (finding,) = next(c for c in report.checks if c.name == "event: tool_executing").findings
    assert finding.message.startswith("tool_executing took 250 ms")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["probe", "ftp://127.0.0.1:9/ws"], "URL: 'ftp://127.0.0.1:9/ws' is not of the form"),
        (
            ["probe", "ws://127.0.0.1:9/ws", "--token-env", "WC_UNSET_VARIABLE"],
            "WC_UNSET_VARIABLE (named by --token-env) is not set",
        ),
        (["probe", "ws://127.0.0.1:9/ws", "--cafile", "ca.pem"], "--cafile is for wss:// and https:// URLs"),
        (["probe", "wss://127.0.0.1:9/ws", "--cafile", "missing.pem"], "--cafile missing.pem: file not found"),
        (["probe", "ws://127.0.0.1:9/ws", "--trigger", "{nope"], "--trigger is not valid JSON"),
        (["probe", "ws://127.0.0.1:9/ws", "--event", "a", "--event", "a"], "--event lists an event twice"),
        (["probe", "ws://127.0.0.1:9/ws", "--percentile", "p99"], "--percentile must be one of p50, p95, max"),
        (["probe", "ws://127.0.0.1:9/ws", "--token-header", "X-Token"], "need --token-env NAME"),
    ],
)
def test_bad_input_is_a_one_line_error_with_exit_two(tmp_path, monkeypatch, capsys, args, message):
    """Each bad flag gets one line on stderr naming the flag, and exit 2, before anything connects."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("WC_UNSET_VARIABLE", raising=False)

    code = main(args)

    err = capsys.readouterr().err
    assert ExitCode.USAGE_ERROR == code
    assert message in err
    assert "Traceback" not in err


def test_nothing_listening_is_a_finding_and_stops_the_runs(tmp_path, monkeypatch, capsys):
    """A refused connection is a WC401 finding (exit 1), and the remaining runs are not attempted."""
    monkeypatch.chdir(tmp_path)

    code = main(["probe", "ws://127.0.0.1:9/ws", "--runs", "5", "--format", "json", "--connect-timeout", "2"])

    data = json.loads(capsys.readouterr().out)
    assert ExitCode.CHECK_FAILED == code
    assert (5, 1) == (data["extra"]["runs"], data["extra"]["completed_runs"])
    assert ["WC401"] == [f["code"] for c in data["checks"] for f in c["findings"]]


@pytest.fixture(name="echo_url")
def _echo_url() -> Iterator[str]:
    """A loopback WebSocket server that sends the request path (token included) back, then the five events."""
    from websockets.sync.server import serve

    def handler(connection):
        trigger = json.loads(connection.recv(timeout=5000 * MS))
        connection.send(json.dumps({"echo": connection.request.path}))  # no type: shown as evidence
        for event in EVENTS:
            connection.send(json.dumps({"type": event, "run_id": trigger["run_id"]}))

    with serve(handler, "127.0.0.1", 0) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield f"ws://127.0.0.1:{server.socket.getsockname()[1]}/ws"
        finally:
            server.shutdown()
            thread.join(timeout=5000 * MS)


@pytest.mark.parametrize("fmt", ["console", "json", "junit", "github"])
def test_a_token_the_server_echoes_is_still_scrubbed(echo_url, tmp_path, monkeypatch, capsys, fmt):
    """Even when the server sends the token back and it lands in a finding's evidence, no output shows it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WC_ECHO_TOKEN", "tok-echoed-5e5e5e")
    files = [tmp_path / "report.json", tmp_path / "report.xml"]

    args = ["--token-env", "WC_ECHO_TOKEN", "--format", fmt, "-v", "--json", str(files[0]), "--junit", str(files[1])]

    code = main(["probe", echo_url, *args])

    captured = capsys.readouterr()
    outputs = [captured.out, captured.err, *(path.read_text() for path in files)]
    assert ExitCode.CHECK_FAILED == code  # the echo frame has no type: a WC407 finding carrying the path
    assert "token=***" in files[0].read_text()
    assert [] == [text for text in outputs if "tok-echoed-5e5e5e" in text]


class _Terminal(io.StringIO):
    """A stream that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("ci", "expected"), [(None, True), ("true", False)])
def test_live_display_only_on_a_terminal_outside_ci(monkeypatch, ci, expected):
    """On a terminal the progress is live (a spinner), but under CI=true it is plain lines."""
    if ci is None:
        monkeypatch.delenv("CI", raising=False)
    else:
        monkeypatch.setenv("CI", ci)

    observer = ConsoleObserver(make_console(_Terminal()))

    assert expected == observer.live


@pytest.mark.parametrize(("verbosity", "expected"), [(0, ["… boot", "… probe"]), (-1, [])])
def test_plain_progress_is_one_line_per_phase_and_quiet_shows_none(monkeypatch, verbosity, expected):
    """Off a terminal each phase prints one plain line as it starts; -q prints nothing before the verdict."""
    monkeypatch.delenv("CI", raising=False)
    stream = io.StringIO()
    observer = ConsoleObserver(make_console(stream), verbosity=verbosity)

    for phase in ("boot", "probe"):
        observer.phase_started(phase)
    observer.close()

    assert expected == stream.getvalue().splitlines()


def test_probe_progress_goes_to_stderr(echo_url, tmp_path, monkeypatch, capsys):
    """The probe's progress lines go to stderr, so stdout holds only the report."""
    monkeypatch.chdir(tmp_path)

    main(["probe", echo_url, "--runs", "2"])

    captured = capsys.readouterr()
    assert ["… probe 1/2", "… probe 2/2"] == captured.err.splitlines()
    assert captured.out.startswith("wiringcheck probe url ws://127.0.0.1:")
