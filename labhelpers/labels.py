"""Labels on everything the lab creates, and a cleanup that removes only that.

Every container, image, network and volume a notebook creates carries
``org.labhelpers.managed=true`` and ``org.labhelpers.notebook=NN``, and its name
starts with ``nbNN-``. :func:`clean` removes objects carrying those labels and
nothing else: the engine filters by label, so an object of yours without them
is never even listed.

>>> labels_for("01")
{'org.labhelpers.managed': 'true', 'org.labhelpers.notebook': '01'}
>>> name("01", "web")
'nb01-web'
>>> clean("01", dry_run=True)                    # doctest: +SKIP
[]

Introduced in ``00-start-here``; ``python -m labhelpers clean`` runs it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import docker.errors

from .errors import LabError

PREFIX = "org.labhelpers."
MANAGED = PREFIX + "managed"
NOTEBOOK = PREFIX + "notebook"
#: Marks an image built from OS packages to stand in for a public one.
STANDIN = PREFIX + "standin"

KINDS = ("container", "network", "volume", "image")


def _check_notebook(notebook: str) -> str:
    notebook = str(notebook)
    if not re.fullmatch(r"\d\d", notebook):
        raise LabError(
            f"{notebook!r} is not a notebook number.",
            "pass the two digits of the notebook, like '01' for 01-python-apps-in-docker",
        )
    return notebook


def labels_for(notebook: str, **extra: str) -> dict[str, str]:
    """The labels for an object created by ``notebook``.

    Args:
        notebook: two digits, ``"00"`` to ``"06"``.
        **extra: more labels; keys without a dot get the ``org.labhelpers.`` prefix.

    >>> labels_for("04", role="demo")["org.labhelpers.role"]
    'demo'
    """
    out = {MANAGED: "true", NOTEBOOK: _check_notebook(notebook)}
    for key, value in extra.items():
        out[key if "." in key else PREFIX + key] = str(value)
    return out


def name(notebook: str, base: str) -> str:
    """The name of a lab object: ``nbNN-base``, behind ``LABHELPERS_PREFIX`` if set.

    Two learners sharing one engine set different prefixes (``alice-``, ``bob-``)
    and never collide.

    >>> name("02", "hello")
    'nb02-hello'
    """
    return f"{os.environ.get('LABHELPERS_PREFIX', '')}nb{_check_notebook(notebook)}-{base}"


@dataclass(frozen=True)
class Managed:
    """One object the lab created: its kind, name and id."""

    kind: str
    name: str
    id: str
    notebook: str

    def __str__(self) -> str:
        return f"{self.kind:<9} {self.name:<40} notebook {self.notebook}"


def _filters(notebook: str | None) -> dict:
    wanted = [f"{MANAGED}=true"]
    if notebook is not None:
        wanted.append(f"{NOTEBOOK}={_check_notebook(notebook)}")
    return {"label": wanted}


def _catalogue_refs() -> set[str]:
    from .images import CATALOGUE

    # as Docker Engine names them, and as Podman does (docker.io/library/python:...)
    return {spec.ref for spec in CATALOGUE.values()} | {
        f"docker.io/{'' if '/' in spec.ref else 'library/'}{spec.ref}" for spec in CATALOGUE.values()}


def _created(container) -> str:
    """The container's creation time as a string that sorts as the time does (nanoseconds padded)."""
    head, _, fraction = (container.attrs.get("Created") or "").rstrip("Z").partition(".")
    return f"{head}.{fraction.ljust(9, '0')}"


def managed(client=None, notebook: str | None = None) -> list[Managed]:
    """Every object carrying the lab's labels (of one notebook, if given).

    Images of the catalogue are never listed: they are shared with you and with
    every notebook (see :mod:`labhelpers.images`).

    >>> [str(m) for m in managed(notebook="00")]     # doctest: +SKIP
    []
    """
    if client is None:
        from .engine import client as get_client

        client = get_client()
    filters = _filters(notebook)
    found: list[Managed] = []
    # Newest first, as Docker Engine lists them (Podman lists the oldest first).
    for c in sorted(client.containers.list(all=True, filters=filters), key=_created, reverse=True):
        found.append(Managed("container", c.name, c.id, c.labels.get(NOTEBOOK, "?")))
    for n in client.networks.list(filters=filters):
        found.append(Managed("network", n.name, n.id, (n.attrs.get("Labels") or {}).get(NOTEBOOK, "?")))
    for v in client.volumes.list(filters=filters):
        found.append(Managed("volume", v.name, v.id, (v.attrs.get("Labels") or {}).get(NOTEBOOK, "?")))
    keep = _catalogue_refs()
    # One label filter for images, the other checked here: Podman 4.3 answers no image to two.
    for i in client.images.list(filters={"label": filters["label"][-1:]}):
        if keep.intersection(i.tags) or (i.labels or {}).get(MANAGED) != "true":
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
    from .errors import CleanupError

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
