"""wiringcheck's pytest plugin (loaded through the pytest11 entry point); being built in #4."""

from __future__ import annotations
