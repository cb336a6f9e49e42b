"""Scopes of one file and the local bindings of each: what a name may be bound to, and where.

A `Scope` is a function, lambda or class body.  `bindings_of` lists, for each name a
function binds, every binding (an assignment, an annotation, a parameter, an import, a
loop target...), so that inference can require all of them to agree.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from wiringcheck.scan.index import ClassEnt, Entity
from wiringcheck.scan.summary import children, dotted

__all__ = ["Local", "Scope", "bindings_of", "class_body_names", "qualname_of"]


# A local binding:
#   ("assign", value, line)  ("ann", annotation, line)  ("param", index, line)
#   ("import", module_or_None, name, level, line)  ("def", qualname, line)  ("class", qualname, line)
#   ("for", iterable, position_or_None, line)   a loop or comprehension target
#   ("self-ann", annotation, line)   an annotated ``self``
#   ("unknown", line)
Local = tuple[object, ...]


@dataclass(slots=True)
class Scope:
    """A function (or lambda) body: its local bindings, computed on first use."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef
    parent: Scope | None
    qualname: str
    cls: ClassEnt | None = None
    self_kind: str = ""
    """``self`` or ``cls`` when the first parameter is the instance or the class, else empty."""
    locals: dict[str, list[Local]] | None = None
    narrowed: set[str] = field(default_factory=set)
    free: set[str] = field(default_factory=set)
    memo: dict[str, Entity | None] = field(default_factory=dict)
    guards: set[tuple[str, str]] = field(default_factory=set)
    """(receiver text, attribute) pairs tested with hasattr/getattr in this function."""


def bindings_of(scope: Scope) -> dict[str, list[Local]]:
    """The local bindings of a function scope (computed once, kept on the scope).

    Also notes on the scope the names it narrows (``isinstance``, ``match``), declares
    ``global``/``nonlocal``, and guards with ``hasattr``/``getattr``.
    """
    if scope.locals is not None:
        return scope.locals
    table: dict[str, list[Local]] = {}
    node = scope.node
    assert not isinstance(node, ast.ClassDef)
    args = node.args
    for index, arg in enumerate([*args.posonlyargs, *args.args, *args.kwonlyargs]):
        if arg.annotation is not None and index == 0 and scope.cls is not None and scope.self_kind == "self":
            table.setdefault(arg.arg, []).append(("self-ann", arg.annotation, arg.lineno))
        elif arg.annotation is not None:
            table.setdefault(arg.arg, []).append(("ann", arg.annotation, arg.lineno))
        else:
            table.setdefault(arg.arg, []).append(("param", index, arg.lineno))
    for star in (args.vararg, args.kwarg):
        if star is not None:
            table.setdefault(star.arg, []).append(("unknown", star.lineno))
    body: list[ast.AST] = [node.body] if isinstance(node, ast.Lambda) else list(node.body)
    handled: set[int] = set()
    stack = body
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is ast.Constant:
            continue  # the commonest nodes first: a leaf,
        if kind is ast.Attribute:
            assert isinstance(item, ast.Attribute)
            stack.append(item.value)  # and a node with one child worth visiting
            continue
        if kind is ast.Assign:
            assert isinstance(item, ast.Assign)
            for target in item.targets:
                if isinstance(target, ast.Name):
                    handled.add(id(target))
                    table.setdefault(target.id, []).append(("assign", item.value, item.lineno))
        elif kind is ast.AnnAssign:
            assert isinstance(item, ast.AnnAssign)
            if isinstance(item.target, ast.Name):
                handled.add(id(item.target))
                table.setdefault(item.target.id, []).append(("ann", item.annotation, item.lineno))
        elif kind is ast.For or kind is ast.AsyncFor or kind is ast.comprehension:
            assert isinstance(item, (ast.For, ast.AsyncFor, ast.comprehension))
            target = item.target
            if isinstance(target, ast.Name):
                handled.add(id(target))
                table.setdefault(target.id, []).append(("for", item.iter, None, target.lineno))
            elif isinstance(target, ast.Tuple) and all(isinstance(e, ast.Name) for e in target.elts):
                for position, element in enumerate(target.elts):
                    assert isinstance(element, ast.Name)
                    handled.add(id(element))
                    table.setdefault(element.id, []).append(("for", item.iter, position, element.lineno))
        elif kind is ast.NamedExpr:
            assert isinstance(item, ast.NamedExpr)
            handled.add(id(item.target))
            table.setdefault(item.target.id, []).append(("assign", item.value, item.lineno))
        elif kind is ast.Name:
            assert isinstance(item, ast.Name)
            if not isinstance(item.ctx, ast.Load) and id(item) not in handled:
                table.setdefault(item.id, []).append(("unknown", item.lineno))
            continue
        elif kind in (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef):
            assert isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
            what = "class" if kind is ast.ClassDef else "def"
            table.setdefault(item.name, []).append((what, f"{scope.qualname}.<locals>.{item.name}", item.lineno))
            stack.extend(item.decorator_list)
            continue
        elif kind is ast.Lambda:
            continue
        elif kind is ast.Import:
            assert isinstance(item, ast.Import)
            for alias in item.names:
                if alias.asname:
                    table.setdefault(alias.asname, []).append(("import", alias.name, None, 0, item.lineno))
                else:
                    top = alias.name.partition(".")[0]
                    table.setdefault(top, []).append(("import", top, None, 0, item.lineno))
            continue
        elif kind is ast.ImportFrom:
            assert isinstance(item, ast.ImportFrom)
            for alias in item.names:
                if alias.name != "*":
                    table.setdefault(alias.asname or alias.name, []).append(
                        ("import", item.module or "", alias.name, item.level, item.lineno)
                    )
            continue
        elif kind is ast.Global or kind is ast.Nonlocal:
            assert isinstance(item, (ast.Global, ast.Nonlocal))
            scope.free.update(item.names)
            continue
        elif kind is ast.ExceptHandler:
            assert isinstance(item, ast.ExceptHandler)
            if item.name:
                table.setdefault(item.name, []).append(("unknown", item.lineno))
        elif kind is ast.MatchAs or kind is ast.MatchStar:
            assert isinstance(item, (ast.MatchAs, ast.MatchStar))
            if item.name:
                table.setdefault(item.name, []).append(("unknown", item.lineno))
        elif kind is ast.MatchMapping:
            assert isinstance(item, ast.MatchMapping)
            if item.rest:
                table.setdefault(item.rest, []).append(("unknown", item.lineno))
        elif kind is ast.Match:
            assert isinstance(item, ast.Match)
            if isinstance(item.subject, ast.Name):
                scope.narrowed.add(item.subject.id)
        elif kind is ast.Call:
            assert isinstance(item, ast.Call)
            func = item.func
            if isinstance(func, ast.Name) and item.args:
                first = item.args[0]
                if func.id in ("isinstance", "issubclass", "type") and isinstance(first, ast.Name):
                    scope.narrowed.add(first.id)
                elif func.id in ("hasattr", "getattr") and len(item.args) >= 2:
                    attr = item.args[1]
                    if isinstance(attr, ast.Constant) and isinstance(attr.value, str):
                        text = dotted(first)
                        if text is not None:
                            scope.guards.add((text, attr.value))
        stack.extend(children(item))
    scope.locals = table
    return table


def class_body_names(body: list[ast.stmt]) -> set[str]:
    names: set[str] = set()
    stack: list[ast.AST] = list(body)
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue
        if isinstance(node, ast.Lambda):
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add(node.asname or node.name.partition(".")[0])
        stack.extend(children(node))
    return names


def qualname_of(parents: tuple[ast.AST, ...]) -> str:
    """The ``__qualname__`` prefix for a definition whose ancestors are `parents`."""
    parts: list[str] = []
    for node in parents:
        if isinstance(node, ast.ClassDef):
            parts.append(node.name)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parts.append(node.name)
            parts.append("<locals>")
        elif isinstance(node, ast.Lambda):
            parts.append("<lambda>")
            parts.append("<locals>")
    return ".".join(parts)
