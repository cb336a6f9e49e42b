"""`wiringcheck load` against a plain hand-written asyncio `websockets` client loop (the anchor).

For each number of users, on the reference backend booted once in this process (as
`wiringcheck load` boots it), two tests of the same length run one after the other:

1. `wiringcheck load` (`run_load`), users in ``--workers`` client processes;
2. the anchor: the same client processes and users, each looping over a hand-written
   run (connect, send the trigger, receive until ``agent_completed`` and 50 ms more, as
   wiringcheck's probe lingers to catch late frames, take each event's latency from its
   timestamp field) with nothing of wiringcheck in it.

It prints a Markdown table: p50/p99 per event, completion rate, client CPU per user and
per run, and wiringcheck's client CPU per run over the anchor's (target: within 1.5x).
Loopback only; every test stops by itself after ``--duration`` seconds.

    python bench/load.py [--users 10 100 1000] [--duration 5] [--workers 2]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

EVENTS = ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
TRIGGER = (
    '{{"type": "user_message", "run_id": "{run_id}", "thread_id": "t-{run_id}", '
    '"payload": {{"text": "What is 6 times 7?"}}}}'
)
LINGER = 0.05
"""Like wiringcheck (probe.linger_ms), listen 50 ms after the terminal event for frames that should not come."""


# -- the anchor: a hand-written client, nothing of wiringcheck -----------------------------------


async def _anchor_user(
    url: str, number: int, end_at: float, latencies: dict[str, list[float]], counts: list[int]
) -> None:
    from websockets.asyncio.client import connect

    run = 0
    while time.time() < end_at:
        run += 1
        run_id = f"anchor-{number}-{run}"
        seen: set[str] = set()
        try:
            async with asyncio.timeout(10), connect(f"{url}?token=load-token-{number}", proxy=None) as ws:
                await ws.send(TRIGGER.format(run_id=run_id))
                while "agent_completed" not in seen:
                    text = await ws.recv()
                    received = time.time()
                    event = json.loads(text)
                    if event.get("run_id") != run_id:
                        continue
                    seen.add(event["type"])
                    sent = datetime.fromisoformat(event["timestamp"]).timestamp()
                    latencies.setdefault(event["type"], []).append((received - sent) * 1000)
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(LINGER):
                        await ws.recv()
        except (OSError, TimeoutError, ValueError):
            pass
        counts[0] += 1
        counts[1] += set(EVENTS) <= seen


def _anchor_worker(url: str, numbers: list[int], start_at: float, duration: float, queue: Any) -> None:
    async def main() -> tuple[dict[str, list[float]], list[int], float]:
        cpu = time.process_time()
        latencies: dict[str, list[float]] = {}
        counts = [0, 0]
        await asyncio.sleep(max(0.0, start_at - time.time()))
        users = [asyncio.create_task(_anchor_user(url, n, start_at + duration, latencies, counts)) for n in numbers]
        await asyncio.gather(*users)
        return latencies, counts, time.process_time() - cpu

    queue.put(asyncio.run(main()))


async def run_anchor(url: str, users: int, workers: int, duration: float) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    start_at = time.time() + 3.0  # time for the processes to start
    numbers = list(range(1, users + 1))
    processes = [
        context.Process(target=_anchor_worker, args=(url, numbers[i::workers], start_at, duration, queue))
        for i in range(workers)
    ]
    for process in processes:
        process.start()
    results = [await asyncio.to_thread(queue.get, True, duration + 60) for _ in processes]
    for process in processes:
        process.join(timeout=10)
    latencies: dict[str, list[float]] = {}
    runs = completed = 0
    cpu = 0.0
    for lat, counts, seconds in results:
        for event, values in lat.items():
            latencies.setdefault(event, []).extend(values)
        runs += counts[0]
        completed += counts[1]
        cpu += seconds
    from wiringcheck.load.summary import latency_stats

    return {
        "runs": runs,
        "completion_rate": completed / runs if runs else None,
        "events": {event: latency_stats(latencies.get(event, [])) for event in EVENTS},
        "cpu_ms_per_run": 1000 * cpu / runs if runs else None,
        "cpu_ms_per_user": 1000 * cpu / users,
    }


# -- wiringcheck load ------------------------------------------------------------------------------


async def run_both(users: int, workers: int, duration: float) -> tuple[dict[str, Any], dict[str, Any]]:
    from dataclasses import replace

    from wiringcheck.backend import booted
    from wiringcheck.config import load_settings
    from wiringcheck.load.command import resolve_options, run_load

    settings = load_settings(REPO / "pyproject.toml")
    settings = replace(
        settings, load=replace(settings.load, token="load-token-{n}", user_id="load-user-{n}", thresholds=("runs > 0",))
    )
    options = resolve_options(settings.load, users=users, duration=duration, workers=workers, grace=5.0)
    report = await run_load(settings, options)
    ours = report.extra["load"]
    async with booted(settings) as backend:
        anchor = await run_anchor(backend.ws_url, users, workers, duration)
    return ours, anchor


def _cell(value: Any) -> str:
    return "-" if value is None else f"{value:.1f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args()
    os.environ["AGENTCHAT_TOKENS"] = ",".join(f"load-token-{n}:load-user-{n}" for n in range(1, max(args.users) + 1))

    print(f"{args.duration:g} s per test, {args.workers} client processes, {os.cpu_count()} cores (shared)\n")
    header = "| users | client | " + " | ".join(f"{e} p50/p99" for e in EVENTS)
    print(header + " | completion | runs | CPU/user | CPU/run | vs anchor |")
    print("|" + "---|" * (len(EVENTS) + 7))
    for users in args.users:
        ours, anchor = asyncio.run(run_both(users, args.workers, args.duration))
        ratio = ours["client"]["cpu_ms_per_run"] / anchor["cpu_ms_per_run"] if anchor["cpu_ms_per_run"] else None
        for name, data, cpu_user, cpu_run in (
            ("wiringcheck", ours, ours["client"]["cpu_ms_per_user"], ours["client"]["cpu_ms_per_run"]),
            ("anchor", anchor, anchor["cpu_ms_per_user"], anchor["cpu_ms_per_run"]),
        ):
            cells = [f"{_cell(data['events'][e]['p50'])} / {_cell(data['events'][e]['p99'])}" for e in EVENTS]
            rate = data["completion_rate"]
            shown_ratio = f"{ratio:.2f}x" if name == "wiringcheck" and ratio is not None else ""
            print(
                f"| {users} | {name} | " + " | ".join(cells) + f" | {'-' if rate is None else f'{rate:.1%}'} | "
                f"{data['runs']} | {_cell(cpu_user)} ms | {_cell(cpu_run)} ms | {shown_ratio} |"
            )
        lag = ours["client"]["loop_lag_ms"]
        print(f"<!-- {users} users: wiringcheck client loop lag p99 {lag['p99']} ms, max {lag['max']} ms -->")
    print(f"\n{statistics.__name__} quantiles (inclusive), latency in ms from the event's timestamp to receive")


if __name__ == "__main__":
    main()
