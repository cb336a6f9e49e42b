"""Renderers: a `Report` in, text out.  Only `console` imports rich.

`Format` names every format and knows its renderer; `write_outputs` is the one
output path of every command (`run`, `probe`, `scan`, `inspect`'s errors aside):
the report in the chosen format to stdout or `--output`, plus the `--json` and
`--junit` files CI keeps.  A new format is one module with `render(report) -> str`
and one member of `Format`.

Renderers only ever see a report that `wiringcheck.secrets` has already scrubbed.
"""

from __future__ import annotations

import enum
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from wiringcheck.errors import UsageError

if TYPE_CHECKING:
    from wiringcheck.findings import Finding, Location
    from wiringcheck.report import Report

__all__ = [
    "Format",
    "Outputs",
    "finding_lines",
    "finding_text",
    "printable",
    "shown_location",
    "shown_path",
    "write_outputs",
]


class Format(enum.StrEnum):
    """The report formats `--format` accepts."""

    CONSOLE = "console"
    JSON = "json"
    GITHUB = "github"
    JUNIT = "junit"
    SARIF = "sarif"

    def render(self, report: Report, *, verbosity: int = 0, color: bool = False) -> str:
        """The report as text in this format.

        Text formats read by people and by CI runners get the report's strings made
        printable first (`printable`): a server's close reason or frame must never
        write a line of its own into a CI log.
        """
        if self in (Format.CONSOLE, Format.GITHUB, Format.JUNIT):
            from wiringcheck.secrets import map_strings

            report = map_strings(report, printable)
        if self is Format.CONSOLE:
            from wiringcheck.render import console

            return console.render(report, verbosity=verbosity, color=color)
        if self is Format.JSON:
            from wiringcheck.render import json

            return json.render(report)
        if self is Format.GITHUB:
            from wiringcheck.render import github

            return github.render(report)
        if self is Format.JUNIT:
            from wiringcheck.render import junit

            return junit.render(report)
        from wiringcheck.render import sarif

        return sarif.render(report)


@dataclass(frozen=True, slots=True)
class Outputs:
    """Where a command's report goes: one format to stdout or `output`, plus files for CI."""

    format: Format = Format.CONSOLE
    output: Path | None = None
    json: Path | None = None
    junit: Path | None = None
    verbosity: int = 0


def write_outputs(report: Report, outputs: Outputs) -> None:
    """Write the report everywhere `outputs` says.

    The console format on a terminal is printed with colour; everywhere else it is plain.

    Raises:
        UsageError: a file cannot be written.
    """
    for path, kind in ((outputs.json, Format.JSON), (outputs.junit, Format.JUNIT), (outputs.output, outputs.format)):
        if path is not None:
            _write(path, kind.render(report, verbosity=outputs.verbosity))
    if outputs.output is None:
        color = outputs.format is Format.CONSOLE and sys.stdout.isatty() and "NO_COLOR" not in os.environ
        sys.stdout.write(outputs.format.render(report, verbosity=outputs.verbosity, color=color))


def _write(path: Path, text: str) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None


def printable(text: str) -> str:
    """`text` on one line with every control and format character visible as an escape (``\\n``, ``\\x1b``).

    Text from the backend or its server (close reasons, frames, log lines) reaches the
    console, GitHub's workflow-command parser and XML; a newline in it could start a
    line of its own (``::warning::``, a fake ``PASSED``), and a control character could
    rewrite the terminal or break the XML.
    """
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() or char == " " else _escape(char) for char in text)


def _escape(char: str) -> str:
    escapes = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
    if char in escapes:
        return escapes[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


# -- shared by every renderer ----------------------------------------------------------------------


def shown_path(path: str, root: Path | None = None) -> str:
    """A path as a user reads it: relative to `root` (default: the working directory) when inside it."""
    base = os.path.realpath(root or Path.cwd())
    real = os.path.realpath(path)
    if real == base or real.startswith(base + os.sep):
        return os.path.relpath(real, base)
    return path


def shown_location(location: Location | None, root: Path | None = None) -> str:
    """``path:line[:col]`` with the path relative to the working directory, or '' when unknown."""
    if location is None:
        return ""
    from wiringcheck.findings import Location  # here: the CLI imports this package for `Format` (--help)

    return str(Location(shown_path(location.path, root), location.line, location.column))


def finding_lines(finding: Finding) -> list[tuple[str, str]]:
    """The labelled lines of a finding's long form: what, where, why, do, then its evidence (label '')."""
    lines = [("what", finding.message)]
    where = shown_location(finding.location)
    if where:
        lines.append(("where", where))
    if finding.why:
        lines.append(("why", finding.why))
    if finding.hint:
        lines.append(("do", finding.hint))
    lines.extend(("", line) for line in finding.evidence)
    return lines


def finding_text(finding: Finding) -> str:
    """The what / where / why / do block of a finding, as plain text (JUnit, pytest, assertions)."""
    lines = [f"{finding.code} {finding.title}: {finding.message}"]
    for label, text in finding_lines(finding)[1:]:
        lines.append(f"{label + ':':<6} {text}" if label else f"  {text}")
    return "\n".join(lines)
