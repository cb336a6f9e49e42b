"""JUnit XML, as GitHub, GitLab and Jenkins display it: one testcase per check.

Failures carry the finding's full text (what, where, why, do); skipped checks
carry their reason; the testcase time is the check's duration.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from wiringcheck import __version__
from wiringcheck.findings import CheckResult, Severity, Status
from wiringcheck.render import finding_text
from wiringcheck.report import Report

__all__ = ["finding_text", "render"]


def _classname(check: CheckResult) -> str:
    return f"wiringcheck.{check.phase}"


def render(report: Report) -> str:
    counts = report.counts()
    suite = ET.Element(
        "testsuite",
        name=f"wiringcheck {report.kind}",
        tests=str(len(report.checks)),
        failures=str(counts[Status.FAILED]),
        errors="0",
        skipped=str(counts[Status.SKIPPED]),
        time=f"{report.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    ET.SubElement(properties, "property", name="target", value=report.target)
    ET.SubElement(properties, "property", name="version", value=__version__)
    if report.clock:
        ET.SubElement(properties, "property", name="clock", value=report.clock)
    for check in report.checks:
        case = ET.SubElement(
            suite, "testcase", classname=_classname(check), name=check.name, time=f"{check.duration:.6f}"
        )
        errors = [f for f in check.findings if f.severity is Severity.ERROR]
        if check.status is Status.FAILED:
            first = errors[0] if errors else check.findings[0]
            failure = ET.SubElement(case, "failure", message=f"{first.code} {first.message}", type=first.code)
            failure.text = "\n\n".join(finding_text(f) for f in check.findings)
        elif check.status is Status.SKIPPED:
            ET.SubElement(case, "skipped", message=check.reason or "skipped")
        others = [f for f in check.findings if f.severity is not Severity.ERROR]
        if others and check.status is not Status.FAILED:
            output = ET.SubElement(case, "system-out")
            output.text = "\n\n".join(finding_text(f) for f in others)
    root = ET.Element("testsuites", name="wiringcheck", tests=suite.get("tests", "0"), time=suite.get("time", "0"))
    root.append(suite)
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
