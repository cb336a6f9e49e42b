"""What one module defines, in a form that is cheap to pickle: the data of a summary.

A `ModuleSummary` holds a module's bindings, its classes (`ClassInfo`, with `Member`
entries), its functions (`Func`), and the few project-wide hints the rules need.  Names
inside a summary are *symbolic* (``("call", "registry.AgentRegistry")``, an `Expr`);
`index.Index` resolves them against the other modules.  The expression helpers below
turn annotations and assigned values into such symbols; `model` walks a tree to fill a
summary.
"""

from __future__ import annotations

import ast
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass

__all__ = [
    "ANNOTATION_KINDS",
    "LITERAL_NODES",
    "REDEFINED",
    "SUMMARY_VERSION",
    "Binding",
    "ClassInfo",
    "Expr",
    "Func",
    "Member",
    "ModuleSummary",
    "annotation_expr",
    "children",
    "decorator_name",
    "dotted",
    "is_app_state",
    "last_part",
    "make_func",
    "optional_inner",
    "summary_digest",
    "value_expr",
]

SUMMARY_VERSION = 15
"""Bumped whenever the shape or meaning of a summary changes; part of every cache key."""

REDEFINED = "<redefined>"
"""Pseudo-decorator marking a function defined more than once: rules stay silent on it."""

# A symbolic expression, resolved later by the index:
#   ("call", "a.B")   the result of calling the thing named a.B
#   ("ref", "a.B")    the thing named a.B itself
#   ("ann", "a.B")    an instance of the type named a.B (from an annotation)
#   ("type", "a.B")   the class a.B itself (``type[a.B]``)
#   ("await", "a.f")  the result of ``await a.f(...)``
#   ("lit", "None")   a literal of a builtin type (None, int, str, list, ...)
#   ("iter", "a.B")   a container whose elements are instances of a.B (``list[a.B]``, ``Sequence[a.B]``)
#   ("map", "a.B")    a mapping whose values are instances of a.B (``dict[str, a.B]``)
#   ("param", "x")    an unannotated parameter of the function that stored the value (``app.state.x = x``)
# A name may also be written ``module:Name.rest`` (``..services.tools:ToolRunner``): a name a
# function imported itself (``from ..services.tools import ToolRunner`` in its body), which the
# module's own scope does not bind; the leading dots are the import's level.
Expr = tuple[str, str]

ANNOTATION_KINDS = frozenset({"ann", "iter", "map"})
"""Kinds of `Expr` that come from an annotation (a declared type, not an assigned value)."""

_SEQUENCES = frozenset(
    {
        "list",
        "List",
        "set",
        "Set",
        "frozenset",
        "FrozenSet",
        "Sequence",
        "MutableSequence",
        "Iterable",
        "Collection",
        "AbstractSet",
        "MutableSet",
        "deque",
        "Deque",
    }
)
_MAPPINGS = frozenset(
    {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "defaultdict", "DefaultDict", "ChainMap"}
)

# A module-level binding of a name:
#   ("class", qualname, line)  ("func", qualname, line)
#   ("from", level, module, name, line)  ("import", module, line)
#   ("from", level, module, name, line, "TYPE_CHECKING")   an import that never runs
#   ("value", expr_or_None, line)  ("unknown", line)
Binding = tuple[object, ...]


@dataclass(slots=True)
class Func:
    """A function or method signature, and the few facts the rules need about its body."""

    name: str
    qualname: str
    line: int
    col: int
    posonly: tuple[str, ...] = ()
    args: tuple[str, ...] = ()
    n_defaults: int = 0
    vararg: str | None = None
    kwonly: tuple[str, ...] = ()
    kw_required: tuple[str, ...] = ()
    kwarg: str | None = None
    is_async: bool = False
    is_generator: bool = False
    decorators: tuple[str, ...] = ()
    returns: Expr | None = None
    has_returns_annotation: bool = False
    return_kind: str = "none"
    """``none`` (no ``return value``), ``literal`` (only literals returned) or ``value``."""
    return_calls: tuple[str, ...] = ()
    """When every ``return`` returns ``Name(...)`` of a global name: those names (constructors, maybe)."""
    returns_optional: Expr | None = None
    """``X`` when the return annotation is ``X | None`` or ``Optional[X]``."""

    @property
    def positional(self) -> tuple[str, ...]:
        return self.posonly + self.args


@dataclass(slots=True)
class Member:
    """One name defined on a class: a function, a property, a nested class or an attribute."""

    kind: str
    """``function``, ``property``, ``class`` or ``attr``."""
    line: int
    func: Func | None = None
    value: Expr | None = None
    count: int = 1
    qualname: str = ""
    conditional: bool = False


@dataclass(slots=True)
class ClassInfo:
    """A class statement: bases, decorators, members and what makes it dynamic."""

    name: str
    qualname: str
    line: int
    col: int
    bases: tuple[str | None, ...] = ()
    metaclass: str | None = None
    decorators: tuple[str, ...] = ()
    members: dict[str, Member] = field(default_factory=dict)
    attrs: dict[str, Member] = field(default_factory=dict)
    slots: tuple[str, ...] = ()
    dynamic: str = ""
    """Why the members cannot be known statically (``__getattr__``, ``setattr``...), or empty."""
    class_keywords: bool = False
    dataclass_init: bool = True
    """False for ``@dataclass(init=False)``: the class writes its own ``__init__``, or has none."""


@dataclass(slots=True)
class ModuleSummary:
    """Everything the other modules need to know about one module."""

    bindings: dict[str, list[Binding]] = field(default_factory=dict)
    classes: dict[str, ClassInfo] = field(default_factory=dict)
    functions: dict[str, Func] = field(default_factory=dict)
    all_names: tuple[str, ...] | None = None
    getattr_hook: bool = False
    star_imports: tuple[tuple[int, str], ...] = ()
    attr_stores: tuple[str, ...] = ()
    """Attribute names stored on objects other than ``self``, sorted (a tuple, not a set: see `summary_digest`)."""
    dynamic_globals: bool = False
    imports: tuple[tuple[int, str, tuple[str, ...]], ...] = ()
    state_stores: tuple[tuple[str, Expr | None, int], ...] = ()
    """``app.state.name = value`` anywhere in the module: (name, symbolic value, line)."""


# -- the digest -----------------------------------------------------------------------------------


def summary_digest(summary: ModuleSummary) -> str:
    """A digest of what `summary` says to other modules, equal in every process for equal summaries.

    The project digest (which decides whether cached findings still hold) is made of
    these, so it must depend on the content only: not on the order of a set (string
    hashes are salted per process: ``PYTHONHASHSEED``), nor on which equal strings
    happen to be the same object (a pickle's memo does).  The summary is written out in
    a canonical form: dataclasses field by field, dicts sorted by key, sets sorted,
    everything else a plain value; an unknown type is refused, so a new field cannot make
    the digest unstable unnoticed.

    Positions (lines and columns) are left out: a line added in one function moves every
    definition below it, and no other file's findings depend on where a definition is,
    only their messages quote it (the scan re-checks the files whose cached findings
    quote a changed file, `project.State.cached_findings`).
    """
    parts: list[str] = []
    _canonical(summary, parts.append)
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=16).hexdigest()


_FIELDS: dict[type, tuple[str, ...]] = {}
_POSITIONS = frozenset({"line", "col"})


def _without_line(binding: Binding) -> Binding:
    """A module binding without its line (the last element, or the one before the ``TYPE_CHECKING`` mark)."""
    at = 4 if binding[0] == "from" else len(binding) - 1
    return binding[:at] + binding[at + 1 :]


def _canonical(value: object, out: Callable[[str], None]) -> None:
    """Write `value` to `out` as a sequence of tokens that depends only on its content, positions aside."""
    kind = type(value)
    if kind is str:
        assert isinstance(value, str)
        out(f"s{len(value)}:{value}")  # length first: no string can pass for two tokens
    elif value is None or kind is int or kind is bool or kind is float:
        out(f"{kind.__name__[0]}{value!r}")
    elif kind is tuple or kind is list:
        assert isinstance(value, (tuple, list))
        out(f"({len(value)}")
        for item in value:
            _canonical(item, out)
    elif kind is dict:
        assert isinstance(value, dict)
        out(f"{{{len(value)}")
        for key in sorted(value):
            _canonical(key, out)
            _canonical(value[key], out)
    elif kind is set or kind is frozenset:
        assert isinstance(value, (set, frozenset))
        out(f"<{len(value)}")
        for item in sorted(value):
            _canonical(item, out)
    elif kind is ModuleSummary:
        assert isinstance(value, ModuleSummary)
        out("@ModuleSummary")
        for name in _field_names(kind):
            item = getattr(value, name)
            if name == "bindings":
                item = {key: [_without_line(b) for b in bindings] for key, bindings in value.bindings.items()}
            elif name == "state_stores":
                item = [(attr, expr) for attr, expr, _line in value.state_stores]
            _canonical(item, out)
    elif is_dataclass(value):
        out(f"@{kind.__name__}")
        for name in _field_names(kind):
            if name not in _POSITIONS:
                _canonical(getattr(value, name), out)
    else:
        raise TypeError(f"a summary holds a {kind.__name__}, which has no canonical form")


def _field_names(kind: type) -> tuple[str, ...]:
    names = _FIELDS.get(kind)
    if names is None:
        names = _FIELDS[kind] = tuple(f.name for f in fields(kind))
    return names


# -- helpers shared with the checker ------------------------------------------------------------

_NOT_NODES = frozenset(
    {
        "ctx",
        "op",
        "ops",
        "id",
        "attr",
        "arg",
        "name",
        "module",
        "level",
        "asname",
        "type_comment",
        "kind",
        "conversion",
        "rest",
        "kwd_attrs",
    }
)
"""Fields that hold no node worth visiting: plain values, and the ``Load``/``Add`` singletons no rule reads."""
_CHILD_FIELDS: dict[type, tuple[str, ...]] = {ast.Global: (), ast.Nonlocal: ()}  # their names are strings


def children(node: ast.AST) -> list[ast.AST]:
    """The child nodes of `node`, in `ast.iter_child_nodes` order, without the context and operator nodes.

    Every walk of the scan (the summary, the scopes, the rule engine) goes through here:
    `ast.iter_child_nodes` is a generator over every field, and the expression contexts
    and operators it yields are a third of all nodes, which no walk looks at.
    """
    kind = type(node)
    names = _CHILD_FIELDS.get(kind)
    if names is None:
        names = _CHILD_FIELDS[kind] = tuple(name for name in kind._fields if name not in _NOT_NODES)
    found: list[ast.AST] = []
    for name in names:
        value = getattr(node, name)
        if type(value) is list:
            found += value
        elif isinstance(value, ast.AST):
            found.append(value)
    if (kind is ast.Dict or kind is ast.arguments) and None in found:
        found = [item for item in found if item is not None]  # ``{**other}``'s key, a kw-only arg without default
    return found


def dotted(node: ast.AST) -> str | None:
    """``a.b.c`` for a chain of names and attributes, else None."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        parts.append(node.id)
        return ".".join(reversed(parts))
    return None


_TRANSPARENT_SUBSCRIPTS = ("Annotated", "ClassVar", "Final", "Required", "NotRequired", "ReadOnly")
LITERAL_NODES = (ast.List, ast.Dict, ast.Set, ast.Tuple, ast.JoinedStr, ast.ListComp, ast.DictComp, ast.SetComp)


def last_part(name: str) -> str:
    return name.rpartition(".")[2]


def annotation_expr(node: ast.AST | None) -> Expr | None:
    """The symbolic type an annotation names; None for unions, Optional and anything unclear."""
    if node is None:
        return None
    if isinstance(node, ast.Constant):
        if node.value is None:
            return ("lit", "None")
        if isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value.strip(), mode="eval")
            except (SyntaxError, ValueError):
                return None
            return annotation_expr(parsed.body)
        return None
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = dotted(node)
        if name is None:
            return None
        if last_part(name) in ("Any", "object"):
            return None
        return ("ann", name)
    if isinstance(node, ast.Subscript):
        base = dotted(node.value)
        if base is None:
            return None
        last = last_part(base)
        inner = node.slice
        if last in _TRANSPARENT_SUBSCRIPTS:
            first = inner.elts[0] if isinstance(inner, ast.Tuple) and inner.elts else inner
            return annotation_expr(first)
        if last in ("type", "Type"):
            target = annotation_expr(inner)
            if target is not None and target[0] == "ann":
                return ("type", target[1])
        return _container_expr(last, inner)
    return None


def _container_expr(last: str, inner: ast.expr) -> Expr | None:
    """``("iter", X)`` for ``list[X]``-like annotations, ``("map", V)`` for ``dict[K, V]``-like ones."""
    elts = inner.elts if isinstance(inner, ast.Tuple) else [inner]
    element: ast.expr | None = None
    kind = ""
    if last in _SEQUENCES and len(elts) == 1:
        element, kind = elts[0], "iter"
    elif last in ("tuple", "Tuple") and len(elts) == 2 and isinstance(elts[1], ast.Constant):
        if elts[1].value is Ellipsis:
            element, kind = elts[0], "iter"
    elif last in _MAPPINGS and len(elts) == 2:
        element, kind = elts[1], "map"
    expr = annotation_expr(element)
    if expr is None or expr[0] != "ann":
        return None
    return (kind, expr[1])


def optional_inner(node: ast.AST | None) -> Expr | None:
    """``X`` for an annotation ``X | None``, ``Optional[X]`` or ``Union[X, None]``; else None."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            node = ast.parse(node.value.strip(), mode="eval").body
        except (SyntaxError, ValueError):
            return None
    parts: list[ast.expr] = []
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        parts = [node.left, node.right]
    elif isinstance(node, ast.Subscript) and last_part(dotted(node.value) or "") == "Optional":
        parts = [node.slice, ast.Constant(None)]
    elif isinstance(node, ast.Subscript) and last_part(dotted(node.value) or "") == "Union":
        parts = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
    others = [p for p in parts if not (isinstance(p, ast.Constant) and p.value is None)]
    if len(parts) != 2 or len(others) != 1:
        return None
    inner = annotation_expr(others[0])
    return inner if inner is not None and inner[0] == "ann" else None


def value_expr(node: ast.AST | None) -> Expr | None:
    """The symbolic value of an assigned expression, when it is one the index can follow."""
    if node is None:
        return None
    if isinstance(node, ast.Call):
        name = dotted(node.func)
        return ("call", name) if name is not None else None
    if isinstance(node, (ast.Name, ast.Attribute)):
        name = dotted(node)
        return ("ref", name) if name is not None else None
    if isinstance(node, ast.Constant):
        return ("lit", type(node.value).__name__ if node.value is not None else "None")
    if isinstance(node, LITERAL_NODES):
        return ("lit", type(node).__name__.lower())
    if isinstance(node, ast.Await) and isinstance(node.value, ast.Call):
        name = dotted(node.value.func)
        return ("await", name) if name is not None else None
    return None


def decorator_name(node: ast.expr) -> str:
    """``functools.lru_cache`` for ``@functools.lru_cache(maxsize=2)``; ``?`` when not a plain name."""
    if isinstance(node, ast.Call):
        node = node.func
    return dotted(node) or "?"


def make_func(node: ast.FunctionDef | ast.AsyncFunctionDef, qualname: str) -> Func:
    """The signature part of a `Func`; the body facts are filled in by the walk."""
    a = node.args
    n_pos = len(a.posonlyargs) + len(a.args)
    kw_required = tuple(arg.arg for arg, default in zip(a.kwonlyargs, a.kw_defaults, strict=True) if default is None)
    return Func(
        name=node.name,
        qualname=qualname,
        line=node.lineno,
        col=node.col_offset,
        posonly=tuple(arg.arg for arg in a.posonlyargs),
        args=tuple(arg.arg for arg in a.args),
        n_defaults=min(len(a.defaults), n_pos),
        vararg=a.vararg.arg if a.vararg else None,
        kwonly=tuple(arg.arg for arg in a.kwonlyargs),
        kw_required=kw_required,
        kwarg=a.kwarg.arg if a.kwarg else None,
        is_async=isinstance(node, ast.AsyncFunctionDef),
        decorators=tuple(decorator_name(d) for d in node.decorator_list),
        returns=annotation_expr(node.returns),
        has_returns_annotation=node.returns is not None,
        returns_optional=optional_inner(node.returns),
    )


def is_app_state(node: ast.AST) -> bool:
    """``app.state``, ``request.app.state``, ``self.app.state``, ``websocket.app.state``...

    The framework's state object is a bag of attributes: their types come from the
    project's own assignments to them.
    """
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "state"
        and (
            (isinstance(node.value, ast.Name) and node.value.id == "app")
            or (isinstance(node.value, ast.Attribute) and node.value.attr == "app")
        )
    )
