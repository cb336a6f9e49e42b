"""The README's "Three ways teams use it": every fenced example, run as written, still works.

Each example runs in a scratch project whose `[tool.wiringcheck]` is this repository's
(pointed at the reference backend); the probe example runs against the reference
backend served over TLS. The only edit is the probe's host, replaced by the test
server's address.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import junitparser
import pytest

from wiringcheck.config import load_settings
from wiringcheck.pytest_plugin import expected_checks

from .conftest import SCRATCH_PYTEST_ADDOPTS
from .integration.helpers import REPO
from .test_probe_tls import serve_tls

SECTION = "## Three ways teams use it"
TIMEOUT = 120
"""Seconds one example may take before the test gives up (each takes one or two)."""


def examples() -> dict[str, list[tuple[str, str]]]:
    """The fenced code blocks of the section, by `###` heading: (language, code) in order."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else None]
    found: dict[str, list[tuple[str, str]]] = {}
    for part in re.split(r"^### ", section, flags=re.M)[1:]:
        heading = part.splitlines()[0].strip()
        found[heading] = re.findall(r"^```(\w+)\n(.*?)^```", part, flags=re.M | re.S)
    return found


def run_shell(code: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a shell example with the interpreter running the tests first on PATH."""
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return subprocess.run(
        ["bash", "-euo", "pipefail", "-c", code],
        cwd=cwd,
        env={**os.environ, "PATH": path, **env},
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        check=False,
    )


@pytest.fixture(name="project")
def _project(tmp_path, monkeypatch):
    """A scratch project configured like this repository: its `[tool.wiringcheck]`, imports from the repo."""
    for name in ("WIRINGCHECK_CONFIG", "WIRINGCHECK_BUDGET_MS", "WIRINGCHECK_DEADLINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTEST_ADDOPTS", SCRATCH_PYTEST_ADDOPTS)
    text = (REPO / "pyproject.toml").read_text(encoding="utf-8")
    table = text[text.index("[tool.wiringcheck]") : text.index("[tool.ruff]")]
    table = table.replace("[tool.wiringcheck]\n", f"[tool.wiringcheck]\npythonpath = [{json.dumps(str(REPO))}]\n", 1)
    pytest_ini = '[tool.pytest.ini_options]\nfilterwarnings = ["error"]\n\n'
    (tmp_path / "pyproject.toml").write_text(pytest_ini + table, encoding="utf-8")
    return tmp_path


def test_the_section_has_an_example_for_each_way():
    """Three ways, each with a shell example; the pytest one also shows fixtures in Python."""
    found = examples()

    assert [
        "`wiringcheck run` in CI",
        "`pytest --wiringcheck` in an existing suite",
        "`wiringcheck probe` before deploy",
    ] == list(found)
    assert ["sh", "sh", "python", "sh"] == [language for blocks in found.values() for language, _ in blocks]


def test_run_in_ci_leaves_junit_and_json_reports(project):
    """The CI example passes and leaves a JUnit file and a JSON report that say so."""
    ((_, code),) = examples()["`wiringcheck run` in CI"]

    completed = run_shell(code, project)

    assert 0 == completed.returncode, completed.stdout + completed.stderr
    assert json.loads((project / "reports" / "wiringcheck.json").read_text())["ok"]
    suite = next(iter(junitparser.JUnitXml.fromfile(str(project / "reports" / "wiringcheck.xml"))))
    assert (0, 0) == (suite.failures, suite.errors)


def test_pytest_examples_pass_in_an_existing_suite(project):
    """`python -m pytest --wiringcheck` passes, with the README's own tests using the fixtures beside the checks."""
    (_, command), (_, tests) = examples()["`pytest --wiringcheck` in an existing suite"]
    (project / "test_readme_example.py").write_text(tests, encoding="utf-8")

    # Only wiringcheck's plugin: other installed plugins would slow the run and are not the subject.
    completed = run_shell(
        command, project, PYTEST_DISABLE_PLUGIN_AUTOLOAD="1", PYTEST_PLUGINS="wiringcheck.pytest_plugin"
    )

    assert 0 == completed.returncode, completed.stdout + completed.stderr
    checks = len(expected_checks(load_settings(project / "pyproject.toml")))
    assert re.search(rf"\b{checks + 3} passed\b", completed.stdout), completed.stdout


@pytest.mark.slow
def test_probe_before_deploy_passes_against_a_tls_server(tmp_path):
    """The probe example, with the test server's address for the host, passes over TLS with the private CA."""
    ((_, code),) = examples()["`wiringcheck probe` before deploy"]
    with serve_tls(tmp_path) as served:
        shutil.copy(served.cafile, tmp_path / "internal-ca.pem")
        command = code.replace("wss://staging.example.internal/ws", served.url)

        completed = run_shell(command, tmp_path, AGENT_TOKEN=served.token)

    assert 0 == completed.returncode, completed.stdout + completed.stderr
    assert "latency over 20 runs (budget applies to max)" in completed.stdout
    assert served.token not in completed.stdout + completed.stderr


def fenced_blocks(heading: str) -> list[tuple[str, str]]:
    """The fenced blocks of a `##` section of the README: (language, code)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return re.findall(r"```(\w*)\n(.*?)```", text[start : end if end != -1 else None], flags=re.S)


def test_setup_commands_are_what_ci_runs():
    """The README's two set-up commands appear verbatim, in order, in .ci/run."""
    ((language, code), *_) = fenced_blocks("## Set up")
    commands = [line for line in code.splitlines() if line.strip()]
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()

    assert "sh" == language
    assert 2 == len(commands)
    assert commands == [line for line in ci if line in commands]


def test_configuration_example_validates():
    """The README's example `[tool.wiringcheck]` tables load and validate as written: a WebSocket backend's, and
    an SSE backend's probe."""
    import tomllib

    from wiringcheck.config import parse_settings

    (language, code), (sse_language, sse_code) = fenced_blocks("## Configure your backend")
    settings = parse_settings(tomllib.loads(code)["tool"]["wiringcheck"], source=REPO / "pyproject.toml")
    over_sse = parse_settings(tomllib.loads(sse_code)["tool"]["wiringcheck"], source=REPO / "pyproject.toml")

    assert ("toml", "toml") == (language, sse_language)
    assert ("myapp.main:create_app", {"registry", "bridge"}) == (settings.app, set(settings.roles))
    assert ("sse", "/api/sessions/{sid}/messages", 1) == (
        over_sse.probe.transport,
        over_sse.probe.path,
        len(over_sse.probe.setup),
    )
