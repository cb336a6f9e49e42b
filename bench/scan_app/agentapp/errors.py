from __future__ import annotations


class StartupError(Exception):
    """Startup cannot go on: a dependency or a setting is missing."""
