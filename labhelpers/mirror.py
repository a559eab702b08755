"""The room cache: a pull-through registry mirror on the instructor's machine.

Thirty laptops pulling the same images over one conference wifi wait thirty times.
:func:`start` runs the catalogue's ``registry:2`` (Distribution 2.8) in proxy mode on
the instructor's engine: the first pull of an image fetches it from the upstream
registry (Docker Hub's, read from docker-py, or ``upstream``), every later pull is
served from the room. Its storage is a volume, so the cache outlives the container.

Before it serves, :func:`start` fills it with the catalogue images this engine holds
(after ``bundle import``, those of the offline bundle; else the official images or
their stand-ins), so **offline it serves what it holds**: when the upstream does not
answer at start (Distribution 2.8's proxy mode then refuses to start), it serves its
storage as a plain registry in read-only mode; when the upstream drops later, the proxy
falls back to the tags it stores.

What it exposes, and nothing more: one port (5000 by default) serving the registry API,
read-only (proxy mode and read-only mode both refuse pushes), from a container with no
capabilities, a read-only root filesystem and no way to gain privileges. Each participant
adds the line :func:`config_line` prints to their engine's ``daemon.json`` and
restarts it; then ``python -m labhelpers prepare`` pulls through the room.

>>> from labhelpers import mirror
>>> print(mirror.start())                        # doctest: +SKIP
room cache: running at http://192.0.2.10:5000 (5 images held, upstream https://...)
>>> mirror.config_line("192.0.2.10:5000")
'"registry-mirrors": ["http://192.0.2.10:5000"], "insecure-registries": ["192.0.2.10:5000"]'

``python -m labhelpers mirror start|stop|status`` drives it; ``prepare`` pulls from it
first when ``LABHELPERS_MIRROR`` names it (:func:`labhelpers.settings.mirror`). Introduced in the
README's "Delivering a workshop".
"""

from __future__ import annotations

import json
import socket
from urllib.parse import urlparse

import docker.auth
import docker.errors
import requests

from .errors import MirrorError

#: The mirror container's name, its storage volume, and the label marking both.
NAME = "labhelpers-mirror"
VOLUME = "labhelpers-mirror-data"
LABEL = "org.labhelpers.mirror"
#: The port it listens on, on every address of the machine (the room must reach it).
PORT = 5000
#: The upstream registry a Docker Hub mirror proxies to: the host of docker-py's index URL.
UPSTREAM = "https://" + urlparse(docker.auth.INDEX_URL).hostname
#: Where the registry image keeps its data.
STORAGE = "/var/lib/registry"


def _client(client=None):
    from .engine import client as get_client

    return client or get_client()


def _container_named(client, name: str):
    try:
        return client.containers.get(name)
    except docker.errors.NotFound:
        return None


def _container(client):
    return _container_named(client, NAME)


def room_address(port: int = PORT) -> str:
    """``IP:PORT`` of this machine as the room sees it (the address of its default route).

    Args:
        port: the mirror's port on this machine.

    Returns:
        ``IP:PORT``; ``127.0.0.1`` when the machine has no route out.

    >>> room_address().endswith(":5000")
    True

    Introduced in README.md ("Delivering a workshop"), for instructors; no notebook uses it (``00-start-here``'s doctor reports it).
    """
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        try:
            probe.connect(("192.0.2.1", 9))  # no packet is sent: it only picks the route
            ip = probe.getsockname()[0]
        except OSError:
            ip = "127.0.0.1"
    return f"{ip}:{port}"


def config_line(address: str) -> str:
    """The line each participant adds to their engine's ``daemon.json`` (then restarts it).

    The mirror speaks plain HTTP, so its address is also an insecure registry.

    Args:
        address: the mirror's ``IP:PORT`` as the room reaches it.

    Returns:
        The JSON fragment, without braces.

    >>> config_line("10.0.0.5:5000")
    '"registry-mirrors": ["http://10.0.0.5:5000"], "insecure-registries": ["10.0.0.5:5000"]'

    Introduced in README.md ("Delivering a workshop"), for instructors; no notebook uses it (``00-start-here``'s doctor reports it).
    """
    return (f'"registry-mirrors": {json.dumps([f"http://{address}"])}, '
            f'"insecure-registries": {json.dumps([address])}')


#: Distribution's read-only mode (pulls only): the offline room cache.
READ_ONLY = {"REGISTRY_STORAGE_MAINTENANCE": '{"readonly": {"enabled": true}, "uploadpurging": {"enabled": false}}'}


def upstream_answers(upstream: str, timeout: float = 5) -> bool:
    """True when the upstream registry answers its API root (any HTTP status).

    Args:
        upstream: the registry's URL.
        timeout: seconds to wait for an answer.

    Returns:
        True when it answered at all, False when it could not be reached.

    >>> upstream_answers("http://127.0.0.1:9", timeout=1)
    False

    Introduced in README.md ("Delivering a workshop"), for instructors; no notebook uses it (``00-start-here``'s doctor reports it).
    """
    try:
        requests.get(f"{upstream.rstrip('/')}/v2/", timeout=timeout)
        return True
    except requests.RequestException:
        return False


def _run_registry(client, image, port: int | None, bind: str, environment: dict, name: str,
                  mode: str = "fill"):
    from .registry import host_port, wait_ready

    box = client.containers.run(
        image.id, name=name, detach=True, labels={LABEL: mode},
        environment=environment,
        volumes={VOLUME: {"bind": STORAGE, "mode": "rw"}},
        ports={"5000/tcp": (bind, port)},
        read_only=True, tmpfs={"/tmp": ""}, cap_drop=["ALL"],
        security_opt=["no-new-privileges"],
    )
    host = "127.0.0.1" if bind in ("0.0.0.0", "") else bind
    if port is None:
        box.reload()
        port = host_port(box)
    try:
        wait_ready(f"http://{host}:{port}", timeout=30)
    except Exception as err:
        tail = box.logs(tail=10).decode(errors="replace")
        box.remove(force=True)
        raise MirrorError(f"The registry container {name} did not answer on port {port}:\n{tail}",
                          "check that the port is free (`--port`), then start again") from err
    return box


def fill(client=None, port: int | None = None, log=print, refs: list[str] | None = None) -> list[str]:
    """Push the catalogue images this engine holds into the mirror's storage.

    A registry in proxy mode refuses pushes, so a plain registry on the same volume,
    on loopback only, takes them and is removed again. Images go under ``library/``,
    where an engine looks for official images on a mirror.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
        port: the loopback port of the filling registry (default: one the engine picks).
        log: called with progress lines.
        refs: only these catalogue references (default: every one this engine holds).

    Returns:
        The references pushed.

    >>> fill()                                       # doctest: +SKIP
    ['python:3.13-slim-trixie', 'registry:2', 'redis:8', 'docker:28-dind', 'python:3.13-trixie']

    Introduced in README.md ("Delivering a workshop"), for instructors; no notebook uses it (``00-start-here``'s doctor reports it).
    """
    from . import images
    from .registry import host_port, push

    client = _client(client)
    image = images.ensure("registry", client=client, log=log)
    leftover = _container_named(client, f"{NAME}-fill")
    if leftover is not None:
        leftover.remove(force=True)
    filler = _run_registry(client, image, port, "127.0.0.1", {}, f"{NAME}-fill")
    port = port or host_port(filler)
    pushed = []
    try:
        for entry in images.CATALOGUE.values():
            held = images.present(client, entry.ref)
            if held is None or (refs is not None and entry.ref not in refs):
                continue
            target = f"127.0.0.1:{port}/library/{entry.ref}"
            held.tag(target)
            try:
                log(f"room cache: storing {entry.ref}")
                push(target, client=client)
                pushed.append(entry.ref)
            finally:
                client.images.remove(target, noprune=True)
    finally:
        filler.remove(force=True)
    return pushed


def start(client=None, port: int = PORT, bind: str = "0.0.0.0", upstream: str | None = None,
          fill_first: bool = True, log=print) -> str:
    """Run the room cache (or find it running) and say what each participant configures.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
        port: the port the room reaches it on.
        bind: the address it listens on (``0.0.0.0``: every interface; give the room's
            interface's address to serve that network alone).
        upstream: the registry it proxies to (default :data:`UPSTREAM`).
        fill_first: store the catalogue images this engine holds before serving.
        log: called with progress lines.

    Returns:
        The :func:`status` text, with the line for participants' ``daemon.json``.

    Raises:
        MirrorError: the registry would not start (port taken, image missing).

    >>> print(start(fill_first=False))               # doctest: +SKIP
    room cache: running at http://192.0.2.10:5000 ...

    Introduced in README.md ("Delivering a workshop"), for instructors; no notebook uses it (``00-start-here``'s doctor reports it).
    """
    from . import images

    client = _client(client)
    box = _container(client)
    if box is not None and box.status == "running":
        return status(client)
    if box is not None:
        box.remove(force=True)
    if fill_first:
        log(f"room cache: stored {len(fill(client, log=log))} images from this engine")
    image = images.ensure("registry", client=client, log=log)
    upstream = upstream or UPSTREAM
    if upstream_answers(upstream):
        _run_registry(client, image, port, bind, {"REGISTRY_PROXY_REMOTEURL": upstream}, NAME, "proxy")
    else:
        log(f"room cache: {upstream} does not answer: serving what the cache holds, read-only")
        _run_registry(client, image, port, bind, {**READ_ONLY, "LABHELPERS_UPSTREAM": upstream},
                      NAME, "offline")
    return status(client)


def _held(url: str) -> list[str]:
    try:
        repos = requests.get(f"{url}/v2/_catalog", timeout=5).json().get("repositories") or []
        return [f"{repo}:{tag}" for repo in repos
                for tag in requests.get(f"{url}/v2/{repo}/tags/list", timeout=5).json().get("tags") or []]
    except (requests.RequestException, ValueError):
        return []


def status(client=None) -> str:
    """Whether the room cache runs, what it holds, and the participants' ``daemon.json`` line.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        A few lines: running or not, the images held, the ``daemon.json`` line to add.

    >>> print(status())                              # doctest: +SKIP
    room cache: not running (start it: python -m labhelpers mirror start)

    (skipped: it asks the engine.) Introduced in README.md ("Delivering a workshop"), for instructors; no notebook uses it (``00-start-here``'s doctor reports it).
    """
    client = _client(client)
    box = _container(client)
    if box is None or box.status != "running":
        return "room cache: not running (start it: python -m labhelpers mirror start)"
    binding = (box.attrs["HostConfig"].get("PortBindings") or {}).get("5000/tcp") or [{}]
    host, port = binding[0].get("HostIp") or "0.0.0.0", int(binding[0].get("HostPort") or PORT)
    local = "127.0.0.1" if host == "0.0.0.0" else host
    address = room_address(port) if host == "0.0.0.0" else f"{host}:{port}"
    held = _held(f"http://{local}:{port}")
    env = dict(e.split("=", 1) for e in box.attrs["Config"].get("Env") or [] if "=" in e)
    mode = (f"pull-through to {env.get('REGISTRY_PROXY_REMOTEURL')}" if "REGISTRY_PROXY_REMOTEURL" in env
            else f"offline, read-only: {env.get('LABHELPERS_UPSTREAM', 'the upstream')} did not answer at start")
    return (f"room cache: running at http://{address} ({mode}); {len(held)} images held: "
            f"{', '.join(sorted(held)) or 'none yet'}\n"
            f"each participant adds to their engine's daemon.json, then restarts the engine:\n"
            f"  {config_line(address)}\n"
            f"(or, with no engine configuration: LABHELPERS_MIRROR={address} python -m labhelpers prepare)")


def stop(client=None, purge: bool = False) -> str:
    """Remove the room cache's container; what it holds stays in its volume unless ``purge``.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
        purge: also remove the volume holding the cached images.

    Returns:
        One line saying what was removed.

    >>> stop()                                       # doctest: +SKIP
    'room cache: stopped (its images are kept in the volume labhelpers-mirror-data)'

    (skipped: it removes a container of the engine.) Introduced in README.md ("Delivering a workshop"), for instructors; no notebook uses it (``00-start-here``'s doctor reports it).
    """
    from .cleanup import stop_service

    return stop_service(_client(client), [NAME, f"{NAME}-fill"], VOLUME, "room cache", purge=purge)

