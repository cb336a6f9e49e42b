"""`python -m MODULE ARGS` as a process of its own, forked from an interpreter that has imported it already.

The hostile-backend tests run wiringcheck's command line in a process that dies, hangs or
is killed, and the Locust tests run Locust (whose gevent monkey patching must never reach
the test process): each needs a process of its own, and a new interpreter spent 0.3 s of
CPU importing wiringcheck, Typer, Rich, uvicorn and Starlette, or 0.7 s importing Locust,
before the first line of its test ran. A `Server` imports them once, in a process of its
own started with the test process's first call and ended with it, and forks every such
process from it: the child is a new process, as `subprocess.Popen` would start, with its
own descriptors, environment, working directory, ``sys.path`` and arguments, and it ends
as an interpreter ends, `atexit` and the wait for non-daemon threads included, with its
own exit status (or the signal that killed it). Several may run at once (a Locust master
and its worker).

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
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

WIRINGCHECK = (
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

LOCUST = ("locust", "wiringcheck.locust")
"""Locust (it monkey-patches the server with gevent as it would patch Locust's own process) and its user."""

SERVER = r"""
import contextlib, io, json, os, select, signal, sys

for name in json.loads(sys.argv[1]):
    __import__(name)


def original(module, name):
    # What gevent (imported by Locust) patched, the server uses as Python has it: it never runs gevent's loop.
    if "gevent.monkey" in sys.modules:
        return sys.modules["gevent.monkey"].get_original(module, name)
    return getattr(__import__(module), name)


fork, waitpid, wait_for = original("os", "fork"), original("os", "waitpid"), original("select", "select")
set_handler = original("signal", "signal")


def say(answer):
    os.write(1, (json.dumps(answer) + "\n").encode())


def reap(children):
    while children:
        pid, status = waitpid(-1, os.WNOHANG)
        if pid == 0:
            return
        children.discard(pid)
        say({"exited": pid, "status": os.waitstatus_to_exitcode(status)})


def serve():
    woken, wake = os.pipe()  # a child's exit (SIGCHLD) wakes the select below
    for fd in (woken, wake):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake)
    set_handler(signal.SIGCHLD, lambda *_: None)
    children, unread = set(), b""
    while True:
        ready, _, _ = wait_for([0, woken], [], [])
        if woken in ready:
            with contextlib.suppress(BlockingIOError):
                os.read(woken, 4096)
            reap(children)
        if 0 not in ready:
            continue
        chunk = os.read(0, 65536)
        if not chunk:  # the test process is done: what it left running ends with it
            for pid in children:
                os.kill(pid, signal.SIGKILL)
            for pid in children:
                waitpid(pid, 0)
            sys.exit(0)
        unread += chunk
        while b"\n" in unread:
            line, _, unread = unread.partition(b"\n")
            call = json.loads(line)
            pid = fork()
            if pid == 0:
                signal.set_wakeup_fd(-1)
                set_handler(signal.SIGCHLD, signal.SIG_DFL)
                for fd in (woken, wake):
                    os.close(fd)
                return call
            children.add(pid)
            say({"pid": pid})


call = serve()
# The child: what `python -m MODULE` would have been given, then the module run as __main__.
# Its exit (SystemExit out of this script) is an interpreter's: atexit, then the non-daemon threads.
os.chdir(call["cwd"])
os.environ.clear()
os.environ.update(call["env"])
null = os.open(os.devnull, os.O_RDONLY)
out = os.open(call["stdout"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
err = os.open(call["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC) if call["stderr"] != call["stdout"] else out
for source, target in ((null, 0), (out, 1), (err, 2)):
    os.dup2(source, target)
for source in {null, out, err}:
    os.close(source)
sys.stdin = io.TextIOWrapper(io.FileIO(0, "r", closefd=False), encoding="utf-8")
# PYTHONUNBUFFERED=1, as the tests set it: a process that calls os._exit must not take buffered output with it.
sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), encoding="utf-8", write_through=True)
sys.stderr = io.TextIOWrapper(
    io.FileIO(2, "w", closefd=False), encoding="utf-8", errors="backslashreplace", write_through=True
)
# `-m` puts the working directory first, then PYTHONPATH's entries.
sys.path[0] = call["cwd"]
extra = [entry for entry in call["env"].get("PYTHONPATH", "").split(os.pathsep) if entry and entry not in sys.path]
sys.path[1:1] = extra
sys.dont_write_bytecode = bool(call["env"].get("PYTHONDONTWRITEBYTECODE"))
if "gevent" in sys.modules:
    __import__("gevent").reinit()  # a forked child's gevent loop must be made anew before use
import importlib
import runpy

importlib.invalidate_caches()
sys.argv = ["-m", *call["args"]]  # run_module puts the module's path first, as `-m` does
runpy.run_module(call["module"], run_name="__main__", alter_sys=True)
"""


class Timeout(Exception):
    """The command was still running at its timeout (it has been killed)."""


class Server:
    """An interpreter that has imported `preload`, forking `python -m MODULE ARGS` processes from itself.

    It answers each call with the child's pid, and says so when a child exits.
    """

    def __init__(self, preload: Sequence[str]) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", SERVER, json.dumps(list(preload))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._unread = b""  # read from the server's stdout, not yet split into lines
        self._exited: dict[int, int] = {}
        atexit.register(self.close)

    def start(
        self, module: str, args: Sequence[str], *, env: Mapping[str, str], cwd: Path, stdout: Path, stderr: Path
    ) -> Forked:
        """``python -m MODULE ARGS`` with `env` and `cwd`, writing to `stdout` and `stderr` (they may be one file)."""
        call = {
            "module": module,
            "args": list(args),
            "env": dict(env),
            "cwd": str(cwd),
            "stdout": str(stdout),
            "stderr": str(stderr),
        }
        assert self.process.stdin is not None
        self.process.stdin.write((json.dumps(call) + "\n").encode())
        self.process.stdin.flush()
        give_up = time.monotonic() + 30
        while True:
            answer = self._answer(give_up)
            if answer is None:
                raise RuntimeError("the prefork server did not fork within 30 s")
            if "pid" in answer:
                return Forked(self, answer["pid"])

    def wait(self, pid: int, timeout: float | None) -> int | None:
        """`pid`'s exit code (negative: the signal that killed it), or None if it still runs after `timeout` s."""
        give_up = None if timeout is None else time.monotonic() + timeout
        while pid not in self._exited:
            if self._answer(give_up) is None:
                return None
        return self._exited[pid]

    def _answer(self, give_up: float | None) -> dict[str, int] | None:
        """The server's next line (an exit is also written down), or None if none came by `give_up`.

        Read from the descriptor itself: a buffered reader could take two lines at once, and
        `select` would then wait on a descriptor with nothing left in it.
        """
        assert self.process.stdout is not None
        descriptor = self.process.stdout.fileno()
        while b"\n" not in self._unread:
            left = None if give_up is None else max(0.0, give_up - time.monotonic())
            ready, _, _ = select.select([descriptor], [], [], left)
            if not ready:
                return None
            chunk = os.read(descriptor, 65536)
            if not chunk:
                raise RuntimeError(f"the prefork server exited with {self.process.wait()}")
            self._unread += chunk
        line, _, self._unread = self._unread.partition(b"\n")
        answer: dict[str, int] = json.loads(line)
        if "exited" in answer:
            self._exited[answer["exited"]] = answer["status"]
        return answer

    def close(self) -> None:
        """End the server, and with it any child still running."""
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()


@dataclass
class Forked:
    """A process forked by a `Server`: what `subprocess.Popen` offers of one, as the tests use it."""

    server: Server
    pid: int
    returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.server.wait(self.pid, 0)
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        """Its exit code; raises `subprocess.TimeoutExpired` if it still runs after `timeout` seconds."""
        if self.returncode is None:
            self.returncode = self.server.wait(self.pid, timeout)
            if self.returncode is None:
                raise subprocess.TimeoutExpired(f"forked pid {self.pid}", timeout or 0)
        return self.returncode

    def send_signal(self, number: int) -> None:
        if self.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, number)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


_servers: dict[tuple[str, ...], Server] = {}


def server(preload: Sequence[str]) -> Server:
    """This test process's server for `preload` (started on the first call, ended with the process)."""
    key = tuple(preload)
    running = _servers.get(key)
    if running is None or running.process.poll() is not None:
        running = _servers[key] = Server(preload)
    return running


@dataclass(frozen=True)
class Completed:
    """A forked command's exit code (negative: the signal that killed it) and its output streams."""

    returncode: int
    stdout: str
    stderr: str


def run(args: list[str], *, env: Mapping[str, str], cwd: Path, timeout: float, scratch: Path) -> Completed:
    """``python -m wiringcheck ARGS`` with `env` and `cwd`, its streams written under `scratch`; killed at `timeout`.

    Raises:
        Timeout: it was still running after `timeout` seconds.
    """
    stdout, stderr = scratch / "prefork.stdout", scratch / "prefork.stderr"
    forked = server(WIRINGCHECK).start("wiringcheck", args, env=env, cwd=cwd, stdout=stdout, stderr=stderr)
    try:
        code = forked.wait(timeout)
    except subprocess.TimeoutExpired:
        forked.kill()
        forked.wait(30)
        raise Timeout(f"still running after {timeout:g} s") from None
    read = {"encoding": "utf-8", "errors": "replace"}
    return Completed(code, stdout.read_text(**read), stderr.read_text(**read))


@contextlib.contextmanager
def locust(args: Sequence[str], *, env: Mapping[str, str], cwd: Path, log: Path) -> Iterator[Forked]:
    """``locust ARGS`` forked from this test process's `LOCUST` server, writing to `log`; always ended (asked
    first, then killed) when the block exits."""
    process = server(LOCUST).start("locust", args, env=env, cwd=cwd, stdout=log, stderr=log)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
