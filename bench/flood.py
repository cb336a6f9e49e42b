"""What a flooding server costs `wiringcheck probe`: wall time and peak memory, against the deadline.

A loopback `websockets` server answers the trigger with N small JSON events (none of
them terminal) as fast as it can, in its own process; `wiringcheck probe` runs under
`/usr/bin/time -v` in another. The probe must answer within its deadline + 1 s with
bounded memory (it records at most 10,000 frames / 32 MiB per run, WC411).

    python bench/flood.py --frames 200000 --runs 5
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys
import time

SERVER = r"""
import asyncio, json, sys
from websockets.asyncio.server import serve

async def handler(ws):
    await ws.recv()
    frame = json.dumps({"type": "agent_thinking", "run_id": "x", "payload": {"text": "flood"}})
    try:
        for _ in range(int(sys.argv[1])):
            await ws.send(frame)
    except Exception:
        pass

async def main():
    async with serve(handler, "127.0.0.1", 0, max_queue=None) as server:
        print(server.sockets[0].getsockname()[1], flush=True)
        await asyncio.sleep(120)

asyncio.run(main())
"""


def one_run(port: int, deadline: float) -> tuple[float, float, int]:
    """Wall seconds, peak RSS in MB and exit code of one probe of the flood."""
    command = [
        "/usr/bin/time",
        "-v",
        sys.executable,
        "-m",
        "wiringcheck",
        "probe",
        f"ws://127.0.0.1:{port}/",
        "--deadline",
        str(deadline),
        "-q",
        "--format",
        "json",
    ]
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, timeout=deadline + 60, check=False)
    wall = time.monotonic() - started
    peak = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    return wall, int(peak.group(1)) / 1024 if peak else float("nan"), done.returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--deadline", type=float, default=5.0)
    options = parser.parse_args()
    walls, peaks, codes = [], [], set()
    for _ in range(options.runs):
        command = [sys.executable, "-c", SERVER, str(options.frames)]
        server = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        try:
            assert server.stdout is not None
            port = int(server.stdout.readline())
            wall, peak, code = one_run(port, options.deadline)
        finally:
            server.kill()
            server.wait()
        walls.append(wall)
        peaks.append(peak)
        codes.add(code)
    print(
        f"flood of {options.frames} frames, deadline {options.deadline:g} s, {options.runs} runs: "
        f"median wall {statistics.median(walls):.2f} s (max {max(walls):.2f} s), "
        f"median peak RSS {statistics.median(peaks):.0f} MB (max {max(peaks):.0f} MB), exit codes {sorted(codes)}"
    )


if __name__ == "__main__":
    main()
