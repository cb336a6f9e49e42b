"""A report's verdict: the exit code it maps to, and the counts and findings it summarizes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wiringcheck.findings import CheckResult, Finding, Severity, Status
from wiringcheck.report import ExitCode, Report

EXIT_CODES_DOC = Path(__file__).resolve().parent.parent / "docs" / "exit-codes.md"


def check(status: Status, phase: str = "wires", *findings: Finding, name: str = "") -> CheckResult:
    """A check result; failed ones get a WC211 finding unless given findings."""
    if status is Status.FAILED and not findings:
        findings = (Finding(code="WC211", message="wire does not hold"),)
    return CheckResult(name=name or f"{phase}: {status}", phase=phase, status=status, findings=findings)


def report(*checks: CheckResult) -> Report:
    return Report(kind="run", target="app fixtures.agentchat.app:create_app", checks=list(checks))


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        pytest.param([], ExitCode.OK, id="nothing checked"),
        pytest.param([check(Status.PASSED), check(Status.PASSED, "probe")], ExitCode.OK, id="all passed"),
        pytest.param([check(Status.SKIPPED, "roles"), check(Status.SKIPPED, "wires")], ExitCode.OK, id="all skipped"),
        pytest.param([check(Status.PASSED), check(Status.SKIPPED, "probe")], ExitCode.OK, id="passed and skipped"),
        pytest.param(
            [check(Status.PASSED, "logs", Finding(code="WC105", message="w", severity=Severity.WARNING))],
            ExitCode.OK,
            id="warnings only",
        ),
        pytest.param([check(Status.PASSED), check(Status.FAILED, "probe")], ExitCode.CHECK_FAILED, id="check failed"),
        pytest.param([check(Status.FAILED, "boot")], ExitCode.BOOT_FAILED, id="boot failed"),
        pytest.param(
            [check(Status.FAILED, "boot"), check(Status.FAILED, "contract"), check(Status.SKIPPED, "probe")],
            ExitCode.BOOT_FAILED,
            id="boot failed wins over other failures",
        ),
        pytest.param(
            [check(Status.SKIPPED, "boot"), check(Status.FAILED, "probe")],
            ExitCode.CHECK_FAILED,
            id="skipped boot is not a boot failure",
        ),
    ],
)
def test_exit_code(checks, expected):
    """Boot failed maps to 3, any other failed check to 1, passed or skipped checks to 0."""

    assert expected == report(*checks).exit_code


def test_exit_code_values_are_stable():
    """The exit codes are part of the CI contract: their numbers never change."""

    assert {"OK": 0, "CHECK_FAILED": 1, "USAGE_ERROR": 2, "BOOT_FAILED": 3, "INTERNAL_ERROR": 4} == {
        code.name: int(code) for code in ExitCode
    }


def test_every_exit_code_is_documented():
    """docs/exit-codes.md has one table row per exit code."""
    documented = re.findall(r"^\| `?(\d)`? \|", EXIT_CODES_DOC.read_text(encoding="utf-8"), flags=re.MULTILINE)

    assert [str(int(code)) for code in ExitCode] == documented


@pytest.mark.parametrize(
    ("checks", "expected"),
    [
        ([], True),
        ([check(Status.SKIPPED, "probe")], True),
        ([check(Status.PASSED), check(Status.FAILED)], False),
    ],
)
def test_ok(checks, expected):
    """A report is ok when no check failed, even if every check was skipped."""

    assert expected == report(*checks).ok


def test_counts_include_every_status():
    """Counts have an entry for every status, zero included, so renderers never miss a key."""
    counted = report(check(Status.PASSED), check(Status.PASSED, "probe"), check(Status.FAILED)).counts()

    assert {Status.PASSED: 2, Status.FAILED: 1, Status.SKIPPED: 0} == counted


def test_findings_in_check_order():
    """A report's findings are its checks' findings, flattened in the order the checks ran."""
    first = Finding(code="WC211", message="first")
    second = Finding(code="WC402", message="second")
    third = Finding(code="WC409", message="third")
    built = report(
        check(Status.FAILED, "wires", first),
        check(Status.PASSED, "roles"),
        check(Status.FAILED, "probe", second, third),
    )

    assert [first, second, third] == built.findings


def test_add_appends_a_check():
    """Checks are appended as the runner completes them."""
    built = report()
    result = check(Status.PASSED)

    built.add(result)

    assert [result] == built.checks


def finding(code: str, severity: Severity = Severity.ERROR) -> Finding:
    return Finding(code=code, message=f"{code} message", severity=severity)


def test_a_cause_leads_wherever_the_run_found_it():
    """A stored startup error (WC213, wires) and an unscheduled coroutine (WC110, the run) lead the symptoms."""
    built = report(
        check(Status.FAILED, "startup", finding("WC106"), name="startup call: registry.set_websocket_manager"),
        check(Status.FAILED, "wires", finding("WC211"), name="wire: bridge.manager is not None"),
        check(Status.FAILED, "wires", finding("WC213"), name="wire: state.startup_error is None"),
        check(Status.FAILED, "probe", finding("WC409"), name="probe"),
        check(Status.FAILED, "probe", finding("WC110"), name="probe: runtime errors"),
        check(Status.FAILED, "probe", finding("WC402"), name="event: agent_started"),
    )

    built.sort_by_cause()

    assert ["WC213", "WC110", "WC106", "WC211", "WC409", "WC402"] == [f.code for f in built.findings]
    assert "WC213" == built.first_cause.code


def test_symptoms_come_after_what_is_judged_on_its_own():
    """A missing call (a symptom) comes after a contract mismatch, although startup calls rank before contracts."""
    built = report(
        check(Status.FAILED, "startup", finding("WC106"), name="startup call: registry.set_websocket_manager"),
        check(Status.PASSED, "boot", name="boot"),
        check(Status.FAILED, "contract", finding("WC202"), name="contract: registry.set_websocket_manager"),
    )

    built.sort_by_cause()

    assert ["boot", "contract: registry.set_websocket_manager", "startup call: registry.set_websocket_manager"] == [
        c.name for c in built.checks
    ]


def test_within_a_check_the_cause_comes_first():
    """A check holding a symptom and its cause lists the cause first, and the headline names it."""
    built = report(check(Status.FAILED, "probe", finding("WC409"), finding("WC108"), name="probe"))

    built.sort_by_cause()

    assert (["WC108", "WC409"], "WC108") == ([f.code for f in built.findings], built.first_cause.code)


def test_a_warning_never_heads_the_report():
    """The headline names an error: a cause-kind warning (an unexplained guard) stays behind the errors."""
    built = report(
        check(Status.PASSED, "startup", finding("WC107", Severity.WARNING), name="startup guards"),
        check(Status.FAILED, "probe", finding("WC402"), name="event: agent_started"),
    )

    assert "WC402" == built.first_cause.code
