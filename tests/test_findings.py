"""The result vocabulary: locations, findings, check results, and the catalog of codes they use."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from wiringcheck.codes import CODES
from wiringcheck.findings import CheckResult, Finding, Location, Severity, Status

DOCS = Path(__file__).resolve().parent.parent / "docs" / "codes"

# -- Location --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (Location("app/startup.py"), "app/startup.py"),
        (Location("app/startup.py", 88), "app/startup.py:88"),
        (Location("app/startup.py", 88, 5), "app/startup.py:88:5"),
        (Location("app/startup.py", None, 5), "app/startup.py"),
        (Location("wiringcheck.toml", 0), "wiringcheck.toml:0"),
    ],
)
def test_location_str(location, expected):
    """A location prints as path[:line[:column]], the way compilers and linters do."""

    assert expected == str(location)


# -- Finding ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finding", "expected"),
    [
        (
            Finding(
                code="WC203",
                message="AgentRegistry.set_websocket_manager is async def, but the contract calls it without await",
                location=Location("app/registry.py", 42),
                subject="registry.set_websocket_manager",
            ),
            "app/registry.py:42: registry.set_websocket_manager: WC203 async mismatch: "
            "AgentRegistry.set_websocket_manager is async def, but the contract calls it without await",
        ),
        (
            Finding(code="WC402", message="tool_completed never arrived", subject="event: tool_completed"),
            "event: tool_completed: WC402 event missing: tool_completed never arrived",
        ),
        (
            Finding(code="WC101", message="startup raised", location=Location("app/main.py")),
            "app/main.py: WC101 boot failed: startup raised",
        ),
        (Finding(code="WC409", message="no agent_completed"), "WC409 run deadline reached: no agent_completed"),
    ],
)
def test_finding_oneline(finding, expected):
    """One line: location, subject, code, catalog title and message, each part only when known."""

    assert expected == finding.oneline()


def test_finding_title_and_why_come_from_the_catalog():
    """A finding's title and reason are its code's catalog entry."""
    finding = Finding(code="WC211", message="wire does not hold")

    assert (CODES["WC211"].title, CODES["WC211"].why) == (finding.title, finding.why)


def test_finding_of_unknown_code_is_refused():
    """A code missing from the catalog is a bug in wiringcheck: refused at once, never shown without its title."""
    with pytest.raises(ValueError, match="'WC999' is not in the catalog"):
        Finding(code="WC999", message="something")


def test_finding_defaults():
    """A finding is an error without location, hint, subject or evidence unless told otherwise."""
    finding = Finding(code="WC402", message="m")

    assert (None, "", "", (), Severity.ERROR, {}) == (
        finding.location,
        finding.hint,
        finding.subject,
        finding.evidence,
        finding.severity,
        finding.data,
    )


def test_finding_is_frozen():
    """A finding is a fact about one run: it cannot be edited afterwards."""
    finding = Finding(code="WC402", message="m")

    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.message = "changed"  # type: ignore[misc]


def test_finding_equality_ignores_data():
    """Two findings that say the same thing are equal, whatever machine-readable extras they carry."""

    assert Finding(code="WC202", message="m") == Finding(code="WC202", message="m", data={"suggestion": "x"})


# -- CheckResult -----------------------------------------------------------------------------------


def test_check_result_errors_keeps_only_error_findings():
    """Only findings of severity error count as a check's errors; warnings and notes inform."""
    error = Finding(code="WC211", message="wire does not hold")
    warning = Finding(code="WC105", message="warning logged", severity=Severity.WARNING)
    note = Finding(code="WC107", message="guard", severity=Severity.NOTE)
    check = CheckResult(name="wire: x", phase="wires", status=Status.FAILED, findings=(warning, error, note))

    assert (error,) == check.errors


def test_status_values_are_stable():
    """Statuses serialize as these strings in every report format."""

    assert ["passed", "failed", "skipped"] == [status.value for status in Status]


# -- the catalog and its pages ---------------------------------------------------------------------


def test_catalog_keys_match_entries():
    """Each catalog entry is filed under its own code, and codes are WC followed by three digits."""

    assert [] == [key for key, entry in CODES.items() if key != entry.code or not re.fullmatch(r"WC\d{3}", key)]


def test_catalog_titles_and_reasons_read_as_text():
    """Titles are phrases that start lowercase (acronyms aside) with no full stop; reasons are sentences."""
    bad = [
        entry.code
        for entry in CODES.values()
        if not entry.title[:1].islower() or entry.title.endswith(".") or not entry.why.endswith(".")
    ]

    assert [] == bad


@pytest.mark.parametrize("code", sorted(CODES))
def test_every_code_has_a_docs_page(code):
    """Each code's page, the scan's included, exists, is titled with the catalog's title, and has the five sections."""
    page = (DOCS / f"{code}.md").read_text(encoding="utf-8")
    headings = re.findall(r"^## (.+)$", page, flags=re.MULTILINE)

    assert f"# {code}: {CODES[code].title}" == page.splitlines()[0]
    assert ["What it means", "Why it matters", "Typical cause", "How to fix", "Seen in"] == headings


def test_docs_index_links_every_code():
    """docs/codes/README.md lists and links every code of the catalog, the scan's included."""
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    linked = set(re.findall(r"\[(WC\d{3})\]\((WC\d{3})\.md\)", index))

    assert {(code, code) for code in CODES} == linked
