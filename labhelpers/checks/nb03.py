"""Checkers of ``03-docker-machine``.

>>> from labhelpers.checks import nb03
>>> nb03.web_on_machine()                        # doctest: +SKIP
✅ pass: a web container on the machine nb03-worker, not on your local engine

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import docker.errors

from .. import labels
from ..errors import LabError
from . import Result


def _published(container) -> list[int]:
    ports = container.attrs["NetworkSettings"].get("Ports") or {}
    return sorted({int(b["HostPort"]) for binds in ports.values() if binds for b in binds})


def web_on_machine(machine=None, name: str | None = None, client=None) -> Result:
    """Exercise: a machine called ``nb03-worker`` runs a web container, your engine does not.

    Args:
        machine: the notebook's :class:`~labhelpers.machine.Machine` (default: a new one).
        name: the machine's name (default ``nb03-worker``, behind LABHELPERS_PREFIX).
        client: your local engine (default: the kit's).
    """
    from ..engine import client as get_client
    from ..machine import MACHINE_LABEL, Machine

    machine = machine or Machine()
    name = name or labels.name("03", "worker")
    client = client or get_client()
    task = f"a web container on the machine {name}, not on your local engine"
    missing = []
    local = [c for c in client.containers.list(filters={"label": f"{labels.NOTEBOOK}=03"})
             if MACHINE_LABEL not in c.labels and _published(c)]
    local += [c for c in client.containers.list() if c.name.startswith(labels.name("03", ""))
              and MACHINE_LABEL not in c.labels and _published(c) and c not in local]
    for c in local:
        missing.append(f"{c.name} publishes a port on your local engine: run the web container "
                       f"with the machine's client (m.client({name!r})), and remove this one")
    if not machine.exists(name):
        return Result.of(task, missing + [f"there is no machine {name!r}: m.create({name!r})"])
    if not machine.status(name):
        return Result.of(task, missing + [f"machine {name!r} is stopped: m.start({name!r})"])
    remote = machine.client(name)
    answering = []
    for c in remote.containers.list():
        for port in _published(c):
            try:
                # A server started a moment ago may not listen yet: a few tries.
                machine.ssh(name, "wget -q -O /dev/null -T 3 -t 5 --waitretry=1 "
                                  f"--retry-connrefused http://127.0.0.1:{port}/")
                answering.append(c.name)
            except (LabError, docker.errors.APIError):
                pass
    if not answering:
        missing.append(f"no container on {name!r} answers HTTP on a published port: run one "
                       "with the machine's client, e.g. python -m http.server with "
                       "ports={'8000/tcp': 8080}")
    return Result.of(task, missing)
