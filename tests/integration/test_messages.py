"""Every finding reads right for its target kind: the backend's frames only, no advice about what is not there.

The fault catalog (app targets), boot targets that crash or hang, and a url target:
each finding they produce is checked for the faults messages used to have.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from wiringcheck.config import load_settings
from wiringcheck.findings import Finding
from wiringcheck.report import Report
from wiringcheck.runner import run

from .helpers import FAULTS, REPO, fault_settings

_OWN_FRAMES = re.compile(r"(?:^|[\s/])(?:wiringcheck|typer|click|_pytest|pluggy)/[\w/]+\.py")


def problems(finding: Finding, kind: str) -> list[str]:
    """What is wrong with one finding's text, for a target of `kind`."""
    texts = [finding.message, finding.hint, *finding.evidence]
    found = []
    if any(_OWN_FRAMES.search(text) for text in texts):
        found.append("shows wiringcheck's own (or its CLI's) frames")
    if finding.location is not None and "/wiringcheck/" in finding.location.path:
        found.append("points into wiringcheck itself")
    if re.search(r"raised during (\w+): .*\1", finding.message) or "startup raised during startup" in finding.message:
        found.append("says the phase twice")
    if "line above" in finding.hint or ("this line" in finding.hint and finding.location is None):
        found.append("points at a line it does not give")
    if kind != "app" and "lifespan" in f"{finding.message} {finding.hint}":
        found.append("talks about a lifespan the target does not have")
    return found


def all_problems(report: Report, kind: str) -> list[str]:
    return [f"{f.code}: {problem}" for f in report.findings for problem in problems(f, kind)]


@pytest.mark.parametrize("name", sorted(p.name for p in FAULTS.iterdir() if (p / "wiringcheck.toml").is_file()))
def test_fault_messages_read_right(name):
    """The catalog's app faults: no finding shows wiringcheck's frames, doubles a phase, or points at no line."""
    assert [] == all_problems(run(fault_settings(name)), "app")


@pytest.mark.parametrize(
    ("boot", "code"),
    [("fixtures.boot_target.faults:crashing_boot", "WC101"), ("fixtures.boot_target.faults:hanging_shutdown", "WC103")],
)
def test_boot_target_messages_speak_of_the_boot_function(boot, code):
    """A boot target's crash names the boot function, and its shutdown advice never mentions a lifespan."""
    settings = load_settings(Path(REPO / "fixtures" / "boot_target" / "wiringcheck.toml")).with_target(boot=boot)
    from dataclasses import replace

    report = run(replace(settings, shutdown_timeout=0.5))

    assert code in {f.code for f in report.findings}
    assert [] == all_problems(report, "boot")
    if code == "WC101":
        assert "the boot function raised RuntimeError: model server unreachable" in report.findings[0].message
