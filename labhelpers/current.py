"""The current engine: today's Docker Engine, beside the machine's, for tests and learners.

The machine's engine may be old (Debian 12 ships Engine 20.10) while learners run
Engine 28 or 29 and Docker Desktop. :func:`start` runs the newest Docker Engine that
Debian packages (sid: 28.5) as Docker-in-Docker on the machine's engine, from the
catalogue's ``docker:28-dind`` image (the official one where it can be pulled, else
its stand-in), with Docker 29's defaults:

- ``DOCKER_MIN_API_VERSION=1.44``: clients that pin an older API get
  ``400 client version 1.41 is too old``, as Engine 29.0-29.2 answer them;
- the containerd image store (``containerd-snapshotter``), the default of new
  installs and of Docker Desktop.

Its socket is :data:`SOCKET` on the host. :func:`run` runs a command as a learner on
that engine would run it: the engine's socket at the default path
(``/var/run/docker.sock``, bind-mounted in a private mount namespace), published
ports answering on ``127.0.0.1`` (the command joins the engine container's network
namespace), and the host's ``/tmp``, home and working folder at the same paths inside
the engine, so bind mounts see what the command sees.

>>> from labhelpers import current
>>> current.start()                              # doctest: +SKIP
'current engine: Docker 28.5.2+dfsg4 (API 1.51, minimum 1.44, containerd image store) at unix:///run/labhelpers-current/docker.sock'
>>> current.run(["docker", "info", "--format", "{{.ServerVersion}}"])   # doctest: +SKIP
0

``make test-current`` validates every notebook on it; ``python -m labhelpers engine
current start|stop|status|run -- CMD`` drives it. Introduced in ``00-start-here``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile

import docker.errors

from . import settings
from .errors import EngineSetupError
from .waiting import wait_until

#: The engine container's name on the machine's engine.
NAME = "labhelpers-current"
#: Host folder shared with the engine container: its socket and configuration.
RUN_DIR = settings.CURRENT_RUN_DIR
#: The current engine's socket, on the host.
SOCKET = f"{RUN_DIR}/docker.sock"
#: The volume that keeps the current engine's images and containers between starts.
VOLUME = "labhelpers-current-data"
#: The label that marks the engine container (not a lab object: ``clean`` leaves it).
LABEL = "org.labhelpers.current-engine"
#: Docker 29's defaults, set on the current engine.
MIN_API_VERSION = "1.44"
DAEMON_CONFIG = {"features": {"containerd-snapshotter": True}}
#: Seconds to wait for the engine to answer after its container starts.
BOOT_TIMEOUT = 90


def _host_client():
    from .engine import client

    return client()


def _shared_paths() -> list[str]:
    """Host folders the engine sees at the same paths (bind mounts in notebooks and tests)."""
    paths = {tempfile.gettempdir(), os.path.expanduser("~"), os.getcwd()}
    return sorted(p for p in paths if p != "/" and os.path.isdir(p))


def _container(client):
    try:
        return client.containers.get(NAME)
    except docker.errors.NotFound:
        return None


def _answers(timeout: float = 3) -> dict | None:
    if not os.path.exists(SOCKET):
        return None
    try:
        api = docker.APIClient(base_url=f"unix://{SOCKET}", version="auto", timeout=timeout)
        try:
            return api.version()
        finally:
            api.close()
    except (docker.errors.DockerException, OSError, ValueError):
        return None


def _describe(version: dict) -> str:
    store = "containerd image store"
    try:
        api = docker.APIClient(base_url=f"unix://{SOCKET}", version="auto", timeout=10)
        driver = api.info().get("Driver", "")
        api.close()
        if not driver.startswith("overlayfs") and "snapshotter" not in driver:
            store = f"{driver} storage driver"
    except docker.errors.DockerException:
        pass
    return (f"current engine: Docker {version.get('Version')} (API {version.get('ApiVersion')}, "
            f"minimum {version.get('MinAPIVersion')}, {store}) at unix://{SOCKET}")


def running() -> bool:
    """True when the current engine answers on :data:`SOCKET`.

    >>> running()                                    # doctest: +SKIP
    False
    """
    return _answers() is not None


def status() -> str:
    """One line: whether the current engine runs, and what it is.

    >>> status()                                     # doctest: +SKIP
    'current engine: not running (start it: python -m labhelpers engine current start)'
    """
    version = _answers()
    if version is None:
        return "current engine: not running (start it: python -m labhelpers engine current start)"
    return _describe(version)


def start(log=print) -> str:
    """Start the current engine (or find it running) and wait until it answers.

    Args:
        log: called with progress lines.

    Returns:
        The :func:`status` line.

    Raises:
        EngineSetupError: the engine container would not start or never answered;
            the message holds the end of its log.

    >>> start(log=lambda line: None)                 # doctest: +SKIP
    'current engine: Docker 28.5.2+dfsg4 (API 1.51, minimum 1.44, containerd image store) at ...'
    """
    from . import images
    from .machine import dind

    client = _host_client()
    box = _container(client)
    version = _answers()
    if box is not None and box.status == "running" and version is not None:
        return _describe(version)
    if box is not None:
        box.remove(force=True)
    image = images.ensure("dind", client=client, log=log)
    os.makedirs(RUN_DIR, exist_ok=True)
    if os.path.exists(SOCKET):
        os.unlink(SOCKET)
    with open(os.path.join(RUN_DIR, "daemon.json"), "w") as f:
        json.dump(DAEMON_CONFIG, f)
    binds = {VOLUME: {"bind": "/var/lib/docker", "mode": "rw"},
             RUN_DIR: {"bind": RUN_DIR, "mode": "rw"}}
    for path in _shared_paths():
        binds[path] = {"bind": path, "mode": "rw"}
    log(f"starting {NAME} from {image.tags[0] if image.tags else image.short_id}")
    # Privileged, else every capability this host allows and unconfined system paths:
    # Engine 28 writes IPv6 sysctls in each container's network namespace.
    box = dind.run_dind(
        client, image.id, binds, name=NAME, hostname=NAME, labels={LABEL: "true"},
        environment={"DOCKER_MIN_API_VERSION": MIN_API_VERSION, "DOCKER_TLS_CERTDIR": ""},
        command=["dockerd", f"--config-file={RUN_DIR}/daemon.json",
                 f"--host=unix://{SOCKET}", "--host=unix:///var/run/docker.sock"],
        volumes=[spec["bind"] for spec in binds.values()],
    )
    def answered_or_stopped():
        box.reload()
        return _answers() or box.status != "running"

    version = wait_until(answered_or_stopped, BOOT_TIMEOUT, interval=0.5, error=None)
    if not isinstance(version, dict):
        tail = box.logs(tail=15).decode(errors="replace")
        raise EngineSetupError(
            f"The current engine ({NAME}) did not answer within {BOOT_TIMEOUT} s. "
            f"Its log ends with:\n{tail}",
            f"read `docker logs {NAME}`; `python -m labhelpers engine current stop` "
            "removes it (and keeps its images)",
        )
    return _describe(version)


def stop(purge: bool = False) -> str:
    """Remove the current engine's container; its images stay in its volume unless ``purge``.

    Args:
        purge: also remove the volume holding its images and containers.

    Returns:
        One line saying what was removed.

    >>> stop()                                       # doctest: +SKIP
    'current engine: stopped (its images are kept in the volume labhelpers-current-data)'
    """
    from .cleanup import stop_service

    answer = stop_service(_host_client(), [NAME], VOLUME, "current engine", purge=purge)
    if os.path.exists(SOCKET):  # left by the engine: nobody listens on it any more
        os.unlink(SOCKET)
    return answer


def command(argv: list[str]) -> list[str]:
    """The command line that runs ``argv`` as a learner on the current engine would.

    Args:
        argv: the command and its arguments.

    Raises:
        EngineSetupError: the current engine is not running, or this is not Linux
            as root (entering namespaces needs both).

    Returns:
        ``nsenter ... unshare ... sh -c ... argv``: the engine's network namespace, and its
        socket bound at the default path.

    >>> command(["docker", "ps"])[:2]                # doctest: +SKIP
    ['nsenter', '--net=/proc/4242/ns/net']
    """
    if os.name != "posix" or os.geteuid() != 0 or not shutil.which("nsenter"):
        raise EngineSetupError(
            "Running a command on the current engine enters its network namespace, which "
            "needs Linux, root and nsenter (util-linux).",
            f"use the engine's socket directly instead: DOCKER_HOST=unix://{SOCKET}",
        )
    box = _container(_host_client())
    if box is None or box.status != "running" or _answers() is None:
        raise EngineSetupError(
            "The current engine is not running.",
            "start it: `python -m labhelpers engine current start` (or `make test-current`)",
        )
    pid = box.attrs["State"]["Pid"]
    default = "/var/run/docker.sock"
    mount = (f'[ -e {default} ] || : > {default}; '
             f'mount --bind {SOCKET} {default} && exec "$@"')
    return ["nsenter", f"--net=/proc/{pid}/ns/net", "--",
            "unshare", "--mount", "--propagation", "private", "--",
            "sh", "-c", mount, "current-engine", *argv]


def run(argv: list[str]) -> int:
    """Run ``argv`` on the current engine (see :func:`command`); return its exit status.

    DOCKER_HOST and DOCKER_CONTEXT are left out of its environment, so docker-py and
    the CLI find the engine where a learner's do: at the default socket.

    Args:
        argv: the command and its arguments.

    Returns:
        The command's exit status.

    Raises:
        EngineSetupError: as :func:`command`.

    >>> run(["docker", "version", "--format", "{{.Server.Version}}"])   # doctest: +SKIP
    28.5.2+dfsg4
    0

    (skipped: they need the current engine running.)
    """
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    return subprocess.run(command(argv), env=env).returncode
