"""Finding the Docker engine, one cached client, and saying why it fails.

The engine is looked for where the ``docker`` CLI looks, in the same order:

1. ``DOCKER_HOST`` (with ``DOCKER_TLS_VERIFY`` / ``DOCKER_CERT_PATH``),
2. the current docker context (``DOCKER_CONTEXT``, else ``currentContext`` in
   ``~/.docker/config.json``), when it is not ``default``,
3. the platform's default socket (``/var/run/docker.sock``, a rootless or
   Docker Desktop socket in the user's folders, the Windows named pipe), then
   Podman's Docker-compatible one (rootless ``$XDG_RUNTIME_DIR/podman/podman.sock``,
   rootful ``/run/podman/podman.sock``; :mod:`labhelpers.podman`).

Every way this can fail becomes one :class:`~labhelpers.errors.EngineError`
whose message says what to do.

>>> import labhelpers as lab
>>> lab.engine.find_endpoint().source            # doctest: +SKIP
'default socket'
>>> lab.client().ping()                          # doctest: +SKIP
True

Introduced in ``00-start-here``.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
import statistics
import sys
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import docker
import docker.errors
import docker.tls
from docker.context import ContextAPI

from .errors import (
    EngineError,
    EngineNotFound,
    EngineNotRunning,
    EnginePermissionDenied,
    EngineTLSError,
    EngineTooOld,
    EngineUnreachable,
)
from .rawapi.versions import negotiate
from .rawapi.versions import parse as parse_version

#: The oldest Engine API the kit supports: Docker 19.03 (2019).
MIN_API_VERSION = "1.40"

#: Seconds to wait for a connection or a short answer from the engine.
TIMEOUT = 10

START_HINT = (
    "start an engine: `python -m labhelpers engine start` (Debian/Ubuntu, as root: "
    "installs and starts Debian's docker.io), `sudo systemctl start docker`, "
    "or open Docker Desktop; with Podman: `make podman` (as root), or "
    "`systemctl --user start podman.socket` and "
    "DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock"
)


@dataclass(frozen=True)
class Endpoint:
    """Where the engine is, and how the kit learned it.

    Attributes:
        url: ``unix:///var/run/docker.sock``, ``tcp://host:2376``, ``ssh://...``,
            ``npipe:////./pipe/docker_engine``.
        source: ``"DOCKER_HOST"``, ``"context NAME"`` or ``"default socket"``.
        tls: the TLS settings for a ``tcp://`` endpoint, or None.
    """

    url: str
    source: str
    tls: docker.tls.TLSConfig | None = field(default=None, compare=False)

    @property
    def scheme(self) -> str:
        return urlparse(self.url).scheme or "unix"

    @property
    def socket_path(self) -> str | None:
        """The socket file for a ``unix://`` endpoint, else None."""
        if self.scheme != "unix":
            return None
        return urlparse(self.url).path or self.url.removeprefix("unix://")

    def client_kwargs(self) -> dict:
        """Keyword arguments for ``docker.DockerClient(**...)``."""
        kwargs = {"base_url": self.url}
        if self.tls is not None:
            kwargs["tls"] = self.tls
        return kwargs


def _default_sockets() -> list[str]:
    if sys.platform == "win32":
        return ["npipe:////./pipe/docker_engine"]
    home = os.path.expanduser("~")
    candidates = ["/var/run/docker.sock"]
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime:
        candidates.append(os.path.join(runtime, "docker.sock"))  # rootless dockerd
    candidates += [
        os.path.join(home, ".docker", "run", "docker.sock"),  # Docker Desktop
        os.path.join(home, ".docker", "desktop", "docker.sock"),
    ]
    if sys.platform == "darwin":
        candidates.reverse()  # Desktop's own socket first on macOS
    candidates += podman_sockets()  # Podman's Docker-compatible API, when no Docker socket is there
    return ["unix://" + path for path in candidates]


#: Podman's rootful Docker-compatible socket (Debian's ``podman.socket`` unit uses it too);
#: :mod:`labhelpers.podman` starts a service there.
PODMAN_SOCKET = "/run/podman/podman.sock"


def podman_rootless_socket(env=None) -> str | None:
    """The rootless service's socket, ``$XDG_RUNTIME_DIR/podman/podman.sock`` (None without it).

    >>> podman_rootless_socket({"XDG_RUNTIME_DIR": "/run/user/1000"})
    '/run/user/1000/podman/podman.sock'
    """
    runtime = (os.environ if env is None else env).get("XDG_RUNTIME_DIR")
    return os.path.join(runtime, "podman", "podman.sock") if runtime else None


def podman_sockets(env=None) -> list[str]:
    """Podman's sockets, in the order the kit looks for them: this user's own first.

    >>> podman_sockets({})
    ['/run/podman/podman.sock']
    """
    rootless = podman_rootless_socket(env)
    own = [rootless] if rootless and os.geteuid() != 0 else []
    return own + [PODMAN_SOCKET] + ([rootless] if rootless and os.geteuid() == 0 else [])


def _tls_from_env(env) -> docker.tls.TLSConfig | None:
    try:
        return docker.utils.kwargs_from_env(environment=dict(env)).get("tls")
    except docker.errors.TLSParameterError as err:
        cert_path = env.get("DOCKER_CERT_PATH") or "~/.docker"
        raise EngineTLSError(
            f"DOCKER_TLS_VERIFY/DOCKER_CERT_PATH ask for TLS, but the certificates are "
            f"missing: {err}",
            f"put ca.pem, cert.pem and key.pem in {cert_path} (the files docker-machine or "
            "your engine's admin gave you), or unset DOCKER_TLS_VERIFY and DOCKER_CERT_PATH "
            "for an engine that does not use TLS",
        ) from None


def current_context_name(env=None) -> str:
    """The docker context the CLI would use now.

    Args:
        env: the environment to read (default: this process's); ``DOCKER_CONTEXT`` wins
            over the ``currentContext`` of the docker config file.

    Returns:
        The context's name, ``"default"`` when none is chosen.

    >>> current_context_name({"DOCKER_CONTEXT": "remote"})
    'remote'
    """
    env = os.environ if env is None else env
    return env.get("DOCKER_CONTEXT") or docker.context.config.get_current_context_name()


def find_endpoint(env=None) -> Endpoint:
    """Find where the engine is, as the ``docker`` CLI would.

    Args:
        env: the environment to read (default: ``os.environ``).

    Returns:
        The :class:`Endpoint`; it is not contacted yet (see :func:`diagnose`).

    Raises:
        EngineTLSError: TLS is asked for and the certificate files are missing.
        EngineNotFound: the current context does not exist.

    >>> find_endpoint({"DOCKER_HOST": "tcp://127.0.0.1:2375"}).source
    'DOCKER_HOST'
    """
    env = os.environ if env is None else env
    host = env.get("DOCKER_HOST")
    if host:
        return Endpoint(host, "DOCKER_HOST", _tls_from_env(env))
    name = current_context_name(env)
    if name and name != "default":
        try:
            ctx = ContextAPI.get_context(name)
        except docker.errors.DockerException as err:
            ctx, why = None, str(err)
        else:
            why = "it has no metadata in ~/.docker/contexts"
        if ctx is None or not ctx.Host:
            raise EngineNotFound(
                f"The current docker context is {name!r}, but {why}.",
                "list contexts with `docker context ls` and pick one with "
                "`docker context use NAME` (or `unset DOCKER_CONTEXT`)",
            )
        return Endpoint(ctx.Host, f"context {name}", ctx.TLSConfig or None)
    candidates = _default_sockets()
    for url in candidates:
        if url.startswith("npipe:") or os.path.exists(url.removeprefix("unix://")):
            return Endpoint(url, "default socket")
    return Endpoint(candidates[0], "default socket")


def _probe_socket(path: str) -> None:
    """Connect to a unix socket once, turning each failure into its diagnosis."""
    if not os.path.exists(path):
        raise EngineNotFound(
            f"No Docker engine: the socket {path} does not exist (no daemon has created it).",
            START_HINT,
        )
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(TIMEOUT)
    try:
        sock.connect(path)
    except PermissionError:
        group = _socket_group(path)
        raise EnginePermissionDenied(
            f"Permission denied on the Docker socket {path}: this user may not use it.",
            f"join the group that owns it (`sudo usermod -aG {group} $USER`, then log out and "
            "back in, or `newgrp docker`), or run the lab as a user who can use Docker",
        ) from None
    except ConnectionRefusedError:
        raise EngineNotRunning(
            f"The socket {path} exists but no daemon listens on it: the Docker engine "
            "is not running (a stale socket left behind).",
            START_HINT,
        ) from None
    except OSError as err:
        if err.errno in (errno.ENOTSOCK, errno.ECONNREFUSED):
            raise EngineNotRunning(
                f"{path} is not a live socket ({err.strerror}): no engine listens there.",
                START_HINT,
            ) from None
        raise EngineUnreachable(
            f"Cannot connect to the Docker socket {path}: {err}.", START_HINT
        ) from None
    finally:
        sock.close()


def _socket_group(path: str) -> str:
    try:
        import grp

        return grp.getgrgid(os.stat(path).st_gid).gr_name
    except (ImportError, KeyError, OSError):
        return "docker"


def _probe_tcp(endpoint: Endpoint) -> None:
    parsed = urlparse(endpoint.url)
    host, port = parsed.hostname, parsed.port or (2376 if endpoint.tls else 2375)
    if not host:
        raise EngineUnreachable(
            f"{endpoint.source} is {endpoint.url!r}, which names no host.",
            "set DOCKER_HOST to unix:///var/run/docker.sock, tcp://HOST:2376 or "
            "ssh://USER@HOST, or unset it to use the default socket",
        )
    try:
        socket.create_connection((host, port), timeout=TIMEOUT).close()
    except OSError as err:
        raise EngineUnreachable(
            f"{endpoint.source} points to {endpoint.url}, but nothing answers there "
            f"({err.strerror or err}).",
            "start the engine on that host, fix the address, or unset DOCKER_HOST "
            "(`unset DOCKER_HOST`) to use the local engine",
        ) from None


def _check_scheme(endpoint: Endpoint) -> None:
    if endpoint.scheme not in ("unix", "tcp", "http", "https", "ssh", "npipe"):
        raise EngineUnreachable(
            f"{endpoint.source} is {endpoint.url!r}: the scheme {endpoint.scheme!r} is not "
            "one Docker understands.",
            "use unix:///path/to/docker.sock, tcp://HOST:PORT or ssh://USER@HOST",
        )


def _explain_api_error(endpoint: Endpoint, err: Exception) -> EngineError:
    text = str(err)
    if "HTTP request to an HTTPS server" in text or isinstance(err, ssl.SSLError) or (
        "SSL" in text or "certificate" in text.lower()
    ):
        if endpoint.tls is None:
            return EngineTLSError(
                f"{endpoint.url} speaks TLS, but no client certificates are configured.",
                "set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH to the folder holding "
                "ca.pem, cert.pem and key.pem for that engine",
            )
        return EngineTLSError(
            f"The TLS handshake with {endpoint.url} failed: {text}",
            "check that DOCKER_CERT_PATH holds the certificates made for this engine "
            "(its CA, and a client certificate it trusts)",
        )
    return EngineUnreachable(
        f"{endpoint.url} ({endpoint.source}) accepted the connection but did not answer "
        f"as a Docker engine: {text}",
        "check that the address is a Docker engine's; " + START_HINT,
    )


def diagnose(endpoint: Endpoint | None = None) -> dict:
    """Contact the engine once and explain any failure.

    Args:
        endpoint: where to look (default: :func:`find_endpoint`).

    The question is an unversioned ``GET /version``: every engine answers it,
    whatever range of API versions it serves (Engine 29 refuses versioned
    requests below 1.44), so the diagnosis never depends on a version.

    Returns:
        The engine's ``/version`` answer (``ApiVersion`` its newest API version,
        ``MinAPIVersion`` its oldest).

    Raises:
        EngineError: one subclass per failure, its message says what to do.

    >>> sorted(diagnose())[:3]                     # doctest: +SKIP
    ['ApiVersion', 'Arch', 'BuildTime']
    """
    endpoint = endpoint or find_endpoint()
    _check_scheme(endpoint)
    if endpoint.scheme == "unix":
        _probe_socket(endpoint.socket_path)
    elif endpoint.scheme in ("tcp", "http", "https"):
        _probe_tcp(endpoint)
    try:
        # A fixed version here only spares docker-py's own probe: the request is unversioned.
        api = docker.APIClient(
            version=MIN_API_VERSION, timeout=TIMEOUT, **endpoint.client_kwargs()
        )
        version = api.version(api_version=False)
    except Exception as err:  # docker-py's, requests' and ssl's exceptions alike
        raise _explain_api_error(endpoint, err) from None
    else:
        api.close()
    server_api = version.get("ApiVersion", "0")
    if parse_version(server_api) < parse_version(MIN_API_VERSION):
        raise EngineTooOld(
            f"The engine at {endpoint.url} is Docker {version.get('Version', '?')} "
            f"(API {server_api}); the lab needs API {MIN_API_VERSION} (Docker 19.03) or newer.",
            "upgrade the engine (Docker Desktop: update it; Linux: install a current "
            "docker.io or docker-ce), or point DOCKER_HOST at a newer one",
        )
    return version


_lock = threading.Lock()
_cache: dict = {}


def client(timeout: int = 60) -> docker.DockerClient:
    """The one shared ``docker.DockerClient`` for the engine the kit found.

    It is created on first use, after :func:`diagnose` has checked the engine,
    and reused while the endpoint stays the same. Its API version is negotiated
    as the ``docker`` CLI does (:func:`labhelpers.rawapi.versions.negotiate`): the
    older of the engine's newest and the installed docker-py's newest (docker 7.1
    speaks 1.44, 7.2 speaks 1.45). An engine whose oldest version is newer than
    that (Engine 29 starts at 1.44; docker 7.0 speaks 1.41) is refused here with
    one clear :class:`~labhelpers.errors.EngineRefusesClient`, not a ``400`` later.

    Where the engine is: :func:`find_endpoint`, the CLI's order (``DOCKER_HOST``,
    then the current docker context, then the default sockets). docker 7.2's
    ``docker.from_env()`` follows the current context too (7.1's ignored it), so
    on docker 7.2 ``lab.client()`` and a plain ``docker.from_env()`` in a notebook
    reach the same engine; the kit keeps its own lookup because it also works with
    docker 7.1, finds Docker Desktop's and rootless sockets when the default one is
    missing, and explains each failure. ``from_env()`` asks the engine for its own
    newest version instead of negotiating; the kit's client never uses a version
    newer than docker-py knows.

    Raises:
        EngineError: no usable engine; the message says what to do.
        EngineRefusesClient: the engine refuses the installed docker-py (upgrade it).

    Args:
        timeout: seconds docker-py waits for each answer.

    Returns:
        The shared ``docker.DockerClient``, its API version negotiated with the engine.

    >>> import labhelpers as lab
    >>> lab.client().containers.run("python:3.13-slim-trixie", "echo hi",
    ...                             remove=True)    # doctest: +SKIP
    b'hi\\n'

    (skipped: it needs an engine.) Introduced in ``00-start-here``.
    """
    endpoint = find_endpoint()
    with _lock:
        cached = _cache.get("client")
        if cached is not None and _cache.get("endpoint") == endpoint:
            return cached
        version = diagnose(endpoint)
        api_version = negotiate(version["ApiVersion"], minimum=version.get("MinAPIVersion"),
                                where=f"The engine at {endpoint.url} (Docker {version.get('Version', '?')})")
        made = docker.DockerClient(
            version=api_version, timeout=timeout, **endpoint.client_kwargs()
        )
        _cache.update(client=made, endpoint=endpoint)
        return made


def reset() -> None:
    """Forget the cached client (after changing DOCKER_HOST, for instance)."""
    with _lock:
        cached = _cache.pop("client", None)
        _cache.pop("endpoint", None)
    if cached is not None:
        cached.close()


def round_trip_ms(api: docker.APIClient, repeat: int = 20) -> float:
    """Median time of ``GET /_ping`` through ``api``, in milliseconds.

    Args:
        api: a ``docker.APIClient`` (``lab.client().api``).
        repeat: how many pings.

    Returns:
        The median, in milliseconds.

    >>> round_trip_ms(lab.client().api)             # doctest: +SKIP
    1.2

    (skipped: it needs an engine.)
    """
    api.ping()  # warm the connection pool
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        api.ping()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def available() -> bool:
    """True when an engine answers (never raises).

    >>> available()                                  # doctest: +SKIP
    True
    """
    try:
        diagnose()
    except EngineError:
        return False
    return True
