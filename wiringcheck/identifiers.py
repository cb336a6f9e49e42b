"""Identifier cross-check: the probe's own ids, seen in one another's place.

The probe knows every id it sent: the user it authenticated as, the thread and the
run its trigger named. A backend that passes the thread id where a user id belongs
addresses every event to a "user" that does not exist, and its logs say so only in
passing ("no open connection for user wc-thread-…"). This module reads log lines and
frames for one of those ids written right after a word for another kind of id
("user", "user_id", "thread", "run_id"…), and says which was used for which.

Generic on purpose: it knows words for kinds of ids, never a backend's messages. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass

from wiringcheck.boundedjson import loads
from wiringcheck.findings import Finding, Location
from wiringcheck.secrets import shorten

__all__ = ["KIND_WORDS", "Text", "swapped_ids"]

KIND_WORDS = {
    "user": ("user", "uid", "owner", "customer", "account", "member", "principal"),
    "thread": ("thread", "conversation", "chat", "session"),
    "run": ("run", "execution", "job"),
}
"""Words that name a kind of id, in messages and in field names (``user``, ``user_id``, ``userId``…)."""

_WORD = re.compile(
    r"(?i)(?<![a-z])(" + "|".join(word for words in KIND_WORDS.values() for word in words) + r")(?:[ _-]?id)?(?![a-z])"
)
_KIND_OF = {word: kind for kind, words in KIND_WORDS.items() for word in words}
_WINDOW = 24
"""Characters before an id searched for the word that says what the id is meant to be."""
_MIN_ID = 6
"""Shorter ids are too likely to appear by chance."""


@dataclass(frozen=True, slots=True)
class Text:
    """One line the backend wrote (a log message) or sent (a frame), and where it came from."""

    text: str
    origin: str
    location: Location | None = None


def _meant_kind(prefix: str) -> str | None:
    """The kind of id the last id-word right before an id names (``for user `` -> user)."""
    words = _WORD.findall(prefix[-_WINDOW:])
    return _KIND_OF[words[-1].lower()] if words else None


def _in_prose(text: str, ids: Mapping[str, str]) -> Iterator[tuple[str, str]]:
    """(kind of the id, kind the text calls it) for each of our ids the text writes after another kind's word."""
    for kind, value in ids.items():
        for match in re.finditer(re.escape(value), text):
            meant = _meant_kind(text[: match.start()])
            if meant is not None and meant != kind:
                yield kind, meant


def _in_fields(data: object, ids: Mapping[str, str], key: str = "") -> Iterator[tuple[str, str, str]]:
    """(kind of the id, kind the field's name says, field) for our ids found under another kind's field."""
    if isinstance(data, Mapping):
        for name, value in data.items():
            yield from _in_fields(value, ids, str(name))
    elif isinstance(data, list):
        for item in data:
            yield from _in_fields(item, ids, key)
    elif isinstance(data, str) and key:
        words = _WORD.findall(re.sub(r"(?<=[a-z])(?=[A-Z])", "_", key))
        meant = _KIND_OF[words[-1].lower()] if words else None
        for kind, value in ids.items():
            if data == value and meant is not None and meant != kind:
                yield kind, meant, key


def swapped_ids(ids: Mapping[str, str], texts: Iterable[Text]) -> list[Finding]:
    """WC440 for each line or frame that uses one of the probe's ids as another kind of id (one per pair of kinds).

    Args:
        ids: the probe's ids by kind (``{"user": ..., "thread": ..., "run": ...}``).
        texts: log lines and frames of the run.
    """
    ids = {kind: value for kind, value in ids.items() if value and len(value) >= _MIN_ID}
    found: dict[tuple[str, str], Finding] = {}
    for text in texts:
        hits: list[tuple[str, str, str]] = []
        try:
            data = loads(text.text) if text.origin.startswith("frame") else None
        except ValueError:
            data = None
        if data is not None:
            hits.extend(_in_fields(data, ids))
        else:
            hits.extend((kind, meant, "") for kind, meant in _in_prose(text.text, ids))
        for kind, meant, field in hits:
            if (kind, meant) in found:
                continue
            where = f" in field {field!r}" if field else ""
            found[(kind, meant)] = Finding(
                code="WC440",
                message=(
                    f"the backend used the probe's {kind} id {ids[kind]!r} as a {meant} id{where}: "
                    f"events addressed by {meant} go to someone who does not exist"
                ),
                location=text.location,
                hint=f"Find where the {meant} id is taken from the request, and pass the {meant} id there, "
                f"not the {kind} id (the {meant} id the probe used is {ids.get(meant, 'unknown')!r}).",
                subject="probe",
                evidence=(f"{text.origin}: {shorten(text.text, 200)}",),
            )
    return list(found.values())
