"""Shared helpers of the integration tests: the repository's configs, their shared reports, and codes of a report."""

from __future__ import annotations

import functools
from pathlib import Path

from wiringcheck.config import Settings, load_settings
from wiringcheck.report import Report
from wiringcheck.runner import run

REPO = Path(__file__).resolve().parents[2]
FAULTS = REPO / "fixtures" / "faults"

FAST_DEADLINE = 0.5
"""Run deadline for faults whose events never come: 100x the healthy run's few milliseconds."""


def healthy_settings() -> Settings:
    return load_settings(REPO / "pyproject.toml")


def fault_settings(name: str) -> Settings:
    return load_settings(FAULTS / name / "wiringcheck.toml").with_probe(deadline=FAST_DEADLINE)


@functools.cache
def healthy_report() -> Report:
    """One run of the reference backend, made once per test process and shared by every test that only reads it.

    A test that changes the settings, the environment or the backend runs its own.
    """
    return run(healthy_settings())


@functools.cache
def fault_report(name: str) -> Report:
    """One run of the fault `name` (`fault_settings`), made once per test process and shared by the tests that
    only read it: the catalog's exit code, codes, first cause and location, the messages' wording, the schema.

    A fault's report is the same whichever test asks first, so computing it once checks exactly what a run per
    test did, at a fifth of the cost (a fault whose events never come waits out `FAST_DEADLINE` each time).
    """
    return run(fault_settings(name))


def codes(report: Report) -> set[str]:
    return {finding.code for finding in report.findings}


def check(report: Report, name: str):
    return next(c for c in report.checks if c.name == name)
