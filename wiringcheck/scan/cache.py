"""The scan cache: per-file summaries keyed by content hash, and findings keyed by project state.

Three pickles in one directory (``<root>/.wiringcheck_cache/`` by default, or
``$WIRINGCHECK_CACHE_DIR``, falling back to ``$XDG_CACHE_HOME/wiringcheck/<hash of
root>`` when the root is not writable):

- ``manifest.pickle``: ``relpath -> (mtime_ns, size, sha, lines)``, so an unchanged file
  is not even read;
- ``summaries.pickle``: ``sha -> (ModuleSummary, summary digest)``, so an unchanged file
  is not parsed (new summaries go to ``summaries-new.pickle`` first, and are merged into
  the main file, pruned of contents no longer present, once there are many);
- ``findings.pickle``: the findings of each file, valid while the *project digest* (every
  module's summary digest, the configuration, the scanner's own code) is the same, so
  an unchanged project is not checked again.  Editing a function body leaves the
  summaries, hence the digest, unchanged: only the edited file is checked again.  It
  also keeps the *signature* of the manifest the digest was computed for: when nothing
  changed on disk, the digest is known without loading a single summary.

A cache that cannot be read is ignored (and rewritten); one that cannot be written is
skipped silently: the cache only ever makes the scan faster.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from wiringcheck.findings import Finding
from wiringcheck.scan.summary import SUMMARY_VERSION, ModuleSummary

__all__ = ["Cache", "ManifestEntry", "cache_directory", "code_version"]

_MANIFEST = "manifest.pickle"
_SUMMARIES = "summaries.pickle"
_DELTA = "summaries-new.pickle"
CONSOLIDATE_AFTER = 256
"""New summaries go to a small side file until there are this many, then into the main file."""
_FINDINGS = "findings.pickle"


class ManifestEntry(NamedTuple):
    """What the scan remembers of one file, so an unchanged file is not even read."""

    mtime_ns: int
    size: int
    sha: str
    """Digest of the content: the key of the file's summary."""
    lines: int


def code_version() -> str:
    """A digest of the scanner's own source, so a changed rule invalidates cached findings."""
    here = Path(__file__).resolve().parent
    digest = hashlib.blake2b(str(SUMMARY_VERSION).encode(), digest_size=16)
    for path in sorted([*here.glob("*.py"), *here.glob("rules/*.py")]):
        try:
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        except OSError:
            continue
    return digest.hexdigest()


def cache_directory(root: Path) -> Path | None:
    """Where the cache of the project at `root` lives; None when nowhere is writable."""
    override = os.environ.get("WIRINGCHECK_CACHE_DIR")
    candidates: list[Path] = []
    if override:
        candidates.append(Path(override))
    candidates.append(root / ".wiringcheck_cache")
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    tag = hashlib.blake2b(str(root).encode(), digest_size=8).hexdigest()
    candidates.append(Path(xdg) / "wiringcheck" / tag)
    for candidate in candidates:
        try:
            candidate.mkdir(parents=True, exist_ok=True)
            ignore = candidate / ".gitignore"
            if not ignore.exists():
                ignore.write_text("# created by wiringcheck scan\n*\n", encoding="utf-8")
            return candidate
        except OSError:
            continue
    return None


@dataclass(slots=True)
class Cache:
    """The three tables, loaded lazily and saved only when changed."""

    directory: Path | None
    version: str = ""
    manifest: dict[str, ManifestEntry] = field(default_factory=dict)
    findings_digest: str = ""
    findings_signature: str = ""
    """The manifest (and configuration) signature `findings_digest` was computed for."""
    findings: dict[str, tuple[str, tuple[Finding, ...]]] = field(default_factory=dict)
    _summaries: dict[str, tuple[ModuleSummary, str]] | None = None
    _delta: dict[str, tuple[ModuleSummary, str]] = field(default_factory=dict)
    _dirty: set[str] = field(default_factory=set)

    @classmethod
    def open(cls, directory: Path | None) -> Cache:
        cache = cls(directory, version=code_version())
        if directory is None:
            cache._summaries = {}
            return cache
        manifest = cache._read(_MANIFEST)
        if isinstance(manifest, dict):
            cache.manifest = manifest
        findings = cache._read(_FINDINGS)
        if isinstance(findings, tuple) and len(findings) == 3:
            cache.findings_signature, cache.findings_digest, cache.findings = findings
        return cache

    def _read(self, name: str) -> Any:
        if self.directory is None:
            return None
        path = self.directory / name
        try:
            with path.open("rb") as stream:
                version, payload = pickle.load(stream)
        except Exception:  # a corrupt or foreign cache is ignored, never fatal
            return None
        return payload if version == self.version else None

    def _write(self, name: str, payload: Any) -> None:
        if self.directory is None:
            return
        path = self.directory / name
        temporary = path.with_suffix(f".{os.getpid()}.tmp")
        try:
            with temporary.open("wb") as stream:
                pickle.dump((self.version, payload), stream, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(temporary, path)
        except OSError:
            with contextlib.suppress(OSError):
                temporary.unlink()

    @property
    def summaries(self) -> dict[str, tuple[ModuleSummary, str]]:
        if self._summaries is None:
            loaded = self._read(_SUMMARIES)
            self._summaries = loaded if isinstance(loaded, dict) else {}
            delta = self._read(_DELTA)
            if isinstance(delta, dict):
                self._delta = delta
                self._summaries.update(delta)
        return self._summaries

    def put_summary(self, sha: str, summary: ModuleSummary, digest: str) -> None:
        self.summaries[sha] = (summary, digest)
        self._delta[sha] = (summary, digest)
        self._dirty.add(_SUMMARIES)

    def set_manifest(self, manifest: dict[str, ManifestEntry]) -> None:
        if manifest != self.manifest:
            self.manifest = manifest
            self._dirty.add(_MANIFEST)

    def set_findings(self, signature: str, digest: str, findings: dict[str, tuple[str, tuple[Finding, ...]]]) -> None:
        if signature != self.findings_signature or digest != self.findings_digest or findings != self.findings:
            self.findings_signature = signature
            self.findings_digest = digest
            self.findings = findings
            self._dirty.add(_FINDINGS)

    def save(self, live_shas: set[str] | None = None) -> None:
        """Write what changed; drop summaries of contents no longer present."""
        if self.directory is None:
            return
        if _SUMMARIES in self._dirty and self._summaries is not None:
            if len(self._delta) < CONSOLIDATE_AFTER:
                # rewriting megabytes for a few changed files would cost more than the scan
                self._write(_DELTA, self._delta)
            else:
                if live_shas is not None:
                    self._summaries = {sha: entry for sha, entry in self._summaries.items() if sha in live_shas}
                self._write(_SUMMARIES, self._summaries)
                self._delta = {}
                with contextlib.suppress(OSError):
                    (self.directory / _DELTA).unlink()
        if _MANIFEST in self._dirty:
            self._write(_MANIFEST, self.manifest)
        if _FINDINGS in self._dirty:
            self._write(_FINDINGS, (self.findings_signature, self.findings_digest, self.findings))
        self._dirty.clear()
