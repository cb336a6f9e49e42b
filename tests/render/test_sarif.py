"""SARIF 2.1.0 rendering, validated against the schema shipped in wiringcheck/schemas."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from wiringcheck.codes import CODES
from wiringcheck.findings import CheckResult, Finding, Location, Severity, Status
from wiringcheck.render.sarif import render
from wiringcheck.report import Report

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "wiringcheck" / "schemas" / "sarif-2.1.0.json"


@pytest.fixture(name="schema", scope="module")
def _schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _report(*findings: Finding) -> Report:
    report = Report(kind="scan", target="/srv/app", extra={"root": "/srv/app"})
    report.add(CheckResult("scan: app/startup.py", "scan", Status.FAILED, tuple(findings)))
    return report


def _log(report: Report, schema: dict[str, Any]) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(render(report))
    jsonschema.Draft7Validator(schema).validate(log)
    return log


def test_schema_is_a_valid_draft7_schema(schema: dict[str, Any]) -> None:
    """The shipped schema is itself valid, and says it is a reduction of the official one."""
    jsonschema.Draft7Validator.check_schema(schema)

    assert "REDUCTION of the official OASIS SARIF 2.1.0" in schema["description"]


def test_empty_report_validates(schema: dict[str, Any]) -> None:
    """A report without findings is a valid log with an empty result list."""
    log = _log(Report(kind="scan", target="."), schema)

    assert ("2.1.0", []) == (log["version"], log["runs"][0]["results"])


def test_one_rule_per_code(schema: dict[str, Any]) -> None:
    """The driver lists every catalog code with its title and docs page."""
    rules = _log(_report(), schema)["runs"][0]["tool"]["driver"]["rules"]
    wc301 = next(rule for rule in rules if rule["id"] == "WC301")

    assert sorted(CODES) == sorted(rule["id"] for rule in rules)
    assert CODES["WC301"].title == wc301["shortDescription"]["text"]
    assert "docs/codes/WC301.md" == wc301["helpUri"]
    assert "AttributeMissingOnClass" == wc301["name"]


def test_result_location_and_level(schema: dict[str, Any]) -> None:
    """A finding becomes a result with a root-relative location, its level and a fingerprint."""
    finding = Finding(
        "WC301",
        "registry is AgentRegistry, which has no set_websocket_manager",
        Location("app/startup.py", 12, 8),
        hint="did you mean 'attach_websocket_manager'?",
        subject="registry.set_websocket_manager",
    )
    warning = Finding("WC300", "bad.py has a syntax error", Location("bad.py", 3), severity=Severity.WARNING)
    log = _log(_report(finding, warning), schema)
    run = log["runs"][0]
    first, second = run["results"]
    physical = first["locations"][0]["physicalLocation"]

    assert ("WC301", "error") == (first["ruleId"], first["level"])
    assert run["tool"]["driver"]["rules"][first["ruleIndex"]]["id"] == "WC301"
    assert {"uri": "app/startup.py", "uriBaseId": "%SRCROOT%"} == physical["artifactLocation"]
    assert {"startLine": 12, "startColumn": 8} == physical["region"]
    assert "file:///srv/app/" == run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
    assert "Hint: did you mean" in first["message"]["text"]
    assert "wiringcheck/v1" in first["partialFingerprints"]
    assert ("warning", {"startLine": 3}) == (second["level"], second["locations"][0]["physicalLocation"]["region"])


def test_finding_without_location(schema: dict[str, Any]) -> None:
    """A finding with no place validates with an empty location list."""
    log = _log(_report(Finding("WC306", "startup never calls registry.set_websocket_manager")), schema)

    assert [] == log["runs"][0]["results"][0]["locations"]


def test_scan_output_validates(schema: dict[str, Any], tmp_path: Path) -> None:
    """A real scan's report renders to a valid log."""
    from wiringcheck.scan import scan_paths

    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "app.py").write_text("class A: ...\ndef f(a: A):\n    a.gone()\n", encoding="utf-8")
    log = _log(scan_paths([tmp_path], cache=False), schema)

    assert ["WC301"] == [result["ruleId"] for result in log["runs"][0]["results"]]
