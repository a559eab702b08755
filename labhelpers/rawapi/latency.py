"""How fast is each way to call the Engine API? Round trips, measured.

Four ways, from the bare socket up to docker-py:

- ``raw socket``: a new connection per request, the request written by hand;
- ``http.client``: the standard library over ``AF_UNIX``, one kept-alive connection;
- ``requests-unixsocket``: ``requests`` with ``http+unix://`` URLs, a session;
- ``docker-py``: ``docker.APIClient`` (``ping()``, ``containers()``).

Each round calls every way once, in turn, so a busy moment of the machine
hits them all alike; the table gives the median and the 90th percentile.

>>> from labhelpers.rawapi import latency
>>> latency.measure(repeat=50)                   # doctest: +SKIP
   way          endpoint  median (ms)  p90 (ms)
...

Introduced in ``02-docker-engine-api``; ``benchmarks/api_latency.py`` prints it.
"""

from __future__ import annotations

import statistics
import time
from urllib.parse import quote

from .http import RawClient, default_socket, raw_request
from .versions import negotiated

WAYS = ("raw socket", "http.client", "requests-unixsocket", "docker-py")
ENDPOINTS = ("/_ping", "/containers/json")


def callers(socket_path: str, version: str) -> dict:
    """``{(way, endpoint): a function making that one call}``, connections ready.

    Args:
        socket_path: the engine's unix socket.
        version: the API version every way puts in its paths, like ``"1.45"``.

    Returns:
        A dict from ``(way, endpoint)`` to a function of no arguments.

    >>> sorted(callers("/var/run/docker.sock", "1.41"))[0]      # nothing is called yet
    ('docker-py', '/_ping')

    Introduced in ``02-docker-engine-api``.
    """
    import docker
    import requests_unixsocket

    raw = RawClient(socket_path, version=version)
    session = requests_unixsocket.Session()
    base = "http+unix://" + quote(socket_path, safe="") + f"/v{version}"
    api = docker.APIClient(base_url="unix://" + socket_path, version=version)

    def by_hand(endpoint):
        return lambda: raw_request(socket_path, "GET", f"/v{version}{endpoint}")

    return {
        ("raw socket", "/_ping"): by_hand("/_ping"),
        ("raw socket", "/containers/json"): by_hand("/containers/json"),
        ("http.client", "/_ping"): lambda: raw.get("/_ping").body,
        ("http.client", "/containers/json"): lambda: raw.get("/containers/json").json(),
        ("requests-unixsocket", "/_ping"): lambda: session.get(base + "/_ping").content,
        ("requests-unixsocket", "/containers/json"): lambda: session.get(base + "/containers/json").json(),
        ("docker-py", "/_ping"): api.ping,
        ("docker-py", "/containers/json"): api.containers,
    }


def measure(repeat: int = 200, warmup: int = 5, socket_path: str | None = None,
            version: str | None = None):
    """Time each way's round trips; a pandas DataFrame, one row per (way, endpoint).

    Args:
        repeat: round trips per way and endpoint.
        warmup: round trips first, not counted (connections, caches).
        socket_path: the engine's socket (default: the kit's engine).
        version: the API version prefix every way uses (default: the one the kit
            negotiates with the engine, see :func:`~labhelpers.rawapi.versions.negotiated`).

    Returns:
        A DataFrame: way, endpoint, median (ms), p90 (ms).

    Raises:
        EngineRefusesClient: the engine refuses every version the kit speaks.

    >>> measure(repeat=20).shape                     # doctest: +SKIP
    (8, 4)

    (skipped: it times calls to the engine.)

    Introduced in ``02-docker-engine-api``.
    """
    import pandas as pd

    socket_path = socket_path or default_socket()
    calls = callers(socket_path, version or negotiated(socket_path))
    times: dict = {key: [] for key in calls}
    for i in range(warmup + repeat):
        for key, call in calls.items():
            start = time.perf_counter()
            call()
            if i >= warmup:
                times[key].append((time.perf_counter() - start) * 1000)
    rows = []
    for (way, endpoint), samples in times.items():
        samples.sort()
        rows.append({"way": way, "endpoint": endpoint,
                     "median (ms)": statistics.median(samples),
                     "p90 (ms)": samples[int(0.9 * (len(samples) - 1))]})
    return pd.DataFrame(rows)


def chart(table, ax=None):
    """A grouped bar chart of the medians: one group per way, one bar per endpoint.

    Args:
        table: what :func:`measure` returns.
        ax: a matplotlib Axes to draw on (default: a new figure).

    Returns:
        The Axes.

    >>> import pandas as pd
    >>> rows = [{"way": w, "endpoint": e, "median (ms)": 1.0, "p90 (ms)": 2.0}
    ...         for w in WAYS for e in ENDPOINTS]
    >>> chart(pd.DataFrame(rows)).get_xlabel()
    'median round trip (ms)'

    Introduced in ``02-docker-engine-api``.
    """
    import matplotlib.pyplot as plt

    wide = table.pivot(index="way", columns="endpoint", values="median (ms)").loc[list(WAYS)]
    ax = wide.plot.barh(ax=ax, figsize=(8, 3))
    ax.set_xlabel("median round trip (ms)")
    ax.set_ylabel("")
    ax.invert_yaxis()
    plt.tight_layout()
    return ax
