"""The pytest plugin, tested in scratch projects with pytester (pytest-timeout's way).

Runs that boot the reference backend go through `runpytest_subprocess`, so that the
backend's imports, `sys.path` changes and threads stay out of this process; runs that
only read settings stay in-process, where they take milliseconds.
"""

from __future__ import annotations

import json
import re

import junitparser
import pytest

from wiringcheck.config import load_settings
from wiringcheck.pytest_plugin import expected_checks

from .conftest import SCRATCH_PYTEST_ADDOPTS
from .integration.helpers import FAULTS, REPO

pytest_plugins = ["pytester"]

SUBPROCESS_TIMEOUT = 120
"""Seconds a scratch pytest run may take before pytester kills it (a healthy one takes about two)."""

PYTEST_INI = """
[tool.pytest.ini_options]
asyncio_mode = "strict"
asyncio_default_fixture_loop_scope = "function"
filterwarnings = ["error"]
"""


def repository_table() -> str:
    """This repository's own `[tool.wiringcheck]` tables, pointed at the repository for imports."""
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    table = text[text.index("[tool.wiringcheck]") : text.index("[tool.ruff]")]
    return table.replace("[tool.wiringcheck]\n", f"[tool.wiringcheck]\npythonpath = [{json.dumps(str(REPO))}]\n", 1)


def write_pyproject(pytester, ini: str = "") -> None:
    """The scratch project's pyproject.toml: pytest settings (plus `ini` lines) and the wiringcheck tables."""
    pytester.makefile(".toml", pyproject=PYTEST_INI + ini + "\n" + repository_table())


@pytest.fixture(name="project")
def _project(pytester, monkeypatch):
    """A scratch project whose pyproject.toml checks the reference backend, and no WIRINGCHECK_* leaking in."""
    for name in ("WIRINGCHECK_CONFIG", "WIRINGCHECK_BUDGET_MS", "WIRINGCHECK_DEADLINE", "CI"):
        monkeypatch.delenv(name, raising=False)
    # The scratch run is no xdist worker, though this test may run in one: plugins that read these (pytest-benchmark
    # warns it is disabled, and the scratch project's warnings are errors) must not think so.
    for name in ("PYTEST_XDIST_WORKER", "PYTEST_XDIST_WORKER_COUNT", "PYTEST_XDIST_TESTRUNUID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTEST_ADDOPTS", SCRATCH_PYTEST_ADDOPTS)
    write_pyproject(pytester)
    return pytester


ISOLATED = ("-p", "wiringcheck.pytest_plugin", "-p", "pytest_asyncio.plugin")
"""Plugins to load explicitly when the autoload of installed plugins is off."""


def inline(project, *args):
    """Run pytest in this process with only wiringcheck's plugin and pytest-asyncio loaded.

    Turning off the autoload of other installed plugins keeps these runs fast (pytest would
    re-import and assertion-rewrite each plugin's package on every in-process run) and
    immune to what else is installed. The subprocess tests keep autoload on: they prove
    that the pytest11 entry point alone registers the plugin.
    """
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        return project.runpytest(*ISOLATED, *args)


def isolated_subprocess(project, *args):
    """Run pytest in a new process with only wiringcheck's plugin and pytest-asyncio loaded (see `inline`)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PYTEST_DISABLE_PLUGIN_AUTOLOAD", "1")
        return project.runpytest_subprocess(*ISOLATED, *args, timeout=SUBPROCESS_TIMEOUT)


FIXTURE_TESTS = '''
import pytest

from wiringcheck.pytest_plugin import assert_events


def test_roles_are_reachable_by_name(wiringcheck_backend):
    """The booted backend's roles are the live objects startup wired."""
    registry, bridge = wiringcheck_backend.roles["registry"], wiringcheck_backend.roles["bridge"]
    assert registry.websocket_manager is bridge.websocket_manager


def test_probe_fixture_records_the_five_events(wiringcheck_probe):
    """The probe fixture returns a recording that passes the configured expectation."""
    verdict = assert_events(wiringcheck_probe)
    assert 5 == len(verdict.timeline)


@pytest.mark.asyncio
async def test_async_probe_on_the_test_loop(wiringcheck_backend):
    """An async test awaits the probe from its own loop."""
    recording = await wiringcheck_backend.probe()
    assert_events(recording)


@pytest.mark.wiringcheck(budget_ms=0.000001)
def test_marker_budget_applies(wiringcheck_probe):
    """A marker's budget is what the recording is judged by."""
    with pytest.raises(AssertionError, match="WC405"):
        assert_events(wiringcheck_probe)
'''


@pytest.mark.slow
def test_wiringcheck_collects_one_passing_item_per_check(project):
    """`pytest --wiringcheck` shows one item per check of the report, and the fixtures work beside it."""
    project.makepyfile(test_fixtures=FIXTURE_TESTS)
    settings = load_settings(project.path / "pyproject.toml")
    names = expected_checks(settings)

    result = project.runpytest_subprocess("--wiringcheck", "-v", "--junitxml=junit.xml", timeout=SUBPROCESS_TIMEOUT)

    result.stdout.fnmatch_lines(
        [
            "wiringcheck::boot PASSED*",
            "wiringcheck::role: registry PASSED*",
            "wiringcheck::contract: bridge.notify_agent_started PASSED*",
            "wiringcheck::wire: bridge.websocket_manager is not None PASSED*",
            "wiringcheck::probe PASSED*",
            "wiringcheck::event: agent_completed PASSED*",
            "wiringcheck::shutdown PASSED*",
            "test_fixtures.py::test_async_probe_on_the_test_loop PASSED*",
        ]
    )
    result.assert_outcomes(passed=len(names) + 4)
    suite = next(iter(junitparser.JUnitXml.fromfile(str(project.path / "junit.xml"))))
    assert names == [case.name for case in suite if case.classname == "wiringcheck"]


@pytest.mark.slow
def test_legacy_setter_fails_with_the_findings_text(project):
    """On the seed's fault, the wire, the startup call, the probe and the five events fail with their findings."""
    config = FAULTS / "legacy_setter" / "wiringcheck.toml"

    result = isolated_subprocess(
        project, "--wiringcheck", f"--wiringcheck-config={config}", "--wiringcheck-deadline=0.3"
    )

    result.stdout.fnmatch_lines(
        [
            "*_ wiringcheck: wire: bridge.websocket_manager is not None _*",
            "WC211 wire not made: wire does not hold: bridge.websocket_manager is not None",
            "why:   Startup did not connect two objects that must be connected.",
            "do:    Startup did not connect these objects.*",
            "WC106 *startup never called registry.set_websocket_manager; it called registry.set_websocket_bridge*",
            "where: *fixtures/faults/legacy_setter/app.py:*",
            "WC402 event missing: agent_started never arrived",
            "FAILED wiringcheck::event: agent_completed - WC402 *",
        ]
    )
    assert 1 == result.ret
    result.assert_outcomes(passed=len(expected_checks(load_settings(config))) - 9, failed=9)


def test_collect_only_lists_the_checks_without_booting(project):
    """`--co` predicts the items from the configuration; the backend is never started."""
    result = inline(project, "--wiringcheck", "--co", "-q")

    names = expected_checks(load_settings(project.path / "pyproject.toml"))
    assert [f"wiringcheck::{name}" for name in names] == result.stdout.lines[: len(names)]
    result.stdout.fnmatch_lines([f"{len(names)} tests collected*"])


def test_keyword_selection_applies_to_check_items(project):
    """`-k` selects among the check items as among any tests."""
    result = inline(project, "--wiringcheck", "--co", "-q", "-k", "wire")

    assert [
        "wiringcheck::wire: registry.websocket_manager is bridge.websocket_manager",
        "wiringcheck::wire: bridge.websocket_manager is not None",
    ] == result.stdout.lines[:2]


MODULES_PROBE = """
import json, sys

def pytest_sessionfinish(session):
    loaded = sorted(
        name for name in sys.modules
        if name.startswith("wiringcheck") or name.partition(".")[0] in {heavy!r}
    )
    with open("modules.json", "w") as file:
        json.dump(loaded, file)
"""


def test_installed_but_not_enabled_costs_nothing(project):
    """Without --wiringcheck or a fixture, nothing extra is collected, shown or imported."""
    heavy = {"uvicorn", "websockets", "starlette", "rich", "typer"}
    project.makeconftest(MODULES_PROBE.format(heavy=heavy))
    project.makepyfile(test_plain="def test_plain():\n    '''A plain test.'''\n")

    result = project.runpytest_subprocess("-v", timeout=SUBPROCESS_TIMEOUT)

    result.assert_outcomes(passed=1)
    assert [] == [line for line in result.stdout.lines if "wiringcheck" in line and "plugins:" not in line]
    assert ["wiringcheck", "wiringcheck.pytest_plugin"] == json.loads((project.path / "modules.json").read_text())


def test_works_with_pytest_asyncio_auto_mode(project):
    """In auto mode a plain `async def` test uses the backend fixture and awaits on the backend's loop."""
    project.makepyfile(
        test_auto='''
        from wiringcheck.pytest_plugin import assert_events


        async def test_auto(wiringcheck_backend):
            """Probe and run a coroutine on the backend's loop, from the test's loop."""
            assert_events(await wiringcheck_backend.probe())
            bridge = wiringcheck_backend.roles["bridge"]
            assert None is await wiringcheck_backend.run(bridge.notify_agent_started("run-x", "demo"))
        '''
    )

    result = isolated_subprocess(project, "-o", "asyncio_mode=auto")

    result.assert_outcomes(passed=1)


BUDGET_TEST = """
import pytest


@pytest.mark.wiringcheck(budget_ms=7)
def test_budget(wiringcheck_settings):
    '''Print the budget in effect.'''
    print("budget_ms =", wiringcheck_settings.probe.budget_ms)
"""


@pytest.mark.parametrize(
    ("flag", "env", "ini", "expected"),
    [
        (None, None, None, 7.0),
        (None, None, "30", 30.0),
        (None, "20", "30", 20.0),
        ("10", "20", "30", 10.0),
        ("10", None, None, 10.0),
    ],
    ids=["marker", "ini-over-marker", "env-over-ini", "flag-over-env", "flag-alone"],
)
def test_settings_resolve_flag_then_env_then_ini_then_marker(project, monkeypatch, flag, env, ini, expected):
    """The budget comes from the flag, else the environment, else the ini file, else the marker."""
    if ini is not None:
        write_pyproject(project, f'wiringcheck_budget_ms = "{ini}"\n')
    if env is not None:
        monkeypatch.setenv("WIRINGCHECK_BUDGET_MS", env)
    project.makepyfile(test_budget=BUDGET_TEST)
    args = ["-s", f"--wiringcheck-config={project.path / 'pyproject.toml'}"]
    if flag is not None:
        args.append(f"--wiringcheck-budget-ms={flag}")

    result = inline(project, *args)

    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"*budget_ms = {expected}*"])


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        (
            {"args": ["--wiringcheck-budget-ms=fast"]},
            "invalid wiringcheck budget_ms 'fast' from --wiringcheck-budget-ms: "
            "expected a finite number of milliseconds, greater than 0 and at most 600000*",
        ),
        (
            {"env": {"WIRINGCHECK_DEADLINE": "-1"}},
            "invalid wiringcheck deadline '-1' from env WIRINGCHECK_DEADLINE: "
            "must be a finite number of seconds, greater than 0 and at most 3600*",
        ),
        (
            {"ini": 'wiringcheck_budget_ms = "0"\n'},
            "invalid wiringcheck budget_ms '0' from config file (wiringcheck_budget_ms in pyproject.toml): "
            "must be a finite number of milliseconds, greater than 0 and at most 600000*",
        ),
        (
            {"env": {"WIRINGCHECK_CONFIG": "missing.toml"}},
            "invalid wiringcheck config 'missing.toml' from env WIRINGCHECK_CONFIG: file not found*",
        ),
    ],
    ids=["flag", "env", "ini", "config-path"],
)
def test_a_bad_setting_is_a_usage_error_naming_its_source(project, monkeypatch, setup, message):
    """A bad flag, variable or ini value stops pytest with one line saying where it came from."""
    for name, value in setup.get("env", {}).items():
        monkeypatch.setenv(name, value)
    if "ini" in setup:
        write_pyproject(project, setup["ini"])

    result = inline(project, *setup.get("args", []))

    assert pytest.ExitCode.USAGE_ERROR == result.ret
    result.stderr.fnmatch_lines([f"ERROR: {message}"])


def test_a_bad_marker_fails_the_test_naming_the_marker(project):
    """A marker with a bad value errors that test only, naming the marker and the test."""
    project.makepyfile(
        test_marker="""
        import pytest


        @pytest.mark.wiringcheck(budget_ms="soon")
        def test_it(wiringcheck_settings):
            '''Never runs.'''


        @pytest.mark.wiringcheck(budjet_ms=5)
        def test_typo(wiringcheck_settings):
            '''Never runs.'''
        """
    )

    result = inline(
        project,
    )

    result.assert_outcomes(errors=2)
    result.stdout.fnmatch_lines(
        [
            "invalid wiringcheck budget_ms 'soon' from marker @pytest.mark.wiringcheck on test_marker.py::test_it: "
            "expected a finite number of milliseconds, greater than 0 and at most 600000*",
            "invalid wiringcheck setting 'budjet_ms' from marker @pytest.mark.wiringcheck on "
            "test_marker.py::test_typo; did you mean 'budget_ms'?",
        ]
    )


def test_a_broken_configuration_is_a_collection_error(project):
    """With --wiringcheck, a configuration that does not validate is reported like a module that does not import."""
    config = project.makefile(".toml", wiringcheck='app = "a.b:c"\n[probe]\nbudget_msec = 5\n')

    result = inline(project, "--wiringcheck", f"--wiringcheck-config={config}")

    assert pytest.ExitCode.INTERRUPTED == result.ret
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting wiringcheck*",
            f"wiringcheck: {config}: probe.budget_msec: unknown key; did you mean 'budget_ms'? "
            "(config from --wiringcheck-config)",
        ]
    )


def test_report_header_shows_settings_and_their_sources(project, monkeypatch):
    """The session header names each setting in effect and where it came from."""
    monkeypatch.setenv("WIRINGCHECK_DEADLINE", "2.5")

    result = inline(project, "--wiringcheck-budget-ms=50", "--co")

    header = next(line for line in result.stdout.lines if line.startswith("wiringcheck:"))
    assert (
        "wiringcheck: fixtures only, budget_ms=50.0 (from --wiringcheck-budget-ms), "
        "deadline=2.5 (from env WIRINGCHECK_DEADLINE)"
    ) == header


def test_expected_checks_follow_the_configuration():
    """The predicted items follow roles, members, wires, calls and events in the runner's order."""
    settings = load_settings(REPO / "pyproject.toml")

    names = expected_checks(settings)

    assert ["boot", "role: registry", "role: bridge"] == names[:3]
    assert ["probe", "probe: runtime errors", *(f"event: {e}" for e in settings.probe.events), "shutdown", "logs"] == (
        names[-9:]
    )
    assert 1 == sum(bool(re.match(r"contract: registry\.set_websocket_manager$", n)) for n in names)
    url_names = expected_checks(settings.with_target(url="ws://127.0.0.1:9/ws"))
    in_process_only = {"startup: coroutines awaited", "startup guards", "probe: runtime errors"}
    assert [] == [n for n in url_names if n in in_process_only]
