"""The project index: every module of the scanned tree, and what its names resolve to.

Built from `model.ModuleSummary` objects (one per file, cached by content), the index
answers the questions the rules ask: what does the name ``registry`` in module
``app.startup`` stand for, which members does class ``AgentRegistry`` have with all its
bases, which subclasses are known.  Resolution is lazy and memoized; whenever an
answer is not certain it is ``None`` ("unknown"), and the rules stay silent on unknowns.
"""

from __future__ import annotations

import builtins
import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from wiringcheck.scan.summary import ANNOTATION_KINDS, Binding, ClassInfo, Expr, Func, Member, ModuleSummary

__all__ = [
    "BoundMethod",
    "ClassEnt",
    "Elements",
    "Entity",
    "ExternalEnt",
    "FuncEnt",
    "Index",
    "Inst",
    "Lit",
    "ModuleEnt",
    "ModuleInfo",
    "agree",
    "is_test_path",
]


@dataclass(frozen=True, slots=True)
class ModuleEnt:
    name: str


@dataclass(frozen=True, slots=True)
class ClassEnt:
    module: str
    qualname: str

    @property
    def name(self) -> str:
        return self.qualname.rpartition(".")[2]


@dataclass(frozen=True, slots=True)
class FuncEnt:
    module: str
    qualname: str


@dataclass(frozen=True, slots=True)
class ExternalEnt:
    """Something outside the scanned tree (``typing.Generic``, ``builtins.Exception``)."""

    dotted: str


@dataclass(frozen=True, slots=True)
class Lit:
    """An instance of a builtin type (None, str, list...)."""

    type: str


@dataclass(frozen=True, slots=True)
class Inst:
    """An instance of a class of the tree; `origin` says how we know."""

    cls: ClassEnt
    origin: str = field(default="", compare=False)
    is_self: bool = field(default=False, compare=False)
    """The ``self`` of a method of `cls`: at run time, possibly an instance of a subclass."""


@dataclass(frozen=True, slots=True)
class BoundMethod:
    """``obj.method`` (via an instance) or ``Cls.method`` (via the class)."""

    cls: ClassEnt
    name: str
    via_instance: bool
    owner: ClassEnt
    receiver: Inst | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Elements:
    """A container of instances of one class of the tree: ``list[Agent]`` (``iter``) or ``dict[str, Agent]`` (``map``).

    Iterating an ``iter`` container, or the ``.values()`` of a ``map``, gives `element`.
    """

    kind: str
    element: Inst


Entity = ModuleEnt | ClassEnt | FuncEnt | ExternalEnt | Lit | Inst | BoundMethod | Elements


def is_test_path(relpath: str) -> bool:
    """Whether a file is test code: under ``tests/``/``test/``, ``test_*.py``, ``*_test.py``, ``conftest.py``.

    Test code is scanned and judged like any other, but what it defines (a subclass that
    exists only for a test, an attribute assigned onto a mock) never excuses a finding in
    application code.
    """
    parts = relpath.replace("\\", "/").split("/")
    filename = parts[-1]
    if filename == "conftest.py" or filename.startswith("test_") or filename.endswith("_test.py"):
        return True
    return any(part in ("tests", "test", "testing") for part in parts[:-1])


@dataclass(slots=True)
class ModuleInfo:
    name: str
    path: str
    relpath: str
    is_package: bool
    summary: ModuleSummary

    @property
    def is_test(self) -> bool:
        return is_test_path(self.relpath)


# Bases outside the tree whose members are known, and which add nothing dynamic.
_TRANSPARENT_BASES = {
    "object",
    "builtins.object",
    "typing.Generic",
    "Generic",
    "abc.ABC",
    "ABC",
    "typing_extensions.Generic",
}
_PROTOCOL_BASES = {"typing.Protocol", "typing_extensions.Protocol", "Protocol"}
_ENUM_BASES = {
    "enum.Enum",
    "enum.IntEnum",
    "enum.StrEnum",
    "enum.Flag",
    "enum.IntFlag",
}
_KNOWN_METACLASSES = {"type", "abc.ABCMeta", "ABCMeta"}
_HARMLESS_CLASS_DECORATORS = {
    "dataclass",
    "final",
    "total_ordering",
    "runtime_checkable",
    "unique",
    "dataclass_transform",
    "trait",  # mypy_extensions: identity at run time
    "mypyc_attr",
}
_OBJECT_MEMBERS = frozenset(dir(object)) | {"__dict__", "__weakref__", "__module__", "__annotations__"}
_TYPE_MEMBERS = frozenset(dir(type)) | _OBJECT_MEMBERS
_NAMEDTUPLE_MEMBERS = frozenset(dir(tuple)) | {"_fields", "_field_defaults", "_asdict", "_replace", "_make"}


def _external_members(dotted: str) -> frozenset[str] | None:
    """Members of a well-known class outside the tree, or None when unknown."""
    name = dotted.removeprefix("builtins.")
    if "." not in name:
        value = getattr(builtins, name, None)
        if isinstance(value, type):
            return frozenset(dir(value))
        return None
    if dotted in _ENUM_BASES:
        value = getattr(enum, dotted.partition(".")[2], None)
        if isinstance(value, type):
            return frozenset(dir(value)) | {"name", "value", "_name_", "_value_", "_missing_", "_generate_next_value_"}
    if dotted in ("typing.NamedTuple", "typing_extensions.NamedTuple"):
        return _NAMEDTUPLE_MEMBERS
    return None


def _last(name: str) -> str:
    return name.rpartition(".")[2]


@dataclass(slots=True)
class ClassView:
    """A class with all its bases: members by name, and whether that view is complete."""

    cls: ClassEnt
    chain: list[ClassEnt]
    names: set[str]
    complete: bool
    doubt: str
    """Why members may exist that the view cannot see (empty when the view is trustworthy)."""
    external: bool = False
    reasons: list[str] = field(default_factory=list)
    """Every reason to doubt the view (`doubt` is the first)."""
    is_dataclass: bool = False
    is_namedtuple: bool = False
    is_enum: bool = False

    def add_doubt(self, reason: str) -> None:
        self.reasons.append(reason)
        self.doubt = self.doubt or reason

    @property
    def only_a_protocol(self) -> bool:
        """Doubted only for being a Protocol: its members are known, its instances' classes are not."""
        return bool(self.reasons) and all(reason.endswith("a Protocol") for reason in self.reasons)


class Index:
    """Modules by name, and name resolution across them.

    Args:
        modules: the modules known up front (the whole project, usually).
        loader: called with a module name that is not known yet; returns it or None.
    """

    def __init__(
        self,
        modules: dict[str, ModuleInfo],
        loader: Callable[[str], ModuleInfo | None] | None = None,
    ) -> None:
        self.modules = modules
        self.loader = loader
        self._missing: set[str] = set()
        self._lookup_memo: dict[tuple[str, str], Entity | None] = {}
        self._in_progress: set[tuple[str, str]] = set()
        self._views: dict[ClassEnt, ClassView] = {}
        self.contract_names: frozenset[str] = frozenset()
        self.classes_named: Callable[[str], list[ClassEnt]] | None = None
        """The application's top-level classes of a name (`facts.ProjectFacts.classes_named`)."""

    # modules -------------------------------------------------------------------------------

    def module(self, name: str) -> ModuleInfo | None:
        info = self.modules.get(name)
        if info is not None:
            return info
        if name in self._missing or self.loader is None or not name:
            return None
        info = self.loader(name)
        if info is None:
            self._missing.add(name)
            return None
        self.modules[name] = info
        return info

    def absolute(self, current: str, is_package: bool, level: int, module: str) -> str:
        """The absolute name of a (possibly relative) import in module `current`."""
        if level == 0:
            return module
        parts = current.split(".")
        if not is_package:
            parts = parts[:-1]
        if level > 1:
            parts = parts[: len(parts) - (level - 1)] if level - 1 <= len(parts) else []
        base = ".".join(parts)
        if module:
            return f"{base}.{module}" if base else module
        return base

    def submodule_exists(self, module: str, name: str) -> bool:
        return self.module(f"{module}.{name}") is not None

    # names ---------------------------------------------------------------------------------

    def lookup(self, module: str, name: str) -> Entity | None:
        """What the global `name` of `module` stands for, or None when unknown or ambiguous."""
        key = (module, name)
        if key in self._lookup_memo:
            return self._lookup_memo[key]
        if key in self._in_progress:
            return None
        self._in_progress.add(key)
        try:
            result = self._lookup(module, name)
        finally:
            self._in_progress.discard(key)
        self._lookup_memo[key] = result
        return result

    def _lookup(self, module: str, name: str) -> Entity | None:
        info = self.module(module)
        if info is None:
            return None
        bindings = info.summary.bindings.get(name)
        if not bindings:
            if info.summary.getattr_hook or info.summary.dynamic_globals:
                return None
            for level, source in info.summary.star_imports:
                absolute = self.absolute(module, info.is_package, level, source)
                names = self.star_names(absolute)
                if names is None:
                    return None
                if name in names:
                    return self.import_from(absolute, name)
            if info.is_package and self.submodule_exists(module, name):
                return ModuleEnt(f"{module}.{name}")
            if hasattr(builtins, name):
                return ExternalEnt(f"builtins.{name}")
            return None
        results: list[Entity | None] = [self._binding(info, binding) for binding in bindings]
        return agree(results) or _optional_instance(results)

    def _binding(self, info: ModuleInfo, binding: Binding) -> Entity | None:
        kind = binding[0]
        if kind == "class":
            return ClassEnt(info.name, str(binding[1]))
        if kind == "func":
            return FuncEnt(info.name, str(binding[1]))
        if kind == "import":
            target = str(binding[1])
            if self.module(target) is not None:
                return ModuleEnt(target)
            return ExternalEnt(target)
        if kind == "from":
            level, module, name = binding[1], str(binding[2]), str(binding[3])
            assert isinstance(level, int)
            absolute = self.absolute(info.name, info.is_package, level, module)
            found = self.import_from(absolute, name)
            if found is None and len(binding) > 5 and self.classes_named is not None:
                found = self._meant_class(absolute, name)
            return found
        if kind == "value":
            expr = binding[1]
            if expr is None:
                return None
            assert isinstance(expr, tuple)
            line = binding[2]
            return self.eval(info.name, expr, origin=f"module global assigned at {info.relpath}:{line}")
        return None

    def _meant_class(self, package: str, name: str) -> ClassEnt | None:
        """The one class `name` defined below `package`, for ``from package import name`` under
        ``TYPE_CHECKING`` when `package` has no such name.

        WC305 reports the import; the annotations through it still name the class the
        author meant (``from app.agents import Supervisor`` for the one in
        ``app.agents.supervisor``), so the calls on them are still checked.
        """
        if self.classes_named is None or self.defines(package, name) is not False:
            return None
        found = [cls for cls in self.classes_named(name) if cls.module.startswith(package + ".")]
        return found[0] if len(found) == 1 else None

    def import_from(self, module: str, name: str) -> Entity | None:
        """What ``from module import name`` binds."""
        target = self.module(module)
        if target is None:
            return ExternalEnt(f"{module}.{name}") if module else None
        if name in target.summary.bindings:
            return self.lookup(module, name)
        if target.is_package and self.submodule_exists(module, name):
            return ModuleEnt(f"{module}.{name}")
        return self.lookup(module, name)

    def resolve_dotted(self, module: str, name: str) -> Entity | None:
        """``a.b.C`` evaluated in the global scope of `module` (``pkg.mod:C.x``: ``C`` imported from ``pkg.mod``)."""
        if ":" in name:
            return self._resolve_imported(module, name)
        first, _, rest = name.partition(".")
        entity = self.lookup(module, first)
        if rest:
            for part in rest.split("."):
                if entity is None:
                    return None
                entity = self.member(entity, part)
        return entity

    def _resolve_imported(self, module: str, name: str) -> Entity | None:
        """``[.]pkg.mod:C.x``: what a function-level ``from pkg.mod import C`` binds, then ``.x``."""
        source, _, rest = name.partition(":")
        level = len(source) - len(source.lstrip("."))
        info = self.module(module)
        absolute = self.absolute(module, info.is_package if info is not None else False, level, source[level:])
        first, _, more = rest.partition(".")
        entity: Entity | None
        if first:
            entity = self.import_from(absolute, first)
        else:
            entity = ModuleEnt(absolute) if self.module(absolute) is not None else ExternalEnt(absolute)
        for part in more.split(".") if more else ():
            if entity is None:
                return None
            entity = self.member(entity, part)
        return entity

    def eval(self, module: str, expr: Expr, *, origin: str = "", receiver: Inst | None = None) -> Entity | None:
        """Evaluate a symbolic expression of `model` in the global scope of `module`."""
        kind, name = expr
        if kind == "lit":
            return Lit(name)
        if kind == "param":
            return None
        if _last(name) == "Self" and kind == "ann":
            return receiver
        target = self.resolve_dotted(module, name)
        if target is None:
            return None
        if kind == "ref":
            if isinstance(target, Inst) and origin:
                return Inst(target.cls, target.origin or origin)
            return target
        if kind == "ann":
            if isinstance(target, ClassEnt):
                return Inst(target, origin)
            if isinstance(target, ExternalEnt) and target.dotted in ("builtins.None", "None"):
                return Lit("None")
            return None
        if kind == "type":
            return target if isinstance(target, ClassEnt) else None
        if kind in ("iter", "map"):
            return Elements(kind, Inst(target, origin)) if isinstance(target, ClassEnt) else None
        if kind == "call":
            return self.call_result(target, origin=origin)
        if kind == "await":
            return self.await_result(target, origin=origin)
        return None

    def call_result(self, callee: Entity, *, origin: str = "") -> Entity | None:
        """What calling `callee` returns, when known."""
        if isinstance(callee, ClassEnt):
            view = self.view(callee)
            if view.doubt or view.is_enum:
                return None
            for cls in view.chain:
                info = self.class_info(cls)
                if info is not None and "__new__" in info.members:
                    return None
            return Inst(callee, origin)
        func, module, receiver = self.callee_func(callee)
        if func is None or module is None or func.is_async or func.is_generator:
            return None
        if func.returns is None or _unsafe_decorators(func):
            return None
        return self.eval(module, func.returns, origin=origin or f"returned by {func.qualname}()", receiver=receiver)

    def await_result(self, callee: Entity, *, origin: str = "") -> Entity | None:
        func, module, receiver = self.callee_func(callee)
        if func is None or module is None or not func.is_async or func.is_generator:
            return None
        if func.returns is None or _unsafe_decorators(func):
            return None
        return self.eval(module, func.returns, origin=origin or f"returned by {func.qualname}()", receiver=receiver)

    def callee_func(self, callee: Entity) -> tuple[Func | None, str | None, Inst | None]:
        """The `Func` a call goes to (function, or method with its class's module)."""
        if isinstance(callee, FuncEnt):
            return self.func_of(callee.module, callee.qualname), callee.module, None
        if isinstance(callee, BoundMethod):
            member = self.find_member(callee.owner, callee.name)
            if member is None or member.func is None or member.count > 1 or member.kind != "function":
                return None, None, None
            return member.func, callee.owner.module, callee.receiver
        return None, None, None

    def star_names(self, module: str, seen: frozenset[str] = frozenset()) -> set[str] | None:
        """The names ``from module import *`` binds; None when they cannot be known."""
        info = self.module(module)
        if info is None or module in seen:
            return None
        summary = info.summary
        if summary.getattr_hook or summary.dynamic_globals:
            return None
        if summary.all_names is not None:
            return set(summary.all_names)
        names = {name for name in summary.bindings if not name.startswith("_")}
        for level, source in summary.star_imports:
            absolute = self.absolute(module, info.is_package, level, source)
            more = self.star_names(absolute, seen | {module})
            if more is None:
                return None
            names |= more
        return names

    def defines(self, module: str, name: str) -> bool | None:
        """Whether ``from module import name`` finds something; None when it cannot be known."""
        info = self.module(module)
        if info is None:
            return None
        summary = info.summary
        if name in summary.bindings:
            return True
        if info.is_package and self.submodule_exists(module, name):
            return True
        if summary.getattr_hook or summary.dynamic_globals:
            return None
        for level, source in summary.star_imports:
            absolute = self.absolute(module, info.is_package, level, source)
            names = self.star_names(absolute)
            if names is None:
                return None
            if name in names:
                return True
        return False

    def func_of(self, module: str, qualname: str) -> Func | None:
        """The module-level, local or static function `qualname` of `module`."""
        info = self.module(module)
        if info is None:
            return None
        func = info.summary.functions.get(qualname)
        if func is not None:
            return func
        owner, _, name = qualname.rpartition(".")
        cls = info.summary.classes.get(owner)
        if cls is not None:
            member = cls.members.get(name)
            if member is not None and member.func is not None and member.count == 1:
                return member.func
        return None

    # classes -------------------------------------------------------------------------------

    def class_info(self, cls: ClassEnt) -> ClassInfo | None:
        info = self.module(cls.module)
        if info is None:
            return None
        return info.summary.classes.get(cls.qualname)

    def base_entities(self, cls: ClassEnt) -> list[Entity | None]:
        info = self.class_info(cls)
        if info is None:
            return []
        result: list[Entity | None] = []
        for base in info.bases:
            if base is None:
                result.append(None)
                continue
            entity = self._resolve_in_class_scope(cls, base)
            result.append(entity)
        return result

    def _resolve_in_class_scope(self, cls: ClassEnt, name: str) -> Entity | None:
        # a local class's bases may name other local classes of the same function
        if ".<locals>." in cls.qualname and "." not in name:
            owner = cls.qualname.rpartition(".")[0]
            info = self.module(cls.module)
            if info is not None and f"{owner}.{name}" in info.summary.classes:
                return ClassEnt(cls.module, f"{owner}.{name}")
        return self.resolve_dotted(cls.module, name)

    def view(self, cls: ClassEnt) -> ClassView:
        """`cls` with all its bases: every member name, and any reason to doubt the view."""
        cached = self._views.get(cls)
        if cached is not None:
            return cached
        view = ClassView(cls, [], set(_OBJECT_MEMBERS), complete=True, doubt="")
        self._views[cls] = view  # breaks cycles
        self._fill_view(view)
        return view

    def _fill_view(self, view: ClassView) -> None:
        seen: set[ClassEnt] = set()
        stack = [view.cls]
        while stack:
            cls = stack.pop(0)
            if cls in seen:
                continue
            seen.add(cls)
            info = self.class_info(cls)
            if info is None:
                view.complete = False
                continue
            view.chain.append(cls)
            view.names.update(info.members)
            view.names.update(info.attrs)
            view.names.update(info.slots)
            if info.dynamic:
                view.add_doubt(f"{info.name} uses {info.dynamic}")
            if "Mock" in info.name:
                view.add_doubt(f"{info.name} is a mock")
            for decorator in info.decorators:
                if _last(decorator) == "dataclass":
                    view.is_dataclass = True
                elif _last(decorator) not in _HARMLESS_CLASS_DECORATORS:
                    view.add_doubt(f"{info.name} has class decorator @{decorator}")
            if info.metaclass is not None and info.metaclass not in _KNOWN_METACLASSES:
                view.add_doubt(f"{info.name} has metaclass {info.metaclass}")
            if info.class_keywords:
                view.add_doubt(f"{info.name} passes class keywords (__init_subclass__)")
            for base, entity in zip(info.bases, self.base_entities(cls), strict=True):
                if isinstance(entity, ClassEnt):
                    stack.append(entity)
                elif isinstance(entity, ExternalEnt):
                    dotted = entity.dotted
                    if dotted in _TRANSPARENT_BASES or base in _TRANSPARENT_BASES:
                        continue
                    if dotted in _PROTOCOL_BASES or _last(dotted) == "Protocol":
                        view.add_doubt(f"{info.name} is a Protocol")
                        continue
                    if dotted in ("builtins.type", "type"):
                        view.add_doubt(f"{info.name} is a metaclass")
                        continue
                    members = _external_members(dotted)
                    if members is None:
                        view.complete = False
                        continue
                    view.external = True
                    view.names.update(members)
                    if dotted in _ENUM_BASES:
                        view.is_enum = True
                    if "NamedTuple" in dotted:
                        view.is_namedtuple = True
                else:
                    view.complete = False
                    if base is not None and _last(base) in ("Protocol", "Mock", "MagicMock", "NonCallableMock"):
                        view.add_doubt(f"{info.name} derives from {base}")

    def find_member(self, cls: ClassEnt, name: str) -> Member | None:
        """The class-body member `name` (or instance attribute) first found along `cls`'s bases."""
        for owner in self.view(cls).chain:
            info = self.class_info(owner)
            if info is None:
                continue
            member = info.members.get(name)
            if member is not None:
                return member
            member = info.attrs.get(name)
            if member is not None:
                return member
        return None

    def member_owner(self, cls: ClassEnt, name: str) -> ClassEnt | None:
        for owner in self.view(cls).chain:
            info = self.class_info(owner)
            if info is not None and (name in info.members or name in info.attrs):
                return owner
        return None

    def member(self, entity: Entity, name: str) -> Entity | None:
        """``entity.name``, when known."""
        if isinstance(entity, ModuleEnt):
            info = self.module(entity.name)
            if info is None:
                return None
            if name in info.summary.bindings:
                return self.lookup(entity.name, name)
            if self.submodule_exists(entity.name, name):
                return ModuleEnt(f"{entity.name}.{name}")
            return self.lookup(entity.name, name)
        if isinstance(entity, ExternalEnt):
            return ExternalEnt(f"{entity.dotted}.{name}")
        if isinstance(entity, ClassEnt):
            return self._class_member(entity, name, None)
        if isinstance(entity, Inst):
            return self._class_member(entity.cls, name, entity)
        return None

    def _class_member(self, cls: ClassEnt, name: str, inst: Inst | None) -> Entity | None:
        view = self.view(cls)
        if view.doubt:
            return None
        owner = self.member_owner(cls, name)
        if owner is None:
            return None
        info = self.class_info(owner)
        assert info is not None
        member = info.members.get(name)
        from_attrs = False
        if member is None:
            member = info.attrs.get(name)
            from_attrs = True
        if member is None or member.conditional:
            return None
        if member.kind == "class":
            return ClassEnt(owner.module, member.qualname) if member.count == 1 else None
        if member.kind == "function":
            if member.count > 1 or member.func is None:
                return None
            decorators = {_last(d) for d in member.func.decorators}
            if "staticmethod" in decorators:
                return FuncEnt(owner.module, member.func.qualname) if len(decorators) == 1 else None
            if "classmethod" in decorators:
                return BoundMethod(cls, name, True, owner, inst) if len(decorators) == 1 else None
            return BoundMethod(cls, name, inst is not None, owner, inst)
        if member.kind == "property":
            if inst is None or member.func is None or member.func.returns is None:
                return None
            return self.eval(owner.module, member.func.returns, origin=f"property {info.name}.{name}", receiver=inst)
        if member.value is None:
            return None
        where = self.module(owner.module)
        relpath = where.relpath if where is not None else owner.module
        what = "self." if from_attrs else f"{info.name}."
        origin = f"{what}{name} assigned at {relpath}:{member.line}"
        if member.value[0] in ANNOTATION_KINDS and inst is None and not from_attrs:
            return None  # an annotation in the class body types the instance attribute
        result = self.eval(owner.module, member.value, origin=origin, receiver=inst)
        if isinstance(result, Inst):
            return Inst(result.cls, origin)
        if isinstance(result, Elements):
            return Elements(result.kind, Inst(result.element.cls, origin))
        return result

    def resolve_class_ref(self, ref: str | None) -> ClassEnt | None:
        """``pkg.mod:Cls`` (or ``pkg.mod.Cls``) of the configuration to the class, when it is in the index."""
        if not ref:
            return None
        if ":" in ref:
            module, _, attr = ref.partition(":")
        else:
            module, _, attr = ref.rpartition(".")
        if not module or not attr:
            return None
        entity = self.resolve_dotted(module, attr) if self.module(module) is not None else None
        return entity if isinstance(entity, ClassEnt) else None

    def describe(self, cls: ClassEnt) -> str:
        """``AgentRegistry (registry.py:12)``."""
        info = self.class_info(cls)
        module = self.module(cls.module)
        if info is None or module is None:
            return cls.qualname
        return f"{cls.qualname} ({module.relpath}:{info.line})"


def _unsafe_decorators(func: Func) -> bool:
    return any(_last(d) not in SAFE_DECORATORS for d in func.decorators)


SAFE_DECORATORS = frozenset(
    {
        "staticmethod",
        "classmethod",
        "abstractmethod",
        "override",
        "final",
        "wraps",
    }
)
"""Decorators that leave a function's signature and sync/async nature as written."""


def _optional_instance(results: list[Entity | None]) -> Inst | None:
    """The instance a module global holds when it is not None: ``manager = None``, then
    ``global manager; manager = Manager()`` in a function (or ``manager: Manager | None = None``).

    Reading a member that ``Manager`` lacks fails either way (None has none of them), so
    the rules may judge the name as a ``Manager``; any other disagreement stays unknown.
    """
    none = Lit("None")
    others = [result for result in results if result != none]
    if len(others) == len(results) or not others:
        return None
    found = agree(others)
    if not isinstance(found, Inst):
        return None
    return Inst(found.cls, f"{found.origin} (None before)" if found.origin else "", found.is_self)


def agree(results: list[Entity | None]) -> Entity | None:
    """One entity when every binding resolves to the same thing; None otherwise."""
    first = results[0]
    if first is None:
        return None
    for other in results[1:]:
        if other != first:
            return None
    return first


TYPE_MEMBERS = _TYPE_MEMBERS
OBJECT_MEMBERS = _OBJECT_MEMBERS
