"""The parallel map of a cold scan: one shard of files per worker process, each parsed once.

Each worker parses its shard, sends the summaries back, receives the merged index (and
which of its files to check), and checks them with the trees it kept.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from wiringcheck.findings import Finding
from wiringcheck.scan.checking import Setup, build_index, check_tree
from wiringcheck.scan.facts import ProjectFacts
from wiringcheck.scan.parse import Parsed, parse_file, summary_of
from wiringcheck.scan.summary import ModuleSummary

__all__ = ["run_shards"]

Summaries = dict[str, tuple[ModuleSummary, str, Finding | None]]
Merge = Callable[[Summaries], tuple[Any, set[str], Any]]
"""Given every shard's summaries: (modules, relpaths to check, role paths) to send back."""

_OUTBOX: Any = None
_INBOX: Any = None


def _worker_init(outbox: Any, inbox: Any) -> None:
    global _OUTBOX, _INBOX
    _OUTBOX, _INBOX = outbox, inbox


def _shard(shard_id: int, jobs: list[Any], setup: Any) -> dict[str, tuple[Finding, ...]]:
    parsed: dict[str, Parsed] = {}
    summaries: Summaries = {}
    for job in jobs:
        result = parse_file(Path(job.path), job.relpath)
        parsed[job.relpath] = result
        if job.summarize:
            summary, digest = summary_of(result)
            summaries[job.relpath] = (summary, digest, result.error)
    _OUTBOX.put((shard_id, summaries))
    modules, to_check, roles = _INBOX.get()
    setup = Setup(roles, setup.bases, setup.root)
    index = build_index(modules, setup)
    facts = ProjectFacts(index)
    results: dict[str, tuple[Finding, ...]] = {}
    for job in jobs:
        if job.relpath in to_check:
            results[job.relpath] = check_tree(job, parsed.pop(job.relpath), index, setup, facts)
    return results


def _split(jobs: list[Any], sizes: Mapping[str, int], n: int) -> list[list[Any]]:
    shards: list[list[Any]] = [[] for _ in range(n)]
    loads = [0] * n
    for job in sorted(jobs, key=lambda j: -sizes.get(j.relpath, 0)):
        smallest = loads.index(min(loads))
        shards[smallest].append(job)
        loads[smallest] += sizes.get(job.relpath, 0) + 1
    return [shard for shard in shards if shard]


def run_shards(
    jobs: list[Any], sizes: Mapping[str, int], workers: int, setup: Any, merge: Merge
) -> tuple[dict[str, tuple[Finding, ...]], int]:
    """Parse `jobs` in `workers` processes, `merge` the summaries, check; (findings by file, shards)."""
    shards = _split(jobs, sizes, workers)
    context = multiprocessing.get_context("fork") if hasattr(os, "fork") else multiprocessing.get_context()
    outbox: Any = context.Queue()
    inbox: Any = context.Queue()
    results: dict[str, tuple[Finding, ...]] = {}
    with ProcessPoolExecutor(
        max_workers=len(shards), mp_context=context, initializer=_worker_init, initargs=(outbox, inbox)
    ) as pool:
        futures = [pool.submit(_shard, i, shard, setup) for i, shard in enumerate(shards)]
        received = 0
        summaries: Summaries = {}
        while received < len(shards):
            try:
                _, part = outbox.get(timeout=1.0)
            except queue.Empty:
                for future in futures:
                    if future.done() and future.exception() is not None:
                        raise RuntimeError("a scan worker failed") from future.exception()
                continue
            received += 1
            summaries.update(part)
        modules, to_check, roles = merge(summaries)
        for _ in shards:
            inbox.put((modules, to_check, roles))
        for future in futures:
            results.update(future.result())
    return results, len(shards)
