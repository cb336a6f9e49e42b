"""Shared test settings and helpers for the whole suite.

Keep this file small and sectioned: each section opens with a ``# -- name`` rule
and says what it is for. Fixtures that boot a backend or a server belong in the
test package that uses them (``tests/integration/conftest.py``), not here, so the
unit tests of the pure core never pay for them.

Sections:

- bytecode: the project and the rewritten tests are compiled once, not by each interpreter the suite starts.
- time: ``MS``, the unit of every real wait and timeout in the tests.
- hypothesis: a failing property must fail like any other test.
- heap: each test starts with the objects made before it frozen out of the collector's way.
- xdist: slow tests start first, and the tests that share an expensive setup run in the same worker.
"""

from __future__ import annotations

import gc
import os
import sys
import time
from pathlib import Path
from typing import Any

import hypothesis
import pytest

__all__ = ["MS", "SCRATCH_PYTEST_ADDOPTS"]

# -- bytecode --------------------------------------------------------------------------------------


_NO_BYTECODE = bool(os.environ.get("PYTHONDONTWRITEBYTECODE"))
"""Whether this environment asks interpreters not to write bytecode (some sandboxes and CI images do)."""


def _compile_the_project() -> None:
    """Compile wiringcheck, the fixtures and the tests once, before any interpreter the suite starts needs them.

    The suite starts a few hundred interpreters (every entry point is tested the way a
    user runs it). Under ``PYTHONDONTWRITEBYTECODE`` none of them writes what it compiles,
    so from a fresh checkout each one compiled the project again from source: about 10 s
    of the suite's wall time on two cores. Python still reads bytecode it finds, so the
    controller compiles the project's own sources once (on later runs, only what changed);
    the installed dependencies have theirs already.
    """
    if not _NO_BYTECODE or os.environ.get("PYTEST_XDIST_WORKER"):
        return
    import compileall

    root = Path(__file__).resolve().parents[1]
    for package in ("wiringcheck", "fixtures", "tests"):
        compileall.compile_dir(root / package, quiet=2)


_compile_the_project()

# pytest caches each test module with its assertions rewritten, unless bytecode is not
# written: then each of the workers rewrote all of them again (1.3 s of CPU each).
# Written during collection only, to the tests' own __pycache__ (git ignores it).
if _NO_BYTECODE:
    sys.dont_write_bytecode = False


def pytest_collection_finish(session: pytest.Session) -> None:
    sys.dont_write_bytecode = _NO_BYTECODE


def pytest_configure(config: pytest.Config) -> None:
    _rewrite_before_the_workers_start(config)


def _rewrite_before_the_workers_start(config: pytest.Config) -> None:
    """Cache the test modules (and wiringcheck's) with their assertions rewritten, once, in the controller.

    pytest rewrites the asserts of each test module, conftest and plugin package (wiringcheck's
    distribution registers a plugin, so all of wiringcheck) as it imports them, and caches the
    result beside the source. From a fresh checkout every worker found no cache and rewrote all of
    them at once: 1.5 s of CPU each, about 4 s of the suite's wall time on two cores. The
    controller writes what is missing or stale before it starts them; a worker still checks each
    file it reads, and rewrites what this could not (pytest's internals moved: nothing is done).
    """
    if os.environ.get("PYTEST_XDIST_WORKER") or getattr(config.option, "dist", "no") == "no":
        return
    try:
        from _pytest.assertion.rewrite import (
            PYC_TAIL,
            AssertionRewritingHook,
            _rewrite_test,
            _write_pyc,
            assertstate_key,
            get_cache_dir,
            try_makedirs,
        )
    except ImportError:
        return
    hook = config.pluginmanager.rewrite_hook
    if not isinstance(hook, AssertionRewritingHook):  # --assert=plain
        return
    state = config.stash[assertstate_key]
    root = Path(__file__).resolve().parents[1]
    for package in ("tests", "wiringcheck"):
        for path in sorted((root / package).rglob("*.py")):
            name = ".".join(path.relative_to(root).with_suffix("").parts).removesuffix(".__init__")
            pyc = get_cache_dir(path) / (path.name[:-3] + PYC_TAIL)
            if not hook._should_rewrite(name, str(path), state) or _cached(pyc, path.stat()):
                continue
            try:
                source_stat, code = _rewrite_test(path, config)
            except SyntaxError:
                continue  # the worker that imports it reports it
            if try_makedirs(pyc.parent):
                _write_pyc(state, code, source_stat, pyc)


def _cached(pyc: Path, source: os.stat_result) -> bool:
    """Whether `pyc` is the bytecode of a source of this size and modification time (the header pytest writes)."""
    import importlib.util
    import struct

    try:
        with pyc.open("rb") as file:
            header = file.read(16)
    except OSError:
        return False
    stamp = struct.pack("<LL", int(source.st_mtime) & 0xFFFFFFFF, source.st_size & 0xFFFFFFFF)
    return header == importlib.util.MAGIC_NUMBER + b"\x00\x00\x00\x00" + stamp


# Plugins of this development environment that a scratch pytest session (the plugin's and the
# README's tests start a few) has no use for: anyio's imports trio (0.3 s of CPU per session),
# hypothesis's imports hypothesis (0.15 s), ag-ui-validate's its validator. The suite's own
# sessions leave out the ones it does not use in `addopts`; a scratch project has its own settings.
SCRATCH_PYTEST_ADDOPTS = "-p no:anyio -p no:benchmark -p no:hypothesispytest -p no:ag_ui_validate"


# -- time ------------------------------------------------------------------------------------------


def _timeout_factor() -> float:
    """The value of ``WIRINGCHECK_TESTS_TIMEOUT_FACTOR`` (default 1), validated."""
    raw = os.environ.get("WIRINGCHECK_TESTS_TIMEOUT_FACTOR", "1")
    try:
        factor = float(raw)
    except ValueError:
        factor = 0.0
    if not factor > 0:  # also rejects nan
        raise ValueError(f"WIRINGCHECK_TESTS_TIMEOUT_FACTOR must be a positive number, got {raw!r}")
    return factor


def _slowdown() -> float:
    """How much slower than usual this interpreter runs the suite."""
    slowdown = 1.0
    # asyncio's debug mode checks every callback: it roughly halves the loop's speed.
    if os.environ.get("PYTHONASYNCIODEBUG"):
        slowdown *= 2
    # A tracer (coverage, a debugger) slows every line of Python we execute.
    if sys.gettrace() is not None or "coverage" in sys.modules:
        slowdown *= 2
    return slowdown


MS = max(
    0.001 * _timeout_factor() * _slowdown(),
    # A unit below the clock's resolution would make every timing assertion meaningless.
    2.5 * time.get_clock_info("monotonic").resolution,
)
"""One millisecond of test time, in seconds: the unit of every real wait and timeout in the tests.

Tests that touch a real clock (booting a backend, probing its WebSocket) write their
waits and timeouts as multiples of this unit (``await asyncio.sleep(5 * MS)``,
``asyncio.timeout(500 * MS)``), never as literals. A slow or noisy machine then
only needs ``WIRINGCHECK_TESTS_TIMEOUT_FACTOR`` set to make the whole suite patient
without editing a test: CI may set 10, a distribution building on loaded hardware
100. The unit is also doubled under asyncio debug mode and under a tracer such as
coverage, and never drops below the monotonic clock's resolution.

Assert lower bounds or generous upper bounds in units of ``MS``, never a value near
a budget. The unit tests of the pure core need none of this: they build recordings
with explicit times (``received_at=100.005``), so they never wait.
"""


# -- hypothesis ------------------------------------------------------------------------------------

# Deterministic examples: a property that fails, fails on every run (and in CI), never by luck of the draw.
# The database is off for the same reason: an example found once must not change the next run's verdict.
hypothesis.settings.register_profile("wiringcheck", derandomize=True, database=None)
hypothesis.settings.load_profile("wiringcheck")


# -- heap ------------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _frozen_heap() -> None:
    """Before each test: collect, then move what survives out of the collector's sight (`gc.freeze`).

    Every boot of a backend runs a full `gc.collect()` (wiringcheck finalizes the coroutines
    startup dropped, to report them), and a full collection walks every object of the
    process. A test process holds far more than a `wiringcheck run` process: pytest, the
    collected tests, the shared reports, and whatever backends the tests before imported
    (Google ADK and pydantic-ai alone add 200,000 objects). Frozen, those are skipped,
    so a run here costs what it costs in a fresh process: 20 runs of the reference backend
    took 2.8 s of CPU after an ADK run, and 0.4 s once frozen. The collection before the
    freeze leaves no garbage frozen, and costs little: it walks only what the test before
    made. What a test makes is collected as usual.
    """
    gc.collect()
    gc.freeze()


# -- xdist -----------------------------------------------------------------------------------------

FAULTS = Path(__file__).resolve().parent.parent / "fixtures" / "faults"

FRAMEWORKS = {
    "google-adk": (("tests/integration/test_adk_server.py",), "adk_"),
    "pydantic-ai": (
        ("tests/integration/test_agui_server.py", "tests/test_cli_init.py::test_init_from_run_on_an_ag_ui_app"),
        "agui_",
    ),
    "python-socketio": (("tests/integration/test_socketio.py",), "socketchat_"),
}
"""Frameworks that cost a second or more of CPU to import (python-socketio, with aiohttp, a quarter of one) per
worker: the tests that boot their apps (by the start of their ids) and the prefix of their faults' names."""

MODULES = frozenset(
    {
        "tests/integration/test_entry_points.py",  # `served`, `served_streams`: the matrix apps under uvicorn
        "tests/integration/test_server_ids.py",  # `settings`
        "tests/integration/test_targets.py",  # `served_by_hand`, `clock_ahead`: uvicorn in a process of its own
        "tests/load/test_load_command.py",  # the fork server its client processes fork from (one per process)
        "tests/run/test_http_streams.py",  # `server`
        "tests/scan/test_faults.py",  # `scan`: the fault folders scanned with a shared cache
        "tests/test_cli_inspect.py",  # `healthy_tree`: a booted and probed backend
        "tests/test_layering.py",  # every module parsed, once per process
        "tests/test_probe_tls.py",  # `served`: a CA, its certificate, and uvicorn over TLS in a subprocess
        "tests/test_purity.py",  # `added`: an interpreter forking a child per core module
        "tests/test_report_schema.py",  # `reports`: a healthy run, a failing one, a probe, a scan
    }
)
"""Modules whose tests share module-scoped fixtures (or caches) that cost a boot, a server or a subprocess."""

GROUPS = {
    # `tests.prefork`'s interpreters, one per worker that forks from them: wiringcheck's command line (and
    # test_servers' module-scoped `baseline`, a subprocess probe), and Locust
    "prefork": ("tests/adversarial/test_backends.py", "tests/adversarial/test_servers.py"),
    "locust": ("tests/load/test_locust.py", "tests/adversarial/test_locust.py"),
}
"""Modules whose tests share what a worker starts once for all of them, whichever module asks first."""


def work_unit(nodeid: str, faults: frozenset[str]) -> str:
    """The unit of work `nodeid` is scheduled in: the tests that would pay the same setup share one.

    The tests of one fault (its exit code, first cause, file and messages, in several modules)
    share its report (`integration.helpers.fault_report`), computed once per worker: in one
    unit, it is computed once per session. The tests of a framework's server, and of its
    faults, share the framework's import; the tests of one of `MODULES` share its fixtures, and
    those of one of `GROUPS` what a worker starts for them. Every other test is a unit of its own.
    """
    path, _, rest = nodeid.partition("::")
    for group, paths in GROUPS.items():
        if path in paths:
            return group
    if path in MODULES:
        return path
    param = rest.partition("[")[2].removesuffix("]") or None
    for framework, (tests, prefix) in FRAMEWORKS.items():
        if nodeid.startswith(tests) or (param in faults and param.startswith(prefix)):
            return framework
    return f"fault {param}" if param in faults else nodeid


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` first, each kept in its order: the workers start on the seconds-long ones, so that
    none of them is still running one when the others are done (the same order in every worker, as xdist needs)."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`--dist load` (what ``-n`` runs), with the tests of one `work_unit` sent to one worker.

    pytest-xdist's own ``--dist loadgroup`` would do this from ``xdist_group`` marks, but it
    renames items through an attribute pytest 9 no longer reads, so its groups never form.
    """
    if config.getvalue("dist") != "load":
        return None  # the distribution mode asked for on the command line
    from xdist.scheduler import LoadScopeScheduling

    faults = frozenset(path.name for path in FAULTS.iterdir() if (path / "wiringcheck.toml").is_file())

    class SharedSetupScheduling(LoadScopeScheduling):  # type: ignore[misc]
        """Units of `work_unit`; a unit whose tests are all done is forgotten, and a test's index is a lookup.

        LoadScopeScheduling counted a worker's pending tests over every unit it had ever been
        given, on each test done, and looked each test up in the worker's list of 2,700: with
        most tests a unit of their own, about half a second of the controller's CPU per run. Done units
        are all that its pending counts and its requeueing of a crashed worker's work skip.
        """

        def __init__(self, config: pytest.Config, log: Any) -> None:
            super().__init__(config, log)
            self._indexes: dict[Any, dict[str, int]] = {}

        def _split_scope(self, nodeid: str) -> str:
            return work_unit(nodeid, faults)

        def mark_test_complete(self, node: Any, item_index: int, duration: float = 0) -> None:
            nodeid = self.registered_collections[node][item_index]
            units = self.assigned_work[node]
            scope = self._split_scope(nodeid)
            units[scope][nodeid] = True
            if all(units[scope].values()):
                del units[scope]
            self._reschedule(node)

        def _assign_work_unit(self, node: Any) -> None:
            scope, unit = self.workqueue.popitem(last=False)
            self.assigned_work.setdefault(node, {})[scope] = unit
            index = self._indexes.get(node)
            if index is None:
                index = self._indexes[node] = {nodeid: i for i, nodeid in enumerate(self.registered_collections[node])}
            node.send_runtest_some([index[nodeid] for nodeid, done in unit.items() if not done])

    return SharedSetupScheduling(config, log)
