"""WC306: a method the configuration says startup must call is never called by startup code.

``must_call = ["registry.set_websocket_manager"]`` is satisfied by any call
``<expr>.set_websocket_manager(...)`` in the *startup modules* whose receiver is the
role's class (or a subclass) or is at least not known to be another class.  The startup
modules are the module of the configured ``app``/``boot`` target plus every module it
imports, transitively (imports inside functions included), among the *scanned* files:
scanning a fault's directory looks at that variant's startup code, not at the healthy
defaults it reuses.  When the target's module is not among the scanned files, the rule
does not run.  The
finding points at the target's module, and names the closest call that startup does
make (``set_websocket_bridge``), when there is one.
"""

from __future__ import annotations

import ast
from collections.abc import Collection, Iterator, Sequence

from wiringcheck.findings import Finding, Location
from wiringcheck.scan.engine import ProjectContext, Rule
from wiringcheck.scan.index import ClassEnt, Index, Inst
from wiringcheck.scan.infer import FileContext
from wiringcheck.suggest import suggest

rule = Rule("WC306", __name__)


def startup_closure(index: Index, roots: Sequence[str], allowed: Collection[str] | None = None) -> list[str]:
    """The startup modules: `roots` and every module they import among `allowed`, transitively."""
    order: list[str] = []
    seen: set[str] = set()
    stack = list(reversed(roots))
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        info = index.module(name)
        if info is None or (allowed is not None and name not in allowed):
            continue
        order.append(name)
        for level, module, names in info.summary.imports:
            base = index.absolute(name, info.is_package, level, module)
            candidates = [base] + [f"{base}.{n}" if base else n for n in names if n != "*"]
            for candidate in candidates:
                if candidate and candidate not in seen and index.module(candidate) is not None:
                    stack.append(candidate)
    return order


def _walk_calls(tree: ast.AST) -> Iterator[tuple[ast.Call, tuple[ast.AST, ...]]]:
    stack: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(tree, ())]
    while stack:
        node, parents = stack.pop()
        if isinstance(node, ast.Call):
            yield node, parents
        below = (*parents, node)
        stack.extend((child, below) for child in ast.iter_child_nodes(node))


def _compatible(index: Index, receiver: object, cls: ClassEnt | None) -> bool:
    if cls is None or not isinstance(receiver, (Inst, ClassEnt)):
        return True
    actual = receiver.cls if isinstance(receiver, Inst) else receiver
    if actual == cls:
        return True
    return cls in index.view(actual).chain


@rule.project
def check(project: ProjectContext) -> Iterator[Finding]:
    index, roles, must_call, startup_modules = project.index, project.roles, project.must_call, project.startup_modules
    context = project.context
    if not must_call or not startup_modules:
        return
    targets = [ref.partition(":")[0] for ref in startup_modules]
    closure = startup_closure(index, targets, project.scanned_modules)
    if not closure:
        return
    home = index.module(closure[0])
    if home is None:
        return
    attribute = startup_modules[0].partition(":")[2]
    line = 1
    bindings = home.summary.bindings.get(attribute.partition(".")[0]) if attribute else None
    if bindings:
        line = int(str(bindings[0][-1]))
    calls: list[tuple[str, str, str]] = []  # (method, receiver text, where)
    for module in closure:
        ctx = context(module)
        if ctx is None:
            continue
        for call, _parents in _walk_calls(ctx.tree):
            func = call.func
            if isinstance(func, ast.Attribute):
                calls.append((func.attr, ast.unparse(func.value), f"{ctx.relpath}:{call.lineno}"))
    for entry in must_call:
        role_name, _, method = entry.partition(".")
        if not method:
            continue
        role = roles.get(role_name)
        cls = index.resolve_class_ref(role.class_ref) if role is not None else None
        satisfied = False
        for module in closure:
            ctx = context(module)
            if ctx is None:
                continue
            for call, parents in _walk_calls(ctx.tree):
                func = call.func
                if isinstance(func, ast.Attribute) and func.attr == method and _receiver_ok(ctx, call, parents, cls):
                    satisfied = True
                    break
            if satisfied:
                break
        if satisfied:
            continue
        names = sorted({name for name, _, _ in calls})
        close = suggest(method, names)
        message = (
            f"startup never calls {entry}"
            + (f" ({cls.qualname}.{method})" if cls is not None else "")
            + f": no call of .{method}(...) in the startup modules ({', '.join(closure)})"
        )
        evidence: list[str] = [f"startup modules: {', '.join(closure)}"]
        if close:
            where = [f"{text}.{name}() at {at}" for name, text, at in calls if name == close]
            message += f"; it calls {where[0]} instead" if where else ""
            evidence.extend(f"call {w}" for w in where)
        yield Finding(
            code=rule.code,
            message=message,
            location=Location(home.relpath, line, 1),
            hint=f"call {role_name}.{method}(...) during startup" + (f", not {close}()" if close else ""),
            subject=entry,
            evidence=tuple(evidence),
            data={"role": role_name, "method": method, "suggestion": close},
        )


def _receiver_ok(ctx: FileContext, call: ast.Call, parents: tuple[ast.AST, ...], cls: ClassEnt | None) -> bool:
    if cls is None or not isinstance(call.func, ast.Attribute):
        return True
    scope = ctx.scope_for(parents, call)
    receiver = ctx.infer(call.func.value, scope)
    return _compatible(ctx.index, receiver, cls)
