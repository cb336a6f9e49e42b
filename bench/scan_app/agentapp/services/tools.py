from __future__ import annotations

from typing import Any


class ToolRunner:
    """Runs the tools agents ask for."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def run_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(name)
        return {"tool": name, "arguments": arguments}

    def reset(self) -> None:
        self.calls.clear()


def load_runner():
    return ToolRunner()
