"""One task, five clients: run a container, read its output, remove it.

Each ``with_*`` function does the same job with another library: start ``n``
containers from ``image`` that print one line, collect the lines, and leave
nothing behind. Their source is the lesson (the notebook shows it with
:func:`show`); :func:`compare` times them and counts lines of code and
dependencies.

- **docker-py**: the reference (notebook 04), synchronous;
- **aiodocker**: asyncio; the ``n`` containers run concurrently;
- **python-on-whales**: wraps the ``docker`` CLI, so it speaks the CLI's options;
- **testcontainers**: containers as test fixtures (a context manager);
- **raw**: the HTTP API over the unix socket with the standard library only
  (notebook 02 takes it apart).

Each finds the engine its library's usual way (``DOCKER_HOST``, else the default socket).

>>> from labhelpers import alternatives
>>> alternatives.with_docker_py(["python", "-c", "print('hi')"], "nb05-demo", 1)  # doctest: +SKIP
['hi']

Introduced in ``05-more-modules``.
"""

from __future__ import annotations

import asyncio
import functools
import http.client
import inspect
import json
import os
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata

from .errors import AlternativeError, LabError
from .images import CATALOGUE
from .labels import labels_for
from .rawapi.versions import negotiated

#: The command every container runs: one line on stdout.
COMMAND = ["python", "-c", "print('hello from a container')"]
#: The lab's python image (the catalogue's).
IMAGE = CATALOGUE["python"].ref


def _labels(labels: dict | None) -> dict:
    return labels if labels is not None else labels_for("05")


def with_docker_py(cmd, name, n=1, image=IMAGE, labels=None):
    """docker-py: ``containers.run`` waits, returns the output, and removes the container."""
    import docker

    client = docker.from_env()
    out = []
    for i in range(n):
        logs = client.containers.run(image, cmd, name=f"{name}-{i}", labels=_labels(labels),
                                     remove=True)
        out.append(logs.decode().strip())
    return out


async def aiodocker_way(cmd, name, n=1, image=IMAGE, labels=None):
    """aiodocker: the same over asyncio; ``n`` containers run concurrently (``await`` it)."""
    import aiodocker

    async def one(docker, i):
        config = {"Image": image, "Cmd": cmd, "Labels": _labels(labels)}
        container = await docker.containers.run(config=config, name=f"{name}-{i}")
        try:
            await container.wait()
            return "".join(await container.log(stdout=True)).strip()
        finally:
            await container.delete(force=True)

    async with aiodocker.Docker() as docker:
        return list(await asyncio.gather(*(one(docker, i) for i in range(n))))


def with_aiodocker(cmd, name, n=1, image=IMAGE, labels=None):
    """:func:`aiodocker_way` from synchronous code (in a thread when a loop already runs, as in Jupyter)."""
    coro = aiodocker_way(cmd, name, n, image=image, labels=labels)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


def with_whales(cmd, name, n=1, image=IMAGE, labels=None):
    """python-on-whales: each call runs the ``docker`` CLI (``docker run --rm ...``)."""
    from python_on_whales import DockerClient

    docker = DockerClient()
    return [docker.run(image, cmd, name=f"{name}-{i}", labels=_labels(labels), remove=True).strip()
            for i in range(n)]


def with_testcontainers(cmd, name, n=1, image=IMAGE, labels=None):
    """testcontainers: a container is a context manager, removed on exit.

    Offline, set ``TESTCONTAINERS_RYUK_DISABLED=true``: the Ryuk reaper (a sidecar
    container that removes leftovers if the test process dies) is an image that
    would be pulled, and no registry is reachable; the ``with`` block removes ours.
    """
    from testcontainers.core.container import DockerContainer

    out = []
    for i in range(n):
        box = DockerContainer(image).with_command(cmd).with_name(f"{name}-{i}")
        with box.with_kwargs(labels=_labels(labels)) as c:
            c.get_wrapped_container().wait()
            stdout, _ = c.get_logs()
            out.append(stdout.decode().strip())
    return out


class _UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost")
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


def _call(path, method, url, body=None):
    conn = _UnixHTTP(path)
    conn.request(method, url, body=json.dumps(body) if body is not None else None,
                 headers={"Content-Type": "application/json"})
    resp = conn.getresponse()
    data = resp.read()
    conn.close()
    if resp.status >= 400:
        raise RuntimeError(f"{method} {url}: {resp.status} {data[:200]!r}")
    return data


def _frames(data):
    """Decode the multiplexed log stream: 8-byte header (stream, 0, 0, 0, size) + payload."""
    out = b""
    while len(data) >= 8:
        size = int.from_bytes(data[4:8], "big")
        out, data = out + data[8:8 + size], data[8 + size:]
    return out


def with_raw(cmd, name, n=1, image=IMAGE, labels=None, sock=None):
    """The standard library only: HTTP/1.1 over the engine's unix socket."""
    sock = sock or _socket_path()
    v = "/v" + negotiated(sock)  # as the CLI: HEAD /_ping → Api-Version, the older of its and ours
    out = []
    for i in range(n):
        spec = {"Image": image, "Cmd": cmd, "Labels": _labels(labels)}
        cid = json.loads(_call(sock, "POST", f"{v}/containers/create?name={name}-{i}", spec))["Id"]
        try:
            _call(sock, "POST", f"{v}/containers/{cid}/start")
            _call(sock, "POST", f"{v}/containers/{cid}/wait")
            out.append(_frames(_call(sock, "GET", f"{v}/containers/{cid}/logs?stdout=1")).decode().strip())
        finally:
            _call(sock, "DELETE", f"{v}/containers/{cid}?force=1&v=1")
    return out


def _socket_path() -> str:
    from .engine import find_endpoint

    path = find_endpoint().socket_path
    if path is None:
        from .errors import EngineError

        raise EngineError("The raw way speaks HTTP over a unix socket; this engine is not on one.",
                          "run it against a local engine (unset DOCKER_HOST)")
    return path


#: The errors of the clients' libraries (checked by module: the libraries are imported late).
_LIBRARIES = ("docker", "aiodocker", "python_on_whales", "testcontainers", "requests", "urllib3", "aiohttp")


def _as_lab_error(way, client: str):
    """``way``, raising :class:`AlternativeError` (what, what to do) instead of a library's error.

    The shown source stays the lesson's: :func:`inspect.getsource` reads through the wrapper.

    Args:
        way: one of the ``with_*`` functions.
        client: the client's name, for the message.

    Returns:
        The wrapped function.

    >>> def broken(*args, **kwargs):
    ...     raise RuntimeError("POST /v1.41/containers/create: 404 b'No such image'")
    >>> _as_lab_error(broken, "raw socket")([], "x")
    Traceback (most recent call last):
    ...
    labhelpers.errors.AlternativeError: raw socket could not run the container: RuntimeError: POST /v1.41/containers/create: 404 b'No such image'
    What to do: check that the image is here (`lab.ensure("python")`) and the engine answers (`lab.doctor("05")`), then run the cell again
    """
    @functools.wraps(way)
    def run(*args, **kwargs):
        try:
            return way(*args, **kwargs)
        except LabError:
            raise
        except Exception as err:
            if not isinstance(err, (RuntimeError, ValueError, OSError)) and \
                    type(err).__module__.split(".")[0] not in _LIBRARIES:
                raise  # a mistake in the call itself (TypeError...): Python's own message
            first = (str(getattr(err, "explanation", None) or err).strip().splitlines() or [""])[0][:300]
            raise AlternativeError(
                f"{client} could not run the container: {type(err).__name__}: {first}",
                f'check that the image is here (`lab.ensure("python")`) and the engine answers '
                f'(`lab.doctor("05")`), then run the cell again') from err

    return run


with_docker_py = _as_lab_error(with_docker_py, "docker-py")
with_aiodocker = _as_lab_error(with_aiodocker, "aiodocker")
with_whales = _as_lab_error(with_whales, "python-on-whales")
with_testcontainers = _as_lab_error(with_testcontainers, "testcontainers")
with_raw = _as_lab_error(with_raw, "raw socket")

#: name → (function, distribution it needs, style).
CLIENTS = {
    "docker-py": (with_docker_py, "docker", "sync"),
    "aiodocker": (with_aiodocker, "aiodocker", "async (concurrent)"),
    "python-on-whales": (with_whales, "python-on-whales", "CLI wrapper (sync)"),
    "testcontainers": (with_testcontainers, "testcontainers", "test fixture (sync)"),
    "raw socket": (with_raw, None, "stdlib HTTP (sync)"),
}


def _shown(client: str) -> list:
    """The code that is the lesson for one client (the raw way is its helpers too)."""
    fn = CLIENTS[client][0]
    if fn is with_raw:
        return [_UnixHTTP, _call, _frames, with_raw]
    if fn is with_aiodocker:
        return [aiodocker_way]
    return [fn]


def show(client: str):
    """The source of one client's way, highlighted in a notebook.

    Args:
        client: a key of :data:`CLIENTS` (``"docker-py"``, ``"raw socket"``...).

    Returns:
        An ``IPython.display.Code`` of that way's functions.

    >>> "def with_docker_py" in show("docker-py").data
    True
    """
    from IPython.display import Code

    return Code("\n\n".join(inspect.getsource(f) for f in _shown(client)), language="python")


def lines_of_code(client: str) -> int:
    """Lines of code of one client's way: no blank lines, comments or docstrings.

    Args:
        client: a key of :data:`CLIENTS`.

    Returns:
        The count, over the functions :func:`show` shows.

    >>> lines_of_code("docker-py") < lines_of_code("raw socket")
    True
    """
    count = 0
    for part in _shown(client):
        in_doc = False
        for line in inspect.getsource(part).splitlines():
            s = line.strip()
            if s.startswith('"""'):
                in_doc = not (s.count('"""') == 2) and not in_doc
                continue
            if in_doc:
                in_doc = not s.endswith('"""')
                continue
            if s and not s.startswith("#"):
                count += 1
    return count


def dependencies(dist: str | None) -> list[str]:
    """Every distribution ``dist`` needs (transitively, no extras), from installed metadata.

    Requirements that hold only on some Pythons are judged for the lab's Python
    (:data:`labhelpers.wheelhouse.PYTHON_VERSION`, the catalogue's image), not the
    kernel's, so the count is the same on a laptop's Python 3.11 and in the kit image.

    Args:
        dist: a distribution's name; None (the raw way: the standard library) has none.

    Returns:
        The names of the distributions it needs, sorted, itself left out.

    >>> dependencies(None)
    []
    """
    import re

    seen: set[str] = set()
    todo = [dist] if dist else []
    while todo:
        try:
            reqs = metadata.requires(todo.pop()) or []
        except metadata.PackageNotFoundError:
            continue
        for req in reqs:
            if "extra ==" in req or "extra==" in req:
                continue
            marker = req.split(";", 1)[1] if ";" in req else ""
            if marker and not _marker_ok(marker):
                continue
            name = re.match(r"[A-Za-z0-9_.\-]+", req).group(0).lower().replace("_", "-")
            if name not in seen:
                seen.add(name)
                todo.append(name)
    return sorted(seen)


def _marker_ok(marker: str) -> bool:
    try:
        from packaging.markers import Marker

        from .wheelhouse import PYTHON_VERSION

        return Marker(marker).evaluate({"python_version": PYTHON_VERSION,
                                        "python_full_version": f"{PYTHON_VERSION}.0"})
    except Exception:
        return True


def timed(client: str, n: int, name: str, labels=None, cmd=COMMAND, image=IMAGE):
    """Run one client's way for ``n`` containers: ``(seconds, outputs)``.

    Args:
        client: a key of :data:`CLIENTS`.
        n: how many containers, one after the other.
        name: the containers' name prefix (``-0``, ``-1``... are added).
        labels: their labels.
        cmd: the command they run.
        image: the image they run.

    Returns:
        ``(seconds, outputs)``: the wall time and each container's stdout.

    >>> timed("docker-py", 2, lab.name("05", "try"))    # doctest: +SKIP
    (1.9, ['hello from a container', 'hello from a container'])

    (skipped: it runs containers on the engine.)
    """
    fn = CLIENTS[client][0]
    t0 = time.perf_counter()
    out = fn(cmd, name, n, image=image, labels=labels)
    return time.perf_counter() - t0, out


def compare(name_for, ns=(1, 10), labels=None, progress: bool = True, warmup: bool = True,
            repeat: int = 1):
    """Time every client for each count in ``ns``; a pandas table.

    Args:
        name_for: called with the client's short name, gives the containers' name prefix.
        ns: how many containers per run.
        warmup: first run each client once, untimed, so that importing it (and the
            engine's first start of the image) is not counted against whoever goes first.
        repeat: time each run this many times and keep the fastest (a busy machine
            only ever adds time).

    Returns:
        A DataFrame indexed by client: style, lines of code, dependencies, one
        ``time for N (s)`` column per count, and whether every output was right.

    Args:
        name_for: makes a container name prefix from a client's slug (``lab.name("05", slug)``).
        ns: the container counts to time.
        labels: the containers' labels.
        progress: show a progress bar.
        warmup: run each client once first, untimed (imports, connections).
        repeat: time each count this many times; the best is kept.

    Returns:
        A DataFrame indexed by client: style, lines of code, dependencies, a time per count,
        outputs right.

    >>> compare(lambda slug: lab.name("05", slug), ns=(1,))["outputs right"].all()   # doctest: +SKIP
    True

    (skipped: it runs containers on the engine, with every client.)
    """
    import pandas as pd
    from tqdm.auto import tqdm

    rows = []
    jobs = [(c, n) for _ in range(repeat) for c in CLIENTS for n in ns]
    times: dict[tuple[str, int], float] = {}
    ok: dict[str, bool] = {c: True for c in CLIENTS}
    if warmup:
        jobs = [(c, 0) for c in CLIENTS] + jobs
    for client, n in tqdm(jobs, desc="timing", disable=not progress):
        slug = client.replace(" ", "").replace("-", "")
        if n == 0:
            timed(client, 1, f"{name_for(slug)}-warmup", labels=labels)
            continue
        seconds, out = timed(client, n, f"{name_for(slug)}-{n}", labels=labels)
        times[client, n] = min(seconds, times.get((client, n), seconds))
        ok[client] &= out == ["hello from a container"] * n
    for client, (fn, dist, style) in CLIENTS.items():
        row = {"client": client, "style": style, "lines of code": lines_of_code(client),
               "dependencies": len(dependencies(dist)) + (1 if dist else 0)}
        for n in ns:
            row[f"time for {n} (s)"] = round(times[client, n], 2)
        row["outputs right"] = ok[client]
        rows.append(row)
    return pd.DataFrame(rows).set_index("client")


def ryuk_disabled() -> bool:
    """Whether testcontainers' reaper is off (it must be, offline)."""
    return os.environ.get("TESTCONTAINERS_RYUK_DISABLED", "").lower() == "true"
