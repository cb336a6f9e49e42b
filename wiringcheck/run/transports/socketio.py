"""The socket.io transport: python-socketio's clients move events between a socket.io server and a session.

`drive` uses `socketio.AsyncClient` (aiohttp), `drive_sync` uses `socketio.Client`
(websocket-client; safe in threads and under gevent, the Locust user).  Both come with
``pip install 'wiringcheck[socketio]'``; without them a run is refused with that advice.

The wire format, and nothing else (the session decides everything):

- **where**: the request's URL gives the server (its origin and query string); its path is
  the socket.io endpoint (``probe.path``, default ``/socket.io``).  The client connects
  over WebSocket only, as Chainlit's and OpenHands' own clients do (no long-polling), to
  the namespace ``probe.namespace``.
- **credentials**: headers (an auth header, a cookie, ``probe.headers``) go with the
  upgrade, a query token in the URL, and ``auth.first_message`` is socket.io's own ``auth``
  payload, sent in the CONNECT packet (``client.connect(auth=...)``).
- **events**: each event the server emits is one frame: its first argument, as JSON, is the
  frame's data (``{}`` when it has none; later arguments are not read) and its event name
  is the frame's name, which matchers read as ``@event`` (the default type field).
- **the trigger** is emitted under ``probe.trigger_event`` (default ``message``, what
  ``send()`` uses), with the trigger object as its one argument.
- **refusals and closes**: a ``connect_error`` is a refused connection, with the server's
  own message; a disconnect before the session is done is the server closing.

Events reach a handler on the client's reader, which stamps them and puts them on a
queue; the driver waits on the queue with the session's moving bound, as the HTTP
transports do.  The reader hands events over in the order they arrived: python-socketio's
synchronous client would start a thread per message, so it is told not to (`_in_order`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import queue
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from wiringcheck.run.transports import CLOSE_TIMEOUT, MAX_MESSAGE

if TYPE_CHECKING:
    import ssl

    from wiringcheck.run.session import RunSession

__all__ = ["DEFAULT_PATH", "LIBRARIES", "MISSING", "drive", "drive_sync", "endpoint", "frame_of", "refusal_of", "sent"]

LIBRARIES = ("socketio", "aiohttp")
"""What a run imports lazily (`run.drive.preload` imports it before any clock runs; missing without the extra)."""

DEFAULT_PATH = "socket.io"
"""The socket.io endpoint when the URL names none (python-socketio's and the JavaScript client's default)."""

MISSING = "the socket.io transport needs python-socketio's client: pip install 'wiringcheck[socketio]'"
"""Why a run over socket.io is refused when its client library is not installed."""

Put = Callable[[tuple[Any, ...]], None]


# -- the wire format, shared by both drivers -------------------------------------------------------


def endpoint(url: str) -> tuple[str, str]:
    """(the server's URL without a path, the socket.io path) of the run's URL."""
    parts = urlsplit(url)
    path = parts.path.strip("/") or DEFAULT_PATH
    return urlunsplit((parts.scheme, parts.netloc, "", parts.query, "")), path


def frame_of(args: Sequence[Any]) -> str | bytes:
    """The data of the frame an event becomes: its first argument as JSON (`{}` without one), or its bytes."""
    if not args:
        return "{}"
    first = args[0]
    if isinstance(first, bytes):
        return first  # a binary event: judged as a binary frame
    return json.dumps(first, default=_binary)


def _binary(value: Any) -> str:
    """A binary attachment inside an event's argument, shown by its size (JSON has no bytes)."""
    if isinstance(value, bytes | bytearray):
        return f"<{len(value)} bytes>"
    raise TypeError(f"{type(value).__name__} is not JSON")


def reason_of(data: Any) -> str:
    """The server's reason in a ``connect_error`` payload (python-socketio sends ``{"message": ..., "data": ...}``)."""
    message = data.get("message") if isinstance(data, dict) else None
    if isinstance(message, str):
        extra = data.get("data")
        return message + (f" ({json.dumps(extra, default=str)})" if extra is not None else "")
    if isinstance(data, str):
        return data
    return json.dumps(data, default=str)


def refusal_of(exc: BaseException) -> tuple[str, int | None]:
    """What a failed connect says, and the HTTP status of a refused upgrade when there was one.

    python-socketio wraps every failure in ``ConnectionError("Connection error")``: the
    cause it was raised from (aiohttp's or websocket-client's) says what happened.
    """
    chain: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and seen not in chain:
        chain.append(seen)
        seen = seen.__cause__ or seen.__context__
    status = next((code for code in map(_status, chain) if code is not None), None)
    shown = f"{type(exc).__name__}: {exc}"
    root = chain[-1]
    if root is not exc and str(root) and str(root) not in shown:
        shown += f" ({type(root).__name__}: {root})"
    return shown, status


def _status(exc: BaseException) -> int | None:
    """The HTTP status of a refused WebSocket upgrade (aiohttp's `status`, websocket-client's `status_code`)."""
    for name in ("status_code", "status"):
        value = getattr(exc, name, None)
        if isinstance(value, int) and 100 <= value <= 599:
            return value
    return None


def sent(sends: Sequence[tuple[float, str | bytes]]) -> list[tuple[float, str | bytes]]:
    """(when, data) of each event the backend handed to its WebSocket, read as this transport feeds the session.

    `sends` are the backend's raw WebSocket messages (an in-process target records them):
    an engine.io message packet (``4``) holding a socket.io event (``2``) becomes the data
    `frame_of` gives the same event, so each received frame pairs with its hand-off.  An
    event with no argument is left out: its frame (``{}``) is the same for every user, so
    with several users at once it could pair with another user's hand-off; it stays untimed
    (or timed from its emitting call, with ``probe.emit``).
    """
    try:
        from socketio import packet
    except ImportError:
        return []
    handed: list[tuple[float, str | bytes]] = []
    for at, message in sends:
        if not isinstance(message, str) or not message.startswith("4"):
            continue
        try:
            decoded = packet.Packet(encoded_packet=message[1:])
        except Exception:  # anything else the backend sent is no event of the run
            continue
        if decoded.packet_type == packet.EVENT and isinstance(decoded.data, list) and len(decoded.data) > 1:
            handed.append((at, frame_of(decoded.data[1:])))
    return handed


def _listen(client: Any, namespace: str, put: Put, clock: Callable[[], float]) -> None:
    """Put what happens on the namespace on the queue, stamped as it is read."""

    def on_event(name: str, *args: Any) -> None:
        put(("event", clock(), time.time(), name, args))

    def on_connect() -> None:
        put(("connected", clock()))

    def on_refused(data: Any = None) -> None:
        put(("refused", clock(), data))

    def on_disconnect(reason: Any = None) -> None:
        put(("closed", clock(), reason))

    client.on("*", on_event, namespace=namespace)
    client.on("connect", on_connect, namespace=namespace)
    client.on("connect_error", on_refused, namespace=namespace)
    client.on("disconnect", on_disconnect, namespace=namespace)


def _client(kind: Any, session: RunSession, clock: Callable[[], float], options: dict[str, Any], put: Put) -> Any:
    """A python-socketio client for one run, listening: it never reconnects, leaves SIGINT alone, and its
    handshake is bounded by the session's connect bound."""
    client = kind(
        reconnection=False,
        handle_sigint=False,
        request_timeout=max(session.wake_at() - clock(), 0.001),
        websocket_extra_options=options,
    )
    _listen(client, session.request.namespace, put, clock)
    return client


def _feed(session: RunSession, item: tuple[Any, ...]) -> None:
    """Tell the session what the client read."""
    kind = item[0]
    if kind == "event":
        _, at, wall, name, args = item
        session.receive(frame_of(args), at, wall=wall, name=name)
    elif kind == "connected":
        session.connected(item[1])
        if session.request.first_message is not None:
            session.to_send()  # the auth payload went in the CONNECT packet: it is not sent again
    elif kind == "refused":
        session.refused(item[1], f"the server refused the socket.io connection: {reason_of(item[2])}", by_handler=True)
    elif not session.done:  # a disconnect: the one the driver makes comes after the session is done
        shown = f"socket.io: {item[2]}" if item[2] else "socket.io: disconnected"
        session.closed(item[1], None, shown)


def _connect_options(session: RunSession) -> dict[str, Any]:
    request = session.request
    server, path = endpoint(request.url)
    return {
        "url": server,
        "headers": dict(request.headers),
        "auth": json.loads(request.first_message) if request.first_message is not None else None,
        "transports": ["websocket"],
        "namespaces": [request.namespace],
        "socketio_path": path,
        "wait": False,  # the namespace's answer comes through the handlers, within the session's bound
    }


def _trigger(session: RunSession) -> tuple[str, Any]:
    """(event name, argument) of the trigger the session has to send."""
    (message,) = session.to_send()
    return session.request.trigger_event, json.loads(message)


# -- asyncio ---------------------------------------------------------------------------------------


async def drive(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
    before_trigger: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Connect, emit the trigger once the session is ready, feed it every event until it is done, and disconnect.

    `before_trigger` is awaited once connected and authenticated, before the trigger goes
    out (an isolation check starts every user at once).
    """
    session.begin(clock())
    try:
        import aiohttp  # noqa: F401  socketio.AsyncClient needs it, and would only say so when connecting
        import socketio
    except ImportError:
        session.refused(clock(), MISSING)
        return
    wake = session.wake_at()
    # aiohttp's default limit is 4 MiB; the socket's own bound, like the WebSocket transports'.
    options: dict[str, Any] = {"max_msg_size": MAX_MESSAGE}
    if ssl_context is not None:
        options["ssl"] = ssl_context
    inbox: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    client = _client(socketio.AsyncClient, session, clock, options, inbox.put_nowait)
    try:
        try:
            async with asyncio.timeout(max(wake - clock(), 0.0)):
                await client.connect(**_connect_options(session))
        except TimeoutError:
            session.tick(max(clock(), wake))
            return
        except (socketio.exceptions.ConnectionError, ValueError, OSError) as exc:
            shown, status = refusal_of(exc)
            session.refused(clock(), shown, status=status)
            return
        await _exchange(session, client, inbox, clock, before_trigger)
    finally:
        await _close(client, polite=not session.abort)


async def _exchange(
    session: RunSession,
    client: Any,
    inbox: asyncio.Queue[tuple[Any, ...]],
    clock: Callable[[], float],
    before_trigger: Callable[[], Awaitable[None]] | None,
) -> None:
    """Feed the session what arrives, and emit the trigger once it is ready, until it is done."""
    import socketio

    loop = asyncio.get_running_loop()
    while not session.done:
        if session.ready:
            if before_trigger is not None:
                await before_trigger()
            session.start(clock())
            event, argument = _trigger(session)
            with contextlib.suppress(socketio.exceptions.SocketIOError):  # a namespace just lost: the close says so
                await client.emit(event, argument, namespace=session.request.namespace)
            continue
        wake = session.wake_at()
        try:
            async with asyncio.timeout_at(loop.time() + (wake - clock())):
                item = await inbox.get()
        except TimeoutError:
            session.tick(max(clock(), wake))
            continue
        _feed(session, item)


async def _close(client: Any, *, polite: bool) -> None:
    """Disconnect within `CLOSE_TIMEOUT`; when not `polite` (a flooding or hung server), drop the connection first."""
    engine = client.eio
    transport = _transport_of(getattr(engine, "ws", None))
    try:
        async with asyncio.timeout(CLOSE_TIMEOUT):
            if not polite and transport is not None:
                transport.abort()  # no handshake with a server that would not answer
            await client.disconnect()
    except Exception:  # the verdict is recorded: closing decides nothing
        pass
    finally:
        await _release(engine, transport)


def _transport_of(socket: Any) -> Any:
    """The asyncio transport under aiohttp's WebSocket, if there is one."""
    connection = getattr(getattr(socket, "_response", None), "connection", None)
    return getattr(connection, "transport", None)


async def _release(engine: Any, transport: Any) -> None:
    """What a disconnect leaves behind: the client's tasks, its registration, its HTTP session, its socket.

    The socket is aborted last: a polite close has sent its close frame (and TLS its
    close_notify) by then, and the rest of the handshakes would outlive the run (and an
    event loop that ends with it: ``asyncio.run``).
    """
    from engineio import base_client

    tasks = [task for task in (engine.read_loop_task, engine.write_loop_task) if isinstance(task, asyncio.Task)]
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(BaseException):
            await task
    with contextlib.suppress(ValueError):
        base_client.connected_clients.remove(engine)
    if engine.http is not None and not engine.http.closed:
        with contextlib.suppress(Exception):
            await engine.http.close()
    if transport is not None:
        transport.abort()
    await asyncio.sleep(0)  # the abort closes the socket in a callback: let it run


# -- threads and gevent ----------------------------------------------------------------------------


def drive_sync(
    session: RunSession,
    *,
    ssl_context: ssl.SSLContext | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> None:
    """`drive` without asyncio, for threads and gevent greenlets (the Locust user): same run, same bounds."""
    session.begin(clock())
    try:
        import socketio
        import websocket  # noqa: F401  socketio.Client needs websocket-client for its WebSocket transport
    except ImportError:
        session.refused(clock(), MISSING)
        return
    wake = session.wake_at()
    # No Origin header (the async client sends none either; a server checking CORS would refuse a made-up one).
    options: dict[str, Any] = {"class_": _socket_class(), "http_no_proxy": ["*"], "suppress_origin": True}
    if ssl_context is not None:
        options["sslopt"] = {"context": ssl_context}
    inbox: queue.Queue[tuple[Any, ...]] = queue.Queue()
    client = _client(_in_order(), session, clock, options, inbox.put)
    try:
        try:
            client.connect(**_connect_options(session))
        except (socketio.exceptions.ConnectionError, ValueError, OSError) as exc:
            if clock() >= wake:  # the opening handshake outlived the connect timeout
                session.tick(clock())
            else:
                shown, status = refusal_of(exc)
                session.refused(clock(), shown, status=status)
            return
        while not session.done:
            if session.ready:
                session.start(clock())
                event, argument = _trigger(session)
                with contextlib.suppress(socketio.exceptions.SocketIOError):
                    client.emit(event, argument, namespace=session.request.namespace)
                continue
            wake = session.wake_at()
            try:
                item = inbox.get(timeout=max(wake - clock(), 0.0))
            except queue.Empty:
                session.tick(max(clock(), wake))
                continue
            _feed(session, item)
    finally:
        _close_sync(client, polite=not session.abort)


def _close_sync(client: Any, *, polite: bool) -> None:
    """Disconnect: a close frame when `polite` (not to a flooding or hung server), then the socket shut down.

    The socket is shut down (`_socket_class`), which wakes the client's reader with an end
    of stream in threads and greenlets alike; it is closed only once the disconnect has
    joined that reader, so no reader is ever left waiting on a descriptor that was closed
    under it (a thread would wait for the server; under gevent, libev's watcher would
    outlive its descriptor).
    """
    connection = getattr(client.eio, "ws", None)
    if not polite and connection is not None:
        connection.abort()
    with contextlib.suppress(Exception):
        client.disconnect()
    if connection is not None:
        connection.shutdown()


_CLASSES: dict[str, Any] = {}


def _in_order() -> Any:
    """`socketio.Client` whose engine.io client hands each message over on its reader, in order.

    engine.io's synchronous client starts a thread per message it received, so two events
    can reach the handler in either order, each later than it arrived; on the reader they
    come one after the other, stamped as they are read.  The server's DISCONNECT packet
    still gets its thread: handling it joins the reader, which a thread cannot do to itself.
    """
    if "client" not in _CLASSES:
        import engineio
        import socketio

        class InOrderEngine(engineio.Client):  # type: ignore[misc]
            def _trigger_event(self, event: str, *args: Any, **kwargs: Any) -> Any:
                # All but the server's DISCONNECT packet ("1"), whose handling joins the reader: not from itself.
                if event == "message" and not (args and isinstance(args[0], str) and args[0].startswith("1")):
                    kwargs["run_async"] = False
                return super()._trigger_event(event, *args, **kwargs)

        class InOrderClient(socketio.Client):  # type: ignore[misc]
            def _engineio_client_class(self) -> type[engineio.Client]:
                return InOrderEngine

        _CLASSES["client"] = InOrderClient
    return _CLASSES["client"]


def _socket_class() -> Any:
    """websocket-client's `WebSocket`, whose `close` sends the close frame and shuts the socket down, reading nothing.

    Its own `close` reads the server's answer for up to 3 s on the socket the client's
    reader is reading too: two readers of one socket (under gevent, an error; in threads,
    frames torn between them).  The reader reads the answer; the descriptor is closed by
    `_close_sync` once the reader has ended.
    """
    if "socket" not in _CLASSES:
        import socket

        import websocket

        class ShutDownOnClose(websocket.WebSocket):
            def close(self, status: int = 1000, reason: bytes | str = b"", timeout: float | None = None) -> None:
                sock = self.sock
                if self.connected and sock is not None:
                    with contextlib.suppress(Exception):
                        sock.settimeout(CLOSE_TIMEOUT)  # a server that reads nothing cannot hold the send
                        self.send_close(status, reason)
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                self.connected = False

        _CLASSES["socket"] = ShutDownOnClose
    return _CLASSES["socket"]
