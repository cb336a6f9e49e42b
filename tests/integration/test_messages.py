"""Every finding reads right for its target kind: the backend's frames only, no advice about what is not there.

The fault catalog (app targets), boot targets that crash or hang, and a url target:
each finding they produce is checked for the faults messages used to have. Among them:
wiringcheck's own words never speak the reference backend's language (its bridge, its
WebSocket manager, its setter), which reads false on every other backend; those words may
appear only where they come from the backend itself: its configuration, its log lines,
its source lines and its objects.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import linecache
import re
from pathlib import Path

import pytest

from wiringcheck.config import Settings, load_settings
from wiringcheck.findings import Finding
from wiringcheck.report import Report
from wiringcheck.runner import run

from .helpers import FAULTS, REPO, fault_settings, healthy_settings

_OWN_FRAMES = re.compile(r"(?:^|[\s/])(?:wiringcheck|typer|click|_pytest|pluggy)/[\w/]+\.py")


REFERENCE_VOCABULARY = re.compile(
    r"bridge|websocket[ _]?manager|set_websocket|agent_supervisor|AgentRegistry|notify_agent|demo_?agent",
    re.IGNORECASE,
)
"""The reference backend's (fixtures/agentchat) words: true of it, false of every other backend."""

_SOURCE_LINE = re.compile(r"([\w./-]+\.py):(\d+)")
_BACKEND_NAMES = re.compile(r"<?fixtures[.:/][\w.:/]+(?: at 0x[0-9a-f]+>)?")
_CODE_FORM = re.compile(r"(?<=[.<(`'\"])[A-Za-z_]\w*|[A-Za-z_]\w*(?=[.(>`'\":=])|\b[A-Za-z]+(?:_\w+|[a-z][A-Z]\w*)\b")
"""An identifier written as code: next to a dot, a bracket, a quote or an annotation's colon; snake_case; CamelCase."""


@functools.cache
def _identifiers(package: str) -> frozenset[str]:
    """Every name the backend's own code defines or uses (classes, functions, attributes, parameters)."""
    spec = importlib.util.find_spec(package)
    roots = list(spec.submodule_search_locations or []) if spec is not None else []
    names: set[str] = set()
    for root in roots:
        for path in Path(root).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Name):
                    names.add(node.id)
                elif isinstance(node, ast.Attribute):
                    names.add(node.attr)
                elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    names.add(node.name)
                elif isinstance(node, ast.arg):
                    names.add(node.arg)
    return frozenset(names)


def backend_texts(settings: Settings, report: Report) -> tuple[list[str], frozenset[str]]:
    """What the backend itself says or is called, as its configuration, its run and its code show it.

    The texts (its config's names, its log lines) are allowed anywhere; its code's
    identifiers are allowed where written as code (`registry.set_websocket_bridge(`,
    `<WebSocketManager>`, `'agent_supervisor'`), never as words of advice.
    """
    texts = [str(settings.target), *settings.wires, *settings.must_call, *(target for _, target in settings.probe.emit)]
    for role in settings.roles.values():
        texts += [role.path, role.class_ref or "", *role.members]
    texts += [record.message for record in report.logs] + [record.logger for record in report.logs]
    refs = [settings.target, *(role.class_ref or role.path for role in settings.roles.values())]
    packages = {ref.split(":")[0].split(".")[0] for ref in refs if ref and ":" in ref}
    identifiers = frozenset(settings.roles).union(*(_identifiers(package) for package in packages))
    return sorted({text for text in texts if text}, key=len, reverse=True), identifiers


def wiringchecks_words(text: str, backend: tuple[list[str], frozenset[str]]) -> str:
    """`text` with what the backend says (its config's names, its log lines, its source, its code) blanked out."""
    said, identifiers = backend
    for path, line in _SOURCE_LINE.findall(text):
        code = linecache.getline(str(REPO / path) if not Path(path).is_absolute() else path, int(line)).strip()
        if code:
            text = text.replace(code, " ")
    text = _BACKEND_NAMES.sub(" ", text)
    for each in said:
        text = text.replace(each, " ")
    return _CODE_FORM.sub(lambda name: " " if name[0] in identifiers else name[0], text)


def problems(finding: Finding, kind: str, backend: tuple[list[str], frozenset[str]] | None = None) -> list[str]:
    """What is wrong with one finding's text, for a target of `kind` (and, given them, the backend's own texts)."""
    texts = [finding.message, finding.hint, *finding.evidence]
    found = []
    if any(_OWN_FRAMES.search(text) for text in texts):
        found.append("shows wiringcheck's own (or its CLI's) frames")
    if finding.location is not None and "/wiringcheck/" in finding.location.path:
        found.append("points into wiringcheck itself")
    if re.search(r"raised during (\w+): .*\1", finding.message) or "startup raised during startup" in finding.message:
        found.append("says the phase twice")
    if "line above" in finding.hint or ("this line" in finding.hint and finding.location is None):
        found.append("points at a line it does not give")
    if kind != "app" and "lifespan" in f"{finding.message} {finding.hint}":
        found.append("talks about a lifespan the target does not have")
    if backend is not None:
        for text in [*texts, finding.why, finding.title]:
            spoken = REFERENCE_VOCABULARY.search(wiringchecks_words(text, backend))
            if spoken:
                found.append(f"speaks the reference backend's language ({spoken[0]!r} in {text!r})")
    return found


def all_problems(report: Report, kind: str, settings: Settings | None = None) -> list[str]:
    backend = backend_texts(settings, report) if settings is not None else None
    return [f"{f.code}: {problem}" for f in report.findings for problem in problems(f, kind, backend)]


@pytest.mark.parametrize("name", sorted(p.name for p in FAULTS.iterdir() if (p / "wiringcheck.toml").is_file()))
def test_fault_messages_read_right(name):
    """The catalog's faults: no finding shows wiringcheck's frames, doubles a phase, points at no line, or speaks
    the reference backend's language where the backend did not."""
    settings = fault_settings(name)

    assert [] == all_problems(run(settings), settings.target_kind, settings)


@pytest.mark.parametrize("backend", ["studio", "relay"])
def test_other_reference_backends_are_never_spoken_of_as_the_reference_one(backend):
    """A healthy studio or relay run's findings and warnings carry none of agentchat's words."""
    settings = load_settings(REPO / "fixtures" / backend / "wiringcheck.toml")

    assert [] == all_problems(run(settings), settings.target_kind, settings)


def test_the_vocabulary_check_sees_the_reference_backends_words_in_wiringchecks_advice():
    """The check itself: the old WC402 advice ("a bridge with no WebSocket manager") is refused on the studio."""
    studio = load_settings(REPO / "fixtures" / "studio" / "wiringcheck.toml")
    old = Finding(code="WC402", message="x never arrived", hint="a bridge with no WebSocket manager drops events")

    assert 1 <= len(problems(old, "app", backend_texts(studio, Report(kind="run", target="studio"))))


def test_the_reference_backends_own_words_are_allowed_where_they_are_its_own():
    """On agentchat, its wire (config), its log line and its objects may say bridge: they are the backend's."""
    settings = healthy_settings()
    wire = Finding(
        code="WC211",
        message="wire does not hold: bridge.websocket_manager is not None",
        evidence=("bridge.websocket_manager = <fixtures.agentchat.bridge.AgentWebSocketBridge at 0x7f00>",),
    )

    assert [] == problems(wire, "app", backend_texts(settings, Report(kind="run", target="agentchat")))


@pytest.mark.parametrize(
    ("boot", "code"),
    [("fixtures.boot_target.faults:crashing_boot", "WC101"), ("fixtures.boot_target.faults:hanging_shutdown", "WC103")],
)
def test_boot_target_messages_speak_of_the_boot_function(boot, code):
    """A boot target's crash names the boot function, and its shutdown advice never mentions a lifespan."""
    settings = load_settings(Path(REPO / "fixtures" / "boot_target" / "wiringcheck.toml")).with_target(boot=boot)
    from dataclasses import replace

    report = run(replace(settings, shutdown_timeout=0.5))

    assert code in {f.code for f in report.findings}
    assert [] == all_problems(report, "boot")
    if code == "WC101":
        assert "the boot function raised RuntimeError: model server unreachable" in report.findings[0].message
