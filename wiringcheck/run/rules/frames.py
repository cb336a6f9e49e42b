"""Frames that are no event at all: binary (WC406), not JSON (WC406), a JSON object without a type (WC407)."""

from __future__ import annotations

from wiringcheck.findings import Finding
from wiringcheck.protocol import Kind
from wiringcheck.run.recording import RunView
from wiringcheck.run.rules._shared import Ruling, payload_text, shown_offset
from wiringcheck.secrets import shorten

CODES = ("WC406", "WC407")


def _finding(code: str, message: str, hint: str, evidence: str) -> Finding:
    return Finding(code=code, message=message, hint=hint, subject="probe", evidence=(evidence,))


def check(view: RunView) -> list[Ruling]:
    """One finding per malformed frame, in the order they arrived (the judge collapses a flood)."""
    rulings: list[Ruling] = []
    type_field = view.protocol.type_path.text
    for bad in view.malformed:
        at = view.ms(bad.frame.received_at)
        data = bad.frame.data
        if bad.item.kind is Kind.BINARY:
            finding = _finding(
                "WC406",
                f"frame #{bad.index} at {at:g} ms is binary ({len(data)} bytes), not a JSON text frame",
                "Send events as JSON text frames; clients that parse every frame as JSON break on this one.",
                f"#{bad.index} {shown_offset(at)}: {shorten(repr(data), 120)}",
            )
        elif bad.item.kind is Kind.NOT_JSON:
            finding = _finding(
                "WC406",
                f"frame #{bad.index} at {at:g} ms is not JSON: {shorten(repr(data), 60)}",
                "Send only JSON frames on this socket, or move keep-alives to WebSocket ping frames.",
                f"#{bad.index} {shown_offset(at)}: {shorten(repr(data), 120)}",
            )
        else:
            shown = shorten(data, 80) if isinstance(data, str) else ""
            finding = _finding(
                "WC407",
                f"frame #{bad.index} at {at:g} ms has no {type_field!r} field: {shown}",
                f"Give every event a {type_field!r} (or set probe.type_field to the field used, "
                "or list the frame under probe.ignore).",
                f"#{bad.index} {shown_offset(at)}: {payload_text(bad.item.message, 120)}",
            )
        rulings.append((None, finding))
    return rulings
