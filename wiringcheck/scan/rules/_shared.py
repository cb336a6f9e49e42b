"""Helpers shared by the rules: receivers, callees, signatures and the cases to stay silent on."""

from __future__ import annotations

import ast
from dataclasses import dataclass

from wiringcheck.scan.index import (
    OBJECT_MEMBERS,
    SAFE_DECORATORS,
    TYPE_MEMBERS,
    BoundMethod,
    ClassEnt,
    ClassView,
    Entity,
    FuncEnt,
    Inst,
)
from wiringcheck.scan.infer import FileContext
from wiringcheck.scan.summary import Func, dotted
from wiringcheck.suggest import suggest

__all__ = [
    "Callee",
    "Missing",
    "caught",
    "missing_member",
    "resolve_callee",
    "signature_text",
    "text_of",
]


def _last(name: str) -> str:
    return name.rpartition(".")[2]


def text_of(node: ast.AST) -> str:
    """Source-like text of a small expression, for messages."""
    name = dotted(node)
    if name is not None:
        return name
    try:
        text = ast.unparse(node)
    except Exception:  # pragma: no cover - unparse handles every parsed tree
        return "<expr>"
    return text if len(text) <= 60 else text[:57] + "..."


@dataclass(frozen=True, slots=True)
class Missing:
    """A member looked up on a class that defines it nowhere."""

    cls: ClassEnt
    view: ClassView
    suggestion: str | None
    origin: str
    class_object: bool
    combined: tuple[ClassEnt, ...] = ()
    """For ``self`` in a mixin-like class: the classes combined with it, none of which defines the name."""


def missing_member(ctx: FileContext, entity: Entity | None, name: str, *, called: bool = False) -> Missing | None:
    """A `Missing` when `entity` is a known class (or instance) that surely lacks `name`."""
    if name.startswith("__") and name.endswith("__"):
        return None
    if isinstance(entity, Inst):
        cls, class_object, origin = entity.cls, False, entity.origin
    elif isinstance(entity, ClassEnt):
        cls, class_object, origin = entity, True, f"the class {entity.qualname} itself"
    else:
        return None
    index = ctx.index
    view = index.view(cls)
    if view.doubt or not view.complete:
        return None
    names = view.names | TYPE_MEMBERS if class_object else view.names
    if name in names:
        return None
    if ctx.facts.stored_anywhere(name, tests=ctx.is_test):
        return None
    subclasses = ctx.facts.subclasses(cls, tests=ctx.is_test)
    mixin = isinstance(entity, Inst) and entity.is_self and _mixin_like(ctx, view)
    if mixin and not subclasses:
        # a mixin that no class of the project combines: its host is elsewhere (or nowhere)
        return None
    for sub in subclasses:
        sub_view = index.view(sub)
        if sub_view.doubt or not sub_view.complete or name in sub_view.names:
            return None
    candidates = [n for n in names if not (n.startswith("__") and n.endswith("__")) and n not in OBJECT_MEMBERS]
    suggestion = None
    if called:
        suggestion = suggest(name, [n for n in callable_names(ctx, view) if n in candidates])
    combined = tuple(subclasses) if mixin else ()
    return Missing(cls, view, suggestion or suggest(name, candidates), origin, class_object, combined)


def callable_names(ctx: FileContext, view: ClassView) -> set[str]:
    """The methods of a class and its bases (for a did-you-mean on a call, a method is likelier)."""
    names: set[str] = set()
    for cls in view.chain:
        info = ctx.index.class_info(cls)
        if info is not None:
            names.update(n for n, m in info.members.items() if m.kind == "function")
    return names


def _mixin_like(ctx: FileContext, view: ClassView) -> bool:
    """A class with no constructor anywhere and no real base: maybe a mixin for classes elsewhere."""
    if view.external or view.is_dataclass or view.is_enum or view.is_namedtuple:
        return False
    for cls in view.chain:
        info = ctx.index.class_info(cls)
        if info is None or "__init__" in info.members or "__new__" in info.members or info.slots:
            return False
    return True


_EXPECTING = {"raises", "assertRaises", "assertRaisesRegex", "suppress"}
# Only a handler that names the error shows the code expects it.  A broad ``except Exception``
# (log and carry on) is where wiring bugs hide, so it does not silence a finding.
_CATCH_ATTRIBUTE = {"AttributeError"}
_CATCH_TYPE = {"TypeError"}
_CATCH_IMPORT = {"ImportError", "ModuleNotFoundError"}


def caught(parents: tuple[ast.AST, ...], node: ast.AST, kind: str) -> bool:
    """Whether `node` sits in the body of a ``try`` with a handler naming `kind` errors, or in
    ``with pytest.raises(...)`` / ``assertRaises`` / ``contextlib.suppress``."""
    wanted = {"attribute": _CATCH_ATTRIBUTE, "type": _CATCH_TYPE, "import": _CATCH_IMPORT}[kind]
    child: ast.AST = node
    for parent in reversed(parents):
        if isinstance(parent, (ast.Try, ast.TryStar)) and any(child is stmt for stmt in parent.body):
            for handler in parent.handlers:
                if handler.type is None or _reraises(handler):
                    continue
                types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
                if any(_last(dotted(t) or "") in wanted for t in types):
                    return True
        if isinstance(parent, (ast.With, ast.AsyncWith)) and any(child is stmt for stmt in parent.body):
            for item in parent.items:
                expr = item.context_expr
                if isinstance(expr, ast.Call) and _last(dotted(expr.func) or "") in _EXPECTING:
                    return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            return False
        child = parent
    return False


def _reraises(handler: ast.ExceptHandler) -> bool:
    """A handler whose body ends in ``raise`` turns the error into another: the failure stays."""
    return bool(handler.body) and isinstance(handler.body[-1], ast.Raise)


def under_version_check(ctx: FileContext, parents: tuple[ast.AST, ...], node: ast.AST) -> bool:
    """Whether a node sits in a branch of ``if <version test>:`` (``sys.version_info >= …``,
    ``MYPY_VERSION_TUPLE < …``): code written for other versions of a dependency may call
    an API that the version in the tree does not have, and never run."""
    tests = ctx.version_tests
    child = node
    for parent in reversed(parents):
        if isinstance(parent, (ast.If, ast.IfExp)) and child is not parent.test:
            key = id(parent)
            mentions = tests.get(key)
            if mentions is None:
                mentions = tests[key] = any(
                    "version" in text.lower()
                    for item in ast.walk(parent.test)
                    if isinstance(item, (ast.Name, ast.Attribute)) and (text := dotted(item)) is not None
                )
            if mentions:
                return True
        if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            break
        child = parent
    return False


def under_type_checking(parents: tuple[ast.AST, ...]) -> bool:
    """Whether a node sits in an ``if TYPE_CHECKING:`` block (code that never runs)."""
    return any(isinstance(p, ast.If) and _last(dotted(p.test) or "") == "TYPE_CHECKING" for p in parents)


@dataclass(frozen=True, slots=True)
class Callee:
    """The function a call goes to, and how many leading parameters the call binds itself."""

    func: Func
    module: str
    skip: int
    display: str
    where: str
    alternatives: tuple[Func, ...] = ()
    """Overrides in known subclasses that the call may reach instead."""


def _safe(func: Func) -> bool:
    return all(_last(d) in SAFE_DECORATORS for d in func.decorators)


def resolve_callee(ctx: FileContext, call: ast.Call, entity: Entity | None) -> Callee | None:
    """The `Callee` of `call` when its target is certain; None otherwise."""
    index = ctx.index
    if isinstance(entity, FuncEnt):
        func = index.func_of(entity.module, entity.qualname)
        if func is None or not _safe(func):
            return None
        return Callee(func, entity.module, 0, func.qualname, _where(ctx, entity.module, func))
    if isinstance(entity, BoundMethod):
        member = index.find_member(entity.owner, entity.name)
        if member is None or member.func is None or member.count > 1 or member.kind != "function":
            return None
        func = member.func
        if not _safe(func):
            return None
        decorators = {_last(d) for d in func.decorators}
        skip = 1 if entity.via_instance or "classmethod" in decorators else 0
        if skip and not func.positional:
            return None
        alternatives: list[Func] = []
        overrides = ctx.facts.overrides(entity.cls, entity.name, tests=ctx.is_test)
        if overrides is None:
            return None
        for _sub, other in overrides:
            if other.func is None or other.kind != "function" or other.count > 1 or not _safe(other.func):
                return None
            alternatives.append(other.func)
        return Callee(
            func,
            entity.owner.module,
            skip,
            f"{entity.cls.qualname}.{entity.name}",
            _where(ctx, entity.owner.module, func),
            tuple(alternatives),
        )
    if isinstance(entity, ClassEnt):
        view = index.view(entity)
        if view.doubt or not view.complete or view.external or view.is_dataclass or view.is_enum:
            return None
        init: Func | None = None
        init_module = entity.module
        for cls in view.chain:
            info = index.class_info(cls)
            if info is None:
                return None
            if "__new__" in info.members:
                return None
            member = info.members.get("__init__")
            if member is not None:
                if member.func is None or member.count > 1 or not _safe(member.func):
                    return None
                init = member.func
                init_module = cls.module
                break
        if init is None:
            return None
        if not init.positional:
            return None
        return Callee(init, init_module, 1, f"{entity.qualname}", _where(ctx, init_module, init))
    return None


def _where(ctx: FileContext, module: str, func: Func) -> str:
    info = ctx.index.module(module)
    relpath = info.relpath if info is not None else module
    return f"{relpath}:{func.line}"


def signature_text(func: Func, skip: int = 0) -> str:
    """``(run_id, agent_name, context=None)``-like text (defaults shown as ``=...``)."""
    parts: list[str] = []
    positional = func.positional
    first_default = len(positional) - func.n_defaults
    for i, name in enumerate(positional):
        if i < skip:
            continue
        parts.append(f"{name}=..." if i >= first_default else name)
        if func.posonly and i == len(func.posonly) - 1:
            parts.append("/")
    if func.vararg:
        parts.append(f"*{func.vararg}")
    elif func.kwonly:
        parts.append("*")
    for name in func.kwonly:
        parts.append(name if name in func.kw_required else f"{name}=...")
    if func.kwarg:
        parts.append(f"**{func.kwarg}")
    return f"({', '.join(parts)})"


def is_async_callee(callee: Callee) -> bool:
    return callee.func.is_async and not callee.func.is_generator
