"""The parallel map of a cold scan: summaries in one pool of processes, checks in another.

1. `summarize_in_workers`: the files are parsed and summarized in chunks by a pool of
   forked workers, which send the summaries back and keep nothing: a worker holds one
   tree at a time, so memory does not grow with the tree (keeping every tree between
   the two steps took about 1.2 MB per 1,000 lines, the bulk of a cold scan's memory).
2. `check_in_workers`: once the parent has merged the summaries into the index, a
   second pool is forked, so every worker starts with the index already in memory
   (shared with the parent page by page, never pickled), parses its files again and
   checks them.  Parsing twice costs less than keeping the trees (ast.parse runs at
   about 150,000 lines per second and core).

The garbage collector is off in the workers: the trees and summaries have no cycles,
a worker lives for one scan, and a collection would walk (and so copy) every page it
shares with the parent.  Files go out in chunks, largest first, so the workers finish
together.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections.abc import Iterable, Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from wiringcheck.findings import Finding
from wiringcheck.scan.checking import Job, Setup, check_tree
from wiringcheck.scan.facts import ProjectFacts
from wiringcheck.scan.index import Index
from wiringcheck.scan.parse import parse_file, summary_of
from wiringcheck.scan.summary import ModuleSummary

__all__ = ["Summaries", "check_in_workers", "chunks", "summarize_in_workers"]

Summaries = dict[str, tuple[ModuleSummary, str, Finding | None]]
"""relpath -> (summary, its digest, the WC300 finding when the file did not parse)."""

CHUNKS_PER_WORKER = 6
"""Chunks per worker: enough to even out the load, few enough that each carries real work."""

_CHECKING: tuple[Index, ProjectFacts, Setup] | None = None


def _context() -> Any:
    return multiprocessing.get_context("fork") if hasattr(os, "fork") else multiprocessing.get_context()


def _quiet_worker(checking: tuple[Index, ProjectFacts, Setup] | None) -> None:
    global _CHECKING
    gc.disable()
    _CHECKING = checking


def chunks(jobs: Iterable[Job], sizes: Mapping[str, int], n: int) -> list[list[Job]]:
    """`jobs` in about `n` chunks of similar size in bytes, the largest chunks first."""
    ordered = sorted(jobs, key=lambda job: -sizes.get(job.relpath, 0))
    if not ordered:
        return []
    total = sum(sizes.get(job.relpath, 0) + 1 for job in ordered)
    target = max(1, total // max(1, n))
    result: list[list[Job]] = []
    current: list[Job] = []
    weight = 0
    for job in ordered:
        current.append(job)
        weight += sizes.get(job.relpath, 0) + 1
        if weight >= target:
            result.append(current)
            current, weight = [], 0
    if current:
        result.append(current)
    return result


def _summarize(jobs: list[Job]) -> Summaries:
    summaries: Summaries = {}
    for job in jobs:
        parsed = parse_file(Path(job.path), job.relpath)
        summary, digest = summary_of(parsed)
        summaries[job.relpath] = (summary, digest, parsed.error)
    return summaries


def _check(jobs: list[Job]) -> dict[str, tuple[Finding, ...]]:
    assert _CHECKING is not None
    index, facts, setup = _CHECKING
    return {job.relpath: check_tree(job, parse_file(Path(job.path), job.relpath), index, setup, facts) for job in jobs}


def _pool_map(work: Any, parts: list[list[Job]], workers: int, checking: Any) -> Iterator[Any]:
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=_context(), initializer=_quiet_worker, initargs=(checking,)
    ) as pool:
        yield from pool.map(work, parts)


def summarize_in_workers(jobs: list[Job], sizes: Mapping[str, int], workers: int) -> Summaries:
    """Parse and summarize `jobs` in `workers` processes; each tree is dropped once summarized."""
    summaries: Summaries = {}
    for part in _pool_map(_summarize, chunks(jobs, sizes, workers * CHUNKS_PER_WORKER), workers, None):
        summaries.update(part)
    return summaries


def check_in_workers(
    jobs: list[Job], sizes: Mapping[str, int], workers: int, index: Index, facts: ProjectFacts, setup: Setup
) -> dict[str, tuple[Finding, ...]]:
    """Check `jobs` in `workers` processes forked now, so that each starts with `index` in memory."""
    results: dict[str, tuple[Finding, ...]] = {}
    parts = chunks(jobs, sizes, workers * CHUNKS_PER_WORKER)
    facts.warm()  # the project-wide tables, built once here and shared, not once per worker
    gc.freeze()  # a collection in the parent must not touch (and so copy) what the workers share
    try:
        for part in _pool_map(_check, parts, workers, (index, facts, setup)):
            results.update(part)
    finally:
        gc.unfreeze()
    return results
