"""The console report: its headline and its verdict line, from reports built by hand."""

from __future__ import annotations

from wiringcheck.findings import CheckResult, Finding, Location, Severity
from wiringcheck.render.console import render
from wiringcheck.report import Report

GUARD = Finding(
    code="WC107",
    message="RunManager has no attribute 'set_db_manager': the guarded block never runs",
    location=Location("app/startup.py", 41),
)
WIRE = Finding(code="WC211", message="wire does not hold: manager.db is store")
LOGGED = Finding(code="WC105", message="WARNING during boot from app: slow", severity=Severity.WARNING)


def lines(*checks: CheckResult) -> list[str]:
    report = Report(kind="run", target="app app:create_app", checks=list(checks))
    report.sort_by_cause()
    return render(report).splitlines()


def test_the_headline_names_the_cause_with_its_place():
    """The second line names the first cause's code, then its file:line, then what it says."""
    shown = lines(
        CheckResult.judged("wire: manager.db is store", "wires", [WIRE]),
        CheckResult.judged("startup guards", "startup", [GUARD]),
    )

    assert "FAILED first cause: WC107 app/startup.py:41 RunManager has no attribute 'set_db_manager'" in shown[1]


def test_the_verdict_counts_errors_and_warnings_apart():
    """Both are printed; the verdict says how many of each, not one count of 'findings' that are errors."""
    shown = lines(
        CheckResult.judged("wire: manager.db is store", "wires", [WIRE]),
        CheckResult.judged("logs", "logs", [LOGGED]),
    )

    assert shown[-1].startswith("FAILED 1 passed, 1 failed; 1 error, 1 warning")


def test_a_passing_run_with_warnings_says_so():
    """A run that passed with warnings counts them in its verdict."""
    shown = lines(CheckResult.judged("logs", "logs", [LOGGED]))

    assert "PASSED 1 passed; 1 warning" == shown[-1]
