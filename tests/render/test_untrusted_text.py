"""Text from the backend cannot write lines of its own into a CI log, break the XML, or put NaN in the JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from wiringcheck.findings import CheckResult, Finding, Phase
from wiringcheck.render import Format, printable
from wiringcheck.report import EventRecord, Report
from wiringcheck.run.recording import DEFAULT_EVENTS

HOSTILE = "bye\n::warning::pwned\r\nPASSED\x1b[2J\x00\u202eend"


def hostile_report() -> Report:
    report = Report(kind="run", target="app hostile:app", budget_ms=100.0)
    finding = Finding(code="WC408", message=f"the server closed with code 1011 ({HOSTILE})", evidence=(HOSTILE,))
    report.add(CheckResult.judged("probe", Phase.PROBE, [finding]))
    report.events = [EventRecord(0, DEFAULT_EVENTS[0], "r", float("nan"), float("inf"))]
    report.timings = {"time_to_first_event_ms": float("-inf")}
    return report


def test_printable_escapes_every_control_character():
    """Newlines, escape sequences, NUL and bidi overrides become visible escapes on one line."""
    assert "bye\\n::warning::pwned\\r\\nPASSED\\x1b[2J\\x00\\u202eend" == printable(HOSTILE)


def test_no_format_for_people_or_runners_lets_a_line_start_with_the_servers_text():
    """Console and GitHub output: no line is the server's '::warning::' command or a fake PASSED verdict."""
    for fmt in (Format.CONSOLE, Format.GITHUB):
        lines = fmt.render(hostile_report()).splitlines()

        assert [] == [line for line in lines if line.startswith("::warning::pwned") or line.strip() == "PASSED"]
        assert [] == [line for line in lines if "\x1b" in line or "\x00" in line]


def test_junit_stays_well_formed_xml():
    """NUL and escape characters in a frame would make the JUnit file unreadable; they are escaped."""
    ET.fromstring(Format.JUNIT.render(hostile_report()).encode())


def test_json_has_no_nan_or_infinity():
    """Non-finite numbers are null: JSON has none, and the report's schema allows none."""
    document = json.loads(Format.JSON.render(hostile_report()))

    assert (None, None, None) == (
        document["events"][0]["at_ms"],
        document["events"][0]["latency_ms"],
        document["timings"]["time_to_first_event_ms"],
    )
