"""The regression corpus (bench/scan_regressions.py): the app is clean, and every pair is caught."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scan_regressions.py"


def _bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("scan_regressions", BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("scan_regressions", module)
    spec.loader.exec_module(module)
    return module


bench = _bench()


def test_the_app_is_clean(tmp_path: Path) -> None:
    """The "before" side of every pair: the app as written has no finding."""
    root = tmp_path / "app"
    shutil.copytree(bench.APP, root)

    assert [] == bench.scan(root)


def test_there_are_at_least_30_pairs() -> None:
    assert len(bench.REGRESSIONS) >= 30


@pytest.mark.parametrize("regression", bench.REGRESSIONS, ids=[r.name for r in bench.REGRESSIONS])
def test_each_regression_is_caught_on_its_line(tmp_path: Path, regression: object) -> None:
    """The "after" side: the expected code on the bug's line (and for a negative case, none there), and at most
    one other finding in that file."""
    root = tmp_path / "app"
    shutil.copytree(bench.APP, root)
    bench.apply(root, regression)
    found = bench.scan(root)

    caught, leftover = bench.judge(found, regression, bench.bug_lines(root, regression), regression.code)

    assert caught, found
    assert leftover <= 1, found
