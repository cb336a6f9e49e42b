"""A command imports only what it uses: parsing the options of run, probe and scan never imports pydantic.

Typer converts option values through pydantic; the CLI converts its plain options itself
(`cli._PlainCoercion`), which saves every run the import. Each case runs in a fresh
interpreter, since this process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

_PARSE_AND_REPORT = """
import contextlib, io, json, sys
from wiringcheck.cli import main

seen = []
for argv in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()) as err:
        code = main(argv)
    seen.append([argv, code, "pydantic" in sys.modules, err.getvalue()])
print(json.dumps(seen))
"""


def _parse_in_fresh_interpreter(argvs: list[list[str]], cwd: Path) -> list[tuple[list[str], int, bool, str]]:
    result = subprocess.run(
        [sys.executable, "-c", _PARSE_AND_REPORT, json.dumps(argvs)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return [tuple(item) for item in json.loads(result.stdout)]


@pytest.mark.parametrize(
    "command",
    [
        [
            ["run", "--help"],
            ["run", "-q", "--config", "missing.toml", "--budget-ms", "50", "--deadline", "2", "--format", "json"],
        ],
        [
            ["probe", "--help"],
            ["probe", "ws://127.0.0.1:9/ws", "--runs", "0", "--budget-ms", "50", "--token-env", "T"],
        ],
        [
            ["scan", "--help"],
            ["scan", "app.py", "--jobs", "1", "--no-cache", "--format", "json", "--root", "."],
        ],
    ],
    ids=["run", "probe", "scan"],
)
def test_parsing_options_does_not_import_pydantic(tmp_path: Path, command: list[list[str]]) -> None:
    """--help, a value out of range, a missing configuration or a whole scan: pydantic stays unimported."""
    (tmp_path / "app.py").write_text("def f() -> int:\n    return 1\n", encoding="utf-8")

    seen = _parse_in_fresh_interpreter(command, tmp_path)

    assert [(argv, False) for argv in command] == [(argv, imported) for argv, _, imported, _ in seen]


def test_plain_conversion_keeps_typer_semantics(tmp_path: Path) -> None:
    """Converted values reach the command (a path, an int, an enum), and bad ones are usage errors naming the option."""
    (tmp_path / "app.py").write_text("def f() -> int:\n    return 1\n", encoding="utf-8")

    seen = _parse_in_fresh_interpreter(
        [
            ["scan", "app.py", "--jobs", "1", "--no-cache", "--format", "json"],
            ["scan", "app.py", "--jobs", "x"],
            ["scan", "app.py", "--format", "yaml"],
            ["probe", "ws://127.0.0.1:9/ws", "--runs", "0"],
            ["run", "--budget-ms", "fast"],
        ],
        tmp_path,
    )

    codes = [code for _, code, _, _ in seen]
    errors = [error.strip().splitlines()[-1] if error.strip() else "" for _, _, _, error in seen]
    assert [0, 2, 2, 2, 2] == codes
    assert "" == errors[0]
    assert "Error: Invalid value for '--jobs' / '-j': Input should be an integer, got 'x'" == errors[1]
    assert errors[2].startswith("Error: Invalid value for '--format' / '-f': 'yaml' is not one of 'console'")
    assert "Error: Invalid value for '--runs': Input should be greater than or equal to 1" == errors[3]
    assert "Error: Invalid value for '--budget-ms': Input should be a number, got 'fast'" == errors[4]


_HELP_AND_LIST_MODULES = """
import contextlib, io, json, sys
from wiringcheck.cli import main

with contextlib.redirect_stdout(io.StringIO()):
    code = main(["--help"])
print(json.dumps([code, sorted(name for name in sys.modules if name.split(".")[0] in ("wiringcheck", "pydantic"))]))
"""


def test_help_imports_only_the_cli_and_what_its_options_name(tmp_path: Path) -> None:
    """--help imports the CLI, its errors and the render package for `Format`, whose imports are deferred."""
    result = subprocess.run(
        [sys.executable, "-c", _HELP_AND_LIST_MODULES],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    assert [0, ["wiringcheck", "wiringcheck.cli", "wiringcheck.errors", "wiringcheck.render"]] == json.loads(
        result.stdout
    )


_PRELOAD = """
import json, sys
from wiringcheck.config import parse_settings
from wiringcheck.run.drive import preload

probe = parse_settings({"probe": json.loads(sys.argv[1])}).probe
wanted = ["httpx", "h11", "httpx_sse", "websockets.asyncio.client"]
before = [name in sys.modules for name in wanted]
preload(probe)
print(json.dumps([before, [name in sys.modules for name in wanted]]))
"""


@pytest.mark.parametrize(
    ("probe", "after"),
    [
        ({}, [False, False, False, True]),
        ({"preset": "langgraph"}, [True, True, True, False]),
    ],
    ids=["websocket", "sse with a setup step"],
)
def test_a_load_worker_imports_what_its_runs_use_before_they_start(tmp_path: Path, probe: dict, after: list) -> None:
    """`preload` (a load worker, before its go): the transport's library and httpx for setup steps, nothing else."""
    result = subprocess.run(
        [sys.executable, "-c", _PRELOAD, json.dumps(probe)],
        cwd=tmp_path, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip

    assert [[False] * 4, after] == json.loads(result.stdout)
