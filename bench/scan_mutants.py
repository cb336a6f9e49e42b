"""Recall of `wiringcheck scan`: break real, well-tested code the ways wiring breaks, count what is caught.

From the corpus of `scan_corpus.py` this generates mutants of four kinds:

- ``rename_method``: rename a method's definition, not its callers (expect WC301 at a caller);
- ``make_async``: make a plain method or function ``async`` (expect WC304 at a caller that
  drops or misuses the result: an expression statement, a truth test...);
- ``add_required_param``: add a required keyword-only parameter (expect WC302 at a caller);
- ``rename_imported_function``: rename a function another module imports by name (expect
  WC305 at the ``from ... import``).

Only mutants whose call sites have a receiver the scan's inference resolves (in the
unmutated code) are generated.  The second column of the table keeps those whose class
is also fully known: no base outside the project, nothing dynamic, no subclass that
redefines the method.  On the others the scan is meant to stay silent (the object may
be a subclass instance, or get the member from a base it cannot read), which is the
price of its precision.
Each mutant is written into the corpus copy, the files of its call sites are scanned
(with the project index and the cache, as a pre-commit hook would), and the file is
restored.  The sample is seeded, so figures are reproducible.

    python bench/scan_mutants.py --per-kind 60 --seed 0
"""

from __future__ import annotations

import argparse
import ast
import gc
import io
import random
import re
import sys
import tempfile
import time
import tokenize
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from scan_corpus import PACKAGES, make_corpus

from wiringcheck.findings import Finding
from wiringcheck.scan import scan_paths
from wiringcheck.scan.engine import Rule, visit
from wiringcheck.scan.facts import ProjectFacts
from wiringcheck.scan.index import BoundMethod, ClassEnt, FuncEnt, Index, ModuleInfo
from wiringcheck.scan.infer import FileContext
from wiringcheck.scan.project import (
    Setup,
    build_index,
    module_name,
    parse_file,
    python_files,
    search_paths,
    summary_of,
)
from wiringcheck.scan.rules._shared import caught, under_type_checking
from wiringcheck.scan.rules.unawaited_coroutine import misuse
from wiringcheck.scan.summary import Func

SUFFIX = "_wcmut"


@dataclass(frozen=True, slots=True)
class Site:
    relpath: str
    line: int
    misuse: bool
    splat: bool


@dataclass(slots=True)
class Target:
    """A function or method definition and the inferable call sites that reach it."""

    kind: str  # "method" or "function"
    module: str
    relpath: str
    func: Func
    sites: list[Site] = field(default_factory=list)


@dataclass(slots=True)
class Mutant:
    kind: str
    relpath: str
    line: int
    name: str
    expected: str
    sites: list[Site]
    edit: str
    doubt: str = ""
    """Why the scan is meant to stay silent on this mutant (the receiver's class is not fully known)."""


def build(root: Path) -> tuple[Index, dict[str, ModuleInfo], dict[str, FileContext]]:
    bases = search_paths(root)
    modules: dict[str, ModuleInfo] = {}
    contexts: dict[str, FileContext] = {}
    parsed = {}
    for file in python_files(root):
        rel = file.relative_to(root).as_posix()
        result = parse_file(file, rel)
        summary, _ = summary_of(result)
        name, is_package = module_name(file, bases)
        modules[name] = ModuleInfo(name, str(file), rel, is_package, summary)
        parsed[name] = result
    index = build_index(dict(modules), Setup((), tuple(map(str, bases)), str(root)))
    for name, result in parsed.items():
        if result.tree is not None:
            info = modules[name]
            contexts[name] = FileContext(
                module=name,
                relpath=info.relpath,
                is_package=info.is_package,
                tree=result.tree,
                source=result.source,
                index=index,
            )
    return index, modules, contexts


def collect_targets(index: Index, contexts: dict[str, FileContext]) -> dict[tuple[str, str], Target]:
    targets: dict[tuple[str, str], Target] = {}
    collector = Rule("SITE", "collector")

    @collector.register(ast.Call)
    def _site(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
        assert isinstance(node, ast.Call)
        scope = ctx.scope_for(parents, node)
        entity = ctx.infer(node.func, scope)
        func: Func | None = None
        module = ""
        kind = ""
        if isinstance(entity, BoundMethod):
            member = index.find_member(entity.owner, entity.name)
            if member is not None and member.kind == "function" and member.func is not None and member.count == 1:
                func, module, kind = member.func, entity.owner.module, "method"
        elif isinstance(entity, FuncEnt):
            func, module, kind = index.func_of(entity.module, entity.qualname), entity.module, "function"
        if func is None:
            return
        info = index.module(module)
        if info is None or not info.path.endswith(".py"):
            return
        key = (module, func.qualname)
        target = targets.get(key)
        if target is None:
            target = targets[key] = Target(kind, module, info.relpath, func)
        splat = any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)
        target.sites.append(Site(ctx.relpath, node.lineno, misuse(node, parents) is not None, splat))
        yield from ()

    for ctx in contexts.values():
        visit(ctx, [collector])
    return targets


def import_sites(index: Index, contexts: dict[str, FileContext]) -> dict[tuple[str, str], list[Site]]:
    sites: dict[tuple[str, str], list[Site]] = defaultdict(list)
    importer = Rule("IMPORT", "importer")

    @importer.register(ast.ImportFrom)
    def _import(ctx: FileContext, node: ast.AST, parents: tuple[ast.AST, ...]) -> Iterator[Finding]:
        assert isinstance(node, ast.ImportFrom)
        module = index.absolute(ctx.module, ctx.is_package, node.level, node.module or "")
        info = index.module(module)
        if info is None or module == ctx.module or caught(parents, node, "import") or under_type_checking(parents):
            return
        for alias in node.names:
            bindings = info.summary.bindings.get(alias.name, [])
            if len(bindings) == 1 and bindings[0][0] == "func":
                sites[(module, alias.name)].append(Site(ctx.relpath, alias.lineno, False, False))
        yield from ()

    for ctx in contexts.values():
        visit(ctx, [importer])
    return sites


def _plain(func: Func) -> bool:
    return not func.decorators and not func.is_async and not func.is_generator


def mutants(
    index: Index, modules: dict[str, ModuleInfo], contexts: dict[str, FileContext], per_kind: int, seed: int
) -> list[Mutant]:
    targets = collect_targets(index, contexts)
    facts = ProjectFacts(index)
    rng = random.Random(seed)
    found: dict[str, list[Mutant]] = defaultdict(list)
    for target in targets.values():
        func = target.func
        dunder = func.name.startswith("__") and func.name.endswith("__")
        doubt = ""
        view_doubt = ""
        if target.kind == "method":
            owner = ClassEnt(target.module, func.qualname.rpartition(".")[0])
            view = index.view(owner)
            overrides = facts.overrides(owner, func.name)
            if not view.complete:
                view_doubt = "a base of the class is outside the project"
            elif view.doubt:
                view_doubt = view.doubt
            if overrides is None or overrides:
                doubt = "a subclass redefines the method"
        inherited = target.kind == "method" and any(
            func.name in (index.class_info(base).members if index.class_info(base) else {})
            for base in index.view(ClassEnt(target.module, func.qualname.rpartition(".")[0])).chain[1:]
        )
        if facts.stored_anywhere(func.name):
            view_doubt = view_doubt or "the name is assigned on objects elsewhere"
        if target.kind == "method" and not dunder and not inherited:  # a base's definition would still answer
            found["rename_method"].append(
                Mutant(
                    "rename_method",
                    target.relpath,
                    func.line,
                    func.qualname,
                    "WC301",
                    target.sites,
                    "rename",
                    view_doubt or doubt,
                )
            )
        misused = [s for s in target.sites if s.misuse]
        if misused and _plain(func) and not dunder:
            found["make_async"].append(
                Mutant("make_async", target.relpath, func.line, func.qualname, "WC304", misused, "async", doubt)
            )
        plain_sites = [s for s in target.sites if not s.splat]
        if plain_sites and not dunder and not func.decorators:
            found["add_required_param"].append(
                Mutant(
                    "add_required_param", target.relpath, func.line, func.qualname, "WC302", plain_sites, "param", doubt
                )
            )
    for (module, name), sites in import_sites(index, contexts).items():
        info = modules.get(module)
        func = info.summary.functions.get(name) if info is not None else None
        if info is None or func is None:
            continue
        found["rename_imported_function"].append(
            Mutant("rename_imported_function", info.relpath, func.line, f"{module}.{name}", "WC305", sites, "rename")
        )
    chosen: list[Mutant] = []
    for kind in ("rename_method", "make_async", "add_required_param", "rename_imported_function"):
        pool = sorted(found[kind], key=lambda m: (m.relpath, m.line))
        rng.shuffle(pool)
        chosen.extend(pool[:per_kind])
    return chosen


def _header_range(source: str, line: int) -> tuple[int, int, bool, int | None] | None:
    """Offsets of the parameter list's parentheses of the def at `line`, whether it has a
    star, and the offset of a top-level ``**``."""
    lines = source.splitlines(keepends=True)
    starts = [0]
    for text in lines:
        starts.append(starts[-1] + len(text))
    tokens = tokenize.generate_tokens(io.StringIO("".join(lines[line - 1 :])).readline)
    depth = 0
    opening = None
    star = False
    double = None
    previous = None
    try:
        for token in tokens:
            offset = starts[line - 1 + token.start[0] - 1] + token.start[1]
            if token.type == tokenize.OP and token.string == "(":
                depth += 1
                if depth == 1 and opening is None:
                    opening = offset
            elif token.type == tokenize.OP and token.string == ")":
                depth -= 1
                if depth == 0 and opening is not None:
                    return opening, offset, star, double
            elif depth == 1 and token.type == tokenize.OP and token.string == "*" and previous in ("(", ","):
                star = True
            elif depth == 1 and token.type == tokenize.OP and token.string == "**" and previous in ("(", ","):
                double = offset
            if token.type == tokenize.OP or token.type not in (tokenize.NL, tokenize.COMMENT, tokenize.NEWLINE):
                previous = token.string
    except tokenize.TokenError:
        return None
    return None


def apply(source: str, mutant: Mutant) -> str | None:
    lines = source.splitlines(keepends=True)
    name = mutant.name.rpartition(".")[2]
    text = lines[mutant.line - 1]
    if mutant.edit == "rename":
        new, n = re.subn(rf"\bdef\s+{re.escape(name)}\b", f"def {name}{SUFFIX}", text, count=1)
    elif mutant.edit == "async":
        new, n = re.subn(rf"(?<!async )\bdef\s+{re.escape(name)}\b", f"async def {name}", text, count=1)
    else:
        header = _header_range(source, mutant.line)
        if header is None:
            return None
        opening, closing, star, double = header
        inner = source[opening + 1 : closing]
        if double is not None:
            insert = ("" if star else "*, ") + "wc_mutant, "
            return source[:double] + insert + source[double:]
        stripped = inner.rstrip()
        if not stripped.strip():
            addition = "*, wc_mutant"
        else:
            addition = ("" if stripped.endswith(",") else ", ") + ("" if star else "*, ") + "wc_mutant"
        cut = opening + 1 + len(stripped)
        return source[:cut] + addition + source[cut:]
    if n != 1:
        return None
    lines[mutant.line - 1] = new
    return "".join(lines)


def _share(hit: int, total: int) -> str:
    return f"{hit}/{total} {100 * hit / total:.0f}%" if total else "-"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-kind", type=int, default=60, help="mutants sampled per kind")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--corpus", type=Path, default=None, help="reuse this corpus folder")
    parser.add_argument("--show-misses", type=int, default=5)
    args = parser.parse_args(argv)
    gc.disable()  # every tree of the corpus stays alive: the collector's passes would triple the time

    workdir = Path(tempfile.mkdtemp(prefix="wiringcheck-mutants-"))
    root = args.corpus or make_corpus(workdir / "corpus", PACKAGES)
    started = time.perf_counter()
    index, modules, contexts = build(root)
    chosen = mutants(index, modules, contexts, args.per_kind, args.seed)
    elapsed = time.perf_counter() - started
    print(f"corpus {root}: {len(modules)} modules; {len(chosen)} mutants ({elapsed:.1f}s to generate)")
    scan_paths([root], root=root)  # warm the cache once

    results: dict[str, list[tuple[bool, str]]] = defaultdict(list)
    misses: dict[str, list[str]] = defaultdict(list)
    for mutant in chosen:
        path = root / mutant.relpath
        original = path.read_text(encoding="utf-8")
        mutated = apply(original, mutant)
        if mutated is None or mutated == original:
            continue
        try:
            compile(mutated, str(path), "exec", flags=ast.PyCF_ONLY_AST, dont_inherit=True)
        except SyntaxError:
            continue
        path.write_text(mutated, encoding="utf-8")
        try:
            files = sorted({root / site.relpath for site in mutant.sites})
            report = scan_paths(files, root=root, jobs=1)
        finally:
            path.write_text(original, encoding="utf-8")
        wanted = {(site.relpath, site.line) for site in mutant.sites}
        hit = any(
            f.code == mutant.expected and f.location is not None and (f.location.path, f.location.line) in wanted
            for f in report.findings
        )
        results[mutant.kind].append((hit, mutant.doubt))
        if not hit:
            site = mutant.sites[0]
            why = f" [{mutant.doubt}]" if mutant.doubt else ""
            misses[mutant.kind].append(
                f"{mutant.name} ({mutant.relpath}:{mutant.line}) <- {site.relpath}:{site.line}{why}"
            )

    print(f"\n{'kind':26} {'all mutants':>16} {'class fully known':>20}")
    totals = [0, 0, 0, 0]
    for kind in ("rename_method", "make_async", "add_required_param", "rename_imported_function"):
        hits = results.get(kind, [])
        judged = [hit for hit, doubt in hits if not doubt]
        counts = (sum(hit for hit, _ in hits), len(hits), sum(judged), len(judged))
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
        print(f"{kind:26} {_share(counts[0], counts[1]):>16} {_share(counts[2], counts[3]):>20}")
    print(f"{'all':26} {_share(totals[0], totals[1]):>16} {_share(totals[2], totals[3]):>20}")
    reasons: dict[str, int] = defaultdict(int)
    for hits in results.values():
        for _hit, doubt in hits:
            if doubt:
                reasons[doubt] += 1
    for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
        print(f"  not fully known: {count} x {reason}")
    for kind, items in misses.items():
        for item in items[: args.show_misses]:
            print(f"  missed {kind}: {item}")
    print(f"\n{time.perf_counter() - started:.1f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
