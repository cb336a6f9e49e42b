"""The scan of a project, in named steps: discover, read the manifest, summarize, check, project rules.

1. **Discover** (`discovery.discover`): every ``.py`` file of the project, the ones to
   check, and the search paths that give module names.
2. **Read the manifest** (`read_manifest`): a file whose size and mtime are unchanged
   is not even read; the others are read once and hashed.
3. **Summarize and check** (`summarize_and_check`), in one of three ways:

   - *sequential*: few files to parse, or one core;
   - *parallel* (`workers.run_shards`): many files to parse and several cores.  Each
     worker parses its shard once, sends the summaries back, receives the merged index,
     and checks its shard with the trees it kept: every file is parsed exactly once;
   - *lazy*: a few files to check in a project whose summaries are mostly not cached (a
     cold pre-commit run).  Only the files to check are summarized up front; a module
     is summarized when the analysis reaches it (an import, a base class), and the
     project-wide facts (`facts.ProjectFacts`) summarize only the files whose text
     mentions the name in question.

4. **Project rules** (`project_rules`): the rules registered with ``@rule.project``
   (WC306, WC307), run once with the index and the configuration.
5. **Remember** (`remember`): manifest, summaries and per-file findings go to the cache.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import os
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from wiringcheck.findings import CheckResult, Finding, Severity, Status
from wiringcheck.report import Report
from wiringcheck.scan.cache import Cache, ManifestEntry, cache_directory
from wiringcheck.scan.checking import Job, Setup, build_index, check_tree, make_loader
from wiringcheck.scan.discovery import (
    Project,
    ScanError,
    discover,
    find_root,
    module_name,
    python_files,
    search_paths,
)
from wiringcheck.scan.engine import ProjectContext, all_rules, apply_ignores
from wiringcheck.scan.facts import Form, ProjectFacts
from wiringcheck.scan.index import Index, ModuleInfo, is_test_path
from wiringcheck.scan.infer import FileContext, RolePath
from wiringcheck.scan.parse import Parsed, parse_file, summary_of

__all__ = [
    "Outcome",
    "ScanError",
    "Setup",
    "build_index",
    "check_tree",
    "find_root",
    "module_name",
    "parse_file",
    "python_files",
    "scan_project",
    "search_paths",
    "summary_of",
    "to_report",
]

PARALLEL_THRESHOLD = 48
"""Below this many files to parse, a worker pool costs more than it saves."""
KEEP_TREES_LINES = 100_000
"""A sequential scan keeps the trees of the files it will check up to this many lines (~120 MB)."""
LAZY_SHARE = 4
"""A scan is lazy when the files to check are at most 1/LAZY_SHARE of the project (and
at least PARALLEL_THRESHOLD other files have no cached summary)."""


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


def role_paths(index: Index, roles: Mapping[str, RoleLike]) -> tuple[RolePath, ...]:
    found = []
    for name, role in roles.items():
        cls = index.resolve_class_ref(role.class_ref)
        if cls is not None and role.path:
            found.append(RolePath(name, role.path, cls))
    return tuple(found)


# -- step 2: the manifest -------------------------------------------------------------------------


@dataclass(slots=True)
class Files:
    """Every file of the project as the cache knows it, and the contents read this time."""

    project: Project
    manifest: dict[str, ManifestEntry]
    contents: dict[str, bytes]
    modules: dict[str, tuple[str, bool]]
    """relpath -> (module name, is a package)."""
    changed: frozenset[str] = frozenset()
    """Files added, edited or deleted since the cache's manifest."""

    def read(self, rel: str) -> bytes | None:
        data = self.contents.get(rel)
        if data is None:
            with contextlib.suppress(OSError):
                data = self.project.files[rel].read_bytes()
        return data

    def job(self, rel: str, *, summarize: bool) -> Job:
        name, is_package = self.modules[rel]
        return Job(str(self.project.files[rel]), rel, name, is_package, summarize)

    def module_files(self) -> dict[str, str]:
        """module name -> relpath (a scanned file wins over another file of the same name)."""
        found: dict[str, str] = {}
        for rel in sorted(self.manifest):
            name = self.modules[rel][0]
            if name and (name not in found or rel in self.project.targets):
                found[name] = rel
        return found

    def signature(self, config_key: str) -> str:
        """A digest of what is on disk (content digests and module names) and of the configuration."""
        digest = hashlib.blake2b(config_key.encode(), digest_size=16)
        for rel in sorted(self.manifest):
            digest.update(f"{rel}\0{self.modules[rel][0]}\0{self.manifest[rel].sha}\n".encode())
        return digest.hexdigest()


def read_manifest(project: Project, store: Cache) -> Files:
    """Stat every file; read and hash those whose size or mtime changed since the last scan."""
    manifest: dict[str, ManifestEntry] = {}
    contents: dict[str, bytes] = {}
    for rel, file in project.files.items():
        try:
            stat = file.stat()
        except OSError:
            continue
        previous = store.manifest.get(rel)
        if previous is not None and previous.mtime_ns == stat.st_mtime_ns and previous.size == stat.st_size:
            manifest[rel] = previous
            continue
        try:
            data = file.read_bytes()
        except OSError:
            data = b""
        contents[rel] = data
        sha = hashlib.blake2b(data, digest_size=16).hexdigest()
        manifest[rel] = ManifestEntry(stat.st_mtime_ns, stat.st_size, sha, data.count(b"\n"))
    modules = {rel: module_name(project.files[rel], project.bases) for rel in manifest}
    changed = {rel for rel, entry in manifest.items() if (store.manifest.get(rel) or entry).sha != entry.sha}
    changed.update(rel for rel in contents if rel not in store.manifest)
    changed.update(rel for rel in store.manifest if rel not in manifest)
    return Files(project, manifest, contents, modules, frozenset(changed))


# -- step 3: summarize and check -------------------------------------------------------------------


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
    mode: str = "sequential"
    """How the files were summarized: ``cached``, ``sequential``, ``parallel`` or ``lazy``."""


@dataclass(slots=True)
class State:
    """What the steps of one scan share."""

    files: Files
    store: Cache
    config_key: str
    roles: Mapping[str, RoleLike]
    outcome: Outcome
    index: Index | None = None
    facts: ProjectFacts | None = None
    setup: Setup | None = None
    digest: str = ""
    """The project digest; empty when not every module was summarized (a lazy scan)."""
    parsed: dict[str, Parsed] = field(default_factory=dict)
    """Trees kept between summarizing and checking (targets only, within `KEEP_TREES_LINES`)."""
    kept_lines: int = 0

    def modules(self) -> tuple[dict[str, ModuleInfo], str]:
        """Every module of the project (summaries from the cache) and the project digest."""
        files = self.files
        summaries = self.store.summaries
        modules: dict[str, ModuleInfo] = {}
        digest = hashlib.blake2b(self.config_key.encode(), digest_size=16)
        for rel in sorted(files.manifest):
            summary, sdigest = summaries[files.manifest[rel].sha]
            name, is_package = files.modules[rel]
            digest.update(f"{rel}\0{name}\0{sdigest}\n".encode())
            if name and (name not in modules or rel in files.project.targets):
                modules[name] = ModuleInfo(name, str(files.project.files[rel]), rel, is_package, summary)
        return modules, digest.hexdigest()

    def cached_findings(self, digest: str) -> set[str]:
        """Fill in the targets whose findings the cache holds for `digest`; the others, to check.

        The digest leaves positions out (`summary.summary_digest`), so a finding that
        quotes a place in a file changed since (``def status() at app/agents.py:12``)
        is checked again, to quote it as it is now.
        """
        to_check: set[str] = set()
        store, manifest = self.store, self.files.manifest
        quoted = tuple(f"{rel}:" for rel in self.files.changed)
        for rel in self.files.project.targets:
            if rel not in manifest:
                continue
            cached = store.findings.get(rel) if digest and store.findings_digest == digest else None
            if cached is not None and quoted and any(_quotes(item, quoted) for item in cached[1]):
                cached = None
            if cached is not None and cached[0] == manifest[rel].sha:
                self.outcome.findings[rel] = cached[1]
                self.outcome.cached += 1
            else:
                to_check.add(rel)
        return to_check

    def summarize(self, rel: str) -> None:
        files = self.files
        parsed = parse_file(files.project.files[rel], rel, files.contents.get(rel))
        lines = files.manifest[rel].lines
        if rel in files.project.targets and self.kept_lines + lines <= KEEP_TREES_LINES:
            self.parsed[rel] = parsed  # parsed again for the check otherwise: a tree is ~1.2 MB per 1,000 lines
            self.kept_lines += lines
        summary, sdigest = summary_of(parsed)
        self.store.put_summary(files.manifest[rel].sha, summary, sdigest)
        self.outcome.parsed += 1

    def use_index(self, index: Index, facts: ProjectFacts) -> None:
        bases = tuple(str(b) for b in self.files.project.bases)
        self.index, self.facts = index, facts
        self.setup = Setup(role_paths(index, self.roles), bases, str(self.files.project.root))

    def check(self, rels: Iterable[str]) -> None:
        assert self.index is not None
        assert self.setup is not None
        files = self.files
        for rel in sorted(rels):
            parsed = self.parsed.pop(rel, None) or parse_file(files.project.files[rel], rel, files.contents.get(rel))
            self.outcome.findings[rel] = check_tree(
                files.job(rel, summarize=False), parsed, self.index, self.setup, self.facts
            )
            self.outcome.checked += 1


def summarize_and_check(state: State, jobs: int | None) -> None:
    """Step 3: summaries for the files that have none cached, then the checks of the targets."""
    files, store = state.files, state.store
    targets = files.project.targets
    need = [rel for rel in files.manifest if files.manifest[rel].sha not in store.summaries]
    others = [rel for rel in need if rel not in targets]
    workers = max(1, jobs if jobs is not None else (os.cpu_count() or 1))
    if len(others) >= PARALLEL_THRESHOLD and len(targets) * LAZY_SHARE <= len(files.manifest):
        state.outcome.mode = "lazy"
        _lazy(state, need)
    elif workers > 1 and len(need) >= PARALLEL_THRESHOLD:
        state.outcome.mode = "parallel"
        _parallel(state, need, workers)
    else:
        state.outcome.mode = "sequential" if need else "cached"
        for rel in need:
            state.summarize(rel)
        modules, state.digest = state.modules()
        index = build_index(modules, Setup((), tuple(map(str, files.project.bases)), str(files.project.root)))
        state.use_index(index, ProjectFacts(index))
        state.check(state.cached_findings(state.digest))


def _parallel(state: State, need: list[str], workers: int) -> None:
    from wiringcheck.scan.workers import check_in_workers, summarize_in_workers

    files = state.files
    sizes = {rel: entry.size for rel, entry in files.manifest.items()}
    summaries = summarize_in_workers([files.job(rel, summarize=True) for rel in need], sizes, workers)
    for rel, (summary, sdigest, _error) in summaries.items():
        state.store.put_summary(files.manifest[rel].sha, summary, sdigest)
    state.outcome.parsed += len(summaries)
    modules, state.digest = state.modules()
    setup = Setup((), tuple(str(b) for b in files.project.bases), str(files.project.root))
    index = build_index(modules, setup)
    state.use_index(index, ProjectFacts(index))
    to_check = state.cached_findings(state.digest)
    state.outcome.workers = workers
    if len(to_check) < PARALLEL_THRESHOLD:
        state.check(to_check)
        return
    assert state.facts is not None
    assert state.setup is not None
    jobs = [files.job(rel, summarize=False) for rel in sorted(to_check)]
    state.outcome.findings.update(check_in_workers(jobs, sizes, workers, index, state.facts, state.setup))
    state.outcome.checked += len(jobs)


class TextCorpus:
    """The raw text of the files not summarized yet, to find the few a project-wide question needs.

    Text search answers a superset of what the summaries would (`facts` builds the
    patterns): a file that defines, stores or derives from ``Registry`` (even through
    ``import Registry as R``) contains the word ``Registry`` in one of a few forms.
    Test files are read only for questions asked for test code.
    """

    _WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_]*")

    def __init__(self, state: State, rels: Iterable[str], modules: Mapping[str, str]) -> None:
        self.state = state
        chosen = [rel for rel in rels if modules.get(state.files.modules[rel][0]) == rel]
        self.rels = {True: chosen, False: [rel for rel in chosen if not is_test_path(rel)]}
        self._texts: dict[str, tuple[bytes, frozenset[bytes]]] = {}

    def _text(self, rel: str) -> tuple[bytes, frozenset[bytes]]:
        """The file's text and the set of its words (read once: a big file answers thousands of questions)."""
        entry = self._texts.get(rel)
        if entry is None:
            text = self.state.files.read(rel) or b""
            entry = self._texts[rel] = (text, frozenset(self._WORD.findall(text)))
        return entry

    def matching(self, word: str, form: Form, *, tests: bool) -> Iterator[str]:
        needle = word.encode()
        size = len(needle)
        for rel in self.rels[tests]:
            text, words = self._text(rel)
            if needle not in words:
                continue
            at = text.find(needle)
            while at >= 0:
                if form(text, at, at + size):
                    yield self.state.files.modules[rel][0]
                    break
                at = text.find(needle, at + size)


def _lazy(state: State, need: list[str]) -> None:
    files, store = state.files, state.store
    targets = files.project.targets
    for rel in need:
        if rel in targets:
            state.summarize(rel)
    module_files = files.module_files()
    summaries = store.summaries
    modules: dict[str, ModuleInfo] = {}
    waiting: list[str] = []
    for name, rel in module_files.items():
        entry = summaries.get(files.manifest[rel].sha)
        if entry is None:
            waiting.append(rel)
            continue
        is_package = files.modules[rel][1]
        modules[name] = ModuleInfo(name, str(files.project.files[rel]), rel, is_package, entry[0])
    fallback = make_loader(list(files.project.bases), files.project.root)

    def load(name: str) -> ModuleInfo | None:
        rel = module_files.get(name)
        if rel is None:
            return fallback(name)  # type: ignore[no-any-return]
        if files.manifest[rel].sha not in store.summaries:
            state.summarize(rel)
            state.parsed.pop(rel, None)  # only the files to check keep their tree
        summary = store.summaries[files.manifest[rel].sha][0]
        return ModuleInfo(name, str(files.project.files[rel]), rel, files.modules[rel][1], summary)

    index = Index(modules, load)
    state.use_index(index, ProjectFacts(index, TextCorpus(state, waiting, module_files)))
    state.digest = ""  # not every module was summarized: findings are not cached
    state.check(state.cached_findings(""))


# -- step 4: project rules -------------------------------------------------------------------------


def project_rules(
    state: State,
    must_call: Sequence[str],
    startup_modules: Sequence[str],
) -> None:
    """Run the rules registered with ``@rule.project``; keep their findings in the scanned files."""
    index, setup = state.index, state.setup
    assert index is not None
    assert setup is not None
    files = state.files
    targets = files.project.targets
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
                    facts=state.facts,
                )
        contexts[module] = ctx
        return ctx

    scanned = {files.modules[rel][0] for rel in targets if rel in files.modules}
    project = ProjectContext(index, state.roles, must_call, startup_modules, scanned, context)
    found: list[Finding] = []
    for rule in all_rules():
        for callback in rule.project_callbacks:
            found.extend(callback(project))
    by_file: dict[str, list[Finding]] = {}
    for item in found:
        if item.location is not None and item.location.path in targets:
            by_file.setdefault(item.location.path, []).append(item)
    for rel, extra in by_file.items():
        source = ""
        with contextlib.suppress(OSError):
            source = files.project.files[rel].read_text(encoding="utf-8", errors="replace")
        kept = tuple(apply_ignores(extra, source))
        state.outcome.findings[rel] = (*state.outcome.findings.get(rel, ()), *kept)


# -- step 5: remember --------------------------------------------------------------------------------


def remember(state: State, signature: str) -> None:
    """Save the manifest, the new summaries and (for a full digest) the per-file findings."""
    store, manifest = state.store, state.files.manifest
    if state.digest:
        # per-file findings, before project rules (which depend on other files)
        kept = dict(store.findings) if store.findings_digest == state.digest else {}
        kept.update(
            (rel, (manifest[rel].sha, found)) for rel, found in state.outcome.findings.items() if rel in manifest
        )
        live = {rel: entry for rel, entry in kept.items() if rel in manifest}
        store.set_findings(signature, state.digest, live)
    store.set_manifest(manifest)
    store.save({entry.sha for entry in manifest.values()})


# -- the scan ------------------------------------------------------------------------------------


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
    project = discover(paths, root=root, pythonpath=pythonpath)
    store = Cache.open(cache_directory(project.root) if cache else None)
    files = read_manifest(project, store)
    role_map = dict(roles or {})
    config_key = repr(
        (
            sorted((n, r.path, r.class_ref, tuple(r.members)) for n, r in role_map.items()),
            tuple(must_call),
            tuple(startup_modules),
            [str(b) for b in project.bases],
        )
    )
    outcome = Outcome(project.root, sorted(project.targets), {})
    outcome.lines = sum(files.manifest[rel].lines for rel in project.targets if rel in files.manifest)
    state = State(files, store, config_key, role_map, outcome)
    signature = files.signature(config_key)
    project_level = bool(role_map or must_call)

    if not project_level and store.findings_signature == signature and store.findings_digest:
        # nothing changed on disk: the digest is known without loading any summary
        to_check = state.cached_findings(store.findings_digest)
        if not to_check:
            outcome.mode = "cached"
            state.digest = store.findings_digest
            outcome.skipped = _skipped_files(outcome)
            return outcome
        outcome.findings.clear()
        outcome.cached = 0

    with collector_paused():
        summarize_and_check(state, jobs)
    remember(state, signature)
    outcome.skipped = _skipped_files(outcome)
    if project_level:
        project_rules(state, must_call, startup_modules)
    return outcome


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off while the trees and summaries are built.

    They hold no cycles (reference counting frees them), but every object is tracked,
    and with hundreds of thousands of them alive the collector's passes took a third
    of a cold scan's time.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _quotes(finding: Finding, places: tuple[str, ...]) -> bool:
    """Whether `finding` quotes a place (``relpath:``) in one of the given files."""
    texts = (finding.message, finding.hint, *finding.evidence)
    return any(place in text for text in texts for place in places)


def _skipped_files(outcome: Outcome) -> set[str]:
    return {rel for rel, found in outcome.findings.items() if any(f.code == "WC300" for f in found)}


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
            "mode": outcome.mode,
        }
    )
    return report
