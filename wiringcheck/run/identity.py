"""Whose run is this: the one decision, made the same way by the session (to know when its run ended)
and by the judge (to know what to judge).

- ``client``: the run is the id the probe put in its request;
- ``server``: the id the server assigned: captured by a setup step, or learnt once from
  the first frame that matches ``run_id_from`` (by default the first expected event);
  from then on it is the run's id everywhere;
- ``connection``: every frame on the probe's connection is the run's.

Frames that name no run belong to the run (a backend that does not say is talking to
this connection).  Frames of the same user's earlier runs are told apart from another
user's: a user's own late frames are never cross-talk.
"""

from __future__ import annotations

from wiringcheck.protocol import Item, Kind, Protocol

__all__ = ["RunIdentity"]


class RunIdentity:
    """Decides, item after item, which items belong to the run, and learns a server-assigned id once."""

    __slots__ = ("earlier", "learnt", "protocol", "run_id")

    def __init__(self, protocol: Protocol, run_id: str | None, *, earlier: tuple[str, ...] = ()) -> None:
        self.protocol = protocol
        self.run_id = run_id if protocol.correlation != "connection" else None
        self.learnt = False
        """Whether `run_id` was learnt from a frame (``server`` correlation without a setup step)."""
        self.earlier = frozenset(earlier)

    def owner(self, item: Item) -> str | None:
        """None when `item` belongs to this run; else the id of the run it belongs to."""
        if self.protocol.correlation == "connection" or item.run_id is None:
            return None
        if self.run_id is None:
            capture = self.protocol.run_id_from or self.protocol.matchers[0]
            if item.kind is not Kind.BINARY and capture.matches(item.message):
                self.run_id = item.run_id
                self.learnt = True
                return None
            return item.run_id
        return None if item.run_id == self.run_id else item.run_id

    def owns(self, item: Item) -> bool:
        """Whether `item` belongs to this run (learning the run's id from it, when it is the first)."""
        return self.owner(item) is None
