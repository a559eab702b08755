"""HTTP over a unix socket, with the standard library only.

The Docker Engine API is plain HTTP/1.1; on Linux it listens on a unix socket
instead of a TCP port. :class:`UnixHTTPConnection` is ``http.client``'s
connection with ``connect()`` swapped for an ``AF_UNIX`` socket: nothing else
changes. :class:`RawClient` adds the engine's habits (JSON bodies, a version
prefix agreed with the engine, ``filters`` given as JSON in the query string).

>>> from labhelpers.rawapi import RawClient
>>> api = RawClient()                            # doctest: +SKIP
>>> api.get("/_ping").body                       # doctest: +SKIP
b'OK'

Introduced in ``02-docker-engine-api``.
"""

from __future__ import annotations

import http.client
import json as jsonlib
import socket
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from ..errors import LabError
from .versions import negotiated

#: Seconds to wait for the engine to accept a connection or answer.
TIMEOUT = 30


def default_socket() -> str:
    """The unix socket of the engine the kit uses (see :mod:`labhelpers.engine`).

    Returns:
        The socket's path.

    Raises:
        LabError: the engine is not behind a unix socket (``tcp://``, ``ssh://``).

    >>> default_socket()                             # doctest: +SKIP
    '/var/run/docker.sock'

    (skipped: the answer is this machine's engine.) Introduced in ``02-docker-engine-api``.
    """
    from ..engine import find_endpoint

    endpoint = find_endpoint()
    if endpoint.socket_path is None:
        raise LabError(
            f"The engine is at {endpoint.url} (from {endpoint.source}), not behind a unix socket.",
            "the raw-API cells of notebook 02 need a local engine: unset DOCKER_HOST "
            "(or `docker context use default`) and run the notebook again",
        )
    return endpoint.socket_path


def query_string(query: dict | None) -> str:
    """Encode a query the way the engine expects: dicts and lists as JSON.

    Args:
        query: the parameters; None values are left out, booleans sent as 1 and 0.

    Returns:
        ``?key=value&...``, or ``""`` for no parameters.

    >>> query_string({"all": 1, "filters": {"label": ["a=b"]}})
    '?all=1&filters=%7B%22label%22%3A+%5B%22a%3Db%22%5D%7D'
    >>> query_string({"all": True, "since": None})
    '?all=1'
    >>> query_string(None)
    ''
    """
    if not query:
        return ""
    pairs = []
    for key, value in query.items():
        if value is None:
            continue
        if isinstance(value, bool):
            value = int(value)
        elif isinstance(value, (dict, list)):
            value = jsonlib.dumps(value)
        pairs.append((key, value))
    return "?" + urlencode(pairs) if pairs else ""


class UnixHTTPConnection(http.client.HTTPConnection):
    """``http.client.HTTPConnection`` over a unix socket: only ``connect`` differs."""

    def __init__(self, socket_path: str, timeout: float = TIMEOUT):
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.socket_path)


@dataclass
class Response:
    """One answer of the engine.

    Attributes:
        method, path: what was asked (the path with its query string).
        status, reason: ``404``, ``"Not Found"``.
        headers: the response headers.
        body: the raw body bytes.
        elapsed: seconds from sending the request to the last byte of the body.
    """

    method: str
    path: str
    status: int
    reason: str
    headers: dict = field(repr=False)
    body: bytes = field(repr=False)
    elapsed: float = field(repr=False)

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self):
        """The body decoded from JSON."""
        return jsonlib.loads(self.body)

    @property
    def message(self) -> str | None:
        """The engine's error message (``{"message": ...}``), or None."""
        if self.ok:
            return None
        try:
            return self.json().get("message")
        except (ValueError, AttributeError):
            return self.body.decode(errors="replace").strip() or None


class RawClient:
    """A tiny Engine API client: ``http.client`` over the unix socket, one kept-alive connection.

    Args:
        socket_path: the engine's socket (default: the kit's engine, see :func:`default_socket`).
        version: ``"auto"`` (the default) agrees on an API version with the engine before
            the first request, as the ``docker`` CLI does (see :meth:`negotiate`); None sends
            unversioned paths (the engine then answers with its own newest version); a
            version like ``"1.44"`` pins it, and an engine outside that range answers ``400``.
        timeout: seconds to wait for the engine to accept a connection or answer.

    >>> api = RawClient()                            # doctest: +SKIP
    >>> api.get("/containers/json", query={"all": 1}).status   # doctest: +SKIP
    200
    >>> api.version                                  # doctest: +SKIP
    '1.45'
    >>> RawClient("/var/run/docker.sock", version="1.44").url("/_ping")   # no engine asked
    '/v1.44/_ping'

    (the first three are skipped: they need an engine.) Introduced in ``02-docker-engine-api``.
    """

    def __init__(self, socket_path: str | None = None, version: str | None = "auto",
                 timeout: float = TIMEOUT):
        self.socket_path = socket_path or default_socket()
        self.version = version
        self.timeout = timeout
        self._conn: UnixHTTPConnection | None = None

    def url(self, path: str, query: dict | None = None) -> str:
        """The request target: version prefix, path, query string.

        Args:
            path: an API path like ``/containers/json`` (a path that starts with a
                version, ``/v1.41/...``, is kept as it is).
            query: query parameters (see :func:`query_string`).

        Returns:
            The target; with ``version="auto"``, the version is agreed on first.

        Raises:
            EngineRefusesClient: negotiating, the engine refuses every version the kit speaks.

        >>> RawClient("/x.sock", version="1.44").url("/containers/json", {"all": 1})
        '/v1.44/containers/json?all=1'
        >>> RawClient("/x.sock", version=None).url("/version")
        '/version'
        """
        if self.version == "auto":
            self.negotiate()
        prefix = f"/v{self.version}" if self.version and not path.startswith("/v1.") else ""
        return prefix + path + query_string(query)

    def request(self, method: str, path: str, query: dict | None = None, json=None,
                headers: dict | None = None) -> Response:
        """Send one request and read the whole answer.

        Args:
            method: ``GET``, ``POST``, ``DELETE``, ``HEAD``.
            path: an API path like ``/containers/json`` (the version prefix is added).
            query: query parameters; dicts and lists are sent as JSON.
            json: a body to send as JSON.
            headers: extra request headers.

        Returns:
            The whole :class:`Response` (an error status is a response too, not an exception).

        Raises:
            LabError: the socket cannot be reached.
            EngineRefusesClient: negotiating (``version="auto"``), the engine refuses
                every version the kit speaks.

        >>> RawClient().request("GET", "/containers/json", query={"all": 1}).ok   # doctest: +SKIP
        True

        (skipped: it needs an engine.)
        """
        return self._send(method, self.url(path, query), json, headers)

    def _send(self, method: str, target: str, json=None, headers: dict | None = None) -> Response:
        body = None if json is None else jsonlib.dumps(json).encode()
        sent = {"Content-Type": "application/json"} if body is not None else {}
        sent.update(headers or {})
        for attempt in (1, 2):  # a kept-alive connection the engine closed: retry once
            conn = self._conn or UnixHTTPConnection(self.socket_path, self.timeout)
            start = time.perf_counter()
            try:
                conn.request(method, target, body=body, headers=sent)
                resp = conn.getresponse()
                data = resp.read()
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                conn.close()
                self._conn = None
                if attempt == 2:
                    raise
                continue
            except (FileNotFoundError, ConnectionRefusedError, PermissionError) as err:
                conn.close()
                self._conn = None
                raise LabError(f"Cannot open the engine's socket {self.socket_path}: {err}.",
                               "run `python -m labhelpers doctor` for the diagnosis") from err
            elapsed = time.perf_counter() - start
            self._conn = None if resp.will_close else conn
            return Response(method, target, resp.status, resp.reason, dict(resp.getheaders()), data, elapsed)

    def negotiate(self, newest: str | None = None) -> str:
        """Agree on an API version as the ``docker`` CLI does, and use it from now on.

        The engine says its newest version in the ``Api-Version`` header of
        ``HEAD /_ping``; the client uses the older of that and its own newest
        (see :func:`labhelpers.rawapi.versions.negotiated`).

        Args:
            newest: the newest version this client speaks (default: what the
                installed docker-py speaks).

        Returns:
            The version agreed on, like ``"1.45"`` (also in :attr:`version` from now on).

        Raises:
            EngineRefusesClient: the engine's oldest version is newer than ``newest``.

        >>> RawClient().negotiate()                      # doctest: +SKIP
        '1.45'

        (skipped: it asks the engine.)
        """
        self.version = negotiated(self.socket_path, newest, self.timeout)
        return self.version

    def get(self, path: str, **kwargs) -> Response:
        """``GET path``.

        Args:
            path: an API path like ``/containers/json``.
            **kwargs: ``query``, ``json``, ``headers``, as for :meth:`request`.

        Returns:
            The :class:`Response`.

        >>> RawClient().get("/_ping").body               # doctest: +SKIP
        b'OK'

        (skipped: it needs an engine.)
        """
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Response:
        """``POST path``.

        Args:
            path: an API path like ``/containers/create``.
            **kwargs: ``query``, ``json``, ``headers``, as for :meth:`request`.

        Returns:
            The :class:`Response`.

        >>> RawClient().post("/containers/create", json={"Image": "python:3.13-slim-trixie"}).status  # doctest: +SKIP
        201

        (skipped: it needs an engine.)
        """
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs) -> Response:
        """``DELETE path``.

        Args:
            path: an API path like ``/containers/<id>``.
            **kwargs: ``query``, ``json``, ``headers``, as for :meth:`request`.

        Returns:
            The :class:`Response`.

        >>> RawClient().delete("/containers/nb02-gone").status   # doctest: +SKIP
        404

        (skipped: it needs an engine.)
        """
        return self.request("DELETE", path, **kwargs)

    def stream(self, method: str, path: str, query: dict | None = None, json=None):
        """Send a request on a fresh connection and return the open ``HTTPResponse``.

        Read it chunk by chunk (``resp.read1()``) for endless answers such as
        ``/events`` or ``/logs?follow=1``; close it when done.

        Args:
            method: ``GET`` or ``POST``.
            path: an API path like ``/events``.
            query: query parameters (see :func:`query_string`).
            json: a body to send as JSON.

        Returns:
            The open ``http.client.HTTPResponse``.

        >>> resp = RawClient().stream("GET", "/events")   # doctest: +SKIP
        >>> resp.read1(65536)                             # doctest: +SKIP
        b'{"status":"create",...'

        (skipped: it needs an engine.)
        """
        conn = UnixHTTPConnection(self.socket_path, self.timeout)
        body = None if json is None else jsonlib.dumps(json).encode()
        conn.request(method, self.url(path, query), body=body,
                     headers={"Content-Type": "application/json"} if body else {})
        return conn.getresponse()

    def events(self, seconds: float, filters: dict | None = None):
        """Follow ``/events`` for ``seconds``: yield each event (a dict) as it happens.

        ``until`` makes the engine end the stream itself; the answer is chunked,
        one JSON object after another.

        Args:
            seconds: how long to follow.
            filters: the engine's event filters, like ``{"type": ["container"]}``.

        Yields:
            Each event, a dict, as it happens.

        >>> [e["Action"] for e in RawClient().events(3, {"type": ["container"]})]  # doctest: +SKIP
        ['create', 'start', 'die', 'destroy']

        (skipped: it needs an engine, and something happening on it.)
        """
        now = time.time()
        query = {"since": f"{now:.9f}", "until": f"{now + seconds:.9f}", "filters": filters}
        resp = self.stream("GET", "/events", query=query)
        decoder, buffer = jsonlib.JSONDecoder(), ""
        try:
            while chunk := resp.read1(65536):
                buffer += chunk.decode()
                while buffer.strip():
                    try:
                        event, end = decoder.raw_decode(buffer.lstrip())
                    except ValueError:
                        break  # half an object: wait for the rest
                    buffer = buffer.lstrip()[end:]
                    yield event
        finally:
            resp.close()

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def raw_request(socket_path: str, method: str, target: str, body: bytes = b"") -> bytes:
    """The whole exchange by hand: write the request bytes, read until the engine closes.

    Args:
        socket_path: the engine's unix socket.
        method: ``GET``, ``POST``...
        target: the path with its version and query, like ``/v1.44/containers/json``.
        body: a JSON body, already encoded.

    Returns:
        The answer's bytes, status line and headers included.

    >>> raw_request("/var/run/docker.sock", "GET", "/_ping")[:15]   # doctest: +SKIP
    b'HTTP/1.1 200 OK'

    (skipped: it needs an engine.) Introduced in ``02-docker-engine-api``.
    """
    head = f"{method} {target} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n"
    if body:
        head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT)
        sock.connect(socket_path)
        sock.sendall(head.encode() + b"\r\n" + body)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


class Hijacked:
    """A connection the engine took over after answering (``attach``, ``exec start``).

    After ``101 UPGRADED`` the socket carries raw bytes both ways: the
    container's output (framed, see :mod:`labhelpers.rawapi.frames`) towards
    us, its stdin from us.

    Args:
        sock: the connected socket, after the answer's head.
        status: the status line, like ``HTTP/1.1 101 UPGRADED``.
        headers: the response headers.
        leftover: bytes of the stream already read with the head.

    >>> import socket
    >>> ours, engine = socket.socketpair()
    >>> with Hijacked(ours, "HTTP/1.1 101 UPGRADED", {}, b"early ") as h:
    ...     h.send(b"stdin")
    ...     stdin = engine.recv(5)
    ...     engine.sendall(b"output"); engine.close()
    ...     b"".join(h.chunks())
    b'early output'

    Introduced in ``02-docker-engine-api``.
    """

    def __init__(self, sock: socket.socket, status: str, headers: dict, leftover: bytes):
        self.sock, self.status, self.headers, self._leftover = sock, status, headers, leftover

    def chunks(self, size: int = 4096):
        """The bytes as they arrive, until the engine closes the stream.

        Args:
            size: the most bytes read at once.

        Yields:
            Each piece of bytes (framed unless the container has a TTY).

        >>> import socket
        >>> ours, engine = socket.socketpair(); engine.sendall(b"abc"); engine.close()
        >>> list(Hijacked(ours, "HTTP/1.1 101 UPGRADED", {}, b"").chunks(size=2))
        [b'ab', b'c']
        """
        if self._leftover:
            yield self._leftover
            self._leftover = b""
        while chunk := self.sock.recv(size):
            yield chunk

    def send(self, data: bytes) -> None:
        """Write to the container's stdin.

        Args:
            data: the bytes to send.

        >>> import socket
        >>> ours, engine = socket.socketpair()
        >>> Hijacked(ours, "HTTP/1.1 101 UPGRADED", {}, b"").send(b"hello"); engine.recv(5)
        b'hello'
        """
        self.sock.sendall(data)

    def close_stdin(self) -> None:
        """Half-close: the container sees end of input; its output still arrives."""
        self.sock.shutdown(socket.SHUT_WR)

    def close(self) -> None:
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def hijack(socket_path: str, target: str, body: bytes = b"", timeout: float = TIMEOUT) -> Hijacked:
    """POST ``target`` asking for an upgraded connection, as ``docker run`` does to attach.

    Args:
        socket_path: the engine's unix socket.
        target: the path with its version and query, like ``/v1.44/containers/<id>/attach?stream=1``.
        body: a JSON body, already encoded (``exec start`` takes one).
        timeout: seconds to wait to connect and for each read.

    Returns:
        The :class:`Hijacked` connection (use it in a ``with`` block).

    Raises:
        LabError: the engine closed the connection without answering.

    (the example is skipped: it needs an engine and a container.)
    Introduced in ``02-docker-engine-api``.

    >>> api = RawClient()                            # doctest: +SKIP
    >>> with hijack(api.socket_path, api.url(f"/containers/{cid}/attach", {"stream": 1, "stdout": 1})) as h:  # doctest: +SKIP
    ...     h.status
    'HTTP/1.1 101 UPGRADED'
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    sock.connect(socket_path)
    head = (f"POST {target} HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    sock.sendall(head.encode() + body)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise LabError("The engine closed the connection instead of answering.",
                           "check the path and the container id")
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return Hijacked(sock, lines[0], headers, rest)
