"""The rules of a run, one module each, in the order the judge runs them.

Each module has `CODES` (the finding codes it may give) and ``check(view) -> list[Ruling]``,
a pure function of a `RunView`: a ruling is a finding and the expected event it belongs
to (None for the run as a whole).  The order below is the order of their findings in a
report before it is sorted by cause.  A rule never imports another rule: what two rules
share is data, and data lives in `wiringcheck.run.recording`.

Rules that judge something other than one run live here too, but are called by name:
`clocks` (asked first by the judge, so every rule reads latencies on the probe's clock),
`cross_talk` (several users), `unreached` (a run that never started), `percentiles`
(several runs).
"""

from __future__ import annotations

from collections.abc import Callable

from wiringcheck.run.recording import RunView
from wiringcheck.run.rules import (
    budget,
    emission,
    end,
    error,
    frames,
    gaps,
    lifecycle,
    once,
    order,
    timestamps,
    tool_pairs,
    unexpected,
)
from wiringcheck.run.rules._shared import Ruling

__all__ = ["RULES", "Rule", "Ruling"]

Rule = Callable[[RunView], list[Ruling]]

RULES: tuple[tuple[str, tuple[str, ...], Rule], ...] = tuple(
    (module.__name__.rpartition(".")[2], module.CODES, module.check)
    for module in (
        frames,
        timestamps,
        order,
        budget,
        gaps,
        emission,
        once,
        tool_pairs,
        error,
        end,
        lifecycle,
        unexpected,
    )
)
"""(name, codes, check) of every rule of one run, in the order the judge runs them."""
