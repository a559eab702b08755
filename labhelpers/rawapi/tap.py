"""The API tap: a recording proxy between a Docker client and the engine.

The tap listens on its own unix socket (mode 0600, in a private temporary
folder), and for each connection opens one to the engine's socket. Every byte
is forwarded as it arrives, unchanged; a *copy* is parsed on the side to record
each request and its answer: method, path, query, status, duration (and the
bodies when asked). Upgraded connections (``docker run`` attaching, ``exec``)
and streamed answers (``logs -f``, ``events``) pass through untouched; after an
upgrade the tap only counts bytes.

Point any client at it with ``DOCKER_HOST=unix://<tap.path>``:

>>> with Tap() as tap:                           # doctest: +SKIP
...     tap.run("docker ps").returncode
...     tap.lines()
0
['HEAD   /_ping  ...  200  0.4 ms', 'GET    /v1.../containers/json  ...  200  1.9 ms']

From a terminal: ``python -m labhelpers tap -- docker ps``.

Introduced in ``02-docker-engine-api``.
"""

from __future__ import annotations

import collections
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote, urlsplit

from ..errors import LabError

LONG_ID = re.compile(r"\b[0-9a-f]{64}\b")
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

    def __init__(self, conn: "_Connection", is_request: bool):
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
        if self.conn.tap.record_bodies:
            attr = "request_body" if self.is_request else "response_body"
            have = getattr(ex, attr) or b""
            if len(have) < self.conn.tap.body_limit:
                setattr(ex, attr, have + data[: self.conn.tap.body_limit - len(have)])

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
            ex.duration = time.perf_counter() - self.conn.tap._t0 - ex.started

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
        tap = self.conn.tap
        if self.is_request:
            method, target, _ = (first.split(" ", 2) + ["", ""])[:3]
            ex = Exchange(method, target, headers, time.perf_counter() - tap._t0)
            self.current = ex
            self.conn.pending.append(ex)
            tap._record(ex)
        else:
            parts = first.split(" ", 2)
            status = int(parts[1])
            if 100 <= status < 200 and status != 101:
                return  # "100 Continue" and the like: the real answer follows
            ex = self.conn.pending.popleft() if self.conn.pending else None
            if ex is None:  # an answer we cannot pair: record it as such
                ex = Exchange("?", "?", {}, time.perf_counter() - tap._t0)
                tap._record(ex)
            ex.status, ex.reason = status, (parts[2] if len(parts) > 2 else "")
            ex.response_headers = headers
            self.current = ex
            if ex.status == 101:
                ex.upgraded = True
                self.state = "raw"
                self.conn.request_side.state = "raw"
                self.conn.request_side.current = ex
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
            self.current.duration = time.perf_counter() - self.conn.tap._t0 - self.current.started
            self.current = None


class _Connection:
    """One client connection and its twin towards the engine, pumped by two threads."""

    def __init__(self, tap: "Tap", client: socket.socket, upstream: socket.socket):
        self.tap, self.client, self.upstream = tap, client, upstream
        self.pending: collections.deque[Exchange] = collections.deque()
        self.request_side = _Side(self, True)
        self.response_side = _Side(self, False)
        self._left = 2
        self._lock = threading.Lock()

    def start(self) -> None:
        for src, dst, side in ((self.client, self.upstream, self.request_side),
                               (self.upstream, self.client, self.response_side)):
            threading.Thread(target=self._pump, args=(src, dst, side), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, side: _Side) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            side.feed(data)  # record first: the engine's answer may come back at once
            try:
                dst.sendall(data)
            except OSError:
                break
        try:
            dst.shutdown(socket.SHUT_WR)  # pass the half-close on (stdin ended, say)
        except OSError:
            pass
        with self._lock:
            self._left -= 1
            last = self._left == 0
        if last:
            self.response_side.closed()
            for pending in self.pending:  # requests the engine never answered
                if pending.duration is None:
                    pending.duration = time.perf_counter() - self.tap._t0 - pending.started
            self.client.close()
            self.upstream.close()
            self.tap._done(self)

    def abort(self) -> None:
        for sock in (self.client, self.upstream):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class Tap:
    """A recording proxy in front of the engine's unix socket.

    Args:
        upstream: the engine's socket (default: the kit's engine).
        record_bodies: also keep request and response bodies (up to ``body_limit`` bytes each).
        body_limit: the most bytes of each body kept.

    Attributes:
        path: the tap's own socket, in a private temporary folder, mode 0600.
        url: ``unix://`` + path, for ``DOCKER_HOST``.
    """

    def __init__(self, upstream: str | None = None, record_bodies: bool = False, body_limit: int = 65536):
        if upstream is None:
            from .http import default_socket

            upstream = default_socket()
        self.upstream = upstream
        self.record_bodies = record_bodies
        self.body_limit = body_limit
        self.path: str | None = None
        self._folder: str | None = None
        self._records: list[Exchange] = []
        self._connections: set[_Connection] = set()
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._t0 = time.perf_counter()

    @property
    def url(self) -> str:
        return f"unix://{self.path}"

    # life cycle ---------------------------------------------------------
    def start(self) -> "Tap":
        """Create the socket and start accepting connections."""
        self._folder = tempfile.mkdtemp(prefix="labhelpers-tap-")  # mode 0700: ours alone
        self.path = os.path.join(self._folder, "docker.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path)  # inside a 0700 folder: nobody else can reach it, even now
        os.chmod(self.path, 0o600)
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        self._stop.clear()
        self._t0 = time.perf_counter()
        self._thread = threading.Thread(target=self._serve, name="labhelpers-tap", daemon=True)
        self._thread.start()
        return self

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                break
            client.settimeout(None)
            upstream = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                upstream.connect(self.upstream)
            except OSError:
                client.close()  # the client sees the same refusal it would without the tap
                upstream.close()
                continue
            conn = _Connection(self, client, upstream)
            with self._lock:
                self._connections.add(conn)
            conn.start()

    def stop(self) -> None:
        """Stop accepting, cut open connections, remove the socket and its folder."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        with self._lock:
            live = list(self._connections)
        for conn in live:
            conn.abort()
        self.wait_idle(2)
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None

    def __enter__(self) -> "Tap":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # recording ----------------------------------------------------------
    def _record(self, ex: Exchange) -> None:
        with self._lock:
            self._records.append(ex)

    def _done(self, conn: _Connection) -> None:
        with self._idle:
            self._connections.discard(conn)
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every connection through the tap has closed; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._connections:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    @property
    def records(self) -> list[Exchange]:
        """The exchanges so far, in the order the requests began."""
        with self._lock:
            return list(self._records)

    def clear(self) -> None:
        """Forget the recorded exchanges."""
        with self._lock:
            self._records.clear()

    # using it -----------------------------------------------------------
    def env(self, base: dict | None = None) -> dict:
        """An environment whose ``docker`` talks through the tap."""
        env = dict(os.environ if base is None else base)
        env["DOCKER_HOST"] = self.url
        env.pop("DOCKER_CONTEXT", None)
        return env

    def run(self, command, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a command (``"docker ps"`` or a list) through the tap, capture its output.

        Waits for the command's connections to close, so its exchanges are all recorded.
        """
        args = shlex.split(command) if isinstance(command, str) else list(command)
        try:
            done = subprocess.run(args, env=self.env(), input=input, capture_output=True, text=True,
                                  timeout=timeout)
        except FileNotFoundError as err:
            raise LabError(f"{args[0]!r} is not installed here.",
                           "install the docker CLI (Debian: `apt install docker.io`)") from err
        self.wait_idle()
        return done

    def lines(self) -> list[str]:
        """One line per exchange: method, path, status, time."""
        return [ex.line() for ex in self.records]

    def table(self, short_ids: bool = True):
        """The exchanges as a pandas DataFrame (the time as text of fixed width, e.g. ``      1.2 ms``).

        Args:
            short_ids: show 64-digit ids in paths as their first 12 digits and ``…``.
        """
        import pandas as pd

        def shown(path: str) -> str:
            return LONG_ID.sub(lambda m: m.group(0)[:12] + "…", path) if short_ids else path

        rows = [{
            "method": ex.method,
            "path": shown(ex.path),
            "query": "&".join(f"{k}={v}" for k, v in ex.query.items()),
            "status": ex.status,
            # fixed width: the column keeps its width whatever the numbers
            "time": "     open" if ex.duration is None else f"{ex.duration * 1000:9.1f} ms",
            "note": ex.note,
        } for ex in self.records]
        return pd.DataFrame(rows, columns=["method", "path", "query", "status", "time", "note"])
