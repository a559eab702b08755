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

(skipped: it needs an engine and the docker CLI; ``tests/test_tap.py`` runs it.)
From a terminal: ``python -m labhelpers tap -- docker ps``.

Introduced in ``02-docker-engine-api``.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from typing import Callable

from ..errors import LabError
from .exchanges import Conversation, Exchange

LONG_ID = re.compile(r"\b[0-9a-f]{64}\b")


class _Connection:
    """One client connection and its twin towards the engine, pumped by two threads.

    A copy of every byte goes to a :class:`~labhelpers.rawapi.exchanges.Conversation`,
    which reads the HTTP; this class only moves bytes.
    """

    def __init__(self, tap: "Tap", client: socket.socket, upstream: socket.socket):
        self.tap, self.client, self.upstream = tap, client, upstream
        self.talk = Conversation(on_exchange=tap._record, clock=tap._clock,
                                 record_bodies=tap.record_bodies, body_limit=tap.body_limit)
        self._left = 2
        self._lock = threading.Lock()

    def start(self) -> None:
        for src, dst, read in ((self.client, self.upstream, self.talk.feed_request),
                               (self.upstream, self.client, self.talk.feed_response)):
            threading.Thread(target=self._pump, args=(src, dst, read), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, read: Callable[[bytes], None]) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            read(data)  # record first: the engine's answer may come back at once
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
            self.talk.closed()
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

    >>> tap = Tap(upstream="/var/run/docker.sock")   # nothing is opened until start()
    >>> tap.path is None
    True
    >>> with Tap() as tap:                           # doctest: +SKIP
    ...     tap.run("docker ps").returncode
    0

    (the last is skipped: it needs an engine and the docker CLI.)
    Introduced in ``02-docker-engine-api``.
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
    def _clock(self) -> float:
        return time.perf_counter() - self._t0

    def _record(self, ex: Exchange) -> None:
        with self._lock:
            self._records.append(ex)

    def _done(self, conn: _Connection) -> None:
        with self._idle:
            self._connections.discard(conn)
            self._idle.notify_all()

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every connection through the tap has closed.

        Args:
            timeout: the most seconds to wait.

        Returns:
            True when all closed, False on timeout.

        >>> Tap(upstream="/var/run/docker.sock").wait_idle(0)   # no connection yet
        True
        """
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
        """An environment whose ``docker`` talks through the tap.

        Args:
            base: the environment to start from (default: this process's).

        Returns:
            A copy with ``DOCKER_HOST`` set to the tap and ``DOCKER_CONTEXT`` unset.

        >>> tap = Tap(upstream="/var/run/docker.sock")
        >>> tap.path = "/tmp/x/docker.sock"               # as start() sets it
        >>> tap.env({"DOCKER_CONTEXT": "remote"})
        {'DOCKER_HOST': 'unix:///tmp/x/docker.sock'}
        """
        env = dict(os.environ if base is None else base)
        env["DOCKER_HOST"] = self.url
        env.pop("DOCKER_CONTEXT", None)
        return env

    def run(self, command, input: str | None = None, timeout: float = 120) -> subprocess.CompletedProcess:
        """Run a command (``"docker ps"`` or a list) through the tap, capture its output.

        Waits for the command's connections to close, so its exchanges are all recorded.

        Args:
            command: a command line (split as a shell would) or a list of arguments.
            input: text for the command's stdin.
            timeout: the most seconds the command may run.

        Returns:
            The ``subprocess.CompletedProcess``, its output captured as text.

        Raises:
            LabError: the command is not installed here.

        >>> with Tap() as tap:                           # doctest: +SKIP
        ...     tap.run(["docker", "version", "--format", "{{.Server.APIVersion}}"]).stdout.strip()
        '1.41'

        (skipped: it needs an engine and the docker CLI.)
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

        Returns:
            A DataFrame: method, path, query, status, time, note.

        >>> tap = Tap(upstream="/var/run/docker.sock")
        >>> list(tap.table().columns)                    # nothing recorded yet
        ['method', 'path', 'query', 'status', 'time', 'note']
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
