"""Reports that pipelines read: the JSON report against its published schema, JUnit through a JUnit parser."""

from __future__ import annotations

import json
from importlib import resources

import junitparser
import pytest
from jsonschema import Draft202012Validator

from wiringcheck.commands.probe import build_report
from wiringcheck.config import ProbeSettings
from wiringcheck.findings import Status
from wiringcheck.render.json import to_dict
from wiringcheck.render.junit import finding_text
from wiringcheck.render.junit import render as render_junit
from wiringcheck.run.recording import Frame, Recording
from wiringcheck.runner import run
from wiringcheck.scan import scan_paths

from .integration.helpers import FAULTS, fault_settings, healthy_settings


@pytest.fixture(name="schema", scope="module")
def _schema():
    """The schema file shipped inside the package (as users get it), checked against the metaschema."""
    text = resources.files("wiringcheck").joinpath("schemas/report.schema.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    Draft202012Validator.check_schema(schema)
    return schema


@pytest.fixture(name="reports", scope="module")
def _reports():
    """A healthy run, the seed's failing run, a probe of three runs, and a scan: one report of each kind."""
    return {
        "healthy": run(healthy_settings()),
        "legacy_setter": run(fault_settings("legacy_setter")),
        "probe": build_report(
            "wss://127.0.0.1:9/ws?token=x", ProbeSettings(), [_recording(i) for i in range(3)], runs=3
        ),
        "scan": scan_paths([FAULTS / "legacy_setter"], cache=False, jobs=1),
    }


def _recording(index: int) -> Recording:
    """A hand-made probe run: the five events, each stamped 1 ms before it arrived, plus one stray frame."""
    events = ["agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed"]
    frames = [
        Frame(
            received_at=10.0 + 0.001 * n,
            received_wall=1_000.0 + 0.001 * n,
            data=json.dumps({"type": name, "run_id": f"r{index}", "timestamp": 1_000.0 + 0.001 * n - 0.001}),
        )
        for n, name in enumerate(events)
    ]
    frames.append(Frame(received_at=10.01, received_wall=1_000.01, data="ping"))
    return Recording(run_id=f"r{index}", trigger_at=10.0, ended_at=10.02, frames=tuple(frames))


@pytest.mark.parametrize("kind", ["healthy", "legacy_setter", "probe", "scan"])
def test_json_report_validates_against_the_schema(schema, reports, kind):
    """Every kind of report, passing or failing, is valid under the published schema."""
    errors = sorted(Draft202012Validator(schema).iter_errors(to_dict(reports[kind])), key=str)

    assert [] == [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def test_failing_report_has_what_the_schema_promises(reports):
    """The seed's failing run: exit code 1, failed checks with coded findings, and logged warnings."""
    data = to_dict(reports["legacy_setter"])

    assert (1, False, 1) == (data["schema_version"], data["ok"], data["exit_code"])
    assert {"WC106", "WC211", "WC402", "WC409"} <= {f["code"] for c in data["checks"] for f in c["findings"]}
    assert any("emission blocked" in record["message"] for record in data["logs"])


def test_every_field_written_is_documented(schema, reports):
    """The renderer writes no field the schema does not describe (report, check, finding, event, log)."""
    data = to_dict(reports["legacy_setter"])
    defs = schema["$defs"]
    check = data["checks"][0]
    finding = next(f for c in data["checks"] for f in c["findings"])

    assert set(schema["properties"]) == set(data)
    assert set(defs["check"]["properties"]) == set(check)
    assert set(defs["finding"]["properties"]) == set(finding)
    assert set(defs["log"]["properties"]) == set(data["logs"][0])
    assert set(defs["event"]["properties"]) == set(to_dict(reports["healthy"])["events"][0])


def test_schema_rejects_a_report_of_another_version(schema, reports):
    """A consumer pinned to version 1 rejects a report that says it is version 2."""
    data = {**to_dict(reports["healthy"]), "schema_version": 2}

    assert not Draft202012Validator(schema).is_valid(data)


@pytest.mark.parametrize("kind", ["healthy", "legacy_setter", "probe"])
def test_junit_has_one_testcase_per_check(reports, kind):
    """JUnit parses with a JUnit parser, one testcase per check, named and timed as the check."""
    report = reports[kind]

    suites = junitparser.JUnitXml.fromstring(render_junit(report))

    (suite,) = list(suites)
    cases = list(suite)
    assert [c.name for c in report.checks] == [case.name for case in cases]
    assert [round(c.duration, 6) for c in report.checks] == [case.time for case in cases]
    assert (len(report.checks), report.counts()[Status.FAILED]) == (suite.tests, suite.failures)


def test_junit_failures_carry_the_findings_text(reports):
    """Each failed check's testcase carries its findings' what/where/why/do text; skips carry their reason."""
    report = reports["legacy_setter"]
    cases = {case.name: case for case in next(iter(junitparser.JUnitXml.fromstring(render_junit(report))))}

    for check in report.checks:
        results = cases[check.name].result
        if check.status is Status.FAILED:
            (failure,) = results
            assert isinstance(failure, junitparser.Failure)
            assert "\n\n".join(finding_text(f) for f in check.findings) == failure.text
            assert check.findings[0].code == failure.type
        elif check.status is Status.SKIPPED:
            (skipped,) = results
            assert check.reason == skipped.message
        else:
            assert [] == results
