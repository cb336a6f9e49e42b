"""WC305: ``from mod import name`` where ``mod`` is in the scanned tree and has no ``name``.

Checked anywhere, also inside functions (the lazy import that a rename left behind).
A name counts as present when the module binds it in any way (even conditionally),
when a submodule of that name exists, or when one of its star imports brings it (the
source's ``__all__``, else its public names).  Silent when the module (or a star
source) has a module-level ``__getattr__`` or writes to ``globals()``, or a star import
from outside the tree;
when the module is not in the tree; and inside a ``try`` whose ImportError handler does
not re-raise.  Inside ``if TYPE_CHECKING:`` the import never runs, but every annotation
naming it resolves to nothing for a type checker: it is reported with that consequence
(the scan itself types those annotations through the one class of that name below the
package, `Index._meant_class`).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from wiringcheck.findings import Finding
from wiringcheck.scan.engine import Rule, finding
from wiringcheck.scan.infer import FileContext
from wiringcheck.scan.rules._shared import caught, under_type_checking, under_version_check
from wiringcheck.suggest import suggest

rule = Rule("WC305", __name__)

MODULE_ATTRIBUTES = frozenset(
    {"__doc__", "__file__", "__name__", "__package__", "__spec__", "__loader__", "__path__", "__builtins__", "__dict__"}
)
"""Names every module has without binding them."""


@rule.register(ast.ImportFrom)
def import_from(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
    assert isinstance(node, ast.ImportFrom)
    index = ctx.index
    module = index.absolute(ctx.module, ctx.is_package, node.level, node.module or "")
    if not module:
        return
    info = index.module(module)
    if info is None:
        return
    if caught(parents, node, "import") or under_version_check(ctx, parents, node):
        return
    static_only = under_type_checking(parents)
    summary = info.summary
    for alias in node.names:
        name = alias.name
        if name == "*" or name in MODULE_ATTRIBUTES or index.defines(module, name) is not False:
            continue
        close = suggest(name, [n for n in summary.bindings if not n.startswith("__")])
        if static_only:
            consequence = (
                "the import under TYPE_CHECKING never runs, but every annotation naming "
                f"'{alias.asname or name}' names nothing, so type checkers see no call made through it"
            )
        else:
            consequence = "the import raises ImportError"
        message = f"module {module} ({info.relpath}) has no name '{name}': {consequence}"
        if close:
            message += f"; did you mean '{close}'?"
        yield finding(
            ctx,
            rule.code,
            alias,
            message,
            subject=f"{module}.{name}",
            hint=f"import '{close}' instead" if close else f"define '{name}' in {module}, or fix the import",
            evidence=(f"module {module} at {info.relpath}",),
            suggestion=close,
        )
