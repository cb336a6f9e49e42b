"""One module per rule; each defines ``rule = Rule(code, __name__)`` (see `wiringcheck.scan.engine`)."""

from __future__ import annotations
