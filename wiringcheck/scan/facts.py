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

import re
from collections.abc import Callable, Iterable
from typing import Protocol

from wiringcheck.scan.index import ClassEnt, Entity, Index, Inst, agree
from wiringcheck.scan.summary import Expr, Member

__all__ = ["Corpus", "ProjectFacts"]


class Corpus(Protocol):
    """The files of the project that the index has not summarized yet, as raw text."""

    def matching(self, word: str, form: Form, *, tests: bool) -> Iterable[str]:
        """Module names of the files where `word` occurs in the `form` (test files too: `tests`)."""
        ...


# What the text of a file must show for its summary to answer a question about a name.
# Each form accepts a superset of the source forms the summary records, so a lazy scan
# answers as a complete one would while summarizing only the files that matter: the bare
# word matched most of a project for common names (``name``, ``run``, ``type``).  A form
# looks at the text around one occurrence of the word (`text[at:at + len(word)]`).
Form = Callable[[bytes, int, int], bool]

_BINDS = re.compile(rb"[ \t]*(?:(?:[-+*/%@&|^]|//|\*\*|>>|<<)?=(?!=)|:|,|\)|\])")
_DEF_OR_CLASS = re.compile(rb"\b(?:def|class)[ \t]+$")
_CLASS_HEADER = re.compile(rb"^[ \t]*class[ \t]+\w+[ \t]*\([^)]*$", re.M)
_ALIAS = re.compile(rb"[ \t]+as\b")
_QUOTES = (b'"', b"'")


def _word_char(byte: bytes) -> bool:
    return byte.isalnum() or byte == b"_"


def _line(text: bytes, at: int) -> bytes:
    return text[text.rfind(b"\n", 0, at) + 1 : at]


def _quoted(text: bytes, at: int, end: int) -> bool:
    return text[at - 1 : at] in _QUOTES and text[end : end + 1] in _QUOTES


def stores(text: bytes, at: int, end: int) -> bool:
    """``x.name = …`` (augmented, annotated, in a tuple), ``del x.name``, or ``"name"`` (``setattr``)."""
    if _word_char(text[end : end + 1]):
        return False
    if text[at - 1 : at] == b".":
        return bool(_BINDS.match(text, end)) or _line(text, at).lstrip().startswith(b"del")
    return _quoted(text, at, end)


def defines(text: bytes, at: int, end: int) -> bool:
    """``def name``, ``class name``, ``name = …`` or ``name: T`` (on self too), ``"name"``, an import, a loop."""
    if _word_char(text[end : end + 1]) or (at and _word_char(text[at - 1 : at])):
        return False
    line = _line(text, at)
    return (
        bool(_BINDS.match(text, end))
        or bool(_DEF_OR_CLASS.search(line))
        or _quoted(text, at, end)
        or b"import" in line
        or line.lstrip().startswith(b"for")
    )


def derives(text: bytes, at: int, end: int) -> bool:
    """Within the bases of ``class X(… name …)`` (over several lines too), or ``name as alias``."""
    if _word_char(text[end : end + 1]) or (at and _word_char(text[at - 1 : at])):
        return False
    if _ALIAS.match(text, end):
        return True
    header = text.rfind(b"class", 0, at)
    return header >= 0 and bool(_CLASS_HEADER.match(text, text.rfind(b"\n", 0, header) + 1, at))


def names_class(text: bytes, at: int, end: int) -> bool:
    """``class name``."""
    return not _word_char(text[end : end + 1]) and bool(_DEF_OR_CLASS.search(_line(text, at)))


def state_store(text: bytes, at: int, end: int) -> bool:
    """``….state.name = …``."""
    return (
        text[max(0, at - 6) : at] == b"state." and not _word_char(text[end : end + 1]) and bool(_BINDS.match(text, end))
    )


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
        self._app_members: frozenset[str] = frozenset()
        self._state_stores: dict[str, list[tuple[str, Expr | None, int]]] = {}
        self._state: dict[str, Inst | None] = {}
        self._classes: dict[str, list[ClassEnt]] = {}
        index.classes_named = self.classes_named

    # keeping up with a lazy index ------------------------------------------------------------

    def _reach(self, name: str, form: Form, *, tests: bool = True) -> None:
        """Summarize (through the index's loader) the modules where `name` occurs in the `form`.

        With ``tests=False`` (a question asked for application code, which test code
        never excuses), test files are not even read.
        """
        if self.corpus is None:
            return
        key = f"{form.__name__} {name} {tests}"
        if key in self._reached or f"{form.__name__} {name} True" in self._reached:
            return
        self._reached.add(key)
        for module in self.corpus.matching(name, form, tests=tests):
            self.index.module(module)

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
        members, app_members = set(self._members), set(self._app_members)
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
                if not info.is_test:
                    app_members.update(cls.members)
                    app_members.update(cls.attrs)
                ent = ClassEnt(name, qualname)
                if "." not in qualname and not info.is_test:
                    self._classes.setdefault(qualname, []).append(ent)
                for base in self.index.base_entities(ent):
                    if isinstance(base, ClassEnt):
                        self._direct.setdefault(base, []).append(ent)
        self._stores = (frozenset(everywhere), frozenset(outside_tests))
        self._members = frozenset(members)
        self._app_members = frozenset(app_members)

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
            self._reach(current.name, derives, tests=tests)
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
        self._reach(name, stores, tests=tests)
        self._fresh()
        return name in (self._stores[0] if tests else self._stores[1])

    def defined_anywhere(self, name: str, *, tests: bool = True) -> bool:
        """Whether any class of the project defines `name` (a rename leaves the old name somewhere).

        With ``tests=False``, classes defined in test code are left out.
        """
        self._reach(name, defines, tests=tests)
        self._fresh()
        return name in (self._members if tests else self._app_members)

    def classes_named(self, name: str) -> list[ClassEnt]:
        """The top-level classes called `name` in application code (not tests)."""
        self._reach(name, names_class, tests=False)
        self._fresh()
        return list(self._classes.get(name, ()))

    def state_attr(self, name: str) -> Inst | None:
        """The instance the application stores as ``app.state.name``, when every store agrees.

        Only application code counts (a test storing a mock there says nothing), and one
        store of an unknown value makes the answer unknown; ``None`` (cleared on shutdown)
        and an unannotated parameter (a setter passing a value through) do not count.
        """
        self._reach(name, state_store, tests=False)
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
