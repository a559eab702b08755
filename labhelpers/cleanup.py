"""The lab's objects: list what the lab created, and a cleanup that removes only that.

Objects are found by the labels of :mod:`labhelpers.labels`: the engine filters by
label, so an object of yours without them is never even listed, and the images of
the catalogue (:mod:`labhelpers.catalogue`), shared by every notebook, are never
touched.

>>> import labhelpers as lab
>>> lab.cleanup.managed(notebook="00")             # doctest: +SKIP
[]
>>> lab.clean("01", dry_run=True)                  # doctest: +SKIP
[]

Introduced in ``00-start-here``; ``python -m labhelpers clean`` runs it, and the last
cell of every notebook.
"""

from __future__ import annotations

from dataclasses import dataclass

import docker.errors

from . import catalogue
from .errors import CleanupError
from .labels import NOTEBOOK, filters, is_lab

#: The kinds of object, in the order a cleanup removes them.
KINDS = ("container", "network", "volume", "image")


@dataclass(frozen=True)
class Managed:
    """One object the lab created: its kind, name and id."""

    kind: str
    name: str
    id: str
    notebook: str

    def __str__(self) -> str:
        return f"{self.kind:<9} {self.name:<40} notebook {self.notebook}"


def _created(container) -> str:
    """The container's creation time as a string that sorts as the time does (nanoseconds padded)."""
    head, _, fraction = (container.attrs.get("Created") or "").rstrip("Z").partition(".")
    return f"{head}.{fraction.ljust(9, '0')}"


def managed(client=None, notebook: str | None = None) -> list[Managed]:
    """Every object carrying the lab's labels (of one notebook, if given).

    Images of the catalogue are never listed: they are shared with you and with
    every notebook (see :mod:`labhelpers.catalogue`). The last cell of every
    notebook shows it empty after :func:`clean`.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
        notebook: two digits; None lists every notebook's objects.

    Returns:
        One :class:`Managed` per object: containers (newest first), networks,
        volumes, images.

    Raises:
        LabError: ``notebook`` is not two digits.

    >>> [str(m) for m in managed(notebook="00")]     # doctest: +SKIP
    []
    """
    if client is None:
        from .engine import client as get_client

        client = get_client()
    wanted = filters(notebook)
    found: list[Managed] = []
    # Newest first, as Docker Engine lists them (Podman lists the oldest first).
    for c in sorted(client.containers.list(all=True, filters=wanted), key=_created, reverse=True):
        found.append(Managed("container", c.name, c.id, c.labels.get(NOTEBOOK, "?")))
    for n in client.networks.list(filters=wanted):
        found.append(Managed("network", n.name, n.id, (n.attrs.get("Labels") or {}).get(NOTEBOOK, "?")))
    for v in client.volumes.list(filters=wanted):
        found.append(Managed("volume", v.name, v.id, (v.attrs.get("Labels") or {}).get(NOTEBOOK, "?")))
    keep = catalogue.refs()
    # One label filter for images, the other checked here: Podman 4.3 answers no image to two.
    for i in client.images.list(filters={"label": wanted["label"][-1:]}):
        if keep.intersection(i.tags) or not is_lab(i.labels):
            continue
        found.append(Managed("image", (i.tags or [i.short_id])[0], i.id, i.labels.get(NOTEBOOK, "?")))
    return found


def clean(notebook: str | None = None, dry_run: bool = False, client=None, log=None) -> list[Managed]:
    """Remove what the lab created (for one notebook, if given), and nothing else.

    Containers go first (stopped and removed with their anonymous volumes), then
    networks, volumes and images.

    Args:
        notebook: two digits; None cleans every notebook's objects.
        dry_run: only list what would be removed.
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with one line per object (default: silent).

    Returns:
        The objects removed (or, with ``dry_run``, to be removed).

    Raises:
        CleanupError: something of the lab's could not be removed.

    >>> clean("04", dry_run=True)                    # doctest: +SKIP
    [Managed(kind='container', name='nb04-small', ...)]
    """
    if client is None:
        from .engine import client as get_client

        client = get_client()
    targets = managed(client, notebook)
    say = log or (lambda line: None)
    if dry_run:
        for obj in targets:
            say(f"would remove {obj}")
        return targets
    failures = []
    for obj in sorted(targets, key=lambda o: KINDS.index(o.kind)):
        try:
            if obj.kind == "container":
                client.api.remove_container(obj.id, force=True, v=True)
            elif obj.kind == "network":
                client.api.remove_network(obj.id)
            elif obj.kind == "volume":
                client.api.remove_volume(obj.name, force=True)
            else:
                client.api.remove_image(obj.id, force=True, noprune=False)
            say(f"removed {obj}")
        except docker.errors.NotFound:
            say(f"already gone {obj}")
        except docker.errors.APIError as err:
            failures.append(f"{obj}: {err.explanation or err}")
    if failures:
        raise CleanupError(
            "Some lab objects could not be removed:\n" + "\n".join(failures),
            "stop whatever still uses them (a container of yours on a lab network, "
            "say) and run `python -m labhelpers clean` again",
        )
    return targets


def stop_service(client, containers: list[str], volume: str, what: str, purge: bool = False) -> str:
    """Stop a service the kit runs as containers (the current engine, the room cache).

    Only the kit's own containers and volume, by the names the kit gave them.

    Args:
        client: a ``docker.DockerClient`` on the engine that runs the service.
        containers: the service's container names (absent ones are skipped).
        volume: the volume that keeps its images.
        what: what to call it in the answer (``"room cache"``).
        purge: remove the volume too (its images are gone then).

    Returns:
        One line that says what was done.

    >>> stop_service(lab.client(), ["labhelpers-mirror"], "labhelpers-mirror-data", "room cache")  # doctest: +SKIP
    'room cache: stopped (its images are kept in the volume labhelpers-mirror-data)'

    (skipped: it removes containers.) Used by :func:`labhelpers.current.stop` and
    :func:`labhelpers.mirror.stop` (README, "Engines" and "Rooms").
    """
    for name in containers:
        try:
            client.containers.get(name).remove(force=True)
        except docker.errors.NotFound:
            pass
    if purge:
        try:
            client.volumes.get(volume).remove(force=True)
        except docker.errors.NotFound:
            pass
        return f"{what}: stopped, its volume removed"
    return f"{what}: stopped (its images are kept in the volume {volume})"
