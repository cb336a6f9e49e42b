"""`python -m wiringcheck ARGS` as a process of its own, forked from an interpreter that has imported it already.

The hostile-backend tests run the command line in a process that dies, hangs or is
killed: each needs a process of its own, and a new interpreter spent about 0.3 s of CPU
importing wiringcheck, Typer, Rich, uvicorn and Starlette before the first line of its
test ran, about as much as the test's own work. `run` forks every such process from
one interpreter per test process that imported them once (started on the first call,
ended with the test process): the child is a new process, as `subprocess.run` would
start, with its own descriptors, environment, working directory and arguments, and it
ends as an interpreter ends, `atexit` and the wait for non-daemon threads included, with
its own exit status (or the signal that killed it).

What a fork cannot give is a fresh interpreter: tests of what an interpreter imports, or
of its first run's imports, start a real one (`tests/test_cli_imports.py`,
`tests/integration/test_warmup.py`), as do the tests of the installed script.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

PRELOAD = (
    "wiringcheck.cli",
    "wiringcheck.config",
    "wiringcheck.runner",
    "wiringcheck.supervisor",
    "wiringcheck.targets.asgi",
    "wiringcheck.render.console",
    "wiringcheck.run.transports.websocket",
    "uvicorn",
    "uvicorn.protocols.http.h11_impl",
    "uvicorn.protocols.websockets.websockets_sansio_impl",
    "starlette.applications",
    "rich.console",
)
"""What every `run` of an in-process backend imports: imported once, before the first fork."""

SERVER = """
import io, json, os, sys

for name in json.loads(sys.argv[1]):
    __import__(name)

def serve():
    for line in sys.stdin:
        call = json.loads(line)
        pid = os.fork()
        if pid == 0:
            return call
        print(json.dumps({"pid": pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({"status": os.waitstatus_to_exitcode(status)}), flush=True)
    sys.exit(0)

call = serve()
# The child: what `python -m wiringcheck` would have been given, then the command line itself.
# Its exit (SystemExit out of this script) is an interpreter's: atexit, then the non-daemon threads.
os.chdir(call["cwd"])
os.environ.clear()
os.environ.update(call["env"])
null = os.open(os.devnull, os.O_RDONLY)
out = os.open(call["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
err = os.open(call["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
for source, target in ((null, 0), (out, 1), (err, 2)):
    os.dup2(source, target)
    os.close(source)
sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
# PYTHONUNBUFFERED=1, as the tests set it: a backend that calls os._exit must not take buffered output with it.
sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", write_through=True)
sys.stderr = io.TextIOWrapper(
    io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True
)
sys.argv = [call["main"], *call["args"]]
sys.path[0] = call["cwd"]  # `-m` puts the working directory first
import importlib
importlib.invalidate_caches()
from wiringcheck.cli import entry
entry()
"""


@dataclass(frozen=True)
class Completed:
    """A forked command's exit code (negative: the signal that killed it) and its output streams."""

    returncode: int
    stdout: str
    stderr: str


class Timeout(Exception):
    """The command was still running at its timeout (it has been killed)."""


class _Server:
    """The interpreter the commands are forked from: it answers each call with the child's pid, then its status."""

    def __init__(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, json.dumps(PRELOAD)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        self._unread = b""  # read from the server's stdout, not yet split into lines
        atexit.register(self.close)

    def answer(self, timeout: float) -> dict[str, int] | None:
        """The server's next line, or None if none came within `timeout` seconds.

        Read from the descriptor itself: a buffered reader could take both of a quick child's
        lines at once, and `select` would then wait on a descriptor with nothing left in it.
        """
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        give_up = time.monotonic() + timeout
        while b"\n" not in self._unread:
            ready, _, _ = select.select([descriptor], [], [], max(0.0, give_up - time.monotonic()))
            if not ready:
                return None
            chunk = os.read(descriptor, 65536)
            if not chunk:
                raise RuntimeError(f"the prefork server exited with {self.process.wait()}")
            self._unread += chunk
        line, _, self._unread = self._unread.partition(b"\n")
        answer: dict[str, int] = json.loads(line)
        return answer

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


_server: _Server | None = None


def run(args: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float, scratch: Path) -> Completed:
    """``python -m wiringcheck ARGS`` with `env` and `cwd`, its streams written under `scratch`; killed at `timeout`.

    Raises:
        Timeout: it was still running after `timeout` seconds.
    """
    global _server
    if _server is None or _server.process.poll() is not None:
        _server = _Server()
    stdout, stderr = scratch / "prefork.stdout", scratch / "prefork.stderr"
    call = {
        "args": args,
        "env": dict(env),
        "cwd": str(cwd),
        "stdout": str(stdout),
        "stderr": str(stderr),
        "main": str(Path(__file__).resolve().parents[1] / "wiringcheck" / "__main__.py"),
    }
    assert _server.process.stdin is not None
    _server.process.stdin.write(json.dumps(call) + "\n")
    started = time.monotonic()
    forked = _server.answer(timeout=30)
    if forked is None:
        raise RuntimeError("the prefork server did not fork within 30 s")
    finished = _server.answer(timeout=max(0.0, timeout - (time.monotonic() - started)))
    if finished is None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(forked["pid"], signal.SIGKILL)
        _server.answer(timeout=30)
        raise Timeout(f"still running after {timeout:g} s")
    read = {"encoding": "utf-8", "errors": "replace"}
    return Completed(finished["status"], stdout.read_text(**read), stderr.read_text(**read))
