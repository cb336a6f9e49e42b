"""The rule engine: rules register for AST node types, and each file is walked once.

A rule module under `wiringcheck.scan.rules` creates ``rule = Rule("WC301", __name__)``
and decorates functions with ``@rule.register(ast.Call)``; each function receives the
file's `FileContext`, the node and the tuple of its ancestors, and yields findings.
`visit` walks a tree iteratively, once, and dispatches every node by ``type(node)`` to
the functions registered for it.  A project-level rule (WC306, WC307) looks at the
configuration rather than at one node: it registers one function with
``@rule.project``, which receives a `ProjectContext` once the files are checked.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from typing import TYPE_CHECKING, Any

from wiringcheck.findings import Finding, Location, Severity
from wiringcheck.scan.summary import children

if TYPE_CHECKING:
    from wiringcheck.scan.index import Index
    from wiringcheck.scan.infer import FileContext

__all__ = ["ProjectContext", "Rule", "all_rules", "apply_ignores", "finding", "visit"]

NodeCallback = Callable[["FileContext", ast.AST, tuple[ast.AST, ...]], Iterable[Finding]]


@dataclass(frozen=True, slots=True)
class ProjectContext:
    """What a project-level rule sees: the index, the configuration, and the files on demand."""

    index: Index
    roles: Mapping[str, Any]
    """Configured roles by name (``RoleSpec``-like: name, path, class_ref, members)."""
    must_call: Sequence[str]
    startup_modules: Sequence[str]
    """``pkg.mod`` or ``pkg.mod:attr`` targets of the configuration (``app``, ``boot``)."""
    scanned_modules: Collection[str]
    """Module names of the files being scanned (startup code is looked for among them)."""
    context: Callable[[str], FileContext | None]
    """The parsed `FileContext` of a module, or None when it is not a parsable file."""


ProjectCallback = Callable[[ProjectContext], Iterable[Finding]]


class Rule:
    """One finding code, and the functions that detect it by node type."""

    def __init__(self, code: str, name: str) -> None:
        self.code = code
        self.name = name.rpartition(".")[2]
        self.callbacks: dict[type[ast.AST], list[NodeCallback]] = {}
        self.project_callbacks: list[ProjectCallback] = []

    def register(self, *types: type[ast.AST]) -> Callable[[NodeCallback], NodeCallback]:
        def decorate(func: NodeCallback) -> NodeCallback:
            for node_type in types:
                self.callbacks.setdefault(node_type, []).append(func)
            return func

        return decorate

    def project(self, func: ProjectCallback) -> ProjectCallback:
        """Register a check of the whole project, run once the files are checked."""
        self.project_callbacks.append(func)
        return func


_RULES: list[Rule] | None = None


def all_rules() -> list[Rule]:
    """Every rule module under `wiringcheck.scan.rules`, discovered once."""
    global _RULES
    if _RULES is None:
        from wiringcheck.scan import rules as package

        found: list[Rule] = []
        for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
            module = importlib.import_module(f"{package.__name__}.{info.name}")
            rule = getattr(module, "rule", None)
            if isinstance(rule, Rule):
                found.append(rule)
        _RULES = found
    return _RULES


def _dispatch(rules: Iterable[Rule]) -> dict[type[ast.AST], list[NodeCallback]]:
    table: dict[type[ast.AST], list[NodeCallback]] = {}
    for rule in rules:
        for node_type, callbacks in rule.callbacks.items():
            table.setdefault(node_type, []).extend(callbacks)
    return table


def visit(ctx: FileContext, rules: Iterable[Rule] | None = None) -> list[Finding]:
    """Walk `ctx.tree` once, with parents, and collect what the rules yield."""
    table = _dispatch(rules if rules is not None else all_rules())
    findings: list[Finding] = []
    stack: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(ctx.tree, ())]
    pop, push = stack.pop, stack.extend
    while stack:
        node, parents = pop()
        kind = type(node)
        callbacks = table.get(kind)
        if callbacks:
            for callback in callbacks:
                findings.extend(callback(ctx, node, parents))
        if kind is ast.Name or kind is ast.Constant:
            continue  # a third of all nodes, and leaves
        below = children(node)
        if below:
            push(zip(below, repeat((*parents, node))))
    findings.sort(key=_order)
    return findings


def _order(finding: Finding) -> tuple[int, int, str]:
    location = finding.location
    if location is None:
        return (0, 0, finding.code)
    return (location.line or 0, location.column or 0, finding.code)


def finding(
    ctx: FileContext,
    code: str,
    node: ast.AST,
    message: str,
    *,
    subject: str = "",
    hint: str = "",
    evidence: Iterable[str] = (),
    severity: Severity = Severity.ERROR,
    **data: object,
) -> Finding:
    """A finding at `node` in the file of `ctx` (columns count characters from 1, as editors do)."""
    line = getattr(node, "lineno", None)
    col = getattr(node, "col_offset", None)
    if line is not None and col:
        col = ctx.column(line, col)
    return Finding(
        code=code,
        message=message,
        location=Location(ctx.relpath, line, col + 1 if col is not None else None),
        hint=hint,
        subject=subject,
        evidence=tuple(evidence),
        severity=severity,
        data=dict(data),
    )


_IGNORE = re.compile(r"#\s*wiringcheck:\s*ignore(?:\[(?P<codes>[^\]]*)\])?")


def ignored_lines(source: str) -> dict[int, frozenset[str] | None]:
    """Lines carrying ``# wiringcheck: ignore[CODE, ...]`` (None: every code)."""
    result: dict[int, frozenset[str] | None] = {}
    if "wiringcheck:" not in source:
        return result
    for number, line in enumerate(source.splitlines(), start=1):
        if "wiringcheck:" not in line:
            continue
        for match in _IGNORE.finditer(line):
            codes = match.group("codes")
            if codes is None:
                result[number] = None
            else:
                wanted = frozenset(code.strip() for code in codes.split(",") if code.strip())
                previous = result.get(number, frozenset())
                result[number] = None if previous is None else previous | wanted
    return result


def apply_ignores(findings: Iterable[Finding], source: str) -> Iterator[Finding]:
    """Drop the findings whose line carries a matching ignore comment."""
    lines = ignored_lines(source)
    for item in findings:
        line = item.location.line if item.location else None
        if line is not None and line in lines:
            codes = lines[line]
            if codes is None or item.code in codes:
                continue
        yield item
