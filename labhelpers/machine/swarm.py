"""A swarm over docker machines: where the tasks run, and waiting for them.

The notebook drives the swarm with plain docker-py (``client.swarm.init``,
``client.swarm.join``, ``client.services.create``); these helpers only watch:
which node runs which task (a table and a chart), and waiting until a service
has settled.

>>> table = placement(manager, "nb03-web")                   # doctest: +SKIP
>>> table.groupby("node").size()                             # doctest: +SKIP
node
node1    2
node2    2
node3    2

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import time

from ..errors import MachineError

#: Seconds a service may take to settle after a change.
SETTLE_TIMEOUT = 90


def form(machine, names: list[str], log=print) -> list:
    """Init a swarm on the first machine, join the others as workers; their clients.

    Each advertises its address on the machines' lab network (``machine.ip``).

    Args:
        machine: the :class:`~labhelpers.machine.Machine` the machines belong to.
        names: the machines, the manager first.
        log: called with one line per machine.

    Returns:
        A ``docker.DockerClient`` per machine, in the order of ``names``.

    >>> clients = form(m, ["node1", "node2", "node3"])       # doctest: +SKIP

    (skipped: it needs machines, on the engine.)
    """
    clients = [machine.client(n) for n in names]
    manager_ip = machine.ip(names[0])
    clients[0].swarm.init(advertise_addr=manager_ip, listen_addr="0.0.0.0:2377")
    token = clients[0].swarm.attrs["JoinTokens"]["Worker"]
    for name, client in zip(names[1:], clients[1:]):
        client.swarm.join(remote_addrs=[f"{manager_ip}:2377"], join_token=token,
                          advertise_addr=machine.ip(name), listen_addr="0.0.0.0:2377")
        log(f"{name} joined the swarm of {names[0]}")
    return clients


def nodes(client):
    """The swarm's nodes as a DataFrame: hostname, role, availability, state, address.

    Args:
        client: a ``docker.DockerClient`` on a manager.

    Returns:
        A DataFrame, one row per node, sorted by hostname.

    >>> nodes(clients[0])["role"].tolist()           # doctest: +SKIP
    ['manager', 'worker', 'worker']

    (skipped: it needs machines, on the engine.)
    """
    import pandas as pd

    rows = [{"node": n.attrs["Description"]["Hostname"], "role": n.attrs["Spec"]["Role"],
             "availability": n.attrs["Spec"]["Availability"],
             "state": n.attrs["Status"]["State"],
             "manager": "leader" if (n.attrs.get("ManagerStatus") or {}).get("Leader") else ""}
            for n in client.nodes.list()]
    return pd.DataFrame(rows).sort_values("node", ignore_index=True)


def placement(client, service: str, running_only: bool = True):
    """The tasks of ``service``, one row each: slot, node, state (sorted by slot).

    Args:
        client: a ``docker.DockerClient`` on a manager.
        service: the service's name.
        running_only: only the tasks that run (not the shut-down ones).

    Returns:
        A DataFrame: slot, node, state.

    >>> placement(clients[0], "nb03-web")["node"].nunique()   # doctest: +SKIP
    3

    (skipped: it needs machines, on the engine.)
    """
    import pandas as pd

    names = {n.id: n.attrs["Description"]["Hostname"] for n in client.nodes.list()}
    svc = client.services.get(service)
    rows = []
    for task in svc.tasks():
        state = task["Status"]["State"]
        if running_only and (task["DesiredState"] != "running" or state != "running"):
            continue
        rows.append({"slot": task.get("Slot"), "node": names.get(task.get("NodeID"), "-"),
                     "state": state, "desired": task["DesiredState"]})
    frame = pd.DataFrame(rows, columns=["slot", "node", "state", "desired"])
    return frame.sort_values(["slot", "node"], ignore_index=True)


def settle(client, service: str, replicas: int, avoid=(), timeout: float = SETTLE_TIMEOUT,
           log=print):
    """Wait until ``replicas`` tasks of ``service`` run, none on a node in ``avoid``.

    Returns:
        The :func:`placement` table once settled.

    Raises:
        MachineError: it did not settle within ``timeout`` seconds.

    Args:
        client: a ``docker.DockerClient`` on a manager.
        service: the service's name.
        replicas: how many tasks must run.
        avoid: nodes no task may run on (a drained one).
        timeout: the most seconds to wait.
        log: called with a line while it waits.

    >>> settle(clients[0], "nb03-web", 3, avoid=("node2",))   # doctest: +SKIP

    (skipped: it needs machines, on the engine.)
    """
    log = log or (lambda line: None)
    from ..waiting import wait_until

    start = time.monotonic()
    seen = [None]
    placed = []  # the table once it settled (a DataFrame has no truth value to poll on)

    def settled() -> bool:
        table = placement(client, service)
        counts = table.groupby("node").size().to_dict() if len(table) else {}
        if counts != seen[0]:
            log(f"{time.monotonic() - start:5.1f} s  running: "
                + (", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "none"))
            seen[0] = counts
        if len(table) == replicas and not set(counts).intersection(avoid):
            placed.append(table)
            return True
        return False

    if wait_until(settled, timeout, interval=0.5, error=None):
        return placed[-1]
    raise MachineError(f"Service {service!r} did not reach {replicas} running tasks within "
                       f"{timeout:.0f} s (now: {seen[0]}).",
                       "look at its tasks: client.services.get(NAME).tasks()")


def chart(tables: dict, ax=None):
    """A bar chart of running tasks per node, one group of bars per table.

    Args:
        tables: ``{"label": placement table}``, e.g. before and after a drain.

    Args:
        ax: a matplotlib Axes (default: a new figure).

    Returns:
        The Axes.

    >>> import pandas as pd
    >>> before = pd.DataFrame({"slot": [1, 2], "node": ["node1", "node2"], "state": ["running"] * 2})
    >>> chart({"before": before}).get_ylabel() is not None
    True
    """
    import matplotlib.pyplot as plt
    import pandas as pd
    from matplotlib.ticker import MaxNLocator

    counts = pd.DataFrame({label: t.groupby("node").size() for label, t in tables.items()})
    counts = counts.fillna(0).astype(int).sort_index()
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 2.8))
    counts.plot.bar(ax=ax, rot=0)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylim(0, counts.values.max() + 1.5)
    ax.legend(loc="upper left", ncols=len(tables), fontsize="small", frameon=False)
    ax.set_ylabel("running tasks")
    ax.set_xlabel("")
    ax.set_title("tasks per node")
    return ax
