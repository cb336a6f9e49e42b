"""What the scrubber costs on a big report: `Secrets.scrub` over a 10,000-frame run, median of several runs.

The report is what a run that received 10,000 frames leaves behind: one timeline
entry per frame, and (the worst case for the scrubber: every string different) one
finding per frame quoting it, as a flood of unexpected frames once produced. The
secrets are two tokens with every character an escaping output changes.

    python bench/scrub.py --runs 7

Compare two versions of wiringcheck by running it with each on ``PYTHONPATH``.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

from wiringcheck.findings import CheckResult, Finding, Phase
from wiringcheck.report import EventRecord, Report
from wiringcheck.secrets import Secrets

TOKENS = ("tok&<>\"'%\\é€-9f3a-5c1b0d", "plain-secret-7d1e40c9b2a4")


def big_report(frames: int) -> Report:
    """A run's report with `frames` timeline entries and one finding quoting each frame."""
    report = Report(kind="run", target="url ws://127.0.0.1:9/ws?token=***")
    report.events = [
        EventRecord(index=i, type="agent_thinking", run_id=f"run-{i % 7}", at_ms=i * 0.1, latency_ms=0.2)
        for i in range(frames)
    ]
    findings = [
        Finding(
            code="WC405",
            message=f"frame #{i} is not one of the expected events: "
            + repr(json.dumps({"type": "agent_thinking", "seq": i, "text": f"step {i} of the plan"}))[:60],
            subject="probe",
            evidence=(f"  frame #{i}: {json.dumps({'type': 'agent_thinking', 'seq': i})}",),
        )
        for i in range(frames)
    ]
    report.checks = [CheckResult.judged("probe", Phase.PROBE, findings)]
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    report = big_report(args.frames)
    started = time.perf_counter()
    secrets = Secrets(TOKENS)
    built = time.perf_counter() - started
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        secrets.scrub(report)
        times.append(time.perf_counter() - started)
    print(f"build Secrets: {built * 1000:.1f} ms")
    print(f"scrub a {args.frames}-frame report: median {statistics.median(times) * 1000:.1f} ms over {args.runs} runs")


if __name__ == "__main__":
    main()
