"""A backend module that ends the interpreter as soon as it is imported (``sys.exit(0)`` at import)."""

from __future__ import annotations

import sys

sys.exit(0)  # EXITS HERE


def create_app() -> None:  # never reached
    """What the configuration names; importing the module exits before it exists."""
