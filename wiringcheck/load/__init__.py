"""Many users at once: `wiringcheck load`, and the pieces the Locust user shares with it.

- `thresholds`: pure; parses ``"agent_thinking.p95 < 100"`` and judges it against the metrics.
- `summary`: pure; turns each run's verdict into a `RunOutcome` and many outcomes into a
  `LoadSummary` and a `Report` (kind ``load``).
- `worker`: a client process running its share of the users in one asyncio loop.
- `command`: boots the backend once in this process, starts the workers, collects, reports.

Importing this package imports nothing but the pure modules' names: the I/O modules are
imported by whoever runs a load test.
"""

from __future__ import annotations

__all__: list[str] = []
