"""Per-file summaries: one walk over a module's tree fills its `summary.ModuleSummary`.

The scan never imports user code.  Each file is parsed once and reduced to a summary:
its module-level bindings, its classes (members, attributes assigned on ``self`` in any
method or closure, bases, decorators, whether something dynamic happens), its functions
(signatures, async or not, what they return), and project-wide hints (attributes stored
on other objects, ``app.state`` assignments).  The walk visits each node once, whatever
the nesting depth.  A summary depends only on the file's content, so the cache keys it
by a hash of that content.  The data types live in `summary`; they are re-exported here.
"""

from __future__ import annotations

import ast

from wiringcheck.scan.summary import (
    ANNOTATION_KINDS,
    LITERAL_NODES,
    REDEFINED,
    SUMMARY_VERSION,
    Binding,
    ClassInfo,
    Expr,
    Func,
    Member,
    ModuleSummary,
    annotation_expr,
    children,
    decorator_name,
    dotted,
    is_app_state,
    last_part,
    make_func,
    optional_inner,
    value_expr,
)

__all__ = [
    "ANNOTATION_KINDS",
    "REDEFINED",
    "SUMMARY_VERSION",
    "Binding",
    "ClassInfo",
    "Expr",
    "Func",
    "Member",
    "ModuleSummary",
    "annotation_expr",
    "decorator_name",
    "dotted",
    "is_app_state",
    "make_func",
    "optional_inner",
    "summarize",
    "value_expr",
]

# -- the summarizer ------------------------------------------------------------------------------

_FUNC_NODES = (ast.FunctionDef, ast.AsyncFunctionDef)
_MUTATORS = frozenset({"update", "setdefault", "__setitem__", "pop", "popitem", "clear", "__delitem__"})
_SCOPE_NODES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)


class _Summarizer:
    """One walk over a module's tree, keeping track of the class and function it is in."""

    def __init__(self) -> None:
        self.summary = ModuleSummary()
        self.attr_stores: set[str] = set()
        self.imports: list[tuple[int, str, tuple[str, ...]]] = []
        self.stars: list[tuple[int, str]] = []
        self.state_stores: list[tuple[str, Expr | None, int]] = []
        self.static_only = False
        """Inside ``if TYPE_CHECKING:`` (imports there never run)."""

    # module-level bindings -----------------------------------------------------------------

    def bind(self, name: str, binding: Binding) -> None:
        self.summary.bindings.setdefault(name, []).append(binding)

    def module_statements(self, body: list[ast.stmt]) -> None:
        for stmt in body:
            self.module_statement(stmt)

    def module_statement(self, stmt: ast.stmt) -> None:
        line = stmt.lineno
        if isinstance(stmt, _FUNC_NODES):
            self.bind(stmt.name, ("func", stmt.name, line))
            if stmt.name == "__getattr__":
                self.summary.getattr_hook = True
            self.function(stmt, stmt.name, cls=None)
        elif isinstance(stmt, ast.ClassDef):
            self.bind(stmt.name, ("class", stmt.name, line))
            self.klass(stmt, stmt.name)
        elif isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.asname:
                    self.bind(alias.asname, ("import", alias.name, line))
                else:
                    top = alias.name.partition(".")[0]
                    self.bind(top, ("import", top, line))
            self.record_import(stmt)
        elif isinstance(stmt, ast.ImportFrom):
            self.record_import(stmt)
            for alias in stmt.names:
                if alias.name == "*":
                    continue
                binding: Binding = ("from", stmt.level, stmt.module or "", alias.name, line)
                self.bind(alias.asname or alias.name, (*binding, "TYPE_CHECKING") if self.static_only else binding)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            self.module_assign(stmt)
            self.walk_expressions(stmt, cls=None, func=None, self_name=None)
        elif isinstance(
            stmt, (ast.If, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)
        ):
            if isinstance(stmt, (ast.For, ast.AsyncFor)):
                for name in _target_names(stmt.target):
                    self.bind(name, ("unknown", line))
            if isinstance(stmt, (ast.With, ast.AsyncWith)):
                for item in stmt.items:
                    if item.optional_vars is not None:
                        for name in _target_names(item.optional_vars):
                            self.bind(name, ("unknown", line))
            for header in _headers(stmt):
                self.walk_expressions(header, cls=None, func=None, self_name=None)
            static = self.static_only
            if isinstance(stmt, ast.If) and last_part(dotted(stmt.test) or "") == "TYPE_CHECKING":
                self.static_only = True
                self.module_statements(stmt.body)
                self.static_only = static
                self.module_statements(stmt.orelse)
            else:
                for block in _blocks(stmt):
                    self.module_statements(block)
            if isinstance(stmt, (ast.Try, ast.TryStar)):
                for handler in stmt.handlers:
                    if handler.name:
                        self.bind(handler.name, ("unknown", handler.lineno))
        elif isinstance(stmt, ast.Delete):
            for target in stmt.targets:
                for name in _target_names(target):
                    self.bind(name, ("unknown", line))
            self.walk_expressions(stmt, cls=None, func=None, self_name=None)
        elif isinstance(stmt, ast.Match):
            self.summary.dynamic_globals = True
            self.walk_expressions(stmt, cls=None, func=None, self_name=None)
        else:
            self.walk_expressions(stmt, cls=None, func=None, self_name=None)

    def module_assign(self, stmt: ast.Assign | ast.AnnAssign | ast.AugAssign) -> None:
        line = stmt.lineno
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        if any(isinstance(t, ast.Name) and t.id == "__path__" for t in targets):
            # ``__path__ = pkgutil.extend_path(__path__, __name__)``: other distributions add
            # submodules to this package, so a name it lacks here may exist at run time
            self.summary.dynamic_globals = True
        if any(isinstance(t, ast.Name) and t.id == "__getattr__" for t in targets):
            self.summary.getattr_hook = True  # ``__getattr__ = getattr_migration(__name__)`` (pydantic)
        if isinstance(stmt, ast.Assign):
            value = value_expr(stmt.value)
            for target in stmt.targets:
                if isinstance(target, ast.Name):
                    self.bind(target.id, ("value", value, line))
                    if target.id == "__all__":
                        self.summary.all_names = _string_list(stmt.value)
                else:
                    for name in _target_names(target):
                        self.bind(name, ("unknown", line))
        elif isinstance(stmt, ast.AnnAssign):
            if isinstance(stmt.target, ast.Name):
                ann = annotation_expr(stmt.annotation)
                if stmt.value is None and ann is not None and ann[1].endswith("TypeAlias"):
                    ann = None
                if stmt.value is not None or ann is not None:
                    value = ann if ann is not None else value_expr(stmt.value)
                    if stmt.annotation is not None and last_part(dotted(stmt.annotation) or "") == "TypeAlias":
                        value = value_expr(stmt.value)
                    self.bind(stmt.target.id, ("value", value, line))
        elif isinstance(stmt.target, ast.Name):
            self.bind(stmt.target.id, ("unknown", line))
            if stmt.target.id == "__all__":
                self.summary.all_names = None

    def record_import(self, stmt: ast.Import | ast.ImportFrom) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                self.imports.append((0, alias.name, ()))
        else:
            names = tuple(alias.name for alias in stmt.names)
            self.imports.append((stmt.level, stmt.module or "", names))
            if "*" in names:
                self.stars.append((stmt.level, stmt.module or ""))

    # classes -------------------------------------------------------------------------------

    def klass(self, node: ast.ClassDef, qualname: str) -> ClassInfo:
        metaclass = None
        class_keywords = False
        for keyword in node.keywords:
            if keyword.arg == "metaclass":
                metaclass = dotted(keyword.value) or "?"
            else:
                class_keywords = True
        bases: list[str | None] = []
        for base in node.bases:
            if isinstance(base, ast.Subscript):
                base = base.value
            bases.append(dotted(base))
        info = ClassInfo(
            name=node.name,
            qualname=qualname,
            line=node.lineno,
            col=node.col_offset,
            bases=tuple(bases),
            metaclass=metaclass,
            decorators=tuple(decorator_name(d) for d in node.decorator_list),
            class_keywords=class_keywords,
            dataclass_init=not any(_dataclass_without_init(d) for d in node.decorator_list),
        )
        previous = self.summary.classes.get(qualname)
        if previous is not None:
            # the same class statement twice (if/else, try/except): keep one view that has
            # every member of both, and doubt it if the two disagree on their bases
            self.class_body(node.body, info, conditional=False)
            for name, member in info.members.items():
                self.add_member(previous, name, member)
            for name, member in info.attrs.items():
                previous.attrs.setdefault(name, member)
            if previous.bases != info.bases or previous.metaclass != info.metaclass:
                previous.dynamic = previous.dynamic or "two definitions with different bases"
            previous.slots = previous.slots + info.slots
            previous.dynamic = previous.dynamic or info.dynamic
            return previous
        self.summary.classes[qualname] = info
        for decorator in node.decorator_list:
            self.walk_expressions(decorator, cls=None, func=None, self_name=None)
        for base in (*node.bases, *(k.value for k in node.keywords)):
            self.walk_expressions(base, cls=None, func=None, self_name=None)
        self.class_body(node.body, info, conditional=False)
        return info

    def add_member(self, info: ClassInfo, name: str, member: Member) -> None:
        existing = info.members.get(name)
        if existing is None:
            info.members[name] = member
            return
        if existing.kind == "property" and member.kind == "function":
            return
        if member.kind == "property" and existing.kind == "property":
            return
        member.count = existing.count + 1
        if existing.kind != member.kind or (existing.kind == "attr" and existing.value != member.value):
            member.value = None
            if existing.kind != member.kind:
                member.kind = "attr" if "attr" in (existing.kind, member.kind) else member.kind
        info.members[name] = member

    def class_body(self, body: list[ast.stmt], info: ClassInfo, *, conditional: bool) -> None:
        qual = info.qualname
        for stmt in body:
            line = stmt.lineno
            if isinstance(stmt, _FUNC_NODES):
                func = self.function(stmt, f"{qual}.{stmt.name}", cls=info)
                decorators = func.decorators
                kind = "function"
                if any(
                    last_part(d) in ("property", "cached_property") or d.endswith((".setter", ".getter", ".deleter"))
                    for d in decorators
                ):
                    kind = "property"
                self.add_member(info, stmt.name, Member(kind, line, func=func, conditional=conditional))
                if stmt.name in ("__getattr__", "__getattribute__"):
                    info.dynamic = stmt.name
            elif isinstance(stmt, ast.ClassDef):
                nested = f"{qual}.{stmt.name}"
                self.klass(stmt, nested)
                self.add_member(info, stmt.name, Member("class", line, qualname=nested, conditional=conditional))
            elif isinstance(stmt, ast.Assign):
                value = value_expr(stmt.value)
                for target in stmt.targets:
                    for name in _target_names(target):
                        self.add_member(
                            info,
                            name,
                            Member(
                                "attr",
                                line,
                                value=value if isinstance(target, ast.Name) else None,
                                conditional=conditional,
                            ),
                        )
                        if name == "__slots__":
                            info.slots = _string_list(stmt.value) or ()
                            if "__dict__" in info.slots:
                                info.dynamic = info.dynamic or "__slots__ with __dict__"
                self.walk_expressions(stmt, cls=None, func=None, self_name=None)
            elif isinstance(stmt, ast.AnnAssign):
                if isinstance(stmt.target, ast.Name):
                    ann = annotation_expr(stmt.annotation)
                    self.add_member(info, stmt.target.id, Member("attr", line, value=ann, conditional=conditional))
                self.walk_expressions(stmt, cls=None, func=None, self_name=None)
            elif isinstance(stmt, ast.AugAssign):
                self.walk_expressions(stmt, cls=None, func=None, self_name=None)
            elif isinstance(stmt, (ast.Import, ast.ImportFrom)):
                for alias in stmt.names:
                    name = alias.asname or alias.name.partition(".")[0]
                    self.add_member(info, name, Member("attr", line, conditional=conditional))
                self.record_import(stmt)
            elif isinstance(
                stmt, (ast.If, ast.Try, ast.TryStar, ast.With, ast.AsyncWith, ast.For, ast.AsyncFor, ast.While)
            ):
                if isinstance(stmt, (ast.For, ast.AsyncFor)):
                    for name in _target_names(stmt.target):
                        self.add_member(info, name, Member("attr", line, conditional=True))
                for header in _headers(stmt):
                    self.walk_expressions(header, cls=None, func=None, self_name=None)
                for block in _blocks(stmt):
                    self.class_body(block, info, conditional=True)
            elif isinstance(stmt, ast.Expr) and _calls_name(stmt.value, ("locals", "vars", "setattr", "exec")):
                info.dynamic = info.dynamic or "class body uses locals()"
                self.walk_expressions(stmt, cls=None, func=None, self_name=None)
            else:
                self.walk_expressions(stmt, cls=None, func=None, self_name=None)

    # functions -----------------------------------------------------------------------------

    def function(
        self,
        node: ast.FunctionDef | ast.AsyncFunctionDef,
        qualname: str,
        cls: ClassInfo | None,
        closure: tuple[ClassInfo, str] | None = None,
    ) -> Func:
        """Summarize one function; `closure` is the enclosing method's class and ``self`` name.

        A closure may store on the enclosing method's ``self``: it is walked once, with that
        class and name, so each node of the tree is visited once whatever the nesting depth.
        """
        func = make_func(node, qualname)
        if cls is None:
            if qualname in self.summary.functions:
                # defined twice (if/else): which signature runs is not known statically
                func.decorators = (*func.decorators, REDEFINED)
                self.summary.functions[qualname].decorators += (REDEFINED,)
            self.summary.functions[qualname] = func
        self_name: str | None = None
        if cls is not None and not any(last_part(d) == "staticmethod" for d in func.decorators):
            positional = func.positional
            if positional:
                self_name = positional[0]
        walk_cls = cls
        if cls is None and closure is not None:
            walk_cls, self_name = closure
        annotated = {
            arg.arg: annotation_expr(arg.annotation) for arg in _all_args(node.args) if arg.annotation is not None
        }
        for decorator in node.decorator_list:
            self.walk_expressions(decorator, cls=None, func=None, self_name=None)
        for default in (*node.args.defaults, *(d for d in node.args.kw_defaults if d is not None)):
            self.walk_expressions(default, cls=None, func=None, self_name=None)
        state = _FuncState(func, annotated)
        for stmt in node.body:
            self.walk_expressions(stmt, cls=walk_cls, func=state, self_name=self_name)
        for name, value, line in state.state_stores:
            self.state_stores.append((name, state.resolve(value), line))
        if state.returns_value:
            func.return_kind = "value" if state.returns_nonliteral else "literal"
            calls = [e[1] for e in state.returned if e is not None and e[0] == "call"]
            if len(calls) == len(state.returned) and not any(c.partition(".")[0] in state.bound for c in calls):
                func.return_calls = tuple(dict.fromkeys(calls))
        return func

    def walk_expressions(
        self, root: ast.AST, *, cls: ClassInfo | None, func: _FuncState | None, self_name: str | None
    ) -> None:
        """Visit every node below `root`, recording stores, dynamic tricks, returns and yields."""
        stack: list[ast.AST] = [root]
        while stack:
            node = stack.pop()
            kind = type(node)
            if kind is ast.Attribute:
                assert isinstance(node, ast.Attribute)
                self.attribute(node, cls, self_name)
                stack.append(node.value)
                continue
            if kind is ast.Assign or kind is ast.AnnAssign:
                assert isinstance(node, (ast.Assign, ast.AnnAssign))
                self.framework_state(node, func)
            if kind in (ast.Assign, ast.AnnAssign, ast.AugAssign) and cls is not None and self_name is not None:
                self.self_stores(node, cls, self_name, func)
            elif kind is ast.Call:
                assert isinstance(node, ast.Call)
                self.call(node, cls, func, self_name)
            elif kind is ast.Return:
                assert isinstance(node, ast.Return)
                if func is not None and node.value is not None:
                    func.returned.append(value_expr(node.value))
                    func.returns_value = True
                    if not isinstance(node.value, (ast.Constant, *LITERAL_NODES)):
                        func.returns_nonliteral = True
            elif kind is ast.Yield or kind is ast.YieldFrom:
                if func is not None:
                    func.func.is_generator = True
            elif kind in _FUNC_NODES:
                assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                owner = func.func.qualname if func is not None else "?"
                # closures may store on the enclosing method's self
                closure = (cls, self_name) if cls is not None and self_name is not None else None
                inner = self.function(node, f"{owner}.<locals>.{node.name}", cls=None, closure=closure)
                if func is None:
                    self.summary.functions.pop(inner.qualname, None)
                continue
            elif kind is ast.ClassDef:
                assert isinstance(node, ast.ClassDef)
                owner = func.func.qualname if func is not None else "?"
                self.klass(node, f"{owner}.<locals>.{node.name}")
                continue
            elif kind is ast.Lambda:
                assert isinstance(node, ast.Lambda)
                stack.append(node.body)
                stack.extend(node.args.defaults)
                continue
            elif kind is ast.Import or kind is ast.ImportFrom:
                assert isinstance(node, (ast.Import, ast.ImportFrom))
                self.record_import(node)
                if func is not None:
                    func.imports(node)
                continue
            elif kind is ast.Global:
                assert isinstance(node, ast.Global)
                if func is None:
                    for name in node.names:
                        self.bind(name, ("unknown", node.lineno))
                else:
                    func.global_names.update(node.names)  # its stores bind the module's name
                continue
            elif kind is ast.Name:
                assert isinstance(node, ast.Name)
                if func is not None and not isinstance(node.ctx, ast.Load):
                    func.bound.add(node.id)
                    if node.id in func.global_names and id(node) not in func.global_assigned:
                        self.bind(node.id, ("unknown", node.lineno))  # augmented, a loop target, del...
                continue
            elif kind is ast.Subscript:
                assert isinstance(node, ast.Subscript)
                if not isinstance(node.ctx, ast.Load) and (
                    (dotted(node.value) == "sys.modules" and dotted(node.slice) == "__name__")
                    or _calls_name(node.value, ("globals", "vars"))
                ):
                    # sys.modules[__name__] = ..., globals()[name] = ...: the module's names are dynamic
                    self.summary.dynamic_globals = True
            stack.extend(children(node))

    def attribute(self, node: ast.Attribute, cls: ClassInfo | None, self_name: str | None) -> None:
        """A store onto another object, ``self.__dict__``, ``globals().update``."""
        attr_stores = self.attr_stores
        if not isinstance(node.ctx, ast.Load):
            value = node.value
            if cls is not None and isinstance(value, ast.Name) and value.id == self_name:
                pass  # handled by the statement that stores
            elif not _is_mock(value):
                attr_stores.add(node.attr)
        elif (
            node.attr == "__dict__"
            and cls is not None
            and isinstance(node.value, ast.Name)
            and node.value.id == self_name
        ):
            cls.dynamic = cls.dynamic or "__dict__"
        elif node.attr in _MUTATORS and _calls_name(node.value, ("globals", "vars")):
            self.summary.dynamic_globals = True  # globals().update(...)

    def call(self, node: ast.Call, cls: ClassInfo | None, func: _FuncState | None, self_name: str | None) -> None:
        """``setattr``/``delattr``/``__setattr__`` (stores, or a dynamic class), ``vars(self)``, ``exec``."""
        attr_stores = self.attr_stores
        callee = node.func
        if isinstance(callee, ast.Name):
            if callee.id in ("setattr", "delattr") and node.args:
                name = _const_str(node.args[1]) if len(node.args) > 1 else None
                first = node.args[0]
                if name is not None:
                    if not _is_mock(first):
                        attr_stores.add(name)
                    if cls is not None and isinstance(first, ast.Name) and first.id == self_name:
                        cls.attrs.setdefault(name, Member("attr", node.lineno))
                elif cls is not None and isinstance(first, ast.Name) and first.id in (self_name, "cls", cls.name):
                    cls.dynamic = cls.dynamic or "setattr"
            elif callee.id == "vars" and cls is not None and node.args:
                first = node.args[0]
                if isinstance(first, ast.Name) and first.id == self_name:
                    cls.dynamic = cls.dynamic or "vars()"
            elif callee.id == "exec" and func is None:
                self.summary.dynamic_globals = True
        elif isinstance(callee, ast.Attribute) and callee.attr in ("setattr", "delattr") and len(node.args) >= 2:
            name = _const_str(node.args[1])
            if name is not None and not _is_mock(node.args[0]):
                attr_stores.add(name)
        elif isinstance(callee, ast.Attribute) and callee.attr == "__setattr__" and len(node.args) >= 3:
            name = _const_str(node.args[1])
            first = node.args[0]
            if name is not None:
                attr_stores.add(name)
                if cls is not None and isinstance(first, ast.Name) and first.id == self_name:
                    cls.attrs.setdefault(name, Member("attr", node.lineno))
            elif cls is not None:
                cls.dynamic = cls.dynamic or "__setattr__"

    def framework_state(self, node: ast.Assign | ast.AnnAssign, func: _FuncState | None) -> None:
        """Record ``app.state.name = value`` (and the locals a function assigns, to follow them)."""
        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
        if node.value is None:
            return
        value = value_expr(node.value)
        for target in targets:
            if isinstance(target, ast.Name) and func is not None and target.id in func.global_names:
                # ``global manager; manager = Manager()``: a binding of the module's name
                if len(targets) == 1 and isinstance(node, ast.Assign):
                    func.global_assigned.add(id(target))
                    self.bind(target.id, ("value", func.resolve(value), node.lineno))
            elif isinstance(target, ast.Name) and func is not None:
                func.local(target.id, value if len(targets) == 1 else None)
            elif isinstance(target, ast.Attribute) and is_app_state(target.value):
                store = (target.attr, value if len(targets) == 1 else None, node.lineno)
                if func is not None:
                    func.state_stores.append(store)
                else:
                    self.state_stores.append(store)

    def self_stores(self, node: ast.AST, cls: ClassInfo, self_name: str, func: _FuncState | None) -> None:
        value: ast.expr | None
        ann: ast.expr | None
        if isinstance(node, ast.Assign):
            targets = node.targets
            value = node.value
            ann = None
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
            value = node.value
            ann = node.annotation
        else:
            assert isinstance(node, ast.AugAssign)
            targets = [node.target]
            value = None
            ann = None
        for target in targets:
            for attr in _self_targets(target, self_name):
                expr: Expr | None
                if ann is not None:
                    expr = annotation_expr(ann)
                elif value is not None and len(targets) == 1 and isinstance(target, ast.Attribute):
                    expr = value_expr(value)
                    if expr is not None and expr[0] == "ref" and func is not None and expr[1] in func.annotated:
                        expr = func.annotated[expr[1]]
                    elif expr is not None and expr[0] == "ref" and "." not in expr[1]:
                        # a local variable or parameter: the index cannot see it
                        expr = None
                else:
                    expr = None
                existing = cls.attrs.get(attr)
                if existing is None and isinstance(node, ast.AugAssign):
                    continue  # ``self.x += 1`` reads self.x first: it defines nothing
                if existing is None:
                    cls.attrs[attr] = Member("attr", node.lineno, value=expr)
                else:
                    existing.count += 1
                    if ann is not None:
                        existing.value = expr
                    elif (
                        existing.value != expr
                        and existing.value is not None
                        and existing.value[0] not in ANNOTATION_KINDS
                    ):
                        existing.value = None
                    elif existing.value is None and existing.count > 1:
                        pass


class _FuncState:
    __slots__ = (
        "annotated",
        "bound",
        "func",
        "global_assigned",
        "global_names",
        "imported",
        "local_values",
        "params",
        "returned",
        "returns_nonliteral",
        "returns_value",
        "state_stores",
    )

    def __init__(self, func: Func, annotated: dict[str, Expr | None]) -> None:
        self.func = func
        self.annotated = {name: expr for name, expr in annotated.items() if expr is not None}
        self.returns_value = False
        self.returns_nonliteral = False
        self.local_values: dict[str, Expr | None] = {}
        """Locals assigned in the body: their one symbolic value, or None when bound otherwise or twice."""
        self.state_stores: list[tuple[str, Expr | None, int]] = []
        self.returned: list[Expr | None] = []
        self.bound: set[str] = {*func.positional, *func.kwonly, *filter(None, (func.vararg, func.kwarg))}
        """Every name bound locally (parameters, assignment, loop and with targets...)."""
        self.params = frozenset(name for name in (*func.positional, *func.kwonly) if name not in annotated)
        """The parameters without an annotation."""
        self.imported: dict[str, str | None] = {}
        """Names the body imports itself, as ``module:name`` (None: imported twice, or also assigned)."""
        self.global_names: set[str] = set()
        self.global_assigned: set[int] = set()
        """The ``Name`` targets of ``global`` names assigned plainly (``name = value``), by id."""

    def imports(self, node: ast.Import | ast.ImportFrom) -> None:
        """Remember what a function-level import binds, so values built from it can be resolved."""
        for alias in node.names:
            if isinstance(node, ast.ImportFrom):
                if alias.name == "*":
                    continue
                bound = alias.asname or alias.name
                target = f"{'.' * node.level}{node.module or ''}:{alias.name}"
            elif alias.asname:
                bound, target = alias.asname, f"{alias.name}:"
            else:
                bound = alias.name.partition(".")[0]
                target = f"{bound}:"
            self.imported[bound] = None if bound in self.imported else target

    def local(self, name: str, value: Expr | None) -> None:
        if name in self.local_values or name in self.annotated:
            self.local_values[name] = None
        else:
            self.local_values[name] = value

    def resolve(self, expr: Expr | None) -> Expr | None:
        """A value as the index can evaluate it in the module's scope.

        Locals are replaced by what they were assigned, names the function imported
        itself by their ``module:name`` form, and an unannotated parameter becomes
        ``("param", name)``: unknown, but known to be only passed through.
        """
        for _ in range(4):  # a local assigned from a local assigned from an import...
            if expr is None:
                return None
            kind, name = expr
            first, dot, rest = name.partition(".")
            if first in self.imported and ":" not in name:
                target = self.imported[first]
                if target is None or first in self.local_values or first in self.annotated:
                    return None
                return (kind, f"{target}{'.' if rest and not target.endswith(':') else ''}{rest}")
            if kind != "ref" or dot:
                return expr
            if name in self.annotated:
                expr = self.annotated[name]
            elif name in self.local_values:
                expr = self.local_values[name]
            elif name in self.params and name in self.bound:
                return ("param", name)
            elif name in self.bound:
                return None  # a loop variable, a with target: not known here
            else:
                return expr  # a global of the module
        return None


def _all_args(args: ast.arguments) -> list[ast.arg]:
    result = [*args.posonlyargs, *args.args, *args.kwonlyargs]
    if args.vararg:
        result.append(args.vararg)
    if args.kwarg:
        result.append(args.kwarg)
    return result


def _dataclass_without_init(decorator: ast.expr) -> bool:
    """``@dataclass(init=False)``."""
    return (
        isinstance(decorator, ast.Call)
        and last_part(dotted(decorator.func) or "") == "dataclass"
        and any(
            k.arg == "init" and isinstance(k.value, ast.Constant) and k.value.value is False for k in decorator.keywords
        )
    )


def _self_targets(target: ast.AST, self_name: str) -> list[str]:
    if isinstance(target, ast.Attribute):
        if isinstance(target.value, ast.Name) and target.value.id == self_name:
            return [target.attr]
        return []
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _self_targets(element, self_name)]
    if isinstance(target, ast.Starred):
        return _self_targets(target.value, self_name)
    return []


def _target_names(target: ast.AST) -> list[str]:
    if isinstance(target, ast.Name):
        return [target.id]
    if isinstance(target, (ast.Tuple, ast.List)):
        return [name for element in target.elts for name in _target_names(element)]
    if isinstance(target, ast.Starred):
        return _target_names(target.value)
    return []


def _headers(stmt: ast.stmt) -> list[ast.AST]:
    if isinstance(stmt, (ast.If, ast.While)):
        return [stmt.test]
    if isinstance(stmt, (ast.For, ast.AsyncFor)):
        return [stmt.iter]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [item.context_expr for item in stmt.items]
    return []


def _blocks(stmt: ast.stmt) -> list[list[ast.stmt]]:
    if isinstance(stmt, (ast.Try, ast.TryStar)):
        return [stmt.body, *(h.body for h in stmt.handlers), stmt.orelse, stmt.finalbody]
    if isinstance(stmt, (ast.If, ast.For, ast.AsyncFor, ast.While)):
        return [stmt.body, stmt.orelse]
    if isinstance(stmt, (ast.With, ast.AsyncWith)):
        return [stmt.body]
    return []


def _string_list(node: ast.AST) -> tuple[str, ...] | None:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        names = [_const_str(element) for element in node.elts]
        if all(name is not None for name in names):
            return tuple(name for name in names if name is not None)
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return (node.value,)
    return None


def _const_str(node: ast.AST) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _is_mock(node: ast.AST) -> bool:
    """A receiver named like a mock (``mock_registry``, ``self.fake.bridge``, ``MagicMock()``).

    A mock accepts any attribute, so storing one on it says nothing about the real class.
    """
    if isinstance(node, ast.Call):
        node = node.func
    name = dotted(node)
    if name is None:
        return False
    lowered = name.lower()
    return "mock" in lowered or "fake" in lowered or "stub" in lowered


def _calls_name(node: ast.AST, names: tuple[str, ...]) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in names


def summarize(tree: ast.Module) -> ModuleSummary:
    """Reduce a parsed module to its `ModuleSummary`."""
    walker = _Summarizer()
    walker.module_statements(tree.body)
    summary = walker.summary
    summary.attr_stores = tuple(sorted(walker.attr_stores))
    summary.imports = tuple(walker.imports)
    summary.star_imports = tuple(walker.stars)
    summary.state_stores = tuple(walker.state_stores)
    return summary
