"""SARIF 2.1.0, the format code scanning services read (GitHub code scanning, Azure DevOps...).

One run, one rule per catalog code (its title, why it matters, and ``docs/codes/WCnnn.md``
as help), one result per finding with its location relative to the scanned root
(``%SRCROOT%``), and a line-move-robust fingerprint (the one baselines use).  The output
validates against ``wiringcheck/schemas/sarif-2.1.0.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

from wiringcheck.codes import CODES
from wiringcheck.findings import Finding, Severity
from wiringcheck.report import Report

__all__ = ["render"]

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.NOTE: "note"}


def _rule_name(title: str) -> str:
    """``attribute missing on class`` -> ``AttributeMissingOnClass`` (SARIF's rule names are identifiers)."""
    return "".join(word[:1].upper() + word[1:] for word in re.split(r"[^0-9A-Za-z]+", title) if word)


def _rules() -> list[dict[str, Any]]:
    return [
        {
            "id": code.code,
            "name": _rule_name(code.title),
            "shortDescription": {"text": code.title},
            "fullDescription": {"text": code.why},
            "helpUri": f"docs/codes/{code.code}.md",
            "defaultConfiguration": {"level": "warning" if code.code == "WC300" else "error"},
        }
        for code in CODES.values()
    ]


def _location(finding: Finding) -> list[dict[str, Any]]:
    location = finding.location
    if location is None or not location.path:
        return []
    path = Path(location.path)
    artifact: dict[str, Any]
    if path.is_absolute():
        artifact = {"uri": path.as_uri()}
    else:
        artifact = {"uri": PurePosixPath(*path.parts).as_posix(), "uriBaseId": "%SRCROOT%"}
    physical: dict[str, Any] = {"artifactLocation": artifact}
    if location.line is not None and location.line >= 1:
        region: dict[str, Any] = {"startLine": location.line}
        if location.column is not None and location.column >= 1:
            region["startColumn"] = location.column
        physical["region"] = region
    return [{"physicalLocation": physical}]


def _result(finding: Finding, index: dict[str, int]) -> dict[str, Any]:
    from wiringcheck.scan.baseline import fingerprint

    text = finding.message
    if finding.hint:
        text += f" Hint: {finding.hint}"
    result: dict[str, Any] = {
        "ruleId": finding.code,
        "level": _LEVELS[finding.severity],
        "message": {"text": text},
        "locations": _location(finding),
        "partialFingerprints": {"wiringcheck/v1": fingerprint(finding)},
    }
    if finding.code in index:
        result["ruleIndex"] = index[finding.code]
    if finding.subject or finding.evidence:
        result["properties"] = {"subject": finding.subject, "evidence": list(finding.evidence)}
    return result


def render(report: Report) -> str:
    """The report as a SARIF 2.1.0 log (JSON text)."""
    from wiringcheck import __version__

    rules = _rules()
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    root = str(report.extra.get("root") or report.target or "")
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "wiringcheck",
                "version": __version__,
                "informationUri": "https://pypi.org/project/wiringcheck/",
                "rules": rules,
            }
        },
        "invocations": [{"executionSuccessful": True}],
        "columnKind": "unicodeCodePoints",
        "results": [_result(finding, index) for finding in report.findings],
    }
    if root and Path(root).is_absolute():
        uri = Path(root).as_uri()
        run["originalUriBaseIds"] = {"%SRCROOT%": {"uri": uri if uri.endswith("/") else uri + "/"}}
    log = {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
    return json.dumps(log, indent=2) + "\n"
