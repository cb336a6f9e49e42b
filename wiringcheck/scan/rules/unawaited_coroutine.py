"""WC304: a call of an ``async def`` whose coroutine is never awaited.

Reported when the coroutine is dropped on the floor (an expression statement), or used
as if it were the result: tested for truth, an attribute read on it, subscripted,
iterated, used as a context manager, formatted into a string, or passed to a builtin
that consumes values (``print``, ``len``, ``bool``...).  Awaiting it, returning it,
yielding it, assigning it (to await later), or handing it to any other call (the task
APIs: ``asyncio.create_task``, ``gather``, ``ensure_future``, ``wait_for``, ``run``,
``TaskGroup.create_task``, ``loop.run_until_complete``, and user wrappers) is fine.
Silent when the callee is decorated or a known override in a subclass is a plain def.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from wiringcheck.findings import Finding
from wiringcheck.scan.engine import Rule, finding
from wiringcheck.scan.index import ClassEnt
from wiringcheck.scan.infer import FileContext
from wiringcheck.scan.rules._shared import resolve_callee

rule = Rule("WC304", __name__)

_COROUTINE_ATTRIBUTES = {
    "__await__",
    "__class__",
    "__name__",
    "__qualname__",
    "send",
    "throw",
    "close",
    "cr_await",
    "cr_code",
    "cr_frame",
    "cr_running",
    "cr_origin",
    "cr_suspended",
}
_VALUE_BUILTINS = {
    "print",
    "len",
    "str",
    "repr",
    "bool",
    "int",
    "float",
    "list",
    "dict",
    "set",
    "tuple",
    "sorted",
    "sum",
    "any",
    "all",
    "max",
    "min",
    "iter",
    "next",
    "enumerate",
    "zip",
}


def misuse(node: ast.expr, parents: tuple[ast.AST, ...]) -> str | None:
    """How the coroutine that `node` evaluates to is misused, in words; None when it may be fine."""
    if not parents:
        return None
    parent = parents[-1]
    if isinstance(parent, ast.Expr):
        return "the coroutine is dropped on the floor, so the body never runs"
    if isinstance(parent, (ast.If, ast.While, ast.IfExp, ast.Assert)) and parent.test is node:
        return "the coroutine is tested for truth (always true) instead of its result"
    if isinstance(parent, ast.BoolOp) or (isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not)):
        return "the coroutine is tested for truth (always true) instead of its result"
    if isinstance(parent, ast.Compare):
        return "the coroutine is compared instead of its result"
    if isinstance(parent, ast.Attribute) and parent.value is node and parent.attr not in _COROUTINE_ATTRIBUTES:
        return f"'.{parent.attr}' is read on the coroutine, not on its result"
    if isinstance(parent, ast.Subscript) and parent.value is node:
        return "the coroutine is subscripted instead of its result"
    if isinstance(parent, (ast.For, ast.AsyncFor, ast.comprehension)) and parent.iter is node:
        return "the coroutine is iterated instead of its result"
    if isinstance(parent, ast.withitem) and parent.context_expr is node:
        return "the coroutine is used as a context manager instead of its result"
    if isinstance(parent, ast.FormattedValue):
        return "the coroutine is formatted into a string instead of its result"
    if isinstance(parent, ast.Call) and node in parent.args:
        func = parent.func
        if isinstance(func, ast.Name) and func.id in _VALUE_BUILTINS:
            return f"the coroutine is passed to {func.id}() instead of its result"
    return None


@rule.register(ast.Call)
def call(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
    assert isinstance(node, ast.Call)
    how = misuse(node, parents)
    if how is None:
        return
    scope = ctx.scope_for(parents, node)
    entity = ctx.infer(node.func, scope, parents)
    if entity is None or isinstance(entity, ClassEnt):
        return
    callee = resolve_callee(ctx, node, entity)
    if callee is None or not callee.func.is_async or callee.func.is_generator:
        return
    if any(not alt.is_async or alt.is_generator for alt in callee.alternatives):
        return
    message = f"{callee.display}() is an async def (at {callee.where}) called without await: {how}"
    yield finding(
        ctx,
        rule.code,
        node,
        message,
        subject=f"{callee.display}()",
        hint=f"write 'await {ast.unparse(node)}', or hand it to asyncio.create_task()",
        evidence=(f"async def {callee.func.name} at {callee.where}",),
        callee=callee.display,
    )
