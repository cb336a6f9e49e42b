"""WC302: a call whose arguments do not fit the resolved callee's signature.

Too many or too few positional arguments, an unknown keyword, a value given twice, a
positional-only parameter passed by keyword, a required keyword-only argument missing.
The callee must be certain: a function, a method reached through a known instance or
class (``self`` and ``cls`` bound as Python binds them), or a class whose ``__init__``
is known.  Silent on calls with ``*args``/``**kwargs`` splats, on decorated callees
(other than staticmethod, classmethod, abstractmethod, override, final), on overloads,
and when an override in a known subclass would accept the call.  A dataclass with a
generated ``__init__`` is judged on keywords only (`dataclass_fields`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from wiringcheck.findings import Finding
from wiringcheck.scan.engine import Rule, finding
from wiringcheck.scan.index import ClassEnt
from wiringcheck.scan.infer import FileContext
from wiringcheck.scan.rules._shared import caught, resolve_callee, signature_text, under_version_check
from wiringcheck.scan.summary import Func
from wiringcheck.suggest import suggest

rule = Rule("WC302", __name__)


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def problems(func: Func, skip: int, n_args: int, keywords: list[str]) -> list[str]:
    """Why a call with `n_args` positional arguments and `keywords` cannot bind to `func`."""
    found: list[str] = []
    positional = func.positional
    bindable = positional[skip:]
    posonly = set(func.posonly[skip:]) if len(func.posonly) > skip else set()
    if n_args > len(bindable) and func.vararg is None:
        found.append(f"takes {_plural(len(bindable), 'positional argument')} but {n_args} were given")
    bound = set(bindable[:n_args])
    names = set(bindable) | set(func.kwonly)
    for keyword in keywords:
        if keyword in posonly and func.kwarg is None:
            found.append(f"got positional-only argument '{keyword}' passed as keyword")
        elif keyword in names and keyword not in posonly:
            if keyword in bound:
                found.append(f"got multiple values for argument '{keyword}'")
            bound.add(keyword)
        elif func.kwarg is None:
            close = suggest(keyword, [n for n in names if n not in posonly])
            extra = f" (did you mean '{close}'?)" if close else ""
            found.append(f"got an unexpected keyword argument '{keyword}'{extra}")
    n_required = len(positional) - func.n_defaults
    required = positional[skip:n_required] if n_required > skip else ()
    missing = [name for name in required if name not in bound]
    if missing:
        listed = ", ".join(f"'{name}'" for name in missing)
        found.append(f"missing {_plural(len(missing), 'required positional argument')}: {listed}")
    missing_kw = [name for name in func.kw_required if name not in bound]
    if missing_kw:
        listed = ", ".join(f"'{name}'" for name in missing_kw)
        found.append(f"missing {_plural(len(missing_kw), 'required keyword-only argument')}: {listed}")
    return found


_IGNORED_CALL = re.compile(r"#\s*type:\s*ignore(?:\[[^\]]*\bcall-arg\b[^\]]*\]|(?!\[))")


def _type_checker_told(ctx: FileContext, node: ast.Call) -> bool:
    """``# type: ignore[call-arg]`` (or a bare ``# type: ignore``) on the call's first line: the author
    silenced this very error for a type checker (anyio's call for pytest 7, kept beside pytest 8's)."""
    return bool(_IGNORED_CALL.search(ctx.line_text(node.lineno)))


def dataclass_fields(ctx: FileContext, cls: ClassEnt) -> set[str] | None:
    """The keywords the generated ``__init__`` of dataclass `cls` may accept; None when not known.

    A superset: every name of the class bodies along the bases (``field(init=False)``,
    ``ClassVar`` and plain class attributes included), so only a keyword that names
    nothing at all is refused.  None when the class writes its own ``__init__`` or
    ``__new__``, says ``init=False``, or has a doubtful or incomplete view.
    """
    view = ctx.index.view(cls)
    if not view.is_dataclass or view.doubt or not view.complete or view.external or view.is_enum:
        return None
    names: set[str] = set()
    for owner in view.chain:
        info = ctx.index.class_info(owner)
        if info is None or "__init__" in info.members or "__new__" in info.members or not info.dataclass_init:
            return None
        names.update(info.members)
    return names


def _dataclass_keywords(
    ctx: FileContext, node: ast.Call, cls: ClassEnt, parents: tuple[ast.AST, ...]
) -> Iterator[Finding]:
    """``Config(timeout_s=1)`` where the dataclass ``Config`` has no field ``timeout_s`` (renamed)."""
    keywords = [k for k in node.keywords if k.arg is not None]
    if not keywords:
        return
    fields = dataclass_fields(ctx, cls)
    if fields is None:
        return
    unknown = [k for k in keywords if k.arg not in fields]
    if not unknown or caught(parents, node, "type") or under_version_check(ctx, parents, node):
        return
    if _type_checker_told(ctx, node):
        return
    index = ctx.index
    info = index.class_info(cls)
    module = index.module(cls.module)
    where = f"{module.relpath if module else cls.module}:{info.line if info else 0}"
    for keyword in unknown:
        close = suggest(keyword.arg or "", [n for n in fields if not n.startswith("_")])
        extra = f" (did you mean '{close}'?)" if close else ""
        message = (
            f"{cls.qualname}() got an unexpected keyword argument '{keyword.arg}'{extra}: the call raises "
            f"TypeError (dataclass {cls.qualname} at {where} has no field '{keyword.arg}')"
        )
        yield finding(
            ctx,
            rule.code,
            keyword,
            message,
            subject=f"{cls.qualname}()",
            hint=f"pass '{close}'" if close else f"add the field '{keyword.arg}' to {cls.qualname}",
            evidence=(f"dataclass {cls.qualname} defined at {where}",),
            callee=cls.qualname,
        )


@rule.register(ast.Call)
def call(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
    assert isinstance(node, ast.Call)
    if any(isinstance(arg, ast.Starred) for arg in node.args) or any(k.arg is None for k in node.keywords):
        return
    func_node = node.func
    if isinstance(func_node, ast.Name) and func_node.id in ("super", "type", "cast"):
        return
    scope = ctx.scope_for(parents, node)
    entity = ctx.infer(func_node, scope, parents)
    if entity is None:
        return
    callee = resolve_callee(ctx, node, entity)
    if callee is None:
        if isinstance(entity, ClassEnt):
            yield from _dataclass_keywords(ctx, node, entity, parents)
        return
    keywords = [k.arg for k in node.keywords if k.arg is not None]
    found = problems(callee.func, callee.skip, len(node.args), keywords)
    if not found:
        return
    for alternative in callee.alternatives:
        if not problems(alternative, callee.skip, len(node.args), keywords):
            return
    if caught(parents, node, "type") or under_version_check(ctx, parents, node) or _type_checker_told(ctx, node):
        return
    # a wrong keyword is shown on its own line: in a call written over several lines, the
    # call's first line may be far from it (editors and review bots point at the location)
    where: ast.AST = node
    for keyword in node.keywords:
        if any(f"argument '{keyword.arg}'" in problem for problem in found):
            where = keyword
            break
    signature = signature_text(callee.func, callee.skip)
    kind = "async def" if callee.func.is_async else "def"
    message = (
        f"{callee.display}() {'; '.join(found)}: the call raises TypeError "
        f"({kind} {callee.func.name}{signature} at {callee.where})"
    )
    yield finding(
        ctx,
        rule.code,
        where,
        message,
        subject=f"{callee.display}()",
        hint=f"call it as {callee.func.name}{signature}",
        evidence=(f"callee {callee.display} defined at {callee.where}",),
        callee=callee.display,
    )
