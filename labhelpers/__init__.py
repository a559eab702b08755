"""labhelpers: the companion package of the Docker and Python workshop.

Thin helpers around docker-py for the notebooks: find the engine and explain
what is wrong with it, make the lab's images present (even offline), label
what the lab creates and clean it up again.

>>> import labhelpers as lab
>>> lab.doctor()                                 # doctest: +SKIP
"""

from . import checks, engine, errors, images, labels
from . import alternatives, survey
from . import apps, compose, isolation, pythonimages, registry, wheelhouse  # notebook 01
from .doctor import doctor
from .engine import client
from .errors import LabError
from .images import ensure
from .labels import clean, labels_for, name
from . import stats  # container stats as numbers (notebook 04)

__version__ = "0.1.0"

__all__ = [
    "LabError", "alternatives", "checks", "clean", "client", "doctor", "engine", "ensure", "errors", "images",
    "labels", "labels_for", "name", "survey",
    "apps", "compose", "isolation", "pythonimages", "registry", "wheelhouse",
]
