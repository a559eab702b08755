"""HTTP/1.1 exchanges read from a copy of a connection's bytes: the tap's parser, without a socket.

Feed it the bytes each way as they come, in pieces of any size; it pairs each
request with its answer and records method, target, status, timing and body
sizes. It knows what the Engine API does with HTTP: bodies by length or in chunks,
answers that run until the connection closes (``logs -f``, ``events``), and
connections handed over to a raw stream (``101 UPGRADED``, ``attach``, ``exec``).
It never raises: a connection it cannot read is left alone (``broken``).

>>> talk = Conversation()
>>> talk.feed_request(b"GET /_ping HTTP/1.1\\r\\nHost: docker\\r\\n\\r\\n")
>>> talk.feed_response(b"HTTP/1.1 200 OK\\r\\nContent-Length: 2\\r\\n\\r\\nOK")
>>> [(ex.method, ex.path, ex.status, ex.received) for ex in talk.exchanges]
[('GET', '/_ping', 200, 2)]

Introduced in ``02-docker-engine-api`` (through :class:`~labhelpers.rawapi.tap.Tap`).
"""

from __future__ import annotations

import collections
import re
import time
from dataclasses import dataclass, field
from typing import Callable
from urllib.parse import parse_qsl, unquote, urlsplit

#: Paths whose request hands the connection over to a raw stream.
HIJACKING = re.compile(r"/(containers/[^/]+/attach|exec/[^/]+/start|session|grpc)$")


@dataclass
class Exchange:
    """One request through the tap, and its answer.

    Attributes:
        method, target: the request line (``GET``, ``/v<API version>/containers/json?all=1``:
            a client's paths start with the API version it negotiated).
        status, reason: the answer's status line (None while unanswered).
        started: seconds since the tap started, when the request began.
        duration: seconds from the request to the end of the answer (for a
            stream or an upgraded connection: to its close); None while open.
        upgraded: the connection was handed over to a raw stream (``101 UPGRADED``).
        chunked: the answer came in chunks (``Transfer-Encoding: chunked``).
        streamed: the answer had no length: it ran until the connection closed.
        sent, received: body bytes from the client, and from the engine.
    """

    method: str
    target: str
    request_headers: dict = field(repr=False)
    started: float = field(repr=False)
    status: int | None = None
    reason: str = ""
    response_headers: dict = field(default_factory=dict, repr=False)
    duration: float | None = field(default=None, repr=False)
    upgraded: bool = False
    chunked: bool = False
    streamed: bool = False
    sent: int = field(default=0, repr=False)
    received: int = field(default=0, repr=False)
    request_body: bytes | None = field(default=None, repr=False)
    response_body: bytes | None = field(default=None, repr=False)

    @property
    def path(self) -> str:
        """The path, without the query string."""
        return urlsplit(self.target).path

    @property
    def query(self) -> dict:
        """The query string's parameters."""
        return dict(parse_qsl(urlsplit(self.target).query, keep_blank_values=True))

    @property
    def note(self) -> str:
        """``upgraded``, ``until close``, ``chunked`` or empty."""
        if self.upgraded:
            return "upgraded"
        return "until close" if self.streamed else ("chunked" if self.chunked else "")

    def line(self) -> str:
        """One line: method, target (query decoded), status, time.

        >>> e = Exchange("GET", "/containers/json?all=1", {}, 0.0, 200, "OK", duration=0.0021)
        >>> e.line()
        'GET    /containers/json?all=1                         200  2.1 ms'
        """
        status = "-" if self.status is None else str(self.status)
        took = "open" if self.duration is None else f"{self.duration * 1000:.1f} ms"
        note = f"  ({self.note})" if self.note else ""
        return f"{self.method:<6} {unquote(self.target):<45} {status:>4}  {took}{note}"


def _head_done(buffer: bytearray) -> int:
    end = buffer.find(b"\r\n\r\n")
    return -1 if end < 0 else end + 4


def _parse_head(raw: bytes) -> tuple[str, dict]:
    lines = raw.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, value = line.split(":", 1)
            headers[key.strip().title()] = value.strip()
    return lines[0], headers


class _Side:
    """Incremental parser of one direction of a connection, fed a copy of its bytes."""

    def __init__(self, conn: "Conversation", is_request: bool):
        self.conn, self.is_request = conn, is_request
        self.buffer = bytearray()
        self.state = "head"
        self.remaining = 0
        self.current: Exchange | None = None
        self.broken = False

    # body bookkeeping -------------------------------------------------
    def _body(self, data: bytes) -> None:
        ex = self.current
        if ex is None:
            return
        if self.is_request:
            ex.sent += len(data)
        else:
            ex.received += len(data)
        if self.conn.record_bodies:
            attr = "request_body" if self.is_request else "response_body"
            have = getattr(ex, attr) or b""
            if len(have) < self.conn.body_limit:
                setattr(ex, attr, have + data[: self.conn.body_limit - len(have)])

    def _finish(self) -> None:
        ex, self.current = self.current, None
        self.state = "head"
        if ex is None:
            return
        if self.is_request:
            if "upgrade" in ex.request_headers.get("Connection", "").lower() or HIJACKING.search(ex.path):
                self.state = "raw"  # from here on the client writes a raw stream (stdin)
                self.current = ex
        else:
            ex.duration = self.conn.clock() - ex.started

    # feeding ------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if self.broken:
            return
        try:
            self._feed(data)
        except Exception:  # never let the recorder disturb the traffic
            self.broken = True

    def _feed(self, data: bytes) -> None:
        if self.state in ("raw", "close"):
            self._body(data)
            return
        self.buffer += data
        while self.buffer or self.state == "head-done":
            if self.state == "head":
                end = _head_done(self.buffer)
                if end < 0:
                    return
                head, self.buffer = bytes(self.buffer[:end]), self.buffer[end:]
                self._on_head(*_parse_head(head))
            elif self.state == "length":
                take = bytes(self.buffer[: self.remaining])
                del self.buffer[: len(take)]
                self.remaining -= len(take)
                self._body(take)
                if self.remaining == 0:
                    self._finish()
                elif not self.buffer:
                    return
            elif self.state == "chunk-size":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                size = int(bytes(self.buffer[:end]).split(b";")[0], 16)
                del self.buffer[: end + 2]
                self.remaining, self.state = size, ("chunk-data" if size else "trailer")
            elif self.state == "chunk-data":
                take = bytes(self.buffer[: self.remaining])
                del self.buffer[: len(take)]
                self.remaining -= len(take)
                self._body(take)
                if self.remaining:
                    return
                self.state = "chunk-crlf"
            elif self.state == "chunk-crlf":
                if len(self.buffer) < 2:
                    return
                del self.buffer[:2]
                self.state = "chunk-size"
            elif self.state == "trailer":
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                del self.buffer[: end + 2]
                if end == 0:
                    self._finish()
            elif self.state in ("raw", "close"):
                rest, self.buffer = bytes(self.buffer), bytearray()
                self._body(rest)
                return
            else:
                return

    def _on_head(self, first: str, headers: dict) -> None:
        conn = self.conn
        if self.is_request:
            method, target, _ = (first.split(" ", 2) + ["", ""])[:3]
            ex = Exchange(method, target, headers, conn.clock())
            self.current = ex
            conn.pending.append(ex)
            conn.on_exchange(ex)
        else:
            parts = first.split(" ", 2)
            status = int(parts[1])
            if 100 <= status < 200 and status != 101:
                return  # "100 Continue" and the like: the real answer follows
            ex = conn.pending.popleft() if conn.pending else None
            if ex is None:  # an answer we cannot pair: record it as such
                ex = Exchange("?", "?", {}, conn.clock())
                conn.on_exchange(ex)
            ex.status, ex.reason = status, (parts[2] if len(parts) > 2 else "")
            ex.response_headers = headers
            self.current = ex
            if ex.status == 101:
                ex.upgraded = True
                self.state = "raw"
                conn.request_side.state = "raw"
                conn.request_side.current = ex
                return
            if ex.method == "HEAD" or ex.status in (204, 304):
                self._finish()
                return
        if "chunked" in headers.get("Transfer-Encoding", "").lower():
            self.state = "chunk-size"
            if not self.is_request:
                self.current.chunked = True
        elif "Content-Length" in headers:
            self.remaining = int(headers["Content-Length"])
            self.state = "length"
            if self.remaining == 0:
                self._finish()
        elif self.is_request:
            self._finish()  # a request without a body
        else:
            self.state = "close"  # the body runs until the engine closes the connection
            self.current.streamed = True

    def closed(self) -> None:
        """The connection ended: whatever is still open ends now."""
        if not self.is_request and self.current is not None and self.current.duration is None:
            self.current.duration = self.conn.clock() - self.current.started
            self.current = None


class Conversation:
    """Both directions of one connection, parsed from copies of their bytes.

    Args:
        on_exchange: called with each :class:`Exchange` as its request begins
            (default: append it to :attr:`exchanges`).
        clock: seconds, for ``started`` and ``duration`` (default: ``time.perf_counter``).
        record_bodies: also keep request and response bodies.
        body_limit: the most bytes of each body kept.

    Attributes:
        exchanges: the exchanges so far, when no ``on_exchange`` was given.
        pending: requests still waiting for their answer, oldest first.

    >>> talk = Conversation(record_bodies=True)
    >>> talk.feed_request(b"POST /containers/create HTTP/1.1\\r\\nContent-Length: 2\\r\\n\\r\\n{}")
    >>> talk.feed_response(b"HTTP/1.1 201 Created\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
    ...                    b"3\\r\\nabc\\r\\n0\\r\\n\\r\\n")
    >>> ex = talk.exchanges[0]
    >>> (ex.status, ex.request_body, ex.response_body, ex.note)
    (201, b'{}', b'abc', 'chunked')

    Introduced in ``02-docker-engine-api`` (through :class:`~labhelpers.rawapi.tap.Tap`).
    """

    def __init__(self, on_exchange: Callable[[Exchange], None] | None = None,
                 clock: Callable[[], float] = time.perf_counter,
                 record_bodies: bool = False, body_limit: int = 65536):
        self.exchanges: list[Exchange] = []
        self.on_exchange = on_exchange or self.exchanges.append
        self.clock = clock
        self.record_bodies = record_bodies
        self.body_limit = body_limit
        self.pending: collections.deque[Exchange] = collections.deque()
        self.request_side = _Side(self, True)
        self.response_side = _Side(self, False)

    def feed_request(self, data: bytes) -> None:
        """Read bytes the client sent (any piece of the stream).

        Args:
            data: the next bytes from the client.

        >>> Conversation().feed_request(b"GET / HTTP/1.1\\r\\n")
        """
        self.request_side.feed(data)

    def feed_response(self, data: bytes) -> None:
        """Read bytes the engine sent (any piece of the stream).

        Args:
            data: the next bytes from the engine.

        >>> Conversation().feed_response(b"HTTP/1.1 200 OK\\r\\n")
        """
        self.response_side.feed(data)

    def closed(self) -> None:
        """The connection ended: an answer still running, and requests never answered, end now.

        >>> talk = Conversation()
        >>> talk.feed_request(b"GET /events HTTP/1.1\\r\\n\\r\\n")
        >>> talk.closed()
        >>> talk.exchanges[0].duration is not None
        True
        """
        self.response_side.closed()
        for pending in self.pending:
            if pending.duration is None:
                pending.duration = self.clock() - pending.started
