"""WC303: ``await f(...)`` where ``f`` is a plain function that returns no awaitable.

Only reported when certain: the callee is a plain ``def`` (not async, not a generator,
not decorated beyond staticmethod/classmethod/abstractmethod/override/final), no known
override is async, and what it returns is plainly not awaitable: it is annotated
``None`` or a builtin or project class without ``__await__`` (or ``X | None`` of one), or,
without an annotation, its body returns nothing, only literals, or only new instances of project
classes without ``__await__`` (``return Manager(...)``).  A plain function that returns
the result of any other call may return a coroutine or a future, so it stays silent.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from wiringcheck.findings import Finding
from wiringcheck.scan.engine import Rule, finding
from wiringcheck.scan.index import ClassEnt, ExternalEnt, Index, Inst
from wiringcheck.scan.infer import FileContext
from wiringcheck.scan.rules._shared import caught, resolve_callee, under_version_check
from wiringcheck.scan.summary import Expr, Func

rule = Rule("WC303", __name__)

_PLAIN_BUILTINS = {"None", "int", "str", "bool", "float", "bytes", "list", "dict", "set", "tuple", "frozenset"}


def plain_result(index: Index, module: str, func: Func) -> str | None:
    """What `func` returns, in words, when that is surely not awaitable; else None."""
    if func.is_async or func.is_generator:
        return None
    if func.has_returns_annotation:
        expr = func.returns
        if expr is None and func.returns_optional is not None:
            # ``-> X | None``: neither None nor a plain X can be awaited
            inner = _plain_annotation(index, module, func.returns_optional)
            return f"{inner} or None" if inner is not None else None
        return _plain_annotation(index, module, expr) if expr is not None else None
    if func.return_kind == "none":
        return "None"
    if func.return_kind == "literal":
        return "a plain value"
    if func.return_calls:
        # every return builds an object: plain when each is a project class without __await__
        built: list[str] = []
        for name in func.return_calls:
            target = index.resolve_dotted(module, name)
            if not isinstance(target, ClassEnt) or not isinstance(index.call_result(target), Inst):
                return None  # not a class, or one with __new__, an enum, a doubtful view
            view = index.view(target)
            if view.doubt or not view.complete or "__await__" in view.names:
                return None
            built.append(target.qualname)
        return f"a new {' or '.join(built)}"
    return None


def _plain_annotation(index: Index, module: str, expr: Expr) -> str | None:
    """A declared return type in words, when it is surely not awaitable; else None."""
    if expr == ("lit", "None"):
        return "None"
    if expr[0] != "ann":
        return None
    target = index.resolve_dotted(module, expr[1])
    if isinstance(target, ExternalEnt) and target.dotted.removeprefix("builtins.") in _PLAIN_BUILTINS:
        return target.dotted.removeprefix("builtins.")
    if isinstance(target, ClassEnt):
        view = index.view(target)
        if not view.doubt and view.complete and "__await__" not in view.names:
            return f"a {target.qualname}"
    return None


@rule.register(ast.Await)
def await_(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
    assert isinstance(node, ast.Await)
    call = node.value
    if not isinstance(call, ast.Call):
        return
    scope = ctx.scope_for(parents, node)
    entity = ctx.infer(call.func, scope, parents)
    if entity is None or isinstance(entity, ClassEnt):
        return
    callee = resolve_callee(ctx, call, entity)
    if callee is None:
        return
    result = plain_result(ctx.index, callee.module, callee.func)
    if result is None:
        return
    if any(alt.is_async or plain_result(ctx.index, callee.module, alt) is None for alt in callee.alternatives):
        return
    if caught(parents, node, "type") or under_version_check(ctx, parents, node):
        return
    message = (
        f"await {callee.display}(...): {callee.display} is a plain def (at {callee.where}) that returns "
        f"{result}, so the await raises TypeError"
    )
    yield finding(
        ctx,
        rule.code,
        node,
        message,
        subject=f"{callee.display}()",
        hint=f"drop the await, or make {callee.func.name} an async def",
        evidence=(f"def {callee.func.name} at {callee.where}",),
        callee=callee.display,
    )
