"""WC301: an attribute that the receiver's class defines nowhere.

Reports ``obj.name`` (read or called), ``hasattr(obj, "name")`` and
``getattr(obj, "name"[, default])`` when ``obj``'s class is known and neither it, nor a
base, nor a known subclass defines ``name`` (methods, class attributes, properties,
attributes assigned on ``self`` in any method, dataclass and ``__slots__`` fields).  A
guard on a missing name is a dead branch: the message says which branch never runs.
Silent on a class with ``__getattr__``, an unresolvable base, a Protocol, a mock, a
``setattr``/``__dict__`` trick, and on names stored onto some object elsewhere.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from wiringcheck.findings import Finding
from wiringcheck.scan.engine import Rule, finding
from wiringcheck.scan.infer import FileContext, Scope
from wiringcheck.scan.rules._shared import Missing, caught, missing_member, text_of, under_version_check
from wiringcheck.scan.summary import children

rule = Rule("WC301", __name__)


def _explain(receiver: str, missing: Missing, name: str) -> str:
    cls = missing.cls.qualname
    origin = f" ({missing.origin})" if missing.origin else ""
    what = f"{receiver} is the class {cls}" if missing.class_object else f"{receiver} is {cls}{origin}"
    return f"{what}, and neither {cls} nor its bases define '{name}'"


def _evidence(ctx: FileContext, missing: Missing) -> tuple[str, ...]:
    lines = [f"class {ctx.index.describe(missing.cls)}"]
    for base in missing.view.chain[1:]:
        lines.append(f"base {ctx.index.describe(base)}")
    return tuple(lines)


@rule.register(ast.Attribute)
def attribute(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
    assert isinstance(node, ast.Attribute)
    augmented = bool(parents) and isinstance(parents[-1], ast.AugAssign) and parents[-1].target is node
    if not isinstance(node.ctx, ast.Load) and not augmented:
        return  # a store defines the name; ``obj.x += 1`` reads obj.x first
    name = node.attr
    if name.startswith("__") and name.endswith("__"):
        return
    scope = ctx.scope_for(parents, node)
    entity = ctx.infer(node.value, scope, parents)
    if entity is None:
        return  # most receivers: the cheap test first
    called = bool(parents) and isinstance(parents[-1], ast.Call) and parents[-1].func is node
    missing = missing_member(ctx, entity, name, called=called)
    if missing is None:
        return
    receiver = text_of(node.value)
    if ctx.guarded(scope, receiver, name) or caught(parents, node, "attribute"):
        return
    if under_version_check(ctx, parents, node):
        return
    if missing.combined:
        yield from _mixin(ctx, missing, parents)
        return
    action = "calling" if called else "reading"
    message = f"{_explain(receiver, missing, name)}: {action} {receiver}.{name} raises AttributeError"
    hint = (
        f"did you mean '{missing.suggestion}'?" if missing.suggestion else f"define '{name}' on {missing.cls.qualname}"
    )
    if missing.suggestion:
        message += f"; did you mean '{missing.suggestion}'?"
    yield finding(
        ctx,
        rule.code,
        node,
        message,
        subject=f"{receiver}.{name}",
        hint=hint,
        evidence=_evidence(ctx, missing),
        receiver_class=missing.cls.qualname,
        suggestion=missing.suggestion,
    )


def _mixin(ctx: FileContext, missing: Missing, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
    """One finding per mixin-like class, at its ``class`` line, naming every member its methods use on
    ``self`` that neither it nor any class combined with it in the project defines."""
    cls = missing.cls
    key = ("mixin", cls)
    if key in ctx.reported:
        return
    ctx.reported.add(key)
    statement = next((p for p in reversed(parents) if isinstance(p, ast.ClassDef) and p.name == cls.name), None)
    if statement is None:
        return
    used: dict[str, int] = {}
    stack: list[tuple[ast.AST, tuple[ast.AST, ...]]] = [(statement, tuple(parents[: parents.index(statement)]))]
    while stack:
        node, above = stack.pop()
        below = (*above, node)
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) and isinstance(node.value, ast.Name):
            name = node.attr
            scope = ctx.scope_for(above, node)
            if name in used:
                used[name] = min(used[name], node.lineno)
            elif not ctx.guarded(scope, node.value.id, name) and not caught(above, node, "attribute"):
                other = missing_member(ctx, ctx.infer(node.value, scope, above), name)
                if other is not None and other.combined and other.cls == cls:
                    used[name] = node.lineno
        stack.extend((child, below) for child in children(node))
    if not used:
        return
    names = ", ".join(f"'{name}'" for name in sorted(used, key=used.__getitem__))
    lines = ", ".join(str(line) for line in sorted(used.values()))
    hosts = ", ".join(ctx.index.describe(sub) for sub in missing.combined[:3])
    more = f" and {len(missing.combined) - 3} more" if len(missing.combined) > 3 else ""
    message = (
        f"{cls.qualname} has no constructor and no base defining {names} (used on self at line "
        f"{lines}), and no class combined with it in the project defines them either ({hosts}{more}): "
        f"those methods raise AttributeError on every instance"
    )
    yield finding(
        ctx,
        rule.code,
        statement,
        message,
        subject=f"{cls.qualname} (mixin)",
        hint=f"define them on {cls.qualname} (or a base it declares), or combine it with the class that has them",
        evidence=(
            f"class {ctx.index.describe(cls)}",
            *(f"combined in {ctx.index.describe(s)}" for s in missing.combined),
        ),
        receiver_class=cls.qualname,
        members=sorted(used),
    )


def _guards_a_call(parents: tuple[ast.AST, ...], name: str) -> bool:
    """Whether the statement around a guard calls ``<something>.name(...)`` (so `name` is a method)."""
    for parent in reversed(parents):
        if isinstance(parent, ast.stmt):
            return any(
                isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == name
                for node in ast.walk(parent)
            )
    return False


def _first_param(scope: Scope) -> str | None:
    node = scope.node
    if isinstance(node, ast.ClassDef):
        return None
    positional = [*node.args.posonlyargs, *node.args.args]
    return positional[0].arg if positional else None


def _dead_branch(node: ast.Call, parents: tuple[ast.AST, ...], test: str) -> str:
    """Which branch a guard that is always False kills, in words."""
    child: ast.AST = node
    negated = False
    for parent in reversed(parents):
        if isinstance(parent, ast.UnaryOp) and isinstance(parent.op, ast.Not):
            negated = not negated
            child = parent
            continue
        if isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.And) and not negated:
            child = parent
            continue
        if isinstance(parent, (ast.If, ast.IfExp, ast.While)) and parent.test is child:
            what = {ast.If: "if", ast.IfExp: "conditional expression", ast.While: "while"}[type(parent)]
            if not negated:
                return f"{test} is always False, so the {what} branch at line {parent.lineno} never runs"
            has_else = bool(getattr(parent, "orelse", None))
            if has_else and not isinstance(parent, ast.IfExp):
                return f"{test} is always False, so the else branch of the {what} at line {parent.lineno} never runs"
            return f"{test} is always False, so the body of the {what} at line {parent.lineno} always runs"
        break
    return f"{test} is always False"


@rule.register(ast.Call)
def guard(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
    assert isinstance(node, ast.Call)
    func = node.func
    if not (isinstance(func, ast.Name) and func.id in ("hasattr", "getattr")):
        return
    if len(node.args) < 2 or node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
        return
    attr = node.args[1]
    if not (isinstance(attr, ast.Constant) and isinstance(attr.value, str)):
        return
    name = attr.value
    scope = ctx.scope_for(parents, node)
    if ctx.infer_name(func.id, scope) is None:
        return  # hasattr/getattr rebound to something else
    subject = node.args[0]
    if scope is not None and scope.self_kind and isinstance(subject, ast.Name) and subject.id == _first_param(scope):
        return  # reflective dispatch on self (getattr(self, "do_" + verb)) is how subclasses hook in
    entity = ctx.infer(subject, scope, parents)
    missing = missing_member(ctx, entity, name, called=_guards_a_call(parents, name))
    if missing is None:
        return
    index = ctx.index
    defined = ctx.facts.defined_anywhere(name, tests=ctx.is_test)
    if missing.suggestion is None and not defined and name not in index.contract_names:
        # nothing in the project ever defined this name: it is probably set by code
        # outside the tree (a plugin), which the guard exists for
        return
    receiver = text_of(subject)
    if func.id == "hasattr":
        consequence = _dead_branch(node, parents, f"hasattr({receiver}, {name!r})")
    elif len(node.args) >= 3:
        consequence = f"getattr({receiver}, {name!r}, ...) always returns the default"
    else:
        if caught(parents, node, "attribute"):
            return
        consequence = f"getattr({receiver}, {name!r}) raises AttributeError"
    message = f"{consequence}: {_explain(receiver, missing, name)}"
    if missing.suggestion:
        message += f"; did you mean '{missing.suggestion}'?"
    hint = (
        f"guard on '{missing.suggestion}', the name {missing.cls.qualname} defines"
        if missing.suggestion
        else f"define '{name}' on {missing.cls.qualname}, or remove the dead branch"
    )
    yield finding(
        ctx,
        rule.code,
        node,
        message,
        subject=f"{receiver}.{name}",
        hint=hint,
        evidence=_evidence(ctx, missing),
        receiver_class=missing.cls.qualname,
        suggestion=missing.suggestion,
        guard=func.id,
    )
