"""`python -m wiringcheck`: the same as the `wiringcheck` script."""

from __future__ import annotations

from wiringcheck.cli import entry

entry()
