"""The scan cache: unchanged files are neither read, parsed nor checked again; a bad cache is ignored."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wiringcheck.scan import scan_paths

BUGGY = "class A:\n    def go(self): ...\ndef f(a: A):\n    a.gone()\n"


@pytest.fixture(name="project")
def _project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("WIRINGCHECK_CACHE_DIR", raising=False)
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "a.py").write_text(BUGGY, encoding="utf-8")
    (tmp_path / "b.py").write_text("from a import A\ndef g(a: A):\n    a.go()\n", encoding="utf-8")
    return tmp_path


def test_warm_scan_reuses_everything(project: Path) -> None:
    """A second scan of an unchanged project parses and checks nothing, and finds the same."""
    cold = scan_paths([project], jobs=1)
    warm = scan_paths([project], jobs=1)

    assert (2, 0) == (cold.extra["parsed"], cold.extra["cached"])
    assert (0, 2, 0) == (warm.extra["parsed"], warm.extra["cached"], warm.extra["checked"])
    assert "cached" == warm.extra["mode"]
    assert [f.oneline() for f in cold.findings] == [f.oneline() for f in warm.findings]
    assert (project / ".wiringcheck_cache" / ".gitignore").is_file()


def test_edited_body_rechecks_only_that_file(project: Path) -> None:
    """Editing a function body leaves the other files' findings cached."""
    scan_paths([project], jobs=1)
    (project / "b.py").write_text("from a import A\ndef g(a: A):\n    a.go()\n    a.gone_too()\n", encoding="utf-8")
    report = scan_paths([project], jobs=1)

    assert (1, 1, 1) == (report.extra["parsed"], report.extra["cached"], report.extra["checked"])
    assert 2 == len(report.findings)


def test_changed_signature_rechecks_callers(project: Path) -> None:
    """A change to what a module defines invalidates the findings of the files that use it."""
    scan_paths([project], jobs=1)
    (project / "a.py").write_text(BUGGY.replace("def go(self)", "def go_renamed(self)"), encoding="utf-8")
    report = scan_paths([project], jobs=1)

    assert {"a.py", "b.py"} == {f.location.path for f in report.findings if f.location}


def test_corrupt_cache_is_ignored(project: Path) -> None:
    """Garbage in the cache files never breaks the scan."""
    scan_paths([project], jobs=1)
    for path in (project / ".wiringcheck_cache").glob("*.pickle"):
        path.write_bytes(b"not a pickle")
    report = scan_paths([project], jobs=1)

    assert 1 == len(report.findings)


def test_cache_directory_from_environment(
    project: Path, tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """WIRINGCHECK_CACHE_DIR moves the cache out of the project."""
    elsewhere = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("WIRINGCHECK_CACHE_DIR", str(elsewhere))
    scan_paths([project], jobs=1)

    assert (elsewhere / "manifest.pickle").is_file()
    assert not (project / ".wiringcheck_cache").exists()


def test_no_cache_writes_nothing(project: Path) -> None:
    """cache=False leaves no cache directory behind."""
    scan_paths([project], cache=False, jobs=1)

    assert not (project / ".wiringcheck_cache").exists()


def test_unwritable_cache_falls_back(
    project: Path, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """When the root is read-only, the cache goes to XDG_CACHE_HOME instead."""
    if os.geteuid() == 0:
        pytest.skip("root can write anywhere")
    xdg = tmp_path_factory.mktemp("xdg")
    monkeypatch.setenv("XDG_CACHE_HOME", str(xdg))
    project.chmod(0o555)
    try:
        scan_paths([project], jobs=1)
    finally:
        project.chmod(0o755)

    assert list(xdg.glob("wiringcheck/*/manifest.pickle"))


def test_unchanged_project_answers_without_loading_summaries(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing changed on disk: the findings come back without reading the summaries pickle."""
    from wiringcheck.scan.cache import Cache

    scan_paths([project], jobs=1)

    def refuse(self: Cache) -> object:
        raise AssertionError("summaries loaded")

    monkeypatch.setattr(Cache, "summaries", property(refuse))
    report = scan_paths([project / "a.py"], jobs=1)

    assert 1 == len(report.findings)
