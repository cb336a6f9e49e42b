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


def _in_new_interpreter(code: str, argument: Path, seed: str) -> str:
    """What `code` prints, run in a fresh interpreter with string hashes salted by `seed`."""
    import subprocess
    import sys

    env = {**os.environ, "PYTHONHASHSEED": seed}
    result = subprocess.run([sys.executable, "-c", code, str(argument)], capture_output=True, text=True, env=env)
    assert 0 == result.returncode, result.stderr
    return result.stdout.strip()


_DIGEST_OF_FILE = """
import sys
from pathlib import Path
from wiringcheck.scan.parse import parse_file, summary_of
print(summary_of(parse_file(Path(sys.argv[1]), "stores.py"))[1])
"""

STORES = """\
def wire(a, b, c, request):
    a.alpha = 1
    b.beta = 2
    c.gamma = 3
    setattr(a, "delta", 4)
    request.app.state.epsilon = object()
    for name in ("zeta", "eta", "theta", "iota", "kappa"):
        setattr(b, name, None)
    c.lambda_ = c.mu = c.nu = c.xi = c.omicron = c.pi = 5


class Registry:
    def __init__(self) -> None:
        self.rho = {"sigma": 1}
        self.tau: set[str] = {"upsilon", "phi"}
"""


def test_summary_digest_is_the_same_in_every_process(tmp_path: Path) -> None:
    """Two fresh interpreters with different hash seeds give one file the same summary digest.

    The digest decides whether cached findings still hold; a digest that changed with the
    process (set order follows the salted string hash) re-checked the whole tree on every scan.
    """

    source = tmp_path / "stores.py"
    source.write_text(STORES, encoding="utf-8")
    digests = {_in_new_interpreter(_DIGEST_OF_FILE, source, seed) for seed in ("1", "2", "3", "12345")}

    assert 1 == len(digests), digests


def test_summary_digest_refuses_a_value_without_canonical_form() -> None:
    """A summary field of a type the canonical form does not know is refused, not hashed by identity."""
    from wiringcheck.scan.summary import ModuleSummary, summary_digest

    summary = ModuleSummary()
    summary.bindings["x"] = [("value", object(), 1)]

    with pytest.raises(TypeError):
        summary_digest(summary)


_SCAN_IN_A_NEW_PROCESS = """
import json, sys
from wiringcheck.scan import scan_paths
report = scan_paths([sys.argv[1]], jobs=1)
print(json.dumps({k: report.extra[k] for k in ("parsed", "cached", "checked")}))
"""


def test_edited_body_rechecks_only_that_file_in_a_new_process(project: Path) -> None:
    """Scan, edit one function body, scan again in another interpreter (another hash seed): one file re-checked."""
    import json

    (project / "c.py").write_text(STORES, encoding="utf-8")

    def scan_in_new_process(seed: str) -> dict[str, int]:
        return dict(json.loads(_in_new_interpreter(_SCAN_IN_A_NEW_PROCESS, project, seed)))

    scan_in_new_process("1")
    (project / "c.py").write_text(STORES.replace("a.alpha = 1", "a.alpha = 2"), encoding="utf-8")
    again = scan_in_new_process("2")

    assert {"parsed": 1, "cached": 2, "checked": 1} == again


def test_added_line_rechecks_only_that_file_and_those_quoting_it(project: Path) -> None:
    """A line added to a function body moves every definition below it: the files whose findings quote
    the file (b.py's call of a.py's method) are checked again, to quote the new line; the others are not."""
    (project / "a.py").write_text(BUGGY + "class B:\n    def run(self, x): ...\n", encoding="utf-8")
    (project / "b.py").write_text("from a import B\ndef g(b: B):\n    b.run()\n", encoding="utf-8")
    (project / "c.py").write_text("from a import A\ndef h(a: A):\n    a.go()\n", encoding="utf-8")
    first = scan_paths([project], jobs=1)
    assert ["a.py:4", "b.py:3"] == [f"{f.location.path}:{f.location.line}" for f in first.findings if f.location]
    assert "at a.py:6)" in first.findings[1].message

    (project / "a.py").write_text(
        BUGGY.replace("def go(self): ...", "def go(self):\n        pass") + "class B:\n    def run(self, x): ...\n",
        encoding="utf-8",
    )
    again = scan_paths([project], jobs=1)

    assert (1, 1, 2) == (again.extra["parsed"], again.extra["cached"], again.extra["checked"])
    assert "at a.py:7)" in again.findings[1].message
