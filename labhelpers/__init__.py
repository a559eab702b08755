"""labhelpers: the companion package of the Docker and Python workshop.

Thin helpers around docker-py for the notebooks: find the engine and explain
what is wrong with it, make the lab's images present (even offline), label
what the lab creates and clean it up again; then one small module per concept
each notebook teaches.

>>> import labhelpers as lab
>>> lab.doctor("00")                             # doctest: +SKIP

Introduced in ``00-start-here``.
"""

# The foundation (notebook 00)
from . import checks, cleanup, engine, errors, images, labels
from .cleanup import clean
from .doctor import doctor
from .engine import client
from .errors import LabError
from .exercises import check, hint, progress, reset, solution
from .images import ensure
from .labels import labels_for, name

# One module per concept of the notebooks that follow
from . import apps, compose, isolation, pythonimages, registry, wheelhouse  # 01
from . import stats  # 04
from . import alternatives, survey  # 05
from . import builds, dockerfiles  # 06

# rawapi (02), machine (03), widgets (02, 03, 04), bundle and demo (delivery) are
# imported where used: `from labhelpers import rawapi`, `from labhelpers.machine import Machine`.

__version__ = "0.1.0"

__all__ = [
    "LabError", "checks", "clean", "cleanup", "client", "doctor", "engine", "ensure", "errors", "images",
    "labels", "labels_for", "name", "check", "hint", "progress", "reset", "solution",
    "apps", "compose", "isolation", "pythonimages", "registry", "wheelhouse",
    "stats", "alternatives", "survey", "builds", "dockerfiles",
]
