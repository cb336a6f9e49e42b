"""supervisor.py: the check runs in a child; the parent gets its verdict, or the story of its death, never silence."""

from __future__ import annotations

import time

import pytest

from wiringcheck.errors import BackendError, UsageError
from wiringcheck.findings import CheckResult, Phase
from wiringcheck.supervisor import ChildCrashed, death_report, supervise

from .conftest import MS
from .supervised_children import (
    TIMEOUT,
    answers,
    crashes,
    exits,
    hangs,
    kills_itself,
    prints_then_answers,
    raises_backend_error,
    raises_usage_error,
)


class Recorder:
    def __init__(self):
        self.seen = []

    def phase_started(self, phase):
        self.seen.append(("phase", phase))

    def check_finished(self, check):
        self.seen.append(("check", check.name))


@pytest.fixture(name="method", params=["fork", "spawn"])
def _method(request, monkeypatch):
    """Each test runs with a forked child and with a spawned one."""
    if request.param == "spawn":
        monkeypatch.setattr("wiringcheck.supervisor.fork_is_safe", lambda: False)
    return request.param


def test_the_verdict_and_the_progress_reach_the_parent(method):
    """The child's return value is the verdict; its phases and checks reach the observer, its secrets the parent."""
    observer = Recorder()

    outcome = supervise(answers, (42,), timeout=TIMEOUT, observer=observer)

    assert {"verdict": 42} == outcome.verdict
    assert outcome.death is None
    assert [("phase", "boot"), ("check", "boot")] == observer.seen
    assert ("learnt-secret-1234",) == outcome.secrets


def test_what_the_child_writes_to_its_descriptors_is_kept_not_shown(method, capfd):
    """Descriptors 1 and 2 of the child go to the parent as evidence, not to the parent's own stdout and stderr."""
    outcome = supervise(prints_then_answers, timeout=TIMEOUT)

    shown = capfd.readouterr()
    assert "done" == outcome.verdict
    assert {("stdout", "written to descriptor 1"), ("stderr", "written to descriptor 2")} == {
        (item.stream, line) for item in outcome.output for line in item.lines
    }
    assert "descriptor" not in shown.out + shown.err


@pytest.mark.parametrize("code", [0, 7])
def test_os_exit_is_a_death_with_its_code_and_place(method, code):
    """`os._exit(0)` (or any code) without a verdict: a death naming the code, the phase, the line and last words."""
    outcome = supervise(exits, (code,), timeout=TIMEOUT)

    death = outcome.death
    assert death is not None
    assert (code, "probe", ["boot"]) == (death.exit_code, death.phase, [c.name for c in death.checks])
    assert "exits" == death.exit_stack[-1].function
    assert ["last words"] == [line for item in outcome.output for line in item.lines]


def test_a_signal_is_a_death_naming_the_signal(method):
    """SIGKILL leaves no Python code to run: the death names the signal."""
    outcome = supervise(kills_itself, timeout=TIMEOUT)

    assert outcome.death is not None
    assert "signal 9 (SIGKILL)" == outcome.death.status


def test_a_child_past_its_timeout_is_killed_and_reported(method):
    """No verdict within the timeout: the child is killed (long before its own sleep ends), and the death says so."""
    started = time.monotonic()

    outcome = supervise(hangs, timeout=500 * MS)

    assert outcome.death is not None
    assert outcome.death.status.startswith("no verdict within")
    assert outcome.death.status.endswith("killed")
    assert time.monotonic() - started < TIMEOUT / 2


@pytest.mark.parametrize(
    ("work", "kind", "code"), [(raises_usage_error, UsageError, 2), (raises_backend_error, BackendError, 3)]
)
def test_the_childs_own_errors_are_raised_in_the_parent_with_their_exit_code(method, work, kind, code):
    """A usage error or a backend error in the child is the same error in the parent: same type, text, exit code."""
    with pytest.raises(kind) as caught:
        supervise(work, timeout=TIMEOUT)

    assert code == caught.value.exit_code
    assert "boot: startup raised RuntimeError" == str(caught.value) or "--flag" in str(caught.value)


def test_a_bug_in_the_child_is_a_crash_with_its_traceback(method):
    """wiringcheck's own exception in the child: `ChildCrashed`, carrying the child's traceback."""
    with pytest.raises(ChildCrashed) as caught:
        supervise(crashes, timeout=TIMEOUT)

    assert "ZeroDivisionError: a bug in wiringcheck" in caught.value.details


def test_the_report_of_a_death_fails_the_phase_check_with_wc108_and_exit_3():
    """A death in the probe, after boot passed: the boot check kept, WC108 on the probe, exit code 3."""
    from wiringcheck.supervisor import Death

    death = Death(
        status="exit status 0", phase="probe", checks=[CheckResult.judged("boot", Phase.BOOT, [])], exit_code=0
    )

    report = death_report(death, kind="run", target="app pkg:app")

    assert ["boot", "probe"] == [check.name for check in report.checks]
    assert ["WC108"] == [finding.code for finding in report.checks[1].findings]
    assert "os._exit(0)" in report.checks[1].findings[0].message
    assert 3 == report.exit_code
