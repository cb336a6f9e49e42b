"""The package's drawing stays true: layers import only downward, no module cycle, no stray finding code.

docs/architecture.md draws the layers; this test reads every import of every module
(lazy imports inside functions included, since a cycle through a lazy import is still
a cycle) and checks them against that drawing, the way test_purity.py keeps the core
free of I/O.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

import pytest

from wiringcheck.codes import CODES

PACKAGE = Path(__file__).resolve().parent.parent / "wiringcheck"

LAYERS = (
    # 0: the pure core, no I/O
    {
        "codes",
        "errors",
        "findings",
        "suggest",
        "secrets",
        "boundedjson",
        "report",
        "events",
        "contract",
        "wires",
        "config",
        "config_schema",
        "protocol",
        "learn",
        "identifiers",
        "thresholds",
        "run",
    },
    # 1: thin I/O edges
    {
        "importing",
        "diagnose",
        "capture",
        "tracer",
        "targets",
        "run.transports",
        "run.drive",
        "run.inprocess",
        "probethread",
        "isolation",
        "lifecycle",
        "containment",
        "watchdog",
        "supervisor",
        "docs",
        "render",
        "scan",
    },
    # 2: the one runner, and the booted backend the fixtures, inspect and init share
    {"runner", "backend", "live"},
    # 3: commands
    {"commands", "load"},
    # 4: entry points
    {"cli", "pytest_plugin", "__main__", "__init__", "locust", "gevent_compat"},
)
"""Each top-level module or subpackage of wiringcheck, by layer; a module imports only its layer or below.

A dotted name places part of a subpackage apart from the rest (``run`` is the pure core, its
transports and drivers are edges): a module's place is the longest name that contains it.
"""

_LAYER_OF = {name: index for index, names in enumerate(LAYERS) for name in names}


@functools.cache
def _modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts).removesuffix(".__init__"): path
        for path in PACKAGE.rglob("*.py")
    }


_ImportNode = ast.Import | ast.ImportFrom


@functools.cache
def _import_nodes(path: Path) -> tuple[tuple[_ImportNode, ...], tuple[_ImportNode, ...]]:
    """The module's import statements, anywhere in its body, and those outside `if TYPE_CHECKING:` blocks.

    Parsed and walked once per module, for every import the tests check in it.
    """
    every: list[_ImportNode] = []
    typing_blocks: list[ast.If] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, _ImportNode):
            every.append(node)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_blocks.append(node)
    guarded = {id(child) for block in typing_blocks for child in ast.walk(block)}
    return tuple(every), tuple(node for node in every if id(node) not in guarded)


@functools.cache
def _imports(module: str, path: Path) -> frozenset[str]:
    """Every wiringcheck module `module` imports, anywhere in its body."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in _import_nodes(path)[0]:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("wiringcheck"))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            if not base.startswith("wiringcheck"):
                continue
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    modules = _modules()
    # The package itself only re-exports lazily (wiringcheck/__init__.py): importing it costs nothing.
    return frozenset(name for name in found if name in modules and name not in (module, "wiringcheck"))


def _top(module: str) -> str:
    """The module's place in the drawing: the longest name of `LAYERS` that contains it."""
    parts = module.split(".")[1:] or ["__init__"]
    for size in range(len(parts), 0, -1):
        name = ".".join(parts[:size])
        if name in _LAYER_OF:
            return name
    return parts[0]


def _is_type_only(module: str, path: Path, imported: str) -> bool:
    """Whether every import of `imported` in `module` sits under `if TYPE_CHECKING:`."""
    return imported not in _run_time_imports(path)


@functools.cache
def _run_time_imports(path: Path) -> frozenset[str]:
    """Every name the module imports outside `if TYPE_CHECKING:` blocks, as written (module, module.name)."""
    names: set[str] = set()
    for node in _import_nodes(path)[1]:
        names |= {node.module or ""} if isinstance(node, ast.ImportFrom) else {a.name for a in node.names}
        if isinstance(node, ast.ImportFrom):
            names |= {f"{node.module}.{a.name}" for a in node.names}
    return frozenset(names)


def test_every_module_has_a_layer():
    """A new module is placed in the drawing (here and in docs/architecture.md) before it is used."""
    unplaced = sorted({_top(module) for module in _modules()} - set(_LAYER_OF))

    assert [] == unplaced


def test_no_module_imports_a_layer_above_its_own():
    """The core never imports an edge, an edge never the runner, the runner never a command or the CLI."""
    upward = []
    modules = _modules()
    for module, path in modules.items():
        layer = _LAYER_OF.get(_top(module))
        for imported in _imports(module, path):
            if _top(imported) == _top(module) or _is_type_only(module, path, imported):
                continue
            if layer is not None and _LAYER_OF.get(_top(imported), 0) > layer:
                upward.append(f"{module} -> {imported}")

    assert [] == sorted(upward)


def _cycles(graph: dict[str, set[str]]) -> list[str]:
    # A package importing its own submodules (re-exports) is not a cycle of design.
    for module in graph:
        graph[module] = {m for m in graph[module] if not m.startswith(module + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}

    def visit(node: str, stack: list[str]) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt) :], nxt])
            elif nxt not in state:
                visit(nxt, stack)
        stack.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module, [])
    return [" -> ".join(cycle) for cycle in cycles]


def test_no_type_only_import_cycle_inside_the_core():
    """Inside the pure core, no two modules import each other even for type checking: data lives below its rules."""
    modules = {module: path for module, path in _modules().items() if _LAYER_OF.get(_top(module)) == 0}
    graph = {module: {m for m in _imports(module, path) if m in modules} for module, path in modules.items()}

    assert [] == _cycles(graph)


def test_no_import_cycle_between_modules():
    """No module reaches itself through the imports of others (type-only imports excepted)."""
    modules = _modules()
    graph = {
        module: {imported for imported in _imports(module, path) if not _is_type_only(module, path, imported)}
        for module, path in modules.items()
    }

    assert [] == _cycles(graph)


_CODE = re.compile(r"""["'](WC\d{3})["']""")


@pytest.mark.parametrize("path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_every_code_literal_is_in_the_catalog(path):
    """A finding code written in the source exists in wiringcheck.codes (no silent fallback for a typo)."""
    unknown = sorted(set(_CODE.findall(path.read_text(encoding="utf-8"))) - set(CODES))

    assert [] == unknown
