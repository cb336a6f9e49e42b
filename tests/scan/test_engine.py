"""The rule engine: discovery, the single walk with parents, ignore comments, reports, fixture packages."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from wiringcheck.findings import Finding, Status
from wiringcheck.scan import scan_paths
from wiringcheck.scan.engine import Rule, all_rules, apply_ignores, finding, ignored_lines, visit
from wiringcheck.scan.index import Index
from wiringcheck.scan.infer import FileContext

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scan"


def _context(source: str) -> FileContext:
    return FileContext(
        module="m", relpath="m.py", is_package=False, tree=ast.parse(source), source=source, index=Index({})
    )


def test_every_scan_code_has_a_rule_module() -> None:
    """Rules are discovered from wiringcheck.scan.rules, one per code WC300-WC308."""
    assert [f"WC30{i}" for i in range(9)] == sorted(rule.code for rule in all_rules())


def test_visit_dispatches_by_type_with_parents() -> None:
    """Each node reaches the callbacks registered for its type, with its ancestors, once."""
    rule = Rule("WC301", "test")
    seen: list[tuple[str, tuple[str, ...]]] = []

    @rule.register(ast.Name)
    def names(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
        assert isinstance(node, ast.Name)
        seen.append((node.id, tuple(type(p).__name__ for p in parents)))
        yield finding(ctx, rule.code, node, node.id)

    found = visit(_context("def f():\n    return x\ny = 1\n"), [rule])

    assert [("x", ("Module", "FunctionDef", "Return")), ("y", ("Module", "Assign"))] == sorted(seen)
    assert ["m.py:2:12", "m.py:3:1"] == [str(f.location) for f in found]


def test_ignore_comments() -> None:
    """``# wiringcheck: ignore[...]`` lists codes; a bare ignore covers every code."""
    source = "a  # wiringcheck: ignore[WC301, WC302]\nb  # wiringcheck: ignore\nc\n"

    assert {1: frozenset({"WC301", "WC302"}), 2: None} == ignored_lines(source)


def test_apply_ignores_keeps_other_codes() -> None:
    """An ignore for one code does not hide another code on the same line."""
    ctx = _context("x = 1  # wiringcheck: ignore[WC301]\n")
    node = ctx.tree.body[0]
    kept = list(apply_ignores([finding(ctx, "WC301", node, "a"), finding(ctx, "WC302", node, "b")], ctx.source))

    assert ["WC302"] == [f.code for f in kept]


def test_decorators_resolve_in_the_enclosing_scope() -> None:
    """A decorator is evaluated outside the function it decorates (its parameters are not visible)."""
    ctx = _context("class C:\n    @state.setter\n    def state(self, state: int): ...\n")
    func = ctx.tree.body[0].body[0]  # type: ignore[attr-defined]
    decorator = func.decorator_list[0]
    scope = ctx.scope_for((ctx.tree, ctx.tree.body[0], func), decorator)

    assert scope is not None
    assert isinstance(scope.node, ast.ClassDef)


def test_report_shape(tmp_path: Path) -> None:
    """One check per scanned file, named 'scan: <relpath>' in phase scan; failed when it has errors."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "good.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "bad.py").write_text("class A: ...\ndef f(a: A):\n    a.nope()\n", encoding="utf-8")
    report = scan_paths([tmp_path], cache=False, jobs=1)

    assert "scan" == report.kind
    assert [("scan: bad.py", "scan", Status.FAILED), ("scan: good.py", "scan", Status.PASSED)] == [
        (c.name, c.phase, c.status) for c in report.checks
    ]
    assert 1 == int(report.exit_code)


def test_fixture_package_with_one_bug_of_each_kind() -> None:
    """fixtures/scan/shop: each line marked BUG is found, and nothing else."""
    report = scan_paths([FIXTURES / "shop"], cache=False, jobs=1)
    startup = (FIXTURES / "shop" / "app" / "startup.py").read_text(encoding="utf-8").splitlines()
    marked = [
        (number, line.partition("# BUG ")[2].partition(":")[0])
        for number, line in enumerate(startup, start=1)
        if "# BUG " in line
    ]

    assert sorted(marked) == sorted((f.location.line, f.code) for f in report.findings if f.location)


def test_fixture_package_of_dynamic_code_is_silent() -> None:
    """fixtures/scan/clean: dynamic classes, mocks, protocols and task APIs give no finding."""
    report = scan_paths([FIXTURES / "clean"], cache=False, jobs=1)

    assert [] == [f.oneline() for f in report.findings]


def test_parallel_and_serial_agree(tmp_path: Path) -> None:
    """The worker processes find exactly what the single-process path finds."""
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    (package / "base.py").write_text("class Base:\n    def go(self, x): ...\n", encoding="utf-8")
    for i in range(60):
        (package / f"m{i}.py").write_text(
            f"from pkg.base import Base\ndef f{i}(b: Base):\n    b.go()\n    b.gone{i}()\n", encoding="utf-8"
        )
    serial = scan_paths([tmp_path], cache=False, jobs=1)
    parallel = scan_paths([tmp_path], cache=False, jobs=2)

    assert 2 == parallel.extra["workers"]
    assert [f.oneline() for f in serial.findings] == [f.oneline() for f in parallel.findings]
    assert 120 == len(parallel.findings)


def test_scan_core_imports_no_io_library() -> None:
    """The scan core (and its rules) never imports rich, typer, asyncio, websockets, uvicorn or starlette."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "import wiringcheck.scan, wiringcheck.scan.engine, wiringcheck.scan.infer\n"
        "from wiringcheck.scan.engine import all_rules\n"
        "all_rules()\n"
        "banned = ('rich', 'typer', 'asyncio', 'websockets', 'uvicorn', 'starlette')\n"
        "print(sorted(m for m in banned if m in sys.modules))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)

    assert "[]" == result.stdout.strip()


def test_a_failing_rule_skips_the_file_not_the_scan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A bug in a rule turns into a WC300 warning for that file; the scan goes on."""
    broken = Rule("WC999", "broken")

    @broken.register(ast.Module)
    def explode(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
        raise ValueError("boom")

    monkeypatch.delenv("WIRINGCHECK_DEBUG", raising=False)
    monkeypatch.setattr("wiringcheck.scan.checking.all_rules", lambda: [broken])
    (tmp_path / "pyproject.toml").write_text("", encoding="utf-8")
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    report = scan_paths([tmp_path], cache=False, jobs=1)
    (found,) = report.findings

    assert "WC300" == found.code
    assert "ValueError: boom" in found.message
    assert Status.SKIPPED == report.checks[0].status
