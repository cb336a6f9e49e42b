"""Light, local inference of what an expression is, inside one file.

No type checker: a name's class is known when every binding of that name in its scope
agrees (``x = Cls(...)``, an annotation, ``self`` in a method, an import, a module
global), and unknown otherwise.  Attribute chains go through the project `Index`
(``self.registry`` typed by ``self.registry = AgentRegistry()`` in any method), and the
configured roles map attribute paths such as ``app.state.agent_websocket_bridge`` to
their class.  Unknown is always the answer when in doubt: a name narrowed with
``isinstance``, declared ``global``, bound by a loop, a ``with``, or in two
incompatible ways.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

from wiringcheck.scan.facts import ProjectFacts
from wiringcheck.scan.index import (
    BoundMethod,
    ClassEnt,
    Elements,
    Entity,
    ExternalEnt,
    FuncEnt,
    Index,
    Inst,
    Lit,
    ModuleEnt,
    is_test_path,
)
from wiringcheck.scan.scopes import Local, Scope, bindings_of, class_body_names, qualname_of
from wiringcheck.scan.summary import annotation_expr, dotted, is_app_state, optional_inner

__all__ = ["FileContext", "RolePath", "Scope"]

_FUNC_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)


@dataclass(frozen=True, slots=True)
class RolePath:
    """A configured role: objects reached by `path` (``state.agent_websocket_bridge``) are `cls`."""

    name: str
    path: str
    cls: ClassEnt


class FileContext:
    """Per-file state for one walk: the module, its index, scopes and cheap cached facts."""

    def __init__(
        self,
        *,
        module: str,
        relpath: str,
        is_package: bool,
        tree: ast.Module,
        source: str,
        index: Index,
        roles: tuple[RolePath, ...] = (),
        facts: ProjectFacts | None = None,
    ) -> None:
        self.module = module
        self.relpath = relpath
        self.is_package = is_package
        self.tree = tree
        self.source = source
        self.index = index
        self.roles = roles
        self.facts = facts if facts is not None else ProjectFacts(index)
        self.is_test = is_test_path(relpath)
        """Test code: judged like any other, but only test code is excused by test code."""
        self._scopes: dict[int, Scope] = {}
        self._in_progress: set[tuple[int, str]] = set()
        self._lines: list[str] | None = None
        self.reported: set[object] = set()
        """What a rule reports once per file (a mixin class), so that it is not reported again."""
        self._scope_of: tuple[ast.AST | None, Scope | None] = (None, None)
        self._inferred: dict[tuple[int, int], Entity | None] = {}
        """``(id(node), len(parents)) -> entity``: the tree outlives this context, so ids are not reused."""
        self.version_tests: dict[int, bool] = {}
        """``id(if node) -> whether its test names a version`` (the tree outlives this context)."""

    def line_text(self, line: int) -> str:
        """The text of source line `line` (1-based); empty when out of range."""
        if self._lines is None:
            self._lines = self.source.splitlines()
        return self._lines[line - 1] if 0 < line <= len(self._lines) else ""

    def column(self, line: int, offset: int) -> int:
        """The character column of a UTF-8 byte `offset` (what `ast` gives) on `line`."""
        if self._lines is None:
            self._lines = self.source.splitlines()
        if not 0 < line <= len(self._lines):
            return offset
        text = self._lines[line - 1]
        if text.isascii():
            return offset
        return len(text.encode("utf-8")[:offset].decode("utf-8", errors="replace"))

    # scopes --------------------------------------------------------------------------------

    def scope_for(self, parents: tuple[ast.AST, ...], node: ast.AST) -> Scope | None:
        """The innermost scope whose body contains `node` (ancestors `parents`); None: the module.

        Decorators, defaults and annotations belong to the enclosing scope, not to the
        function they decorate; code directly in a class body gets a class scope.
        """
        if node is self._scope_of[0]:
            return self._scope_of[1]  # the rules registered for one node ask in turn
        scope = self._scope_for(parents, node)
        self._scope_of = (node, scope)
        return scope

    def _scope_for(self, parents: tuple[ast.AST, ...], node: ast.AST) -> Scope | None:
        child = node
        for i in range(len(parents) - 1, -1, -1):
            parent = parents[i]
            if isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                if isinstance(child, ast.stmt):  # the only statements under a def or class are its body
                    return self._scope(parent, parents[:i])
            elif isinstance(parent, ast.Lambda) and child is parent.body:
                return self._scope(parent, parents[:i])
            child = parent
        return None

    def _scope(
        self, node: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda | ast.ClassDef, parents: tuple[ast.AST, ...]
    ) -> Scope:
        scope = self._scopes.get(id(node))
        if scope is not None:
            return scope
        parent = self.scope_for(parents, node)
        if not isinstance(node, ast.ClassDef):
            while parent is not None and isinstance(parent.node, ast.ClassDef):
                parent = parent.parent
        outer = qualname_of(parents)
        name = node.name if not isinstance(node, ast.Lambda) else "<lambda>"
        qualname = f"{outer}.{name}" if outer else name
        scope = Scope(node, parent, qualname)
        if isinstance(node, ast.ClassDef):
            scope.locals = {n: [("unknown", node.lineno)] for n in class_body_names(node.body)}
        elif parents and isinstance(parents[-1], ast.ClassDef) and not isinstance(node, ast.Lambda):
            decorators = {_last(dotted(d.func if isinstance(d, ast.Call) else d) or "?") for d in node.decorator_list}
            scope.cls = ClassEnt(self.module, outer)
            if "staticmethod" in decorators:
                scope.self_kind = ""
            elif "classmethod" in decorators or node.name in ("__new__", "__init_subclass__", "__class_getitem__"):
                scope.self_kind = "cls"
            else:
                scope.self_kind = "self"
        self._scopes[id(node)] = scope
        return scope

    def _locals(self, scope: Scope) -> dict[str, list[Local]]:
        return bindings_of(scope)

    # inference -----------------------------------------------------------------------------

    def infer(self, node: ast.AST, scope: Scope | None, parents: tuple[ast.AST, ...] = ()) -> Entity | None:
        """What `node` evaluates to, when the rules above make it certain; else None.

        Memoized per node (several rules ask about the same callee or receiver) and depth
        of `parents`: a rule at a call passes the call's ancestors for its callee, which
        narrow less than the callee's own, and every `parents` is a chain from the root,
        so its length says which.
        """
        key = (id(node), len(parents))
        memo = self._inferred
        if key in memo:
            return memo[key]
        result = memo[key] = self._infer(node, scope, parents)
        return result

    def _infer(self, node: ast.AST, scope: Scope | None, parents: tuple[ast.AST, ...] = ()) -> Entity | None:
        """`infer`, not memoized.

        With the `parents` of the expression, a name annotated ``X | None`` is ``X`` inside
        ``if name is not None:`` (or ``if name:``, or after ``name is not None and``).
        """
        kind = type(node)
        if kind is ast.Name:
            assert isinstance(node, ast.Name)
            result = self.infer_name(node.id, scope)
            if result is None and parents and scope is not None:
                return self._checked_optional(node.id, scope, parents)
            return result
        if kind is ast.Attribute:
            assert isinstance(node, ast.Attribute)
            base = self.infer(node.value, scope, parents)
            result = self.index.member(base, node.attr) if base is not None else None
            if result is None and not isinstance(base, (ModuleEnt, ClassEnt)):
                if self.roles:
                    result = self.role_of(node)
                if result is None and is_app_state(node.value):
                    result = self.facts.state_attr(node.attr)
            return result
        if kind is ast.Call:
            assert isinstance(node, ast.Call)
            func = node.func
            if isinstance(func, ast.Name) and func.id == "cast" and len(node.args) == 2:
                expr = annotation_expr(node.args[0])
                if expr is not None and expr[0] == "ann":
                    return self.index.eval(self.module, expr, origin=f"cast at {self.relpath}:{node.lineno}")
            callee = self.infer(func, scope, parents)
            if callee is None or isinstance(callee, (Lit, Inst, ModuleEnt, ExternalEnt, Elements)):
                return None
            return self.index.call_result(callee, origin=f"constructed at {self.relpath}:{node.lineno}")
        if kind is ast.Await:
            assert isinstance(node, ast.Await)
            inner = node.value
            if isinstance(inner, ast.Call):
                callee = self.infer(inner.func, scope, parents)
                if callee is not None:
                    return self.index.await_result(callee, origin=f"awaited at {self.relpath}:{node.lineno}")
            return None
        if kind is ast.NamedExpr:
            assert isinstance(node, ast.NamedExpr)
            return self.infer(node.value, scope, parents)
        if kind is ast.Constant:
            assert isinstance(node, ast.Constant)
            return Lit(type(node.value).__name__ if node.value is not None else "None")
        return None

    def _checked_optional(self, name: str, scope: Scope, parents: tuple[ast.AST, ...]) -> Entity | None:
        """``X`` for a local annotated ``X | None`` used where a test proved it is not None."""
        owner: Scope | None = scope
        while owner is not None:
            if isinstance(owner.node, ast.ClassDef):
                return None
            table = self._locals(owner)  # first: it also fills in `free`
            if name in owner.free:
                return None
            if name in table:
                break
            owner = owner.parent
        if owner is None or name in owner.narrowed:
            return None
        bindings = self._locals(owner)[name]
        declared = [b for b in bindings if b[0] == "ann"]
        if not declared:
            return None
        inners = {optional_inner(b[1]) for b in declared if isinstance(b[1], ast.AST)}
        if len(inners) != 1:
            return None
        (inner,) = inners
        if inner is None or not _proved_not_none(name, parents, owner.node):
            return None
        line = declared[0][-1]
        result = self.index.eval(self.module, inner, origin=f"{name} annotated at {self.relpath}:{line}, not None here")
        return result if isinstance(result, Inst) else None

    def role_of(self, node: ast.AST) -> Inst | None:
        text = dotted(node)
        if text is None:
            return None
        for role in self.roles:
            if text == role.path or text.endswith("." + role.path):
                return Inst(role.cls, f"configured role '{role.name}' (path {role.path})")
        return None

    def infer_name(self, name: str, scope: Scope | None) -> Entity | None:
        current = scope
        while current is not None:
            table = self._locals(current)  # first: it also fills in `free`
            if name in current.free:
                return None
            if name in table:
                return self._local(name, current)
            current = current.parent
        return self.index.lookup(self.module, name)

    def _local(self, name: str, scope: Scope) -> Entity | None:
        if name in scope.memo:
            return scope.memo[name]
        if name in scope.narrowed:
            return None
        key = (id(scope), name)
        if key in self._in_progress:
            return None
        self._in_progress.add(key)
        try:
            result = self._local_uncached(name, scope)
        finally:
            self._in_progress.discard(key)
        scope.memo[name] = result
        return result

    def _local_uncached(self, name: str, scope: Scope) -> Entity | None:
        bindings = self._locals(scope)[name]
        declared = [b for b in bindings if b[0] == "ann"]
        if declared:
            bindings = declared
        results: list[Entity | None] = []
        for binding in bindings:
            results.append(self._binding(name, binding, scope))
            if results[-1] is None:
                return None
        first = results[0]
        for other in results[1:]:
            if other != first:
                return None
        return first

    def _binding(self, name: str, binding: Local, scope: Scope) -> Entity | None:
        kind = binding[0]
        line = binding[-1]
        if kind == "ann":
            annotation = binding[1]
            assert isinstance(annotation, ast.AST)
            expr = annotation_expr(annotation)
            if expr is None:
                return None
            return self.index.eval(self.module, expr, origin=f"{name} annotated at {self.relpath}:{line}")
        if kind == "self-ann":
            # ``def helper(self: "Registry")`` in a mixin: self is the annotated class only
            # when that class derives from the one defining the method; else it is some
            # other class the mixin is combined with, and its members are not known here
            annotation = binding[1]
            assert isinstance(annotation, ast.AST)
            expr = annotation_expr(annotation)
            result = (
                self.index.eval(self.module, expr, origin=f"{name} annotated at {self.relpath}:{line}")
                if expr
                else None
            )
            if isinstance(result, Inst) and scope.cls is not None and scope.cls in self.index.view(result.cls).chain:
                return Inst(result.cls, result.origin, is_self=True)
            return None
        if kind == "param":
            if binding[1] == 0 and scope.cls is not None and scope.self_kind:
                if scope.self_kind == "cls":
                    return scope.cls
                return Inst(scope.cls, f"{name} is the instance in {scope.qualname}", is_self=True)
            return None
        if kind == "assign":
            value = binding[1]
            assert isinstance(value, ast.AST)
            result = self.infer(value, scope)
            if isinstance(result, Inst) and isinstance(value, (ast.Call, ast.Await)):
                return Inst(result.cls, f"{name} assigned at {self.relpath}:{line}")
            return result
        if kind == "import":
            module, imported, level = binding[1], binding[2], binding[3]
            assert isinstance(module, str)
            assert isinstance(level, int)
            absolute = self.index.absolute(self.module, self.is_package, level, module)
            if imported is None:
                if self.index.module(absolute) is not None:
                    return ModuleEnt(absolute)
                return ExternalEnt(absolute)
            assert isinstance(imported, str)
            return self.index.import_from(absolute, imported)
        if kind == "for":
            iterable, position = binding[1], binding[2]
            assert isinstance(iterable, ast.expr)
            assert position is None or isinstance(position, int)
            return self._element(name, iterable, position, scope)
        if kind == "def":
            return FuncEnt(self.module, str(binding[1]))
        if kind == "class":
            return ClassEnt(self.module, str(binding[1]))
        return None

    def _element(self, name: str, iterable: ast.expr, position: int | None, scope: Scope) -> Inst | None:
        """The loop variable `name` (or the `position`-th of a tuple target) over `iterable`.

        Known for an annotated container: ``for a in agents`` (``list[Agent]``), ``.values()``
        and ``.items()`` of a ``dict[str, Agent]``, and ``enumerate`` of a sequence.
        """
        container: ast.expr = iterable
        wanted = "iter"
        want_position: int | None = None
        if isinstance(iterable, ast.Call) and not iterable.args and not iterable.keywords:
            func = iterable.func
            if isinstance(func, ast.Attribute) and func.attr in ("values", "items"):
                container, wanted = func.value, "map"
                want_position = None if func.attr == "values" else 1
        elif (
            isinstance(iterable, ast.Call)
            and isinstance(iterable.func, ast.Name)
            and iterable.func.id == "enumerate"
            and len(iterable.args) == 1
            and not iterable.keywords
        ):
            container, want_position = iterable.args[0], 1
        if position != want_position:
            return None
        found = self.infer(container, scope)
        if not isinstance(found, Elements) or found.kind != wanted:
            return None
        shown = dotted(container) or "a container"
        origin = f"{name} is an element of {shown}"
        if found.element.origin:
            origin += f" ({found.element.origin})"
        return Inst(found.element.cls, origin)

    def single_assignment(self, name: str, scope: Scope | None) -> ast.expr | None:
        """The value of ``name = value`` when that is the name's only binding in its function."""
        if scope is None or isinstance(scope.node, ast.ClassDef):
            return None
        bindings = self._locals(scope).get(name)  # first: it also fills in `free` and `narrowed`
        if name in scope.free or name in scope.narrowed:
            return None
        if bindings is None or len(bindings) != 1 or bindings[0][0] != "assign":
            return None
        value = bindings[0][1]
        return value if isinstance(value, ast.expr) else None

    def guarded(self, scope: Scope | None, receiver: str, attr: str) -> bool:
        """Whether the function tests ``hasattr(receiver, attr)`` (or getattr) somewhere."""
        if scope is None:
            return False
        self._locals(scope)
        return (receiver, attr) in scope.guards


def _is_name(node: ast.AST, name: str) -> bool:
    return isinstance(node, ast.Name) and node.id == name


def _not_none(test: ast.AST, name: str) -> bool:
    """Whether `test` being true proves `name` is not None."""
    if _is_name(test, name):
        return True
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and _is_name(test.left, name):
        right = test.comparators[0]
        return isinstance(test.ops[0], ast.IsNot) and isinstance(right, ast.Constant) and right.value is None
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_not_none(value, name) for value in test.values)
    return False


def _is_none(test: ast.AST, name: str) -> bool:
    """Whether `test` being false proves `name` is not None."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return _is_name(test.operand, name)
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and _is_name(test.left, name):
        right = test.comparators[0]
        return isinstance(test.ops[0], ast.Is) and isinstance(right, ast.Constant) and right.value is None
    return False


def _proved_not_none(name: str, parents: tuple[ast.AST, ...], boundary: ast.AST) -> bool:
    """Whether an enclosing test (up to the function `boundary`) proves `name` is not None."""
    child: ast.AST | None = None
    for parent in reversed(parents):
        if child is not None:
            if isinstance(parent, (ast.If, ast.While)):
                in_body = any(child is stmt for stmt in parent.body)
                if in_body and _not_none(parent.test, name):
                    return True
                in_else = isinstance(parent, ast.If) and any(child is stmt for stmt in parent.orelse)
                if in_else and _is_none(parent.test, name):
                    return True
            elif isinstance(parent, ast.IfExp):
                if child is parent.body and _not_none(parent.test, name):
                    return True
                if child is parent.orelse and _is_none(parent.test, name):
                    return True
            elif isinstance(parent, ast.BoolOp) and isinstance(parent.op, ast.And):
                index = next((i for i, value in enumerate(parent.values) if value is child), 0)
                if any(_not_none(value, name) for value in parent.values[:index]):
                    return True
        if parent is boundary:
            return False
        child = parent
    return False


def _last(name: str) -> str:
    return name.rpartition(".")[2]


def describe(entity: Entity) -> str:
    """A short human name for an inferred entity."""
    if isinstance(entity, Inst):
        return entity.cls.qualname
    if isinstance(entity, ClassEnt):
        return f"class {entity.qualname}"
    if isinstance(entity, BoundMethod):
        return f"{entity.cls.qualname}.{entity.name}"
    if isinstance(entity, FuncEnt):
        return entity.qualname
    if isinstance(entity, ModuleEnt):
        return f"module {entity.name}"
    return str(entity)
