"""Cross-talk between users: no user may receive another user's run (WC424).

Several users run at once (an isolation check, a load test); each frame a user
received is searched for the values that identify another user's run (its run id as
the server assigned it, its thread and user ids), and the runs the judge found on a
user's socket that are not its own are named.  A user's own earlier runs are never
someone else's (the judge counts them apart).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wiringcheck import boundedjson
from wiringcheck.findings import Finding
from wiringcheck.run.recording import Recording
from wiringcheck.run.rules._shared import ms, shown_offset, text
from wiringcheck.secrets import shorten

CODES = ("WC424",)

_HINT = (
    "Events leak between users: route each run's events to the connections of the user who "
    "started it, keyed by the run id, and never fall back to broadcasting."
)


@dataclass(frozen=True, slots=True)
class UserRun:
    """One simulated user: its label, the values that identify its run, what it received, and whose runs it saw.

    Attributes:
        identity: field kind → value that only this user's run carries (its run id, thread id, user id).
        foreign: run id → frames of that run on this user's socket that the judge found not to be its own.
    """

    label: str
    identity: Mapping[str, str]
    recording: Recording
    foreign: Mapping[str, int] = field(default_factory=dict)


def user_run(label: str, recording: Recording, foreign: Mapping[str, int] | None = None) -> UserRun:
    """A user's run with the values only it carries: the ids it sent, and its run's id as the server knows it."""
    identity = {kind: value for kind, value in recording.ids if value}
    if recording.id != recording.run_id:  # the server assigned the run's id: the one the probe sent still says whose
        identity["sent run"] = recording.run_id
    identity["run"] = recording.id
    return UserRun(label=label, identity=identity, recording=recording, foreign=dict(foreign or {}))


def check_cross_talk(users: Sequence[UserRun]) -> tuple[list[Finding], dict[str, list[str]]]:
    """WC424 for each user that received another user's run, and where each user's frames went.

    Returns the findings, and for each user label the lines saying which other user
    received its frames (for the evidence of its missing events).
    """
    findings: list[Finding] = []
    went: dict[str, list[str]] = {}
    owner_of_run = {_run_of(user): user for user in users}
    for receiver in users:
        own = set(receiver.identity.values())
        leaks: dict[str, list[str]] = {}
        fields: dict[str, str] = {}
        for index, frame in enumerate(receiver.recording.frames):
            message = _json(frame.data)
            if message is None:
                continue
            for owner in users:
                if owner is receiver:
                    continue
                # A value both users carry (the same run id taken by both) identifies neither.
                path = _revealing_field(message, set(owner.identity.values()) - own)
                if path is None:
                    continue
                at = ms(frame.received_at - receiver.recording.trigger_at)
                leak = f"#{index} {shown_offset(at)}: {shorten(text(frame.data), 160)}"
                leaks.setdefault(owner.label, []).append(leak)
                fields.setdefault(owner.label, path)
                break
        for label, frames in leaks.items():
            went.setdefault(label, []).append(f"{len(frames)} of its frame(s) went to {receiver.label}")
            owner = next(user for user in users if user.label == label)
            findings.append(
                Finding(
                    code="WC424",
                    message=(
                        f"{receiver.label} received {len(frames)} frame(s) of {label}'s run {_run_of(owner)!r} "
                        f"(revealed by the field {fields[label]!r})"
                    ),
                    hint=_HINT,
                    subject="isolation",
                    evidence=tuple(frames[:3]),
                    data={
                        "receiver": receiver.label,
                        "owner": label,
                        "run": _run_of(owner),
                        "field": fields[label],
                        "count": len(frames),
                    },
                )
            )
        for run, count in receiver.foreign.items():
            claimed = owner_of_run.get(run)
            if claimed is not None and claimed.label in leaks:
                continue  # said above, with the field that revealed it
            whose = (
                f"{claimed.label}'s run" if claimed is not None and claimed is not receiver else "another user's run"
            )
            findings.append(
                Finding(
                    code="WC424",
                    message=f"{receiver.label} received {count} frame(s) of {whose} {run!r}, not its own "
                    f"{_run_of(receiver)!r}",
                    hint=_HINT,
                    subject="isolation",
                    data={
                        "receiver": receiver.label,
                        "owner": claimed.label if claimed else None,
                        "run": run,
                        "count": count,
                    },
                )
            )
    shared: dict[str, list[str]] = {}
    for user in users:
        shared.setdefault(_run_of(user), []).append(user.label)
    for run, labels in shared.items():
        if len(labels) > 1:
            findings.append(
                Finding(
                    code="WC424",
                    message=f"{' and '.join(labels)} each took run {run!r} as their own: one user's run reached "
                    "the others from its first event",
                    hint=_HINT,
                    subject="isolation",
                    data={"users": labels, "run": run},
                )
            )
    return findings, went


def _run_of(user: UserRun) -> str:
    """The user's run id as the server knows it."""
    return user.identity.get("run") or user.recording.id


def _revealing_field(message: Any, wanted: set[str], path: str = "") -> str | None:
    """The dotted path of the first string field of `message` equal to one of `wanted`."""
    if not wanted:
        return None
    if isinstance(message, dict):
        for key, value in message.items():
            inner = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and value in wanted:
                return inner
            if isinstance(value, dict | list):
                found = _revealing_field(value, wanted, inner)
                if found is not None:
                    return found
    elif isinstance(message, list):
        for position, value in enumerate(message):
            inner = f"{path}.{position}" if path else str(position)
            if isinstance(value, str) and value in wanted:
                return inner
            found = _revealing_field(value, wanted, inner) if isinstance(value, dict | list) else None
            if found is not None:
                return found
    return None


def _json(data: str | bytes) -> Any:
    if isinstance(data, bytes):
        return None
    try:
        return boundedjson.loads(data)
    except ValueError:  # not JSON, or nested past the bound (boundedjson.TooDeep)
        return None
