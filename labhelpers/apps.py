"""The sample apps of ``notebooks/apps/``: build them (with progress), run, call, list.

:func:`build` makes a build context from an app folder plus its wheelhouse (see
:mod:`labhelpers.wheelhouse`), streams the engine's build with a progress bar, and
returns a :class:`BuildReport`: one summary line, with the build steps in a collapsed
block instead of a wall of log. :func:`run` starts a labelled instance on a host port,
:func:`get` calls it, :func:`table` lists instances as a pandas DataFrame.

>>> report = build("notebooks/apps/hello-flask", "nb01-hello-flask:latest", "01")  # doctest: +SKIP
>>> app = run(report.tag, "01", "web-1", port=8081)                                # doctest: +SKIP
>>> get(app, "/")["message"]                                                       # doctest: +SKIP
'Hello from hello-flask'

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import docker.errors
import requests

from .errors import AppError, WaitTimeout
from .imagestore import unpacked_bytes
from .labels import labels_for, name as lab_name
from .ports import free_port, host_port  # noqa: F401 (lab.apps.free_port in notebook 01)
from . import ports
from . import streams
from .streams import build_events
from .waiting import wait_until

#: Where the sample apps live, next to the notebooks.
APPS_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks", "apps")



def app_dir(name: str) -> str:
    """The folder of a sample app, ``notebooks/apps/NAME``.

    Args:
        name: the app's folder name, e.g. ``"hello-flask"``.

    Returns:
        Its absolute path.

    >>> app_dir("hello-flask").endswith(os.path.join("notebooks", "apps", "hello-flask"))
    True
    """
    return os.path.join(APPS_DIR, name)


@dataclass
class BuildReport:
    """What a build did: the image, the steps, the time, the full log kept aside.

    Attributes:
        tag: the image's name.
        image: the ``docker.models.images.Image``.
        seconds: wall time of the build.
        steps: the Dockerfile's instructions, in order.
        cached: how many steps came from the layer cache.
        log: every line the build printed.
        unpacked: the image's unpacked layers in bytes, the same measure on the classic
            and the containerd image store (see :mod:`labhelpers.imagestore`).
    """

    tag: str
    image: object
    seconds: float
    steps: list[str] = field(default_factory=list)
    cached: int = 0
    log: list[str] = field(default_factory=list)
    unpacked: int = 0

    @property
    def size_mb(self) -> float:
        """The unpacked size in MB (not ``docker images``' size, which on the containerd
        store adds the compressed content)."""
        return self.unpacked / 1e6

    def summary(self) -> str:
        """One line: the tag, the steps, the time, the unpacked size."""
        return (f"built {self.tag}: {len(self.steps)} steps in {self.seconds:.1f} s, "
                f"{self.size_mb:.0f} MB unpacked")

    def __repr__(self) -> str:
        return self.summary()

    def _repr_html_(self) -> str:
        steps = "\n".join(f"{i:>2}. {html.escape(s)}" for i, s in enumerate(self.steps, 1))
        return (f"<p>{html.escape(self.summary())}</p><details><summary>the "
                f"{len(self.steps)} steps (the full log is <code>.log</code>)</summary>"
                f"<pre>{steps}</pre></details>")


def _context(app: str, wheelhouse) -> str:
    tmp = tempfile.mkdtemp(prefix="labhelpers-build-")
    ctx = os.path.join(tmp, "context")
    shutil.copytree(app, ctx, ignore=shutil.ignore_patterns("__pycache__", "wheels", ".pytest_cache"))
    if wheelhouse is not None:
        wheelhouse.copy_to(os.path.join(ctx, "wheels"))
    return ctx


def build(app: str, tag: str, notebook: str, client=None, wheelhouse=None,
          progress: bool = True, labels: dict | None = None, nocache: bool = False) -> BuildReport:
    """Build an app folder into an image, with a progress bar and a short report.

    Args:
        app: the app's folder (holding its Dockerfile), or a name under ``notebooks/apps``.
        tag: the image's name, e.g. ``lab.name("01", "hello-flask") + ":latest"``.
        notebook: two digits: the image is labelled for it (cleanup removes it).
        client: a ``docker.DockerClient`` (default: the kit's).
        wheelhouse: a :class:`~labhelpers.wheelhouse.Wheelhouse` copied to ``wheels/``
            in the build context; default: built from the app's ``requirements.txt``.
        progress: show a progress bar over the Dockerfile's steps.
        labels: the image's labels (default: ``labels_for(notebook)``).
        nocache: build every step again (ignore the layer cache).

    Returns:
        The :class:`BuildReport`.

    Raises:
        AppError: the build failed; the message holds the failing step's last lines.

    >>> build("hello-flask", "nb01-hello-flask:latest", "01")   # doctest: +SKIP
    built nb01-hello-flask:latest: 13 steps in 4.5 s, 128 MB unpacked
    """
    from . import wheelhouse as wh
    from .engine import client as get_client

    client = client or get_client()
    app = app if os.path.isdir(app) else app_dir(app)
    requirements = os.path.join(app, "requirements.txt")
    if wheelhouse is None and os.path.exists(requirements):
        wheelhouse = wh.build(requirements, client=client, log=lambda line: None)
    ctx = _context(app, wheelhouse)
    report = BuildReport(tag, None, 0.0)
    start = time.monotonic()
    bar = streams.progress(total=None, desc=f"build {tag}", unit=" step", leave=False, disable=not progress)
    try:
        stream = client.api.build(path=ctx, tag=tag, rm=True, forcerm=True, decode=True,
                                  nocache=nocache,
                                  labels=labels if labels is not None else labels_for(notebook))
        for event in build_events(stream):
            if event.kind == "error":
                tail = "\n".join(report.log[-8:] + [event.text])
                raise AppError(f"The build of {tag} failed:\n{tail}",
                               "fix the Dockerfile step above (the full log is in the "
                               "message) and build again")
            if event.text:
                report.log.append(event.text)
            if event.kind == "step":
                bar.total = event.total
                report.steps.append(event.instruction)
                bar.update(1)
            elif event.kind == "cached":
                report.cached += 1
    except docker.errors.APIError as err:
        raise AppError(f"The engine refused the build of {tag}: {err.explanation or err}",
                       "check the app folder and its Dockerfile") from None
    finally:
        bar.close()
        shutil.rmtree(os.path.dirname(ctx), ignore_errors=True)
    report.seconds = time.monotonic() - start
    report.image = client.images.get(tag)
    report.unpacked = unpacked_bytes(client, report.image)
    return report


def run(image: str, notebook: str, base: str, port: int | None = None, client=None,
        container_port: str = "5000/tcp", wait: bool = True, name: str | None = None,
        labels: dict | None = None, **kwargs):
    """Start a labelled instance of an app image, publishing its port on 127.0.0.1.

    Args:
        image: the app image.
        notebook: two digits (name ``nbNN-base``, labels).
        base: the container's name after the prefix.
        port: the host port; None lets the engine pick a free one.
        wait: wait until the app answers HTTP (see :func:`wait_http`).
        name: the full container name (overrides ``notebook`` and ``base``; tests).
        labels: the labels (default: ``labels_for(notebook, app="true")``).
        **kwargs: more ``containers.run`` arguments (``environment``, ``network``...).

    Returns:
        The running ``Container`` (reloaded: its port is known).

    Raises:
        AppError: ``wait`` and the app does not answer (the message holds its last lines).

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
        container_port: the app's port inside the container, as ``PORT/tcp``.

    >>> run("nb01-hello-flask:latest", "01", "web").name    # doctest: +SKIP
    'nb01-web'
    """
    from .engine import client as get_client

    client = client or get_client()
    labels = labels if labels is not None else labels_for(notebook, app="true")
    container = client.containers.run(
        image, detach=True, name=name or lab_name(notebook, base), labels=labels,
        ports={container_port: ("127.0.0.1", port)}, **kwargs)
    container.reload()
    if wait:
        wait_http(container)
    return container


def url(container, path: str = "/", port: str = "5000/tcp") -> str:
    """``http://127.0.0.1:PORT/path`` for a container publishing ``port`` (the app's).

    Args:
        container: a reloaded ``Container``.
        path: the URL's path.
        port: the container's port.

    Returns:
        The URL on the host.

    Raises:
        AppError: the container publishes no such port.

    >>> url(web, "/health")                          # doctest: +SKIP
    'http://127.0.0.1:33141/health'
    """
    found = ports.url(container, path, port)
    if found is None:
        raise AppError(f"{container.name} publishes no port {port}.", "start it with ports={...}")
    return found


def wait_http(container, path: str = "/health", timeout: float = 30,
              port: str = "5000/tcp") -> None:
    """Wait until the app answers ``path``.

    Args:
        container: the app's ``Container``.
        path: the path that answers 2xx once the app is up.
        timeout: seconds to wait.
        port: the container's port.

    Raises:
        AppError: no answer in time, or the container exited; the message holds its logs.

    >>> wait_http(web)                               # doctest: +SKIP
    """
    def answers() -> bool:
        container.reload()
        if container.status == "exited":
            raise _no_answer(container, path, port)
        return requests.get(url(container, path, port), timeout=2).ok

    try:
        wait_until(answers, timeout, what=f"{container.name} to answer", error=WaitTimeout,
                   ignore=(requests.RequestException,))
    except WaitTimeout:
        raise _no_answer(container, path, port) from None


def _no_answer(container, path: str, port: str) -> AppError:
    logs = container.logs(tail=10).decode(errors="replace")
    where = ports.url(container, path, port) or f"{port} (no longer published: it stopped)"
    return AppError(f"{container.name} does not answer on {where}. "
                    f"Its last lines:\n{logs}",
                    "read its logs above; fix the app or the command, and start it again")


def wait_healthy(container, timeout: float = 60) -> str:
    """Wait while the image's HEALTHCHECK says ``starting``; return the health status.

    Args:
        container: a ``Container``.
        timeout: seconds to wait at most.

    Returns:
        ``"healthy"``, ``"unhealthy"``, ``"starting"`` (timed out), or ``"none"`` for an
        image without a healthcheck.

    >>> wait_healthy(web)                            # doctest: +SKIP
    'healthy'
    """
    from .podman import run_healthcheck

    asked = [0.0]

    def settled():
        container.reload()
        status = (container.attrs["State"].get("Health") or {}).get("Status", "none")
        check = container.attrs["Config"].get("Healthcheck") or {}
        interval = (check.get("Interval") or 30e9) / 1e9
        if status == "starting" and time.monotonic() - asked[0] >= interval:
            asked[0] = time.monotonic()  # Podman without systemd runs healthchecks only when asked
            if run_healthcheck(container) is not None:
                return settled()  # read the state it left
        return status if status != "starting" else None

    return wait_until(settled, timeout, interval=0.5, error=None) or "starting"


def get(container, path: str = "/", port: str = "5000/tcp") -> dict:
    """Call the app in ``container`` and return its JSON answer.

    Args:
        container: the app's reloaded ``Container``.
        path: the URL's path.
        port: the container's port.

    Returns:
        The decoded JSON.

    Raises:
        AppError: the container publishes no such port, does not answer, or answers
            something that is not JSON (an error page).

    >>> get(web, "/")["message"]                     # doctest: +SKIP
    'Hello from hello-flask'
    """
    where = url(container, path, port)
    try:
        answer = requests.get(where, timeout=5)
    except requests.RequestException as err:
        raise AppError(f"{container.name} does not answer on {where} ({type(err).__name__}).",
                       "check that it runs (`lab.apps.table([...])`) and read its logs "
                       "(`container.logs()`)") from None
    try:
        return answer.json()
    except ValueError:
        raise AppError(f"{container.name} answered {where} with HTTP {answer.status_code} and no JSON: "
                       f"{answer.text[:200]!r}",
                       "read its logs (`container.logs()`): the app probably failed on this request") from None


def uptime(container) -> str:
    """How long the container has been running, like ``docker ps`` (``"Up 3 seconds"``).

    Args:
        container: a reloaded ``Container``.

    Returns:
        ``"Up N seconds|minutes|hours"``, or the status of a container not running.

    >>> uptime(web)                                  # doctest: +SKIP
    'Up 3 seconds'
    """
    started = container.attrs["State"].get("StartedAt", "")
    if not container.attrs["State"].get("Running"):
        return container.status
    start = datetime.fromisoformat(started[:26].rstrip("Z") + "+00:00")
    seconds = int((datetime.now(timezone.utc) - start).total_seconds())
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = seconds // size
            return f"Up {n} {unit}{'s' if n > 1 else ''}"
    return f"Up {seconds} second{'s' if seconds != 1 else ''}"


def table(containers, extra=None, port: str = "5000/tcp"):
    """Instances as a pandas DataFrame: name, status, port, uptime (and ``extra(c)`` columns).

    Args:
        containers: the ``Container`` objects (each is reloaded).
        extra: called with each container; returns more columns as a dict.
        port: the container port whose host port is shown.

    Returns:
        One row per container.

    >>> table(apps, extra=lambda c: {"hits": get(c, "/hits")["hits"]})  # doctest: +SKIP
    """
    import pandas as pd

    rows = []
    for c in containers:
        c.reload()
        row = {"name": c.name, "status": c.status, "port": host_port(c, port), "uptime": uptime(c)}
        if extra is not None:
            row.update(extra(c))
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.astype({"port": "Int64"}) if rows else frame
