"""Labels and names on everything the lab creates: what marks an object as the lab's.

Every container, image, network and volume a notebook creates carries
``org.labhelpers.managed=true`` and ``org.labhelpers.notebook=NN``, and its name
starts with ``nbNN-``. :func:`filters` asks the engine for exactly those objects;
:mod:`labhelpers.cleanup` lists and removes them, and nothing else.

A leaf: it needs no engine, and imports only the other leaves (errors, settings).

>>> labels_for("01")
{'org.labhelpers.managed': 'true', 'org.labhelpers.notebook': '01'}
>>> name("01", "web")
'nb01-web'

Introduced in ``00-start-here``.
"""

from __future__ import annotations

import re

from . import settings
from .errors import LabError

PREFIX = "org.labhelpers."
MANAGED = PREFIX + "managed"
NOTEBOOK = PREFIX + "notebook"
#: Marks an image built from OS packages to stand in for a public one.
STANDIN = PREFIX + "standin"
#: On a stand-in: the digest of the recipe it was built from (a changed recipe rebuilds it).
RECIPE = PREFIX + "recipe"


def _check_notebook(notebook: str) -> str:
    notebook = str(notebook)
    if not re.fullmatch(r"\d\d", notebook):
        raise LabError(
            f"{notebook!r} is not a notebook number.",
            "pass the two digits of the notebook, like '01' for 01-python-apps-in-docker",
        )
    return notebook


def is_lab(labels: dict | None, notebook: str | None = None) -> bool:
    """Whether ``labels`` mark an object of the lab (of ``notebook``, when given): one the
    clean-up at the end of a notebook finds and removes.

    Args:
        labels: an object's labels (``container.labels``; None counts as none).
        notebook: a notebook number (``"04"``), or None for any.

    Returns:
        True when the lab's labels are there.

    >>> is_lab({"org.labhelpers.managed": "true", "org.labhelpers.notebook": "04"}, "04")
    True
    >>> is_lab({"org.labhelpers.managed": "true", "org.labhelpers.notebook": "04"}, "02")
    False
    >>> is_lab(None)
    False

    Introduced in ``00-start-here``.
    """
    labels = labels or {}
    return labels.get(MANAGED) == "true" and (notebook is None or labels.get(NOTEBOOK) == str(notebook))


def labels_for(notebook: str, **extra: str) -> dict[str, str]:
    """The labels for an object created by ``notebook``.

    Args:
        notebook: two digits, ``"00"`` to ``"06"``.
        **extra: more labels; keys without a dot get the ``org.labhelpers.`` prefix.

    Returns:
        ``{"org.labhelpers.managed": "true", "org.labhelpers.notebook": notebook, ...}``.

    Raises:
        LabError: ``notebook`` is not two digits.

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

    Args:
        notebook: two digits, ``"00"`` to ``"06"``.
        base: the object's own part of the name.

    Returns:
        ``[LABHELPERS_PREFIX]nbNN-base``.

    Raises:
        LabError: ``notebook`` is not two digits.

    >>> name("02", "hello")
    'nb02-hello'
    """
    return f"{settings.prefix()}nb{_check_notebook(notebook)}-{base}"


def filters(notebook: str | None = None) -> dict:
    """The engine's label filter for the lab's objects (of one notebook, if given).

    Args:
        notebook: two digits, or None for every notebook's objects.

    Returns:
        A ``filters=`` argument for docker-py's ``list`` calls and ``events``.

    >>> filters("02")
    {'label': ['org.labhelpers.managed=true', 'org.labhelpers.notebook=02']}
    """
    wanted = [f"{MANAGED}=true"]
    if notebook is not None:
        wanted.append(f"{NOTEBOOK}={_check_notebook(notebook)}")
    return {"label": wanted}
