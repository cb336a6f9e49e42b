"""The WebSocket transport, synchronous: safe in threads and under gevent (the Locust user).

It drives websockets' sans-I/O `ClientProtocol` over one plain socket, in the calling
thread (or greenlet), with no thread of its own: under gevent's monkey patching every
blocking call on the socket yields to other greenlets, and no background reader is left
holding a watcher on a descriptor that was closed (what made Locust abort with libev's
"I/O watcher with invalid fd").  Like the asyncio transport it decides nothing: the
session says what to send and when to stop.
"""

from __future__ import annotations

import contextlib
import socket
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from wiringcheck.run.transports import CLOSE_TIMEOUT, MAX_MESSAGE

if TYPE_CHECKING:
    import ssl

    from wiringcheck.run.session import RunSession

__all__ = ["LIBRARIES", "drive"]

LIBRARIES = ("websockets.client",)
"""What a run imports lazily (`run.drive.preload` imports it before any clock runs)."""

_READ = 65536
"""Bytes read from the socket at a time."""


def drive(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """Connect, exchange messages until the session is done, and close (or drop) the connection."""
    from websockets.client import ClientProtocol
    from websockets.exceptions import InvalidStatus, InvalidURI
    from websockets.typing import Subprotocol
    from websockets.uri import parse_uri

    request = session.request
    session.begin(clock())
    try:
        uri = parse_uri(request.url)
    except InvalidURI as exc:
        session.refused(clock(), f"InvalidURI: {exc}")
        return
    protocol = ClientProtocol(
        uri, subprotocols=[Subprotocol(s) for s in request.subprotocols] or None, max_size=MAX_MESSAGE
    )
    wake = session.wake_at()
    try:
        sock = socket.create_connection((uri.host, uri.port), timeout=max(wake - clock(), 0.001))
    except TimeoutError:
        session.tick(max(clock(), wake))
        return
    except OSError as exc:
        session.refused(clock(), f"{type(exc).__name__}: {exc}")
        return
    link = _Link(sock, protocol, session, clock)
    try:
        if uri.secure:
            import ssl

            context = ssl_context or ssl.create_default_context()
            link.sock = context.wrap_socket(sock, server_hostname=uri.host)
        handshake = protocol.connect()
        for name, value in request.headers:
            handshake.headers[name] = value
        protocol.send_request(handshake)
        link.flush()
        if not link.opened():
            return
        failure = protocol.handshake_exc
        if failure is not None:
            status = failure.response.status_code if isinstance(failure, InvalidStatus) else None
            session.refused(clock(), f"{type(failure).__name__}: {failure}", status=status)
            return
        session.connected(clock())
        link.exchange(until_ready=True)
        if session.ready:
            session.start(clock())
            link.exchange(until_ready=False)
    except OSError as exc:  # TLS, a reset: before the run it is a failed connection, during it a lost one
        if session.trigger_at is None and not session.ready:
            session.refused(clock(), f"{type(exc).__name__}: {exc}")
        else:
            session.closed(clock(), 1006, f"connection lost ({type(exc).__name__})")
    finally:
        link.close(polite=not session.abort)


class _Link:
    """One socket and its protocol, feeding one session: read into the protocol, write what it has to send."""

    def __init__(self, sock: socket.socket, protocol: Any, session: RunSession, clock: Callable[[], float]) -> None:
        self.sock = sock
        self.protocol = protocol
        self.session = session
        self.clock = clock
        self._opcode: Any = None
        self._parts: list[bytes] = []
        self._pending: list[Any] = []
        """Messages that came with the handshake's answer, before the session was connected."""

    def flush(self) -> None:
        for data in self.protocol.data_to_send():
            if data:
                self.sock.sendall(data)
            else:  # the protocol half-closes after a close handshake
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_WR)

    def read(self, timeout: float) -> bool:
        """Read once into the protocol within `timeout`; False when nothing came in time."""
        self.sock.settimeout(max(timeout, 0.001))
        try:
            data = self.sock.recv(_READ)
        except TimeoutError:
            return False
        if data:
            self.protocol.receive_data(data)
        else:
            self.protocol.receive_eof()
        self.flush()  # pongs, and the answer to a close
        return True

    def wait(self) -> None:
        """Read, or tell the session that its bound passed with nothing to read."""
        wake = self.session.wake_at()
        remaining = wake - self.clock()
        if remaining <= 0 or not self.read(remaining):
            self.session.tick(max(self.clock(), wake))

    def opened(self) -> bool:
        """Read until the server answered the opening handshake; False when the session ended first."""
        from websockets.http11 import Response

        while not self.session.done:
            if self.protocol.handshake_exc is not None:
                return True
            # A server may send its first messages in the same packet as the handshake: they stay queued.
            events = self.protocol.events_received()
            if any(isinstance(event, Response) for event in events):
                self._pending = [event for event in events if not isinstance(event, Response)]
                return True
            self.wait()
        return False

    def exchange(self, *, until_ready: bool) -> None:
        """Send what the session has to send and feed it what arrives, until it is done (or ready)."""
        session = self.session
        while True:
            for message in session.to_send():
                if self.protocol.state.name == "OPEN":
                    self.protocol.send_text(message.encode())
                    self.flush()
            if session.done or (until_ready and session.ready):
                return
            events, self._pending = [*self._pending, *self.protocol.events_received()], []
            for position, event in enumerate(events):
                if self._frame(event):
                    return
                if until_ready and session.ready:
                    # What came after the acknowledgement belongs to the run: it waits for the trigger.
                    self._pending = events[position + 1 :]
                    return
            if self._closed():
                return
            self.wait()

    def _frame(self, frame: Any) -> bool:
        """Reassemble a message from its frames (pings and closes are the protocol's); True once the session is done."""
        from websockets.frames import Opcode

        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self._opcode, self._parts = frame.opcode, [frame.data]
        elif frame.opcode is Opcode.CONT and self._opcode is not None:
            self._parts.append(frame.data)
        else:
            return self.session.done
        if frame.fin:
            data = b"".join(self._parts)
            text = self._opcode is Opcode.TEXT
            self._opcode, self._parts = None, []
            # The protocol has already refused a text frame that is not UTF-8 (close 1007).
            self.session.receive(data.decode() if text else data, self.clock(), wall=time.time())
        return self.session.done

    def _closed(self) -> bool:
        """Tell the session when the connection closed: the server's close, the client's refusal, or a lost link."""
        protocol = self.protocol
        if protocol.close_rcvd is not None:
            self.session.closed(self.clock(), protocol.close_rcvd.code, protocol.close_rcvd.reason)
            return True
        if protocol.close_sent is not None:  # the protocol refused what the server sent (1009, 1007)
            sent = protocol.close_sent
            self.session.closed(self.clock(), sent.code, sent.reason, by_client=sent.code not in (1000, 1001))
            return True
        if protocol.state.name == "CLOSED":
            self.session.closed(self.clock(), 1006, "connection lost without a close frame")
            return True
        return False

    def close(self, *, polite: bool) -> None:
        """Close with a handshake (bounded by `CLOSE_TIMEOUT`), or drop the socket when `polite` is False."""
        try:
            if polite and self.protocol.state.name in ("OPEN", "CLOSING"):
                if self.protocol.state.name == "OPEN":
                    self.protocol.send_close(1000)
                    self.flush()
                until = self.clock() + CLOSE_TIMEOUT
                while self.protocol.state.name != "CLOSED" and self.clock() < until:
                    if not self.read(until - self.clock()):
                        break
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                self.sock.close()
