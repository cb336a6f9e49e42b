"""wiringcheck's pytest plugin: the wiring check as test items, and fixtures for your own tests.

pytest loads this module (through the ``pytest11`` entry point) in every session of
every user who installs wiringcheck, so importing it imports nothing heavy: no
asyncio, uvicorn, websockets, rich, typer or starlette, and not the runner. A
session that does not use wiringcheck pays for a few option definitions and nothing
else; the configuration is read, and the backend booted, only when ``--wiringcheck``
or one of the fixtures asks for it.

Settings, each a flag, an environment variable and an ini key, resolved in that order
(a flag beats the environment, which beats the ini file), then the test's
``@pytest.mark.wiringcheck(...)`` marker, then the wiringcheck configuration itself:

==============================  =========================  ======================
flag                            environment                ini key
==============================  =========================  ======================
``--wiringcheck``                                          ``wiringcheck = true``
``--wiringcheck-config PATH``   ``WIRINGCHECK_CONFIG``     ``wiringcheck_config``
``--wiringcheck-budget-ms MS``  ``WIRINGCHECK_BUDGET_MS``  ``wiringcheck_budget_ms``
``--wiringcheck-deadline S``    ``WIRINGCHECK_DEADLINE``   ``wiringcheck_deadline``
==============================  =========================  ======================

The marker is the lowest layer on purpose: a test author states what one test needs,
and whoever runs the suite (a slow CI runner) can still loosen every budget at once.

A relative path is relative to the working directory for a flag or a variable, to
the ini file's folder for an ini key, and to the rootdir for a marker.

Fixtures: ``wiringcheck_settings`` (the resolved `Settings`), ``wiringcheck_backend``
(a backend booted for one test, on its own event loop, roles reachable by name),
``wiringcheck_probe`` (one run's `Recording`) and ``wiringcheck_expectation``; helper:
`assert_events`. With ``--wiringcheck`` the runner runs once per session, on the first
check item; under pytest-xdist each worker that receives check items runs it once.

The check items run the backend in a supervised child process (`wiringcheck.supervisor`):
a backend that ends its process (``os._exit(0)``, a signal) fails the items with WC108
instead of ending the session. The fixtures cannot be contained that way: they hand the
backend's live objects to the test, so they run in the test's own process, and a backend
that calls ``os._exit()`` there ends the session.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

if TYPE_CHECKING:
    from _pytest._code.code import ExceptionInfo, TerminalRepr

    from wiringcheck.config import Settings
    from wiringcheck.findings import CheckResult
    from wiringcheck.live import LiveBackend
    from wiringcheck.report import Report
    from wiringcheck.run.judge import Verdict
    from wiringcheck.run.recording import Expectation, Recording

__all__ = [
    "WiringcheckCollector",
    "WiringcheckItem",
    "assert_events",
    "expected_checks",
]

# -- settings --------------------------------------------------------------------------------------


class _Option(NamedTuple):
    """One setting, available as a flag, an environment variable and an ini key, with one help text."""

    name: str
    flag: str
    env: str
    ini: str
    unit: str
    help: str


_ENABLE_HELP = "Collect the configured wiring check as test items, one per check (boot, contract, wires, events…)."
_OPTIONS = (
    _Option(
        "config",
        "--wiringcheck-config",
        "WIRINGCHECK_CONFIG",
        "wiringcheck_config",
        "path",
        "wiringcheck.toml or pyproject.toml to use (default: found from the rootdir up).",
    ),
    _Option(
        "budget_ms",
        "--wiringcheck-budget-ms",
        "WIRINGCHECK_BUDGET_MS",
        "wiringcheck_budget_ms",
        "milliseconds",
        "Per-event delivery budget in milliseconds (overrides probe.budget_ms).",
    ),
    _Option(
        "deadline",
        "--wiringcheck-deadline",
        "WIRINGCHECK_DEADLINE",
        "wiringcheck_deadline",
        "seconds",
        "Run deadline in seconds: how long the probe waits for the terminal event (overrides probe.deadline).",
    ),
)
_BY_NAME = {option.name: option for option in _OPTIONS}
_MARKER_HELP = (
    "wiringcheck(budget_ms=None, config=None, deadline=None): wiringcheck settings for this test's "
    "wiringcheck_* fixtures; flags, WIRINGCHECK_* variables and ini keys take precedence."
)


class Value(NamedTuple):
    """A setting's value and where it came from (``--wiringcheck-budget-ms``, ``env WIRINGCHECK_BUDGET_MS``…)."""

    value: Any
    source: str


class _Invalid(Exception):
    """A setting that does not validate; the message names the value and its source."""


def _validate(option: _Option, raw: Any, source: str, *, base: Path) -> Value:
    """Check one raw value; paths are made absolute against `base` (the cwd, the ini file's folder…)."""
    where = f"invalid wiringcheck {option.name} {raw!r} from {source}"
    if option.unit == "path":
        if not isinstance(raw, str | os.PathLike) or not str(raw).strip():
            raise _Invalid(f"{where}: expected the path of a wiringcheck.toml or pyproject.toml")
        path = (base / Path(raw)).resolve()
        if not path.is_file():
            raise _Invalid(f"{where}: file not found ({path})")
        return Value(path, source)
    from wiringcheck.config import check_number

    try:
        return Value(check_number(option.name, raw), source)
    except ValueError as exc:
        raise _Invalid(f"{where}: {exc}") from None


def _session_values(config: pytest.Config) -> dict[str, Value]:
    """The settings given by flag, environment or ini file (CLI > env > ini); absent ones are left out.

    Raises:
        pytest.UsageError: a value does not validate; the message says where it came from.
    """
    values: dict[str, Value] = {}
    cwd = Path.cwd()
    ini_base = config.inipath.parent if config.inipath is not None else config.rootpath
    ini_name = config.inipath.name if config.inipath is not None else "the ini file"
    for option in _OPTIONS:
        raw_flag = config.getoption(_dest(option))
        raw_env = os.environ.get(option.env)
        raw_ini = config.getini(option.ini)
        try:
            if raw_flag is not None:
                values[option.name] = _validate(option, raw_flag, option.flag, base=cwd)
            elif raw_env:
                values[option.name] = _validate(option, raw_env, f"env {option.env}", base=cwd)
            elif raw_ini not in ("", None):
                source = f"config file ({option.ini} in {ini_name})"
                values[option.name] = _validate(option, raw_ini, source, base=ini_base)
        except _Invalid as exc:
            raise pytest.UsageError(str(exc)) from None
    return values


def _dest(option: _Option) -> str:
    return "wiringcheck_" + option.name


def _marker_values(marker: pytest.Mark, nodeid: str, *, base: Path) -> dict[str, Value]:
    """The settings a `@pytest.mark.wiringcheck(...)` gives; unknown or bad ones are errors naming the marker."""
    source = f"marker @pytest.mark.wiringcheck on {nodeid}"
    if marker.args:
        raise _Invalid(f"invalid wiringcheck marker from {source}: give settings by keyword, e.g. budget_ms=200")
    values: dict[str, Value] = {}
    for name, raw in marker.kwargs.items():
        if name not in _BY_NAME:
            from wiringcheck.suggest import suggest

            guess = suggest(name, _BY_NAME)
            hint = f"; did you mean {guess!r}?" if guess else f"; known: {', '.join(_BY_NAME)}"
            raise _Invalid(f"invalid wiringcheck setting {name!r} from {source}{hint}")
        values[name] = _validate(_BY_NAME[name], raw, source, base=base)
    return values


# -- session state ---------------------------------------------------------------------------------


class _RunFailed(Exception):
    """wiringcheck could not run at all (bad import path, bad configuration): every item fails with this."""


class _State:
    """What the plugin knows in one pytest session; lives in ``config.stash``.

    A plain class, not a dataclass: this module is imported by every pytest session,
    and each dataclass costs a few hundred microseconds to build at import.
    """

    def __init__(self, config: pytest.Config, *, enabled: bool, values: dict[str, Value]) -> None:
        self.config = config
        self.enabled = enabled
        self.values = values
        self.loaded: dict[Path | None, Settings] = {}
        self.report: Report | None = None
        self.run_error: str | None = None

    def load(self, path: Path | None, source: str) -> Settings:
        """The configuration at `path` (or found from the rootdir), loaded once per session.

        Raises:
            _Invalid: it does not load; the message names the file, the key and the source of its path.
        """
        if path not in self.loaded:
            from wiringcheck.config import ConfigError, load_settings

            try:
                self.loaded[path] = load_settings(path, start=self.config.rootpath)
            except ConfigError as exc:
                origin = f" (config from {source})" if path is not None else " (or set --wiringcheck-config PATH)"
                raise _Invalid(f"wiringcheck: {exc}{origin}") from None
        return self.loaded[path]

    def resolve(self, marker: dict[str, Value] | None = None) -> tuple[Settings, dict[str, Value]]:
        """The settings in effect: flag > env > ini > marker > the configuration file."""
        layered = {**(marker or {}), **self.values}
        chosen = layered.get("config")
        settings = self.load(chosen.value if chosen else None, chosen.source if chosen else "")
        changes = {name: layered[name].value for name in ("budget_ms", "deadline") if name in layered}
        if changes:
            settings = settings.with_probe(**changes)
        return settings, layered

    def run(self) -> Report:
        """The session's report: the runner runs once, on the first item that needs it.

        Raises:
            _RunFailed: the configuration or the target's import path is unusable.
        """
        if self.report is None and self.run_error is None:
            try:
                settings, _ = self.resolve()
                self.report = _run_report(settings)
            except _Invalid as exc:
                self.run_error = str(exc)
            except Exception as exc:
                from wiringcheck.errors import UsageError

                if not isinstance(exc, UsageError):
                    raise
                self.run_error = f"wiringcheck: {exc}"
        if self.run_error is not None:
            raise _RunFailed(self.run_error)
        assert self.report is not None
        return self.report


_STATE = pytest.StashKey[_State]()


def _run_report(settings: Settings) -> Report:
    """The session's report: an in-process backend runs in a supervised child process, so ending that process
    (``os._exit``, a signal) fails the items with WC108 instead of ending the pytest session."""
    if settings.target_kind == "url":  # no backend code runs here
        return _run_here(None, settings)
    from wiringcheck.secrets import Secrets
    from wiringcheck.supervisor import report_of, supervise
    from wiringcheck.watchdog import MARGIN, budget

    supervised = supervise(_run_here, (settings,), timeout=budget(settings) + 3 * MARGIN)
    return report_of(supervised, settings, kind="run", secrets=Secrets(settings.credentials(os.environ)))


def _run_here(relay: Any, settings: Settings) -> Report:
    """Run the runner in a fresh event loop; in a worker thread if this thread already runs one."""
    import asyncio

    from wiringcheck.runner import run

    if relay is not None:  # a supervised child: progress goes to the parent, which reports a death with it
        return run(settings, observer=relay)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run(settings)
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="wiringcheck") as pool:
        return pool.submit(run, settings).result()


def _state(config: pytest.Config) -> _State:
    state = config.stash.get(_STATE, None)
    if state is None:  # pytest_configure did not run: the plugin was registered late
        state = config.stash[_STATE] = _State(config, enabled=False, values=_session_values(config))
    return state


# -- hooks -----------------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("wiringcheck", "wiringcheck: startup wiring and WebSocket events")
    group.addoption("--wiringcheck", action="store_true", default=None, dest="wiringcheck", help=_ENABLE_HELP)
    parser.addini("wiringcheck", _ENABLE_HELP, type="bool", default=False)
    for option in _OPTIONS:
        metavar = {"path": "PATH", "milliseconds": "MS", "seconds": "SECONDS"}[option.unit]
        group.addoption(option.flag, dest=_dest(option), default=None, metavar=metavar, help=option.help)
        parser.addini(option.ini, f"{option.help} Environment: {option.env}.", default="")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER_HELP)
    enabled = bool(config.getoption("wiringcheck") or config.getini("wiringcheck"))
    config.stash[_STATE] = _State(config, enabled=enabled, values=_session_values(config))


def pytest_report_header(config: pytest.Config) -> str | None:
    state = config.stash.get(_STATE, None)
    if state is None or not (state.enabled or state.values):
        return None
    parts = ["enabled" if state.enabled else "fixtures only"]
    parts.extend(f"{name}={value.value} (from {value.source})" for name, value in state.values.items())
    return "wiringcheck: " + ", ".join(parts)


@pytest.hookimpl(tryfirst=True)  # before -k, -m and --deselect filter the items
def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or not state.enabled:
        return
    collector = WiringcheckCollector.from_parent(session, name="wiringcheck", nodeid="wiringcheck")
    # Collect the way pytest collects a file, so its items are counted and its errors are collection errors.
    collector.ihook.pytest_collectstart(collector=collector)
    report = collector.ihook.pytest_make_collect_report(collector=collector)
    collector.ihook.pytest_collectreport(report=report)
    if report.passed:
        items[:0] = [node for node in report.result if isinstance(node, pytest.Item)]


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    state = config.stash.get(_STATE, None)
    if state is None or state.report is None:
        return
    report = state.report
    terminalreporter.write_sep("-", "wiringcheck")
    for event in report.events:
        latency = f", latency {event.latency_ms:g} ms" if event.latency_ms is not None else ""
        owner = "" if event.ours else f" (other run {event.run_id})"
        when = f"+{event.at_ms:g} ms" if event.at_ms >= 0 else f"{-event.at_ms:g} ms before the trigger"
        terminalreporter.write_line(f"  {event.type or '(no type)'}{owner} at {when}{latency}")
    for finding in report.findings:
        if finding.severity != "error":
            terminalreporter.write_line(f"  {finding.severity.value}: {finding.code} {finding.message}")
    counts = ", ".join(f"{n} {status.value}" for status, n in report.counts().items() if n)
    verdict = "passed" if report.ok else "failed"
    terminalreporter.write_line(f"wiringcheck {verdict}: {report.target}: {counts} in {report.duration:.2f} s")


# -- the check as test items -----------------------------------------------------------------------


def expected_checks(settings: Settings) -> list[str]:
    """The names of the checks a run of `settings` reports, in order (`wiringcheck.runner.plan`).

    Collection must not boot the backend (``pytest --co`` stays instant), so the items
    come from the runner's plan of the configuration.
    """
    from wiringcheck.runner import plan

    return plan(settings)


class CheckFailed(Exception):
    """A check of the report failed; its findings are the failure text."""

    def __init__(self, text: str) -> None:
        self.text = text
        super().__init__(text)


class WiringcheckCollector(pytest.Collector):
    """The configured check: one item per check of the report."""

    def collect(self) -> list[pytest.Item]:
        state = _state(self.config)
        try:
            settings, _ = state.resolve()
        except _Invalid as exc:
            raise self.CollectError(str(exc)) from None
        if settings.target_kind == "none":
            raise self.CollectError(
                f"wiringcheck: {settings.source}: the configuration names no target: set app, boot or url"
            )
        seen: dict[str, int] = {}
        items: list[pytest.Item] = []
        for name in expected_checks(settings):
            occurrence = seen[name] = seen.get(name, -1) + 1
            shown = name if not occurrence else f"{name} #{occurrence + 1}"
            items.append(WiringcheckItem.from_parent(self, name=shown, check=name, occurrence=occurrence))
        return items

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, "wiringcheck"


class WiringcheckItem(pytest.Item):
    """One check of the session's wiringcheck run; the run itself happens once, on the first item."""

    def __init__(self, *, check: str, occurrence: int = 0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.check = check
        self.occurrence = occurrence

    def _result(self, report: Report) -> CheckResult | None:
        matches = [c for c in report.checks if c.name == self.check]
        return matches[self.occurrence] if self.occurrence < len(matches) else None

    def runtest(self) -> None:
        from wiringcheck.findings import Severity, Status

        report = _state(self.config).run()
        check = self._result(report)
        if check is not None:
            self.user_properties.append(("duration_ms", f"{check.duration * 1000:.3f}"))
        if check is None:
            if report.boot_failed:
                pytest.skip("the backend did not boot")
            from wiringcheck.runner import OPTIONAL_CHECKS

            if self.check not in OPTIONAL_CHECKS:
                raise CheckFailed(f"wiringcheck reported no check named {self.check!r}")
        elif check.status is Status.SKIPPED:
            pytest.skip(check.reason or "skipped")
        elif check.status is Status.FAILED:
            raise CheckFailed(_check_text(check))
        if self.check == "logs":
            self._unlisted(report)
        notes = [f for f in (check.findings if check else ()) if f.severity is not Severity.ERROR]
        if notes:
            from wiringcheck.render import finding_text

            self.add_report_section("call", "wiringcheck", "\n\n".join(finding_text(f) for f in notes))

    def _unlisted(self, report: Report) -> None:
        """Fail with any failed check the collection did not predict, so nothing is lost."""
        from wiringcheck.findings import Status

        known = set(expected_checks(_state(self.config).resolve()[0]))
        extra = [c for c in report.checks if c.name not in known and c.status is Status.FAILED]
        if extra:
            raise CheckFailed("\n\n".join(f"[{c.name}]\n{_check_text(c)}" for c in extra))

    def repr_failure(self, excinfo: ExceptionInfo[BaseException], style: Any = None) -> str | TerminalRepr:
        if isinstance(excinfo.value, CheckFailed | _RunFailed):
            return str(excinfo.value)
        return super().repr_failure(excinfo, style=style)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"wiringcheck: {self.name}"


def _check_text(check: CheckResult) -> str:
    from wiringcheck.render import finding_text

    return "\n\n".join(finding_text(f) for f in check.findings) or check.reason or "failed"


# -- fixtures for your own tests -------------------------------------------------------------------


def _fixture_settings(request: pytest.FixtureRequest) -> Settings:
    state = _state(request.config)
    marker = request.node.get_closest_marker("wiringcheck")
    try:
        extra = _marker_values(marker, request.node.nodeid, base=request.config.rootpath) if marker else None
        settings, _ = state.resolve(extra)
    except _Invalid as exc:
        problem = str(exc)
    else:
        return settings
    pytest.fail(problem, pytrace=False)


@pytest.fixture(name="wiringcheck_settings")
def _wiringcheck_settings(request: pytest.FixtureRequest) -> Settings:
    """The wiringcheck `Settings` in effect for this test (flags, env, ini, marker, configuration)."""
    return _fixture_settings(request)


@pytest.fixture(name="wiringcheck_backend")
def _wiringcheck_backend(wiringcheck_settings: Settings) -> Iterator[LiveBackend]:
    """The configured backend, booted for this test and shut down after it; roles by name."""
    from wiringcheck.live import LiveBackend

    live = LiveBackend(wiringcheck_settings)
    try:
        live.start()
    except BaseException:
        live.stop()
        raise
    try:
        yield live
    finally:
        live.stop()


@pytest.fixture(name="wiringcheck_probe")
def _wiringcheck_probe(wiringcheck_backend: LiveBackend) -> Recording:
    """One agent run started on the booted backend: its `Recording`, ready for `assert_events`."""
    return wiringcheck_backend.probe_sync()


@pytest.fixture(name="wiringcheck_expectation")
def _wiringcheck_expectation(wiringcheck_settings: Settings) -> Expectation:
    """The events, order and budget the configuration expects (after flags, env, ini and marker)."""
    from wiringcheck.backend import expectation_for

    return expectation_for(wiringcheck_settings.probe)


def assert_events(
    recording: Recording,
    expectation: Expectation | None = None,
    *,
    events: tuple[str, ...] | list[str] | None = None,
    budget_ms: float | None = None,
) -> Verdict:
    """Assert that a recorded run delivered the expected events, in order, within budget.

    Without `expectation`, the run is judged by the settings it was probed with.
    Failures read like the CLI's: one what / where / why / do block per finding.
    See `wiringcheck.backend.assert_events`.
    """
    __tracebackhide__ = True
    from wiringcheck.backend import assert_events as check

    return check(recording, expectation, events=events, budget_ms=budget_ms)
