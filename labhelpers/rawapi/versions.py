"""API versions: the one a client and an engine agree on, chosen as the ``docker`` CLI does.

Every engine serves a *range* of API versions: from its ``MinAPIVersion`` to its
``ApiVersion`` (both in the answer to an unversioned ``GET /version``; the newest
also in the ``Api-Version`` header of every answer, ``HEAD /_ping`` included).
A client speaks versions up to its own newest. The CLI asks ``HEAD /_ping`` and
uses the **older** of the two newest; a path without a version gets the engine's
newest. Outside the engine's range every versioned request gets a ``400``:
``client version X is too new`` above it, ``... is too old`` below it (Engine 29
starts at 1.44: docker-py 7.0, which speaks at most 1.41, is refused).

The kit's clients (docker-py through :func:`labhelpers.engine.client`, and the
raw ones of :mod:`labhelpers.rawapi`) speak up to what the installed docker-py
speaks (:func:`client_newest`), and all choose with :func:`negotiate`.

>>> negotiate(engine="1.41", client="1.45")      # an old engine: the client steps down
'1.41'
>>> negotiate(engine="1.51", client="1.45")      # a newer engine serves older clients too
'1.45'

Introduced in ``02-docker-engine-api``.
"""

from __future__ import annotations

import http.client
import json
import socket

from ..errors import EngineRefusesClient, LabError


def parse(version: str) -> tuple[int, ...]:
    """``"1.44"`` → ``(1, 44)``, so that versions compare as numbers (1.9 < 1.44).

    Args:
        version: an API version, like ``"1.44"``.

    Returns:
        Its numbers, as a tuple.

    >>> parse("1.9") < parse("1.44")
    True
    """
    return tuple(int(part) for part in version.split(".") if part.isdigit())


def shifted(version: str, by: int) -> str:
    """The API version ``by`` minor versions away: to ask just outside the engine's range.

    Args:
        version: an API version, like ``"1.44"``.
        by: how many minor versions to add (negative: older).

    Returns:
        The version, like ``"1.43"``.

    >>> shifted("1.44", -1), shifted("1.51", +1)
    ('1.43', '1.52')
    """
    major, minor = parse(version)[:2]
    return f"{major}.{minor + by}"


def client_newest() -> str:
    """The newest API version the kit's clients speak: the installed docker-py's default.

    >>> parse(client_newest()) >= (1, 44)           # docker>=7.1
    True
    """
    import docker.constants

    return docker.constants.DEFAULT_DOCKER_API_VERSION


def negotiate(engine: str, client: str | None = None, minimum: str | None = None,
              where: str = "The engine") -> str:
    """The version to use: the older of the engine's newest and the client's newest.

    Args:
        engine: the engine's newest API version (``Api-Version`` of ``/_ping``).
        client: the client's newest (default: :func:`client_newest`).
        minimum: the engine's oldest (``MinAPIVersion`` of ``/version``), when known.
        where: how to name the engine in the error (``"The engine at unix:///..."``).

    Returns:
        The API version, like ``"1.45"``.

    Raises:
        EngineRefusesClient: that version is below the engine's ``minimum``.

    >>> negotiate("1.51", client="1.41", minimum="1.44")
    Traceback (most recent call last):
    ...
    labhelpers.errors.EngineRefusesClient: The engine serves API 1.44 to 1.51, ...
    """
    import docker

    client = client or client_newest()
    chosen = min(engine, client, key=parse)
    if minimum and parse(chosen) < parse(minimum):
        raise EngineRefusesClient(
            f"{where} serves API {minimum} to {engine}, but the kit's client speaks at most "
            f"{client} (docker-py {docker.__version__}): the engine would answer every request "
            f"with `400 client version {chosen} is too old`.",
            "upgrade docker-py in the kit's environment: `pip install -U docker` (the kit needs "
            "docker>=7.1, which speaks 1.44), then restart the kernel",
        )
    return chosen


def _ask(socket_path: str, method: str, target: str, timeout: float) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("localhost", timeout=timeout)
    conn.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    conn.sock.settimeout(timeout)
    try:
        conn.sock.connect(socket_path)
        conn.request(method, target)
        resp = conn.getresponse()
        resp.data = resp.read()
    except (FileNotFoundError, ConnectionRefusedError, PermissionError) as err:
        raise LabError(f"Cannot open the engine's socket {socket_path}: {err}.",
                       "run `python -m labhelpers doctor` for the diagnosis") from err
    finally:
        conn.close()
    return resp


def negotiated(socket_path: str, client: str | None = None, timeout: float = 30) -> str:
    """Ask the engine behind ``socket_path`` and :func:`negotiate`, as the CLI does.

    ``HEAD /_ping`` gives the engine's newest version. Only when the client is
    older than that can the engine refuse it: then an unversioned ``GET /version``
    gives the engine's oldest, to say so clearly instead of a ``400`` later.

    Args:
        socket_path: the engine's unix socket.
        client: the client's newest version (default: :func:`client_newest`).
        timeout: seconds to wait for each answer.

    Returns:
        The API version to use, like ``"1.45"``.

    Raises:
        EngineRefusesClient: the engine's oldest version is newer than the client's newest.
        LabError: the socket cannot be reached.

    On Engine 20.10 (API 1.12 to 1.41) this is 1.41; on Engine 28.5 (1.44 to
    1.51) with docker-py 7.2 (up to 1.45), 1.45:

    >>> negotiated("/var/run/docker.sock")           # doctest: +SKIP
    '1.45'

    (skipped: it asks the engine.)
    """
    client = client or client_newest()
    engine = _ask(socket_path, "HEAD", "/_ping", timeout).getheader("Api-Version") or client
    minimum = None
    if parse(client) < parse(engine):
        minimum = json.loads(_ask(socket_path, "GET", "/version", timeout).data).get("MinAPIVersion")
    return negotiate(engine, client, minimum, where=f"The engine at unix://{socket_path}")
