"""Time `Protocol.classify` over 10,000 decoded frames in two source trees, interleaved.

Every frame the probe receives goes through `classify` (error matchers, the events'
matchers, then `ignore`), so a slower field path or matcher is paid on every frame of
every run. Each tree is timed in its own process, alternately, on the same frames::

    git archive BEFORE | tar -x -C /tmp/before ; git archive AFTER | tar -x -C /tmp/after
    python bench/classify.py /tmp/before /tmp/after --rounds 15

Three protocols, each over 10,000 frames of its own shapes: the reference backend's
(matched by names), the studio's (nested tables, a server-assigned run id) and AG-UI's
(the preset: 23 ignore matchers, so an ignored frame is tested against 30 of them).
A tree that knows the matcher forms of issue 18 also times an ADK-shaped protocol
(`content.parts.*.functionCall`, presence tests, a list of tables).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from typing import Any

FRAMES = 10_000

REFERENCE: dict[str, Any] = {}
STUDIO: dict[str, Any] = {
    "type_field": "data.type",
    "timestamp_field": "data.created",
    "run_id": "server",
    "run_id_from": {"type": "message"},
    "error_events": [{"type": "completion", "status": "error"}],
    "match": {
        "agent_started": "TaskStarted",
        "agent_thinking": "ThoughtEvent",
        "tool_executing": {"type": "message", "data.type": "ToolCallRequestEvent"},
        "tool_completed": {"type": "message", "data": {"type": "ToolCallExecutionEvent"}},
        "agent_completed": {"type": "completion", "status": "complete"},
    },
}
AG_UI: dict[str, Any] = {"preset": "ag-ui"}
ADK: dict[str, Any] = {
    "type_field": "author",
    "run_id_field": "invocationId",
    "error_events": [{"errorCode": {"$exists": True}}, {"error": {"$exists": True}}],
    "ignore": [{"partial": True}],
    "match": {
        "agent_started": {"content.role": "model", "content.parts.0": {"$exists": True}},
        "agent_thinking": {"content.parts.*.thought": True},
        "tool_executing": {"content.parts.*.functionCall": {"$exists": True}},
        "tool_completed": {"content.parts.*.functionResponse": {"$exists": True}},
        "agent_completed": [{"finishReason": "STOP"}, {"turnComplete": True}],
    },
}


def frames(name: str) -> list[Any]:
    """10,000 frames of the protocol's own shapes, in the proportions of a run with many deltas."""
    run = "run-1"
    shapes: dict[str, list[Any]] = {
        "reference": [
            {"type": kind, "run_id": run, "timestamp": 1.7e9, "payload": {"text": "x"}}
            for kind in ("agent_started", "agent_thinking", "tool_executing", "tool_completed", "agent_completed")
        ]
        + [{"type": "token", "run_id": run}] * 5,
        "studio": [
            {"type": "message", "data": {"type": kind, "created": 1.7e9, "source": "assistant"}}
            for kind in ("TaskStarted", "ThoughtEvent", "ToolCallRequestEvent", "ToolCallExecutionEvent")
        ]
        + [{"type": "completion", "status": "complete", "data": {"created": 1.7e9}}]
        + [{"type": "message", "data": {"type": "ModelClientStreamingChunkEvent", "content": "x"}}] * 5,
        "ag-ui": [
            {"type": kind, "runId": run, "threadId": "t", "timestamp": 1_700_000_000_000}
            for kind in ("RUN_STARTED", "TEXT_MESSAGE_START", "TOOL_CALL_START", "TOOL_CALL_RESULT", "RUN_FINISHED")
        ]
        + [{"type": "TEXT_MESSAGE_CONTENT", "messageId": "m", "delta": "x"}] * 5,
        "adk": [
            {"author": "agent", "invocationId": run, "content": {"role": "model", "parts": parts}}
            for parts in (
                [{"thought": True, "text": "hm"}],
                [{"thought": True, "text": "hm"}, {"functionCall": {"id": "c1", "name": "lookup", "args": {}}}],
                [{"functionResponse": {"id": "c1", "name": "lookup", "response": {}}}],
                [{"text": "done"}],
            )
        ]
        + [{"author": "agent", "invocationId": run, "finishReason": "STOP", "content": {"parts": [{"text": "x"}]}}]
        + [{"author": "agent", "partial": True, "content": {"parts": [{"text": "x"}]}}] * 5,
    }
    shape = shapes[name]
    return [shape[index % len(shape)] for index in range(FRAMES)]


def child(rounds: int) -> None:
    """Time each protocol this tree knows; print {name: [seconds per 10,000 frames, ...]} as JSON."""
    from wiringcheck.config import ConfigError, parse_settings

    tables = {"reference": REFERENCE, "studio": STUDIO, "ag-ui": AG_UI, "adk": ADK}
    results: dict[str, list[float]] = {}
    for name, table in tables.items():
        try:
            protocol = parse_settings({"probe": table}).probe.protocol()
        except ConfigError:  # a tree that does not know the table's forms
            continue
        messages = frames(name)
        classify = protocol.classify
        times = []
        for _ in range(rounds):
            started = time.perf_counter()
            for message in messages:
                classify(message)
            times.append(time.perf_counter() - started)
        results[name] = times
    print(json.dumps(results))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("trees", nargs="*", help="source trees to compare (none: time this one)")
    parser.add_argument("--rounds", type=int, default=15, help="timed passes over the frames, per tree")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child or not args.trees:
        child(args.rounds)
        return
    seconds: dict[str, dict[str, list[float]]] = {tree: {} for tree in args.trees}
    for index in range(args.rounds):
        order = args.trees if index % 2 == 0 else list(reversed(args.trees))
        for tree in order:
            env = {**os.environ, "PYTHONPATH": tree}
            output = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--child", "--rounds", "3"],
                cwd=tree,
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            for name, times in json.loads(output).items():
                seconds[tree].setdefault(name, []).extend(times)
    first = args.trees[0]
    for name in seconds[args.trees[-1]]:
        line = [f"{name:9}"]
        for tree in args.trees:
            if name in seconds[tree]:
                median = statistics.median(seconds[tree][name])
                line.append(f"{tree}: {median * 1e6 / FRAMES:.2f} µs/frame")
                if tree != first and name in seconds[first]:
                    line.append(f"({median / statistics.median(seconds[first][name]):.2f}x)")
        print("  ".join(line))


if __name__ == "__main__":
    main()
