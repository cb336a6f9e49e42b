"""Shared helpers of the integration tests: the repository's configs, and codes of a report."""

from __future__ import annotations

from pathlib import Path

from wiringcheck.config import Settings, load_settings
from wiringcheck.report import Report

REPO = Path(__file__).resolve().parents[2]
FAULTS = REPO / "fixtures" / "faults"

FAST_DEADLINE = 0.5
"""Run deadline for faults whose events never come: 100x the healthy run's few milliseconds."""


def healthy_settings() -> Settings:
    return load_settings(REPO / "pyproject.toml")


def fault_settings(name: str) -> Settings:
    return load_settings(FAULTS / name / "wiringcheck.toml").with_probe(deadline=FAST_DEADLINE)


def codes(report: Report) -> set[str]:
    return {finding.code for finding in report.findings}


def check(report: Report, name: str):
    return next(c for c in report.checks if c.name == name)
