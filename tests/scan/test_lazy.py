"""A lazy scan (a few files of a big project with a cold cache) finds what a full scan finds."""

from __future__ import annotations

from pathlib import Path

import pytest

from wiringcheck.scan import project as project_module
from wiringcheck.scan import scan_paths

from .tools import write_project

FILES = {
    "pkg/registry.py": """
        class Registry:
            def register(self, agent): ...
    """,
    "pkg/supervisor.py": """
        class Supervisor:
            def dispatch(self, task): ...
    """,
    "pkg/startup.py": """
        from pkg.supervisor import Supervisor

        def lifespan(app):
            app.state.supervisor = Supervisor()
    """,
    "pkg/plugins.py": """
        from pkg.registry import Registry as Base

        class Extended(
            Base,
        ):
            def configure(self): ...
    """,
    "pkg/app.py": """
        from pkg.registry import Registry

        def wire(registry: Registry, request):
            registry.configure()
            registry.reigster(1)
            request.app.state.supervisor.dispach(2)
    """,
    "tests/test_app.py": """
        from pkg.registry import Registry

        def test_wire(mock_registry):
            mock_registry.reigster = None
    """,
}


def _filler(n: int) -> dict[str, str]:
    return {f"pkg/filler/mod{i}.py": f"class Filler{i}:\n    def run(self): ...\n" for i in range(n)}


@pytest.fixture(name="root")
def _root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("WIRINGCHECK_CACHE_DIR", raising=False)
    monkeypatch.setattr(project_module, "PARALLEL_THRESHOLD", 4)
    return write_project(tmp_path, {**FILES, **_filler(12)})


def test_lazy_scan_summarizes_only_what_it_reaches(root: Path) -> None:
    """One file, cold cache: the modules it imports and those whose text names what it asks about."""
    report = scan_paths([root / "pkg" / "app.py"], root=root, jobs=1)

    assert "lazy" == report.extra["mode"]
    assert report.extra["parsed"] < 10
    assert ["registry.reigster", "request.app.state.supervisor.dispach"] == [f.subject for f in report.findings]


def test_lazy_scan_agrees_with_a_full_scan(root: Path) -> None:
    """The same findings as a scan of the whole project, reported for that file."""
    full = scan_paths([root], root=root, cache=False, jobs=1)
    lazy = scan_paths([root / "pkg" / "app.py"], root=root, jobs=1)

    assert [f.oneline() for f in full.findings if f.location and f.location.path == "pkg/app.py"] == [
        f.oneline() for f in lazy.findings
    ]


def test_warm_scan_after_a_lazy_one(root: Path) -> None:
    """A lazy scan fills the summary cache for what it reached; a later full scan is right too."""
    scan_paths([root / "pkg" / "app.py"], root=root, jobs=1)
    report = scan_paths([root], root=root, jobs=1)

    assert 2 == len(report.findings)


def test_lazy_scan_of_application_code_reads_no_test_file(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Test files, which mention every application name, are not even read for a question about application
    code (test code never excuses it): a tests folder costs a cold one-file scan only its manifest entries."""
    for i in range(8):
        (root / "tests" / f"test_more{i}.py").write_text(
            f"from pkg.registry import Registry\n\nclass FakeRegistry{i}(Registry):\n    def reigster(self): ...\n",
            encoding="utf-8",
        )
    read: list[str] = []
    original = project_module.Files.read

    def spy(self: project_module.Files, rel: str) -> bytes | None:
        read.append(rel)
        return original(self, rel)

    monkeypatch.setattr(project_module.Files, "read", spy)
    report = scan_paths([root / "pkg" / "app.py"], root=root, jobs=1)

    assert "lazy" == report.extra["mode"]
    assert [] == [rel for rel in read if rel.startswith("tests/")]
    assert ["registry.reigster", "request.app.state.supervisor.dispach"] == [f.subject for f in report.findings]


def test_lazy_scan_of_test_code_reads_the_tests_it_needs(root: Path) -> None:
    """For a test file, the other test files count (a fake defined there may define the name)."""
    (root / "tests" / "fakes.py").write_text(
        "from pkg.registry import Registry\n\nclass FakeRegistry(Registry):\n    def reigster(self): ...\n",
        encoding="utf-8",
    )
    (root / "tests" / "test_wire.py").write_text(
        "from pkg.registry import Registry\n\ndef test_wire(registry: Registry):\n    registry.reigster()\n",
        encoding="utf-8",
    )
    lazy = scan_paths([root / "tests" / "test_wire.py"], root=root, jobs=1)

    assert ("lazy", []) == (lazy.extra["mode"], [f.oneline() for f in lazy.findings])
