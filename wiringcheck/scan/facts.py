"""Project-wide facts: what the whole project says about a name, beyond its definition.

The index answers questions about one name along the import graph.  A few questions
need every module instead: which classes derive from ``AgentRegistry`` (a subclass may
define the missing method), whether some code stores ``configure`` onto an object,
whether any class defines ``send_message``, and what the application assigns to
``app.state.agent_supervisor``.  `ProjectFacts` answers them.

With a *complete* index (every module of the project summarized) the answers come from
the summaries.  With a *lazy* one (a cold scan of a few files), a `Corpus` of the raw
text of the files not summarized yet names the few that may matter (those whose text
mentions the name), and only those are summarized, through the index's loader.
Test code (`index.is_test_path`) never excuses application code, so each fact can leave
it out.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

from wiringcheck.scan.index import ClassEnt, Entity, Index, Inst, agree
from wiringcheck.scan.summary import Expr, Member

__all__ = ["Corpus", "ProjectFacts"]


class Corpus(Protocol):
    """The files of the project that the index has not summarized yet, as raw text."""

    def mentioning(self, word: str) -> Iterable[str]:
        """Module names of the files whose text contains `word`."""
        ...

    def deriving(self, name: str) -> Iterable[str]:
        """Module names of the files with a ``class X(...name...)`` statement."""
        ...


class ProjectFacts:
    """Facts over every module of `index` (and of `corpus`, summarized on demand)."""

    def __init__(self, index: Index, corpus: Corpus | None = None) -> None:
        self.index = index
        self.corpus = corpus
        self._reached: set[str] = set()
        self._known = -1
        self._seen: set[str] = set()
        self._direct: dict[ClassEnt, list[ClassEnt]] = {}
        self._stores: tuple[frozenset[str], frozenset[str]] = (frozenset(), frozenset())
        self._members: frozenset[str] = frozenset()
        self._state_stores: dict[str, list[tuple[str, Expr | None, int]]] = {}
        self._state: dict[str, Inst | None] = {}
        self._classes: dict[str, list[ClassEnt]] = {}
        index.classes_named = self.classes_named

    # keeping up with a lazy index ------------------------------------------------------------

    def _reach(self, key: str, modules: Iterable[str]) -> None:
        """Summarize (through the index's loader) the modules a question about `key` may need."""
        if self.corpus is None or key in self._reached:
            return
        self._reached.add(key)
        for name in modules:
            self.index.module(name)

    def _fresh(self) -> None:
        """Bring the tables up to date with the modules the index gained since the last question."""
        modules = self.index.modules
        if len(modules) == self._known:
            return
        self._known = len(modules)
        new = [(name, info) for name, info in list(modules.items()) if name not in self._seen]
        if not new:
            return
        everywhere, outside_tests = set(self._stores[0]), set(self._stores[1])
        members = set(self._members)
        for name, info in new:
            self._seen.add(name)
            summary = info.summary
            everywhere.update(summary.attr_stores)
            if not info.is_test:
                outside_tests.update(summary.attr_stores)
                for attr, value, line in summary.state_stores:
                    self._state_stores.setdefault(attr, []).append((name, value, line))
                    self._state.pop(attr, None)
            for qualname, cls in summary.classes.items():
                members.update(cls.members)
                members.update(cls.attrs)
                ent = ClassEnt(name, qualname)
                if "." not in qualname and not info.is_test:
                    self._classes.setdefault(qualname, []).append(ent)
                for base in self.index.base_entities(ent):
                    if isinstance(base, ClassEnt):
                        self._direct.setdefault(base, []).append(ent)
        self._stores = (frozenset(everywhere), frozenset(outside_tests))
        self._members = frozenset(members)

    def warm(self) -> None:
        """Build the tables now, for the modules known so far (before forking workers that share them)."""
        self._fresh()

    # the facts -------------------------------------------------------------------------------

    def subclasses(self, cls: ClassEnt, *, tests: bool = True) -> list[ClassEnt]:
        """Every known class that derives from `cls`, directly or not (``tests=False``: not in test code)."""
        result: list[ClassEnt] = []
        pending = [cls]
        seen: set[ClassEnt] = {cls}
        while pending:
            current = pending.pop()
            if self.corpus is not None:
                self._reach(f"class {current.name}", self.corpus.deriving(current.name))
            self._fresh()
            for sub in self._direct.get(current, ()):
                if sub in seen:
                    continue
                seen.add(sub)
                pending.append(sub)
                if tests or not self.is_test_module(sub.module):
                    result.append(sub)
        return result

    def overrides(self, cls: ClassEnt, name: str, *, tests: bool = True) -> list[tuple[ClassEnt, Member]] | None:
        """Redefinitions of `name` in known subclasses of `cls`; None if a subclass is dynamic.

        A subclass whose only trick is ``__getattr__`` does not count: Python calls it only
        for names that normal lookup misses, and the base defines `name`.  With
        ``tests=False``, subclasses defined in test code are left out.
        """
        result: list[tuple[ClassEnt, Member]] = []
        for sub in self.subclasses(cls, tests=tests):
            info = self.index.class_info(sub)
            if info is None:
                continue
            member = info.members.get(name) or info.attrs.get(name)
            if info.dynamic and not (info.dynamic == "__getattr__" and member is None):
                return None
            if member is not None:
                result.append((sub, member))
        return result

    def is_test_module(self, name: str) -> bool:
        info = self.index.modules.get(name)
        return info is not None and info.is_test

    def stored_anywhere(self, name: str, *, tests: bool = True) -> bool:
        """Whether code stores attribute `name` on an object other than ``self`` somewhere.

        With ``tests=False``, stores made by test code (``mock.configure = ...``) are left out.
        """
        if self.corpus is not None:
            self._reach(name, self.corpus.mentioning(name))
        self._fresh()
        return name in (self._stores[0] if tests else self._stores[1])

    def defined_anywhere(self, name: str) -> bool:
        """Whether any class of the project defines `name` (a rename leaves the old name somewhere)."""
        if self.corpus is not None:
            self._reach(name, self.corpus.mentioning(name))
        self._fresh()
        return name in self._members

    def classes_named(self, name: str) -> list[ClassEnt]:
        """The top-level classes called `name` in application code (not tests)."""
        if self.corpus is not None:
            self._reach(f"defines class {name}", self.corpus.mentioning(f"class {name}"))
        self._fresh()
        return list(self._classes.get(name, ()))

    def state_attr(self, name: str) -> Inst | None:
        """The instance the application stores as ``app.state.name``, when every store agrees.

        Only application code counts (a test storing a mock there says nothing), and one
        store of an unknown value makes the answer unknown; ``None`` (cleared on shutdown)
        and an unannotated parameter (a setter passing a value through) do not count.
        """
        if self.corpus is not None:
            self._reach(name, self.corpus.mentioning(name))
        self._fresh()
        if name in self._state:
            return self._state[name]
        results: list[Entity | None] = []
        for module, value, line in self._state_stores.get(name, ()):
            if value is not None and (value == ("lit", "None") or value[0] == "param"):
                # cleared on shutdown, or a setter passing a value through: neither says
                # what the application builds and stores there
                continue
            where = self.index.module(module)
            relpath = where.relpath if where is not None else module
            origin = f"app.state.{name} assigned at {relpath}:{line}"
            results.append(self.index.eval(module, value, origin=origin) if value is not None else None)
        found = agree(results) if results else None
        result = found if isinstance(found, Inst) else None
        self._state[name] = result
        return result
