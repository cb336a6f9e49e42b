"""Deep nesting: the summary and the checks visit each node once, whatever the depth."""

from __future__ import annotations

import ast
import textwrap
from pathlib import Path

import pytest

from wiringcheck.scan import model
from wiringcheck.scan.model import summarize

from .tools import check_finds

DEPTH = 96
"""Close to CPython's limit of 100 indentation levels; the old walk doubled every three levels."""


def _nested(depth: int, innermost: str) -> str:
    """class / method / closure / class ... `depth` levels deep, `innermost` at the bottom."""
    lines: list[str] = []
    indent = ""
    for level in range(depth):
        kind = level % 3
        if kind == 0:
            lines.append(f"{indent}class K{level}:")
        elif kind == 1:
            lines.append(f"{indent}def m{level}(self):")
        else:
            lines.append(f"{indent}def f{level}():")
        indent += "    "
        lines.append(f"{indent}x = {level}")
    lines.append(f"{indent}{innermost}")
    return "\n".join(lines) + "\n"


def test_each_function_is_summarized_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A closure inside a method is walked once (with the method's self), not once per enclosing level."""
    made: list[str] = []
    make_func = model.make_func

    def counting(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> model.Func:
        made.append(node.name)
        return make_func(node, qualname)

    monkeypatch.setattr(model, "make_func", counting)
    summary = summarize(ast.parse(_nested(DEPTH, "pass")))

    assert len(made) == len(set(made)) == 2 * DEPTH // 3
    assert len(summary.classes) == DEPTH // 3


def test_closure_stores_on_the_enclosing_self_still_count() -> None:
    """`self.x = ...` in a closure of a method is an attribute of the method's class."""
    source = """
        class A:
            def m(self):
                def inner():
                    def deeper():
                        self.late = 1
    """
    summary = summarize(ast.parse(textwrap.dedent(source)))

    assert "late" in summary.classes["A"].attrs


def test_a_finding_at_the_bottom_of_deep_nesting(tmp_path: Path) -> None:
    """The whole scan handles 96 levels and still judges the innermost code."""
    code = "def helper(a):\n    return a\n\n\n" + _nested(DEPTH - 1, "helper()")
    check_finds(tmp_path, code, ["WC302"])
