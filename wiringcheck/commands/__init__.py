"""The bodies of the CLI commands that do more than call the runner: probe, inspect, init.

`wiringcheck.cli` keeps one thin Typer function per command, which parses the flags,
imports the matching module here and calls it; each body returns an exit code
(`wiringcheck.report.ExitCode`). Keeping them apart keeps `wiringcheck --help` fast
and makes each command testable without Typer.
"""

from __future__ import annotations
