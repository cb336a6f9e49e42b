"""scan_command: the CLI's entry point renders, writes, and maps bad input to exit code 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from wiringcheck.scan.command import scan_command

BUGGY = "class A:\n    def go(self): ...\ndef f(a: A):\n    a.gone()\n"


def _run(paths: list[Path], **overrides: Any) -> int:
    options: dict[str, Any] = {
        "root": None,
        "config": None,
        "fmt": "console",
        "baseline": None,
        "update_baseline": False,
        "output": None,
        "cache": False,
        "jobs": 1,
        "verbose": 0,
    }
    options.update(overrides)
    return scan_command(paths=paths, **options)


@pytest.fixture(name="project")
def _project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    (tmp_path / "app.py").write_text(BUGGY, encoding="utf-8")
    return tmp_path


def test_console(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The console form prints one line per finding and a summary; findings exit 1."""
    code = _run([project])
    out = capsys.readouterr().out.splitlines()

    assert 1 == code
    assert out[0].startswith("app.py:4:5: a.gone: WC301 attribute missing on class:")
    assert out[-1].startswith("wiringcheck scan: 1 error, 0 warnings in 1 file")


@pytest.mark.parametrize("fmt", ["json", "sarif", "github"])
def test_formats(project: Path, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    """Every format renders the finding."""
    _run([project], fmt=fmt)
    out = capsys.readouterr().out

    assert "WC301" in out
    if fmt != "github":
        json.loads(out)


def test_output_file(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--output writes the report to a file instead of stdout."""
    target = project / "report.txt"
    _run([project], output=target)

    assert "" == capsys.readouterr().out
    assert "WC301" in target.read_text(encoding="utf-8")


def test_baseline_workflow(project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """--update-baseline records and exits 0; --baseline then passes until a new finding appears."""
    baseline = project / "baseline.json"

    assert 0 == _run([project], baseline=baseline, update_baseline=True)
    assert 0 == _run([project], baseline=baseline)
    (project / "app.py").write_text(BUGGY + "    a.also_gone()\n", encoding="utf-8")
    assert 1 == _run([project], baseline=baseline)
    assert "also_gone" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"paths": ["missing"]}, "path does not exist"),
        ({"fmt": "yaml"}, "unknown format"),
        ({"baseline": "nope.json"}, "baseline file not found"),
        ({"update_baseline": True}, "--update-baseline needs --baseline"),
        ({"jobs": 0}, "--jobs must be at least 1"),
        ({"config": "broken.toml"}, "wiringcheck: error:"),
        ({"root": "missing-root"}, "--root is not a directory"),
    ],
)
def test_usage_errors(
    project: Path, capsys: pytest.CaptureFixture[str], overrides: dict[str, Any], message: str
) -> None:
    """Bad input prints one 'wiringcheck: error:' line on stderr and exits 2, never a traceback."""
    (project / "broken.toml").write_text("app = [", encoding="utf-8")
    paths = [project / p for p in overrides.pop("paths", ["app.py"])]
    for key in ("baseline", "config", "root"):
        if key in overrides:
            overrides[key] = project / overrides[key]
    code = _run(paths, **overrides)
    err = capsys.readouterr().err

    assert 2 == code
    assert message in err
    assert 1 == len(err.strip().splitlines())
    assert err.startswith("wiringcheck: error:")


def test_config_found_next_to_the_scanned_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A wiringcheck.toml in the scanned folder configures must_call for that scan."""
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n', encoding="utf-8")
    app = tmp_path / "svc"
    app.mkdir()
    (app / "__init__.py").write_text("", encoding="utf-8")
    (app / "main.py").write_text("def create_app():\n    return None\n", encoding="utf-8")
    (app / "wiringcheck.toml").write_text(
        'app = "svc.main:create_app"\nmust_call = ["registry.set_manager"]\n'
        '[roles.registry]\npath = "state.registry"\n',
        encoding="utf-8",
    )
    code = _run([app])

    assert 1 == code
    assert "WC306" in capsys.readouterr().out
