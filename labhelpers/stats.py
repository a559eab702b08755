"""Container stats as numbers: CPU %, memory, and a sampled pandas DataFrame.

The engine's stats documents are raw counters (nanoseconds of CPU, bytes of
memory). The ``docker stats`` CLI turns them into percentages; these functions do
the same arithmetic, so a notebook can plot them.

>>> prev = {"cpu_stats": {"cpu_usage": {"total_usage": 1_000_000_000},
...                       "system_cpu_usage": 10_000_000_000, "online_cpus": 2}}
>>> cur = {"cpu_stats": {"cpu_usage": {"total_usage": 1_500_000_000},
...                      "system_cpu_usage": 12_000_000_000, "online_cpus": 2}}
>>> cpu_percent(cur, prev)
50.0

Introduced in ``04-docker-py``.
"""

from __future__ import annotations

import time

from .errors import StatsUnavailable

MiB = 2**20


def cpu_percent(cur: dict, prev: dict | None = None) -> float | None:
    """CPU use between two stats documents, as ``docker stats`` shows it.

    100 % is one full CPU; a container busy on two CPUs shows 200 %.

    Args:
        cur: a stats document (``container.stats(stream=False)``).
        prev: an earlier one; default: the ``precpu_stats`` inside ``cur``
            (present in streamed and non one-shot documents).

    Returns:
        The percentage, or None when there is no earlier sample to compare with.

    >>> cpu_percent({"cpu_stats": {"cpu_usage": {"total_usage": 5}}})  # no earlier sample
    """
    now = cur.get("cpu_stats") or {}
    before = (prev or {}).get("cpu_stats") if prev is not None else cur.get("precpu_stats")
    before = before or {}
    used = (now.get("cpu_usage") or {}).get("total_usage")
    used0 = (before.get("cpu_usage") or {}).get("total_usage")
    system, system0 = now.get("system_cpu_usage"), before.get("system_cpu_usage")
    if None in (used, used0, system, system0) or system <= system0:
        return None
    cpus = now.get("online_cpus") or len((now.get("cpu_usage") or {}).get("percpu_usage") or []) or 1
    return round((used - used0) / (system - system0) * cpus * 100, 2)


def memory_bytes(stats: dict) -> int | None:
    """Memory in use, without the page cache, as ``docker stats`` counts it.

    cgroup v1 reports ``total_inactive_file``, cgroup v2 ``inactive_file``.

    Args:
        stats: a stats document (``container.stats(stream=False)``).

    Returns:
        The bytes in use, or None when the document has no memory counters.

    >>> memory_bytes({"memory_stats": {"usage": 10 * MiB, "stats": {"inactive_file": MiB}}}) // MiB
    9
    """
    mem = stats.get("memory_stats") or {}
    usage = mem.get("usage")
    if usage is None:
        return None
    detail = mem.get("stats") or {}
    cache = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    return usage - cache if cache < usage else usage


def row(stats: dict, prev: dict | None = None) -> dict:
    """One sample as a flat row: CPU %, memory (MiB) and its limit (MiB).

    Args:
        stats: a stats document.
        prev: an earlier one, for the CPU % (default: the ``precpu_stats`` inside ``stats``).

    Returns:
        ``{"cpu %": ..., "memory (MiB)": ..., "limit (MiB)": ...}``; None where unknown.

    >>> row({"memory_stats": {"usage": 3 * MiB, "limit": 64 * MiB}})["memory (MiB)"]
    3.0
    """
    mem = memory_bytes(stats)
    limit = (stats.get("memory_stats") or {}).get("limit")
    return {
        "cpu %": cpu_percent(stats, prev),
        "memory (MiB)": None if mem is None else round(mem / MiB, 2),
        "limit (MiB)": None if limit is None else round(limit / MiB, 1),
    }


#: Seconds between two samples where the kit asks for them one at a time (Podman).
POLL_INTERVAL = 1.0


def documents(container, interval: float = POLL_INTERVAL):
    """The container's stats documents, about one a second, each with the previous counters inside.

    Docker Engine streams one a second, its ``precpu_stats`` the previous one's counters.
    Podman 4.3's stream sends one every 5 seconds; there the kit asks for one document
    at a time (``stream=False``, answered at once) every ``interval`` seconds and puts
    the previous one's CPU counters in ``precpu_stats``, as a stream would. Podman's
    ``system_cpu_usage`` also leaves out the host's idle time (a container held to half
    a CPU showed 145-167 % on a quiet host), so there the kit counts the host's CPU time
    by the clock, online CPUs times the nanoseconds elapsed, as Docker Engine's does.

    Args:
        container: a running ``docker.models.containers.Container``.
        interval: seconds between two documents asked for one at a time.

    Returns:
        An iterator of stats documents (close it when done).

    >>> next(documents(client.containers.get("nb04-busy")))["cpu_stats"]["online_cpus"]  # doctest: +SKIP
    2

    (skipped: it needs an engine and a running container.)
    """
    from .podman import serves

    client = getattr(container, "client", None)
    if client is None or not serves(client):
        return container.stats(stream=True, decode=True)

    def one_at_a_time():
        previous = None
        while True:
            doc = container.stats(stream=False)
            cpu = doc.setdefault("cpu_stats", {})
            cpu["system_cpu_usage"] = time.monotonic_ns() * (cpu.get("online_cpus") or 1)
            if previous is not None:
                doc["precpu_stats"] = previous.get("cpu_stats") or {}
            yield doc
            previous = doc
            time.sleep(interval)

    return one_at_a_time()


def frame(container, samples: int = 5):
    """Sample a running container's stats into a pandas DataFrame.

    Reads :func:`documents` (one a second, each with the previous CPU counters
    inside, on Docker Engine and on Podman alike), ``samples`` times.

    Args:
        container: a running ``docker.models.containers.Container``.
        samples: how many one-second samples to take.

    Returns:
        A DataFrame with columns ``t (s)``, ``cpu %``, ``memory (MiB)``, ``limit (MiB)``.

    Raises:
        StatsUnavailable: the engine sends no counters for the container.

    >>> df = frame(client.containers.get("nb04-busy"), samples=5)   # doctest: +SKIP
    >>> df.columns.tolist()                                          # doctest: +SKIP
    ['t (s)', 'cpu %', 'memory (MiB)', 'limit (MiB)']

    (skipped: it samples a running container, so it needs an engine.)
    """
    import pandas as pd

    rows, start, empty = [], time.monotonic(), 0
    stream = documents(container)
    try:
        for number, doc in enumerate(stream):
            if number == 0:
                continue  # no earlier counters to compare with (Podman's: stale ones)
            if not doc.get("read") or not (doc.get("precpu_stats") or {}).get("system_cpu_usage"):
                # An engine that sees no cgroups (rootless on cgroup v1) never sends any.
                empty += 1
                if empty > 3:
                    raise StatsUnavailable(
                        f"The engine sends no CPU or memory counters for {container.name}: it "
                        "cannot read the container's cgroups (a rootless engine on a cgroup v1 "
                        "host, for instance), so there is nothing to sample.",
                        "run this cell on an engine with cgroups (Docker Engine as root, Docker "
                        "Desktop, or rootless on a cgroup v2 host); `docker stats` shows the same",
                    )
                continue
            rows.append({"t (s)": round(time.monotonic() - start, 1), **row(doc)})
            if len(rows) >= samples:
                break
    finally:
        close = getattr(stream, "close", None)
        if close is not None:
            close()
    return pd.DataFrame(rows, columns=["t (s)", "cpu %", "memory (MiB)", "limit (MiB)"])
