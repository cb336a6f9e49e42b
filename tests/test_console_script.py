"""The installed `wiringcheck` script, run as a user runs it: in a subprocess."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from .integration.helpers import REPO


def test_console_script_runs_the_main_job():
    """`wiringcheck run` from the repository root exits 0 with a passing verdict."""
    script = shutil.which("wiringcheck")
    if script is None:
        pytest.fail("the wiringcheck script is not installed: run `pip install -e .[test]`")

    result = subprocess.run([script, "run"], cwd=REPO, capture_output=True, text=True, timeout=60, check=False)

    assert (0, "") == (result.returncode, result.stderr)
    assert "PASSED" in result.stdout


def test_python_dash_m_shows_help():
    """`python -m wiringcheck --help` lists the commands."""
    result = subprocess.run(
        [sys.executable, "-m", "wiringcheck", "--help"], capture_output=True, text=True, timeout=60, check=False
    )

    assert 0 == result.returncode
    assert "run" in result.stdout
    assert "scan" in result.stdout
