"""Podman: its Docker-compatible socket, recognised, and a service the kit can start.

Podman answers the Docker Engine API on a unix socket once ``podman system service``
listens there: rootful at :data:`ROOTFUL_SOCKET`, rootless at
``$XDG_RUNTIME_DIR/podman/podman.sock`` (:func:`labhelpers.engine.podman_sockets`). docker-py, curl and the
``docker`` CLI reach it with ``DOCKER_HOST=unix:///run/podman/podman.sock``.

Where the host's hard limits are low (a container, a CI runner), Podman's default
rlimits are above them and every container start fails with ``error setting rlimit
... operation not permitted``; where the cgroup layout is hybrid (v1 with a v2
mount), crun refuses it. :func:`start` therefore runs the service with the kit's own
``containers.conf`` (:func:`settings`: ``default_ulimits`` within this machine's hard
limits, ``runtime = "runc"`` on a hybrid layout), passed as ``CONTAINERS_CONF`` to
that service only, and a ``registries.conf`` (:func:`registries`) that lets it reach
registries on this machine over plain HTTP, as Docker Engine does (notebook 01's), as
``CONTAINERS_REGISTRIES_CONF``: the user's own files are never written. For a service
the user runs, :func:`explain_start_failure` and ``lab.doctor()`` say what to set.

>>> from labhelpers import podman
>>> podman.start()                               # doctest: +SKIP
'podman: Podman 4.3.1 (Docker API 1.41) at unix:///run/podman/podman.sock, the kit\\'s service'
>>> podman.is_podman({"Components": [{"Name": "Podman Engine"}]})
True

``make test-podman`` runs notebooks 00, 01, 02 and 04 against it;
``python -m labhelpers engine podman start|stop|status`` drives it. Introduced in
``00-start-here``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time

from .settings import PODMAN_RUN_DIR
# Where Podman's sockets are is the engine finder's knowledge (labhelpers.engine).
from .engine import PODMAN_SOCKET as ROOTFUL_SOCKET
from .errors import EngineSetupError, PodmanStartError

#: Where the kit keeps its service's ``containers.conf``, pid and log.
RUN_DIR = PODMAN_RUN_DIR
#: Seconds to wait for the service to answer after it starts.
BOOT_TIMEOUT = 30
#: The rlimits the kit asks for (Docker Engine's usual ones), lowered to the host's hard limits.
WANTED_ULIMITS = {"nofile": 1024, "nproc": 4096}


def is_podman(version: dict) -> bool:
    """True when a ``GET /version`` answer comes from Podman (it names a "Podman Engine" component).

    Args:
        version: the engine's answer to ``GET /version`` (``client.version()``).

    Returns:
        True for Podman.

    >>> is_podman({"Version": "20.10.24", "Components": [{"Name": "Engine"}]})
    False
    """
    return any(c.get("Name") == "Podman Engine" for c in version.get("Components") or [])


def describe(version: dict) -> str:
    """The engine in a few words: ``Podman 4.3.1 (Docker API 1.41)`` or ``Docker Engine 20.10.24``.

    Args:
        version: the engine's answer to ``GET /version``.

    Returns:
        The engine's name, version and (for Podman) the Docker API version it serves.

    >>> describe({"Version": "4.3.1", "ApiVersion": "1.41", "Components": [{"Name": "Podman Engine"}]})
    'Podman 4.3.1 (Docker API 1.41)'
    """
    if is_podman(version):
        return f"Podman {version.get('Version')} (Docker API {version.get('ApiVersion')})"
    return f"Docker Engine {version.get('Version')}"


def _cgroup_hybrid() -> bool:
    """cgroup v1 controllers, or v1 beside a v2 mount: the layouts crun refuses."""
    return not os.path.exists("/sys/fs/cgroup/cgroup.controllers")


def ulimits() -> dict[str, int]:
    """The rlimits for containers: Docker's usual ones, never above this machine's hard limits.

    >>> sorted(ulimits())
    ['nofile', 'nproc']
    """
    import resource  # POSIX only: this module is imported on Windows too

    chosen = {}
    for name, wanted in WANTED_ULIMITS.items():
        hard = resource.getrlimit(getattr(resource, f"RLIMIT_{name.upper()}"))[1]
        chosen[name] = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    return chosen


def settings() -> str:
    """The kit's ``containers.conf`` for this machine (read only by the service it starts).

    >>> 'default_ulimits = ["nofile=' in settings()
    True
    """
    limits = ", ".join(f'"{name}={value}:{value}"' for name, value in ulimits().items())
    text = f"[containers]\ndefault_ulimits = [{limits}]\n"
    if _cgroup_hybrid() and shutil.which("runc"):
        text += '\n[engine]\n# crun refuses this host\'s hybrid cgroup layout\nruntime = "runc"\n'
    return text


#: Registries on this machine, reached over plain HTTP (notebook 01's local registry):
#: Docker Engine allows that for 127.0.0.0/8 by default, Podman only where registries.conf says.
LOCAL_REGISTRIES = ("127.0.0.1", "localhost")


def registries(system: str = "/etc/containers/registries.conf") -> str:
    """The kit's ``registries.conf``: the system's, and this machine's registries without TLS.

    Args:
        system: the system's ``registries.conf`` (read when it exists).

    Returns:
        The text of the kit's ``registries.conf``.

    >>> 'location = "127.0.0.1"' in registries("/nonexistent")
    True
    """
    try:
        kept = [line for line in open(system).read().splitlines() if line.strip()[:1] not in ("", "#")]
    except OSError:
        kept = []
    text = "\n".join(kept) + "\n\n" if kept else ""
    for location in LOCAL_REGISTRIES:
        if f'"{location}' not in text:
            text += f'[[registry]]\nlocation = "{location}"\ninsecure = true\n\n'
    return text


def _answers(path: str, timeout: float = 3) -> dict | None:
    if not os.path.exists(path):
        return None
    import docker

    try:
        api = docker.APIClient(base_url=f"unix://{path}", version="1.40", timeout=timeout)
        try:
            return api.version(api_version=False)
        finally:
            api.close()
    except Exception:  # docker-py's, requests' and socket errors alike: not answering
        return None


def _pid() -> int | None:
    try:
        pid = int(open(os.path.join(RUN_DIR, "service.pid")).read())
        os.kill(pid, 0)
        return pid
    except (OSError, ValueError):
        return None


def status(path: str = ROOTFUL_SOCKET) -> str:
    """One line: whether a Podman service answers at ``path``, what it is, and whose it is.

    Args:
        path: the service's socket.

    Returns:
        The line, with what to do when no service answers.

    >>> status("/nonexistent.sock")
    'podman: no service at unix:///nonexistent.sock (start one: python -m labhelpers engine podman start)'
    """
    version = _answers(path)
    if version is None:
        return (f"podman: no service at unix://{path} "
                "(start one: python -m labhelpers engine podman start)")
    whose = "the kit's service" if _pid() and path == ROOTFUL_SOCKET else "a service the kit did not start"
    return f"podman: {describe(version)} at unix://{path}, {whose}"


def start(log=print) -> str:
    """Start ``podman system service`` on :data:`ROOTFUL_SOCKET` (or find one answering there).

    The service reads the kit's :func:`settings` through ``CONTAINERS_CONF`` and runs
    until :func:`stop`; its log is ``/run/labhelpers-podman/service.log``.

    Args:
        log: called with progress lines.

    Returns:
        The :func:`status` line.

    Raises:
        EngineSetupError: Podman is not installed, this is not root, or the service
            never answered (the message holds the end of its log).

    >>> start()                                      # doctest: +SKIP
    'podman: Podman 4.3.1 (Docker API 1.41) at unix:///run/podman/podman.sock, ...'

    (skipped: it starts a service, as root.)
    """
    if _answers(ROOTFUL_SOCKET) is not None:
        return status()
    if not shutil.which("podman"):
        raise EngineSetupError(
            "Podman is not installed here.",
            "install Debian's podman: `make podman` (as root: `apt-get install podman`)",
        )
    if os.geteuid() != 0:
        raise EngineSetupError(
            f"Only root can start the rootful Podman service on {ROOTFUL_SOCKET}.",
            "run it as root (`sudo make podman`), or start your own rootless one "
            "(`systemctl --user start podman.socket`) and set "
            "DOCKER_HOST=unix://$XDG_RUNTIME_DIR/podman/podman.sock",
        )
    os.makedirs(RUN_DIR, exist_ok=True)
    os.makedirs(os.path.dirname(ROOTFUL_SOCKET), exist_ok=True)
    conf = os.path.join(RUN_DIR, "containers.conf")
    with open(conf, "w") as f:
        f.write(settings())
    registries_conf = os.path.join(RUN_DIR, "registries.conf")
    with open(registries_conf, "w") as f:
        f.write(registries())
    if os.path.exists(ROOTFUL_SOCKET):
        os.remove(ROOTFUL_SOCKET)  # stale: nothing answered on it
    logfile = os.path.join(RUN_DIR, "service.log")
    log(f"podman: starting `podman system service` on unix://{ROOTFUL_SOCKET} (settings: {conf})")
    with open(logfile, "w") as out:
        proc = subprocess.Popen(
            ["podman", "system", "service", "--time=0", f"unix://{ROOTFUL_SOCKET}"],
            env={**os.environ, "CONTAINERS_CONF": conf, "CONTAINERS_REGISTRIES_CONF": registries_conf},
            stdin=subprocess.DEVNULL,
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True, cwd="/",
        )
    with open(os.path.join(RUN_DIR, "service.pid"), "w") as f:
        f.write(str(proc.pid))
    from .waiting import wait_until

    if isinstance(wait_until(lambda: _answers(ROOTFUL_SOCKET) or proc.poll() is not None,
                             BOOT_TIMEOUT, interval=0.3, error=None), dict):
        return status()
    tail = open(logfile).read()[-600:]
    raise EngineSetupError(
        f"`podman system service` did not answer on {ROOTFUL_SOCKET} within {BOOT_TIMEOUT} s. "
        f"Its log ends:\n{tail}",
        "check `podman info` for the storage and runtime errors it reports",
    )


def stop() -> str:
    """Stop the service :func:`start` started (a service the kit did not start is left alone).

    >>> stop()                                       # doctest: +SKIP
    'podman: stopped the kit\\'s service'
    """
    pid = _pid()
    if pid is None:
        return "podman: the kit's service is not running"
    os.kill(pid, signal.SIGTERM)
    for _ in range(50):
        if _pid() is None:
            break
        time.sleep(0.1)
    os.remove(os.path.join(RUN_DIR, "service.pid"))
    return "podman: stopped the kit's service"


def _conf_files() -> list[str]:
    """The ``containers.conf`` files a service the user runs reads (``CONTAINERS_CONF`` alone if set)."""
    if os.environ.get("CONTAINERS_CONF"):
        return [os.environ["CONTAINERS_CONF"]]
    home = os.environ.get("XDG_CONFIG_HOME") or os.path.expanduser("~/.config")
    return ["/usr/share/containers/containers.conf", "/etc/containers/containers.conf",
            os.path.join(home, "containers", "containers.conf")]


def what_to_set() -> str:
    """What to put in the ``containers.conf`` of a Podman service the user runs.

    >>> what_to_set().startswith("set in ")
    True
    """
    lines = [line for line in settings().splitlines() if line and not line.startswith("#")]
    where = "/etc/containers/containers.conf" if os.geteuid() == 0 else "~/.config/containers/containers.conf"
    return (f"set in {where}:\n    " + "\n    ".join(lines)
            + "\nthen restart the service (`systemctl restart podman.socket`), or use the kit's "
            "own, which has these settings: `python -m labhelpers engine podman start`")


def explain_start_failure(err: Exception) -> PodmanStartError | None:
    """The diagnosis of a container that Podman could not start, when the kit knows the cause.

    Args:
        err: the exception docker-py raised (an ``APIError`` 500 from ``/start``).

    Returns:
        A :class:`~labhelpers.errors.PodmanStartError` saying what to set, or None.

    >>> explain_start_failure(Exception("error setting rlimit type 7: operation not permitted")).todo[:7]
    'set in '
    """
    text = str(getattr(err, "explanation", None) or err)
    if re.search(r"error setting rlimit", text):
        return PodmanStartError(
            "Podman could not start a container: its default rlimits are above this "
            f"machine's hard limits (`{text.strip()[-120:]}`).", what_to_set())
    if re.search(r"crun.*cgroup|cgroup.*crun", text):
        return PodmanStartError(
            f"Podman's runtime crun refuses this host's cgroup layout (`{text.strip()[-120:]}`).",
            what_to_set())
    return None


def smoke_test(client, image: str, timeout: float = 30) -> float:
    """Create, start and wait for ``true`` in ``image`` through ``client``; the seconds it took.

    No ``containers.run(..., remove=True)``: it reads the logs after the wait, and Podman
    4.3 sometimes answers that request only at the client's timeout.

    Raises:
        PodmanStartError: the start failed for a reason :func:`explain_start_failure` knows,
            or the container did not end within ``timeout`` seconds.
        docker.errors.APIError: any other failure.

    Args:
        client: a ``docker.DockerClient`` on the engine to try.
        image: an image present there, with ``true`` in it.
        timeout: the most seconds the container may take.

    Returns:
        The seconds from create to the end of the wait.

    >>> smoke_test(lab.client(), "python:3.13-slim-trixie")   # doctest: +SKIP
    0.75

    (skipped: it needs an engine.)
    """
    import docker.errors
    import requests.exceptions

    from .labels import labels_for, name

    begin = time.monotonic()
    try:
        client.containers.get(name("00", "podman-check")).remove(force=True)  # an earlier one's
    except docker.errors.NotFound:
        pass
    box = client.containers.create(image, "true", name=name("00", "podman-check"),
                                   labels=labels_for("00"))
    try:
        box.start()
        box.wait(timeout=timeout)
    except docker.errors.APIError as err:
        known = explain_start_failure(err)
        if known is not None:
            raise known from None
        raise
    except requests.exceptions.RequestException:
        raise PodmanStartError(f"A test container ({image}, `true`) did not end within {timeout:.0f} s.",
                               "see `podman ps -a` and the service's log "
                               f"({RUN_DIR}/service.log for the kit's)") from None
    finally:
        box.remove(force=True)
    return time.monotonic() - begin


_podman_urls: dict[str, bool] = {}


def serves(client) -> bool:
    """True when ``client`` (a ``DockerClient`` or ``APIClient``) talks to Podman; asked once per URL.

    Args:
        client: a ``docker.DockerClient`` or ``docker.APIClient``.

    Returns:
        True for Podman; the answer is kept per engine URL.

    >>> serves(lab.client())                         # doctest: +SKIP
    False

    (skipped: it asks the engine.)
    """
    api = getattr(client, "api", client)
    if api.base_url not in _podman_urls:
        _podman_urls[api.base_url] = is_podman(api.version(api_version=False))
    return _podman_urls[api.base_url]


def run_healthcheck(container) -> str | None:
    """On Podman, run a container's HEALTHCHECK now and return its status; elsewhere None.

    Podman runs healthchecks from systemd timers; where its service runs without systemd
    (a container, CI) they never run and the health stays ``starting``. Its own API runs
    one on request (``GET /libpod/containers/{id}/healthcheck``); Docker Engine runs them
    itself. :func:`labhelpers.apps.wait_healthy` uses this (notebook 01).

    Args:
        container: a ``docker.models.containers.Container``.

    Returns:
        The health status (``healthy``, ``unhealthy``, ``starting``) on Podman, else None.

    >>> run_healthcheck(web)                         # doctest: +SKIP
    'healthy'

    (skipped: it needs an engine and a container with a HEALTHCHECK.)
    """
    api = container.client.api
    if not serves(api):
        return None
    answer = api._get(f"{api.base_url}/v4.0.0/libpod/containers/{container.id}/healthcheck")
    if answer.status_code != 200:
        return None
    return answer.json().get("Status")
