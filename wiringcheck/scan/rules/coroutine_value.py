"""WC308: a coroutine that stands where a plain value is declared or tested.

Two ways a refactor to ``async def`` leaves a coroutine where its result was meant, one
step further than WC304 looks:

- the coroutine is stored first, and the variable is then used as the result:
  ``result = registry.connect(); if not result: ...`` (tested for truth, compared, an
  attribute read on it, subscripted, iterated, formatted);
- a function declared to return a plain type returns the coroutine of an ``async def``
  call (``def get_manager() -> Manager: return build_manager()``): its callers receive a
  coroutine, not a ``Manager``.

The callee must resolve to an ``async def`` (not an async generator, no override in a
known subclass that is a plain def), the variable must have that one binding in its
function, and the declared return type must be ``None``, a builtin value type or a class
of the project without ``__await__`` (a ``typing.Protocol`` included), and the ``return``
line carries no ``# type: ignore`` (the author knows: jinja2's ``Macro._invoke`` returns its
async twin's coroutine on purpose).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from wiringcheck.findings import Finding
from wiringcheck.scan.engine import Rule, finding
from wiringcheck.scan.index import ClassEnt, ExternalEnt
from wiringcheck.scan.infer import FileContext, Scope
from wiringcheck.scan.rules._shared import Callee, resolve_callee, under_version_check
from wiringcheck.scan.rules.unawaited_coroutine import misuse
from wiringcheck.scan.summary import annotation_expr, children

rule = Rule("WC308", __name__)

_PLAIN_BUILTINS = {"None", "int", "str", "bool", "float", "bytes", "list", "dict", "set", "tuple", "frozenset"}


def _async_callee(ctx: FileContext, call: ast.Call, scope: Scope | None, parents: tuple[ast.AST, ...]) -> Callee | None:
    entity = ctx.infer(call.func, scope, parents)
    if entity is None or isinstance(entity, ClassEnt):
        return None
    callee = resolve_callee(ctx, call, entity)
    if callee is None or not callee.func.is_async or callee.func.is_generator:
        return None
    if any(not alt.is_async or alt.is_generator for alt in callee.alternatives):
        return None
    return callee


@rule.register(ast.Assign)
def stored(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
    assert isinstance(node, ast.Assign)
    value = node.value
    if len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name) or not isinstance(value, ast.Call):
        return
    name = node.targets[0].id
    scope = ctx.scope_for(parents, node)
    if scope is None or ctx.single_assignment(name, scope) is not value:
        return
    callee = _async_callee(ctx, value, scope, parents)
    if callee is None:
        return
    # the coroutine is in `name`: report every use of it as the result in the function
    for use, how in _value_uses(scope.node, name):
        message = (
            f"{name} = {callee.display}(...) at line {value.lineno} stores a coroutine "
            f"({callee.display} is an async def at {callee.where}), and here {how}"
        )
        yield finding(
            ctx,
            rule.code,
            use,
            message,
            subject=name,
            hint=f"write '{name} = await {ast.unparse(value)}'",
            evidence=(f"async def {callee.func.name} at {callee.where}", f"{name} assigned at line {value.lineno}"),
            callee=callee.display,
        )


def _value_uses(function: ast.AST, name: str) -> Iterator[tuple[ast.Name, str]]:
    """Loads of `name` in `function` that use it as a value (tested, compared, an attribute read...)."""
    stack: list[ast.AST] = children(function)
    while stack:
        parent = stack.pop()
        for child in children(parent):
            if isinstance(child, ast.Name) and child.id == name and isinstance(child.ctx, ast.Load):
                how = misuse(child, (parent,))
                if how is not None and not how.startswith("the coroutine is dropped"):
                    yield child, how
            stack.append(child)


def _declared_plain(ctx: FileContext, function: ast.FunctionDef | ast.AsyncFunctionDef) -> str | None:
    """The declared return type in words, when it is surely not awaitable; else None."""
    expr = annotation_expr(function.returns)
    if expr is None:
        return None
    if expr == ("lit", "None"):
        return "None"
    if expr[0] != "ann":
        return None
    target = ctx.index.resolve_dotted(ctx.module, expr[1])
    if isinstance(target, ExternalEnt) and target.dotted.removeprefix("builtins.") in _PLAIN_BUILTINS:
        return target.dotted.removeprefix("builtins.")
    if isinstance(target, ClassEnt):
        view = ctx.index.view(target)
        # a Protocol's instances may be of any class, but the caller was promised its
        # members, and a coroutine object is not what the declaration means
        if (not view.doubt or view.only_a_protocol) and view.complete and "__await__" not in view.names:
            return target.qualname
    return None


@rule.register(ast.Return)
def returned(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
    assert isinstance(node, ast.Return)
    value = node.value
    scope = ctx.scope_for(parents, node)
    if value is None or scope is None or isinstance(scope.node, (ast.ClassDef, ast.Lambda)):
        return
    function = scope.node
    call = value
    if isinstance(value, ast.Name):
        assigned = ctx.single_assignment(value.id, scope)
        if not isinstance(assigned, ast.Call):
            return
        call = assigned
    if not isinstance(call, ast.Call):
        return
    declared = _declared_plain(ctx, function)
    if declared is None or "type: ignore" in ctx.line_text(node.lineno):
        return  # a `# type: ignore` on the return says the author knows what it returns
    if under_version_check(ctx, parents, node):
        return
    callee = _async_callee(ctx, call, scope, parents if call is value else ())
    if callee is None:
        return
    kind = "async def" if isinstance(function, ast.AsyncFunctionDef) else "def"
    message = (
        f"{function.name}() is declared to return {declared} but returns the coroutine of "
        f"{callee.display}() (an async def at {callee.where}): its callers get a coroutine, "
        f"and the body of {callee.func.name} runs only if one of them awaits it"
    )
    yield finding(
        ctx,
        rule.code,
        node,
        message,
        subject=f"{function.name}()",
        hint=f"make {function.name} an async def and 'return await {ast.unparse(call)}'"
        if kind == "def"
        else f"'return await {ast.unparse(call)}'",
        evidence=(f"async def {callee.func.name} at {callee.where}", f"{kind} {function.name} -> {declared}"),
        callee=callee.display,
    )
