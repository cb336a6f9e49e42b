"""The scan of a project: find the files, summarize them (cached), check the requested ones.

The index always covers the whole project (every ``.py`` file under the root, except
virtual environments, caches, build output and hidden directories), so scanning one
file still knows the classes defined elsewhere; only the requested files are checked
and reported.  Modules outside the root (``pythonpath`` entries) are loaded on demand.

With many files to parse and more than one core, the work is split into one shard per
worker process (`concurrent.futures.ProcessPoolExecutor`).  Each worker parses its
shard once, sends the summaries back, receives the merged index, and checks its shard
with the trees it kept: every file is parsed exactly once.
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import multiprocessing
import os
import pickle
import queue
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from wiringcheck.findings import CheckResult, Finding, Location, Severity, Status
from wiringcheck.report import Report
from wiringcheck.scan.cache import Cache, cache_directory
from wiringcheck.scan.engine import all_rules, apply_ignores, visit
from wiringcheck.scan.index import ClassEnt, Index, ModuleInfo
from wiringcheck.scan.infer import FileContext, RolePath
from wiringcheck.scan.model import ModuleSummary, summarize

__all__ = ["ScanError", "find_root", "scan_project"]

SKIP_DIRS = frozenset(
    {
        "__pycache__",
        "node_modules",
        "site-packages",
        "venv",
        "env",
        "build",
        "dist",
        ".wiringcheck_cache",
    }
)
PARALLEL_THRESHOLD = 48
"""Below this many files to parse, a worker pool costs more than it saves."""


class ScanError(Exception):
    """Bad input to the scan itself (a path that does not exist); the CLI exits 2."""


class RoleLike(Protocol):
    """What the scan needs of a configured role (`wiringcheck.config.RoleSpec` fits)."""

    @property
    def name(self) -> str: ...
    @property
    def path(self) -> str: ...
    @property
    def class_ref(self) -> str | None: ...
    @property
    def members(self) -> tuple[str, ...]: ...


# -- files and modules ---------------------------------------------------------------------------


def find_root(paths: Sequence[Path]) -> Path:
    """The project root: the nearest directory with a pyproject.toml, else the top of the package tree."""
    first = paths[0].resolve() if paths else Path.cwd().resolve()
    start = first if first.is_dir() else first.parent
    for folder in (start, *start.parents):
        if (folder / "pyproject.toml").is_file():
            return folder
    folder = start
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        folder = folder.parent
    return folder


def _skip_dir(name: str) -> bool:
    return name.startswith(".") or name in SKIP_DIRS or name.endswith(".egg-info")


def python_files(path: Path) -> list[Path]:
    """``path`` itself if it is a file, else every ``.py`` file below it (sorted)."""
    if path.is_file():
        return [path]
    found: list[Path] = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not _skip_dir(d))
        found.extend(Path(folder, name) for name in sorted(files) if name.endswith(".py"))
    return found


def search_paths(root: Path, extra: Iterable[Path] = ()) -> list[Path]:
    paths = []
    src = root / "src"
    if src.is_dir() and not (src / "__init__.py").exists():
        paths.append(src)
    paths.append(root)
    paths.extend(p.resolve() for p in extra)
    return paths


def module_name(path: Path, bases: Sequence[Path]) -> tuple[str, bool]:
    """The dotted module name of `path` relative to the first search path containing it."""
    for base in bases:
        try:
            relative = path.relative_to(base)
        except ValueError:
            continue
        parts = list(relative.with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        if is_package:
            parts.pop()
        return ".".join(parts), is_package
    # outside every search path: name it from the top of its package tree
    folder = path.parent
    parts = [] if path.stem == "__init__" else [path.stem]
    while (folder / "__init__.py").is_file() and folder.parent != folder:
        parts.insert(0, folder.name)
        folder = folder.parent
    return ".".join(parts), path.stem == "__init__"


def _relpath(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return Path(os.path.relpath(path, root)).as_posix()


# -- parsing -------------------------------------------------------------------------------------


@dataclass(slots=True)
class Parsed:
    """A file read and parsed, or the reason it could not be."""

    tree: ast.Module | None
    source: str
    error: Finding | None


def parse_file(path: Path, relpath: str, data: bytes | None = None) -> Parsed:
    """Read and parse one file; never raises on bad input (that becomes a WC300 finding)."""
    try:
        raw = data if data is not None else path.read_bytes()
    except OSError as exc:
        return Parsed(None, "", _skipped(relpath, None, None, f"cannot be read: {exc.strerror or exc}"))
    try:
        source = raw.decode("utf-8-sig") if not raw.startswith(b"#") or b"coding" not in raw[:200] else _decode(raw)
    except (UnicodeDecodeError, LookupError, SyntaxError) as exc:
        return Parsed(None, "", _skipped(relpath, None, None, f"is not valid UTF-8 text ({exc})"))
    try:
        tree = ast.parse(source, filename=relpath)
    except SyntaxError as exc:
        return Parsed(None, source, _skipped(relpath, exc.lineno, exc.offset, f"has a syntax error: {exc.msg}"))
    except (ValueError, RecursionError, MemoryError) as exc:
        return Parsed(None, source, _skipped(relpath, None, None, f"cannot be parsed: {exc}"))
    return Parsed(tree, source, None)


def _decode(raw: bytes) -> str:
    import io
    import tokenize

    encoding, _ = tokenize.detect_encoding(io.BytesIO(raw).readline)
    return raw.decode(encoding)


def _skipped(relpath: str, line: int | None, column: int | None, why: str) -> Finding:
    return Finding(
        code="WC300",
        message=f"{relpath} {why}; it was not scanned",
        location=Location(relpath, line, column),
        hint="fix the file, or exclude it from the scan",
        subject=relpath,
        severity=Severity.WARNING,
    )


_BROKEN = ModuleSummary(dynamic_globals=True)
"""The summary of a file that does not parse: nothing can be said about its names."""


def summary_of(parsed: Parsed) -> tuple[ModuleSummary, str]:
    """The file's summary and its digest; a file that cannot be summarized counts as broken."""
    try:
        summary = summarize(parsed.tree) if parsed.tree is not None else _BROKEN
    except Exception:  # RecursionError on absurd nesting, or a bug of ours: never stop the scan
        if os.environ.get("WIRINGCHECK_DEBUG"):
            raise
        summary = _BROKEN
    digest = hashlib.blake2b(pickle.dumps(summary, protocol=pickle.HIGHEST_PROTOCOL), digest_size=16).hexdigest()
    return summary, digest


# -- the index -----------------------------------------------------------------------------------


def make_loader(bases: Sequence[Path], root: Path) -> Any:
    """A loader for modules the project listing did not include (pythonpath, namespace dirs)."""

    def load(name: str) -> ModuleInfo | None:
        parts = name.split(".")
        for base in bases:
            folder = base.joinpath(*parts)
            for candidate, is_package in ((folder / "__init__.py", True), (folder.with_suffix(".py"), False)):
                if candidate.is_file():
                    relpath = _relpath(candidate, root)
                    parsed = parse_file(candidate, relpath)
                    summary, _ = summary_of(parsed)
                    return ModuleInfo(name, str(candidate), relpath, is_package, summary)
            if folder.is_dir() and all(p.isidentifier() for p in parts):
                return ModuleInfo(name, str(folder), _relpath(folder, root), True, ModuleSummary())
            if folder.parent.is_dir() and any(folder.parent.glob(f"{parts[-1]}.*.so")):
                return ModuleInfo(name, str(folder), _relpath(folder, root), False, ModuleSummary(dynamic_globals=True))
        return None

    return load


@dataclass(slots=True)
class Job:
    """One file of the project: where it is, its module, and what is to be done with it."""

    path: str
    relpath: str
    module: str
    is_package: bool
    summarize: bool
    check: bool = False


@dataclass(slots=True)
class Setup:
    """What a worker needs besides the index to check files."""

    roles: tuple[RolePath, ...]
    bases: tuple[str, ...]
    root: str


def check_tree(job: Job, parsed: Parsed, index: Index, setup: Setup) -> tuple[Finding, ...]:
    """Run every rule over one parsed file; the WC300 finding when it did not parse."""
    if parsed.tree is None:
        return (parsed.error,) if parsed.error is not None else ()
    ctx = FileContext(
        module=job.module,
        relpath=job.relpath,
        is_package=job.is_package,
        tree=parsed.tree,
        source=parsed.source,
        index=index,
        roles=setup.roles,
    )
    try:
        findings = visit(ctx, all_rules())
    except RecursionError:
        findings = [_skipped(job.relpath, None, None, "is nested too deeply to analyse")]
    except Exception as exc:  # a bug of ours must not stop the scan of the other files
        if os.environ.get("WIRINGCHECK_DEBUG"):
            raise
        why = f"could not be analysed ({type(exc).__name__}: {exc}); this is a bug in wiringcheck, please report it"
        findings = [_skipped(job.relpath, None, None, why)]
    return tuple(apply_ignores(findings, parsed.source))


def build_index(modules: dict[str, ModuleInfo], setup: Setup) -> Index:
    return Index(modules, make_loader([Path(b) for b in setup.bases], Path(setup.root)))


# -- workers -------------------------------------------------------------------------------------

_OUTBOX: Any = None
_INBOX: Any = None


def _worker_init(outbox: Any, inbox: Any) -> None:
    global _OUTBOX, _INBOX
    _OUTBOX, _INBOX = outbox, inbox


def _shard(shard_id: int, jobs: list[Job], setup: Setup) -> dict[str, tuple[Finding, ...]]:
    parsed: dict[str, Parsed] = {}
    summaries: dict[str, tuple[ModuleSummary, str, Finding | None]] = {}
    for job in jobs:
        result = parse_file(Path(job.path), job.relpath)
        parsed[job.relpath] = result
        if job.summarize:
            summary, digest = summary_of(result)
            summaries[job.relpath] = (summary, digest, result.error)
    _OUTBOX.put((shard_id, summaries))
    modules, to_check, roles = _INBOX.get()
    setup = Setup(roles, setup.bases, setup.root)
    index = build_index(modules, setup)
    results: dict[str, tuple[Finding, ...]] = {}
    for job in jobs:
        if job.relpath in to_check:
            results[job.relpath] = check_tree(job, parsed.pop(job.relpath), index, setup)
    return results


def _split(jobs: list[Job], sizes: Mapping[str, int], n: int) -> list[list[Job]]:
    shards: list[list[Job]] = [[] for _ in range(n)]
    loads = [0] * n
    for job in sorted(jobs, key=lambda j: -sizes.get(j.relpath, 0)):
        smallest = loads.index(min(loads))
        shards[smallest].append(job)
        loads[smallest] += sizes.get(job.relpath, 0) + 1
    return [shard for shard in shards if shard]


# -- the scan ------------------------------------------------------------------------------------


@dataclass(slots=True)
class Outcome:
    """Per-file findings of a scan, plus what it took."""

    root: Path
    files: list[str]
    findings: dict[str, tuple[Finding, ...]]
    skipped: set[str] = field(default_factory=set)
    lines: int = 0
    parsed: int = 0
    cached: int = 0
    checked: int = 0
    workers: int = 1


def scan_project(
    paths: Sequence[Path],
    *,
    root: Path | None = None,
    roles: Mapping[str, RoleLike] | None = None,
    must_call: Sequence[str] = (),
    startup_modules: Sequence[str] = (),
    pythonpath: Sequence[Path] = (),
    cache: bool = True,
    jobs: int | None = None,
) -> Outcome:
    """Scan `paths` against the project at `root`; see the module docstring."""
    resolved: list[Path] = []
    for path in paths:
        if not path.exists():
            raise ScanError(f"path does not exist: {path}")
        resolved.append(path.resolve())
    if not resolved:
        raise ScanError("nothing to scan: give at least one path")
    root = (root or find_root(resolved)).resolve()
    if not root.is_dir():
        raise ScanError(f"root is not a directory: {root}")
    bases = search_paths(root, pythonpath)

    targets: dict[str, Path] = {}
    for path in resolved:
        for file in python_files(path):
            targets[_relpath(file, root)] = file
    project: dict[str, Path] = {_relpath(file, root): file for file in python_files(root)}
    project.update(targets)

    store = Cache.open(cache_directory(root) if cache else None)
    manifest: dict[str, tuple[int, int, str, int]] = {}
    contents: dict[str, bytes] = {}
    for relpath, file in project.items():
        try:
            stat = file.stat()
        except OSError:
            continue
        previous = store.manifest.get(relpath)
        if previous is not None and previous[0] == stat.st_mtime_ns and previous[1] == stat.st_size:
            manifest[relpath] = previous
            continue
        try:
            data = file.read_bytes()
        except OSError:
            data = b""
        contents[relpath] = data
        sha = hashlib.blake2b(data, digest_size=16).hexdigest()
        manifest[relpath] = (stat.st_mtime_ns, stat.st_size, sha, data.count(b"\n"))

    modules_of: dict[str, tuple[str, bool]] = {rel: module_name(project[rel], bases) for rel in manifest}
    need_summary = [rel for rel in manifest if manifest[rel][2] not in store.summaries]

    role_map = dict(roles or {})
    config_key = repr(
        (
            sorted((n, r.path, r.class_ref, tuple(r.members)) for n, r in role_map.items()),
            tuple(must_call),
            tuple(startup_modules),
            [str(b) for b in bases],
        )
    )
    outcome = Outcome(root, sorted(targets), {})
    outcome.lines = sum(manifest[rel][3] for rel in targets if rel in manifest)

    new_summaries: dict[str, tuple[ModuleSummary, str, Finding | None]] = {}
    parsed_here: dict[str, Parsed] = {}
    workers = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    sizes = {rel: manifest[rel][1] for rel in manifest}

    def modules_and_digest() -> tuple[dict[str, ModuleInfo], str]:
        modules: dict[str, ModuleInfo] = {}
        digest = hashlib.blake2b(config_key.encode(), digest_size=16)
        for rel in sorted(manifest):
            sha = manifest[rel][2]
            summary, sdigest = store.summaries[sha]
            name, is_package = modules_of[rel]
            digest.update(f"{rel}\0{name}\0{sdigest}\n".encode())
            if name and (name not in modules or rel in targets):
                modules[name] = ModuleInfo(name, str(project[rel]), rel, is_package, summary)
        return modules, digest.hexdigest()

    def to_check_given(digest: str) -> set[str]:
        result: set[str] = set()
        for rel in targets:
            if rel not in manifest:
                continue
            cached = store.findings.get(rel) if store.findings_digest == digest else None
            if cached is not None and cached[0] == manifest[rel][2]:
                outcome.findings[rel] = cached[1]
                outcome.cached += 1
            else:
                result.add(rel)
        return result

    job_of = {
        rel: Job(str(project[rel]), rel, modules_of[rel][0], modules_of[rel][1], summarize=rel in need_summary)
        for rel in manifest
    }
    setup = Setup((), tuple(str(b) for b in bases), str(root))
    parallel = workers > 1 and len(need_summary) >= PARALLEL_THRESHOLD

    if parallel:
        # shards: files to summarize plus targets (which may need checking)
        shard_jobs = [job_of[rel] for rel in manifest if rel in need_summary or rel in targets]
        shards = _split(shard_jobs, sizes, workers)
        outcome.workers = len(shards)
        context = multiprocessing.get_context("fork") if hasattr(os, "fork") else multiprocessing.get_context()
        outbox: Any = context.Queue()
        inbox: Any = context.Queue()
        with ProcessPoolExecutor(
            max_workers=len(shards), mp_context=context, initializer=_worker_init, initargs=(outbox, inbox)
        ) as pool:
            futures = [pool.submit(_shard, i, shard, setup) for i, shard in enumerate(shards)]
            received = 0
            while received < len(shards):
                try:
                    _, summaries = outbox.get(timeout=1.0)
                except queue.Empty:
                    for future in futures:
                        if future.done() and future.exception() is not None:
                            raise RuntimeError("a scan worker failed") from future.exception()
                    continue
                received += 1
                new_summaries.update(summaries)
            for rel, (summary, sdigest, _error) in new_summaries.items():
                store.put_summary(manifest[rel][2], summary, sdigest)
            modules, digest = modules_and_digest()
            index = build_index(dict(modules), setup)
            setup = Setup(tuple(_role_paths(index, role_map)), setup.bases, setup.root)
            to_check = to_check_given(digest)
            for _ in shards:
                inbox.put((modules, to_check, setup.roles))
            results: dict[str, tuple[Finding, ...]] = {}
            for future in futures:
                results.update(future.result())
        outcome.findings.update(results)
        outcome.checked = len(to_check)
        outcome.parsed = len(need_summary)
    else:
        for rel in need_summary:
            parsed = parse_file(project[rel], rel, contents.get(rel))
            parsed_here[rel] = parsed
            summary, sdigest = summary_of(parsed)
            store.put_summary(manifest[rel][2], summary, sdigest)
        outcome.parsed = len(need_summary)
        modules, digest = modules_and_digest()
        index = build_index(modules, setup)
        setup = Setup(tuple(_role_paths(index, role_map)), setup.bases, setup.root)
        to_check = to_check_given(digest)
        for rel in sorted(to_check):
            job = job_of[rel]
            parsed = parsed_here.get(rel) or parse_file(project[rel], rel, contents.get(rel))
            outcome.findings[rel] = check_tree(job, parsed, index, setup)
        outcome.checked = len(to_check)

    # remember per-file findings (before project rules, which depend on other files)
    cached_findings = dict(store.findings) if store.findings_digest == digest else {}
    cached_findings.update(
        (rel, (manifest[rel][2], found)) for rel, found in outcome.findings.items() if rel in manifest
    )
    cached_findings = {rel: entry for rel, entry in cached_findings.items() if rel in manifest}
    store.set_findings(digest, cached_findings)
    store.set_manifest(manifest)
    store.save({entry[2] for entry in manifest.values()})

    outcome.skipped = {rel for rel, found in outcome.findings.items() if any(f.code == "WC300" for f in found)}
    if role_map or must_call:
        target_modules = {rel: modules_of[rel][0] for rel in targets if rel in modules_of}
        _project_rules(outcome, index, setup, role_map, must_call, startup_modules, targets, project, target_modules)
    return outcome


def _role_paths(index: Index, roles: Mapping[str, RoleLike]) -> Iterable[RolePath]:
    for name, role in roles.items():
        cls = resolve_class_ref(index, role.class_ref)
        if cls is not None and role.path:
            yield RolePath(name, role.path, cls)


def resolve_class_ref(index: Index, ref: str | None) -> ClassEnt | None:
    """``pkg.mod:Cls`` (or ``pkg.mod.Cls``) to the class in the index, when it is there."""
    if not ref:
        return None
    if ":" in ref:
        module, _, attr = ref.partition(":")
    else:
        module, _, attr = ref.rpartition(".")
    if not module or not attr:
        return None
    entity = index.resolve_dotted(module, attr) if index.module(module) is not None else None
    return entity if isinstance(entity, ClassEnt) else None


def _project_rules(
    outcome: Outcome,
    index: Index,
    setup: Setup,
    roles: Mapping[str, RoleLike],
    must_call: Sequence[str],
    startup_modules: Sequence[str],
    targets: Mapping[str, Path],
    project: Mapping[str, Path],
    target_modules: Mapping[str, str],
) -> None:
    from wiringcheck.scan.rules import contract_member
    from wiringcheck.scan.rules import must_call as must_call_rule

    contexts: dict[str, FileContext | None] = {}

    def context(module: str) -> FileContext | None:
        if module in contexts:
            return contexts[module]
        info = index.module(module)
        ctx: FileContext | None = None
        if info is not None and info.path.endswith(".py"):
            parsed = parse_file(Path(info.path), info.relpath)
            if parsed.tree is not None:
                ctx = FileContext(
                    module=module,
                    relpath=info.relpath,
                    is_package=info.is_package,
                    tree=parsed.tree,
                    source=parsed.source,
                    index=index,
                    roles=setup.roles,
                )
        contexts[module] = ctx
        return ctx

    found: list[Finding] = []
    found.extend(contract_member.check(index, roles))
    allowed = {index_name for rel, index_name in target_modules.items()}
    found.extend(must_call_rule.check(index, roles, must_call, startup_modules, context, allowed))
    by_file: dict[str, list[Finding]] = {}
    for item in found:
        if item.location is not None and item.location.path in targets:
            by_file.setdefault(item.location.path, []).append(item)
    for rel, extra in by_file.items():
        source = ""
        with contextlib.suppress(OSError):
            source = project[rel].read_text(encoding="utf-8", errors="replace")
        kept = tuple(apply_ignores(extra, source))
        outcome.findings[rel] = (*outcome.findings.get(rel, ()), *kept)


def to_report(outcome: Outcome, *, started: float) -> Report:
    """One `CheckResult` per scanned file, named ``scan: <relpath>``."""
    report = Report(kind="scan", target=str(outcome.root))
    for rel in outcome.files:
        findings = outcome.findings.get(rel, ())
        if rel in outcome.skipped:
            reason = findings[0].message if findings else "not scanned"
            report.add(CheckResult(f"scan: {rel}", "scan", Status.SKIPPED, findings, reason=reason))
            continue
        failed = any(f.severity is Severity.ERROR for f in findings)
        report.add(CheckResult(f"scan: {rel}", "scan", Status.FAILED if failed else Status.PASSED, findings))
    report.duration = time.perf_counter() - started
    report.extra.update(
        {
            "root": str(outcome.root),
            "files": len(outcome.files),
            "lines": outcome.lines,
            "parsed": outcome.parsed,
            "cached": outcome.cached,
            "checked": outcome.checked,
            "workers": outcome.workers,
        }
    )
    return report
