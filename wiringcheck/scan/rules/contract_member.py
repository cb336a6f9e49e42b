"""WC307: a contract member of a configured role is missing on the role's class.

For each role with ``class = "pkg.mod:Cls"`` and ``members = [...]`` in the
configuration, every member name must be defined by the class, its bases or the
attributes its methods assign.  Reported at the class statement.  Silent when the
class is not in the tree or cannot be fully known (dynamic, unresolvable base).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from wiringcheck.findings import Finding, Location
from wiringcheck.scan.engine import ProjectContext, Rule
from wiringcheck.scan.index import OBJECT_MEMBERS, ClassView, Index
from wiringcheck.suggest import suggest

rule = Rule("WC307", __name__)

_NAME = re.compile(r"\s*(?:async\s+)?([A-Za-z_]\w*)")


def member_name(text: str) -> str | None:
    """The member's name in a contract text such as ``async notify(run_id)``."""
    try:
        from wiringcheck.contract import parse_member

        return str(parse_member(text).name)
    except Exception:  # no contract module, or a bad text (the configuration reports that)
        pass
    match = _NAME.match(text)
    return match.group(1) if match else None


def callable_names_of(index: Index, view: ClassView) -> set[str]:
    names: set[str] = set()
    for cls in view.chain:
        info = index.class_info(cls)
        if info is not None:
            names.update(n for n, m in info.members.items() if m.kind == "function")
    return names


@rule.project
def check(project: ProjectContext) -> Iterator[Finding]:
    index = project.index
    for name, role in project.roles.items():
        cls = index.resolve_class_ref(role.class_ref)
        if cls is None or not role.members:
            continue
        view = index.view(cls)
        if view.doubt or not view.complete:
            continue
        info = index.class_info(cls)
        module = index.module(cls.module)
        if info is None or module is None:
            continue
        candidates = [n for n in view.names if n not in OBJECT_MEMBERS]
        methods = [n for n in callable_names_of(index, view) if n in candidates]
        for text in role.members:
            member = member_name(text)
            if member is None or member in view.names:
                continue
            close = (suggest(member, methods) if "(" in text else None) or suggest(member, candidates)
            message = (
                f"role '{name}' is {cls.qualname} ({role.class_ref}), which defines no '{member}' "
                f"required by the contract member {text!r}"
            )
            if close:
                message += f"; did you mean '{close}'?"
            yield Finding(
                code=rule.code,
                message=message,
                location=Location(module.relpath, info.line, info.col + 1),
                hint=f"rename '{close}' to '{member}', or update the contract"
                if close
                else f"define '{member}' on {cls.qualname}",
                subject=f"{name}.{member}",
                evidence=(f"class {index.describe(cls)}",),
                data={"role": name, "member": member, "suggestion": close},
            )
