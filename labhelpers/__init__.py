"""labhelpers: the companion package of the Docker and Python workshop.

Thin helpers around docker-py for the notebooks: find the engine and explain
what is wrong with it, make the lab's images present (even offline), label
what the lab creates and clean it up again.

>>> import labhelpers as lab
>>> lab.doctor()                                 # doctest: +SKIP
"""

from . import builds, checks, dockerfiles, engine, errors, images, labels
from .checks import nb06 as _nb06  # lab.checks.nb06 (notebook 06)
from .doctor import doctor
from .engine import client
from .errors import LabError
from .images import ensure
from .labels import clean, labels_for, name

__version__ = "0.1.0"

__all__ = [
    "LabError", "builds", "checks", "dockerfiles", "clean", "client", "doctor", "engine", "ensure", "errors", "images",
    "labels", "labels_for", "name",
]
