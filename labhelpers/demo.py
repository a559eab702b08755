"""Live demo mode: the speaker's pre-flight before going on stage.

``python -m labhelpers prepare --demo`` (or ``make demo``) makes every image
present, warms what the first run of a notebook would otherwise pay for (the
kernel's imports, one docker-machine host created, pinged and removed), then runs
every notebook once, top to bottom, in a scratch copy (the stored notebooks
are not touched), and prints each one's total and **worst cell** time: the
moment the audience would wait longest. ``make slides NB=00`` then presents.

Introduced in README.md ("Delivering a workshop"), for speakers; no notebook uses it.

>>> from labhelpers import demo
>>> print(demo.rehearse())                          # doctest: +SKIP
notebook                 cells   total (s)   worst cell (s)   worst cell starts with
00-start-here               12        4.1             1.9      client.containers.run(
"""

from __future__ import annotations

import glob
import os
import time
from dataclasses import dataclass
from datetime import datetime

#: The notebooks folder of a source checkout (or of the kit image).
NOTEBOOKS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")


@dataclass
class Timing:
    """One notebook's dry run: cell count, total and worst cell time."""

    notebook: str
    cells: int
    total: float
    worst: float
    worst_source: str
    error: str = ""

    def row(self) -> str:
        if self.error:
            return f"{self.notebook:<30} FAILED: {self.error}"
        return (f"{self.notebook:<30} {self.cells:>5} {self.total:>10.1f} {self.worst:>15.1f}   "
                f"{self.worst_source}")


def _seconds(cell) -> float:
    """How long a cell ran, from the timestamps nbclient records in its metadata."""
    timing = cell.get("metadata", {}).get("execution", {})
    start, end = timing.get("iopub.execute_input"), timing.get("shell.execute_reply")
    if not (start and end):
        return 0.0
    parse = lambda stamp: datetime.fromisoformat(stamp.replace("Z", "+00:00"))  # noqa: E731
    return (parse(end) - parse(start)).total_seconds()


def cell_times(nb) -> list[tuple[float, str]]:
    """(seconds, first line) of every executed code cell of a notebook node.

    Args:
        nb: an executed notebook (``nbformat`` node) whose cells carry nbclient's timing.

    Returns:
        One ``(seconds, first 40 characters)`` per code cell, in order.

    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell("x = 1")
    >>> cell.metadata["execution"] = {"iopub.execute_input": "2024-01-01T00:00:00.000Z",
    ...                               "shell.execute_reply": "2024-01-01T00:00:01.500Z"}
    >>> cell_times(nbformat.v4.new_notebook(cells=[cell]))
    [(1.5, 'x = 1')]
    """
    return [(_seconds(c), (c.source.strip().splitlines() or [""])[0][:40])
            for c in nb.cells if c.cell_type == "code"]


def dry_run(path: str, timeout: int = 600) -> Timing:
    """Run one notebook top to bottom in memory (the file is not written) and time its cells.

    Args:
        path: the ``.ipynb`` file.
        timeout: the most seconds one cell may take.

    Returns:
        Its :class:`Timing`; a failing cell ends the run, and ``error`` says why.

    >>> dry_run("notebooks/00-start-here.ipynb").cells      # doctest: +SKIP
    12

    (skipped: it runs the notebook, which needs an engine.)
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    nb = nbformat.read(path, as_version=4)
    name = os.path.splitext(os.path.basename(path))[0]
    client = NotebookClient(nb, timeout=timeout, kernel_name="python3", record_timing=True,
                            resources={"metadata": {"path": os.path.dirname(path)}})
    start = time.monotonic()
    error = ""
    try:
        client.execute()
    except CellExecutionError as err:
        error = str(err).strip().splitlines()[-1][:100]
    times = cell_times(nb)
    worst = max(times, default=(0.0, ""))
    return Timing(name, len(times), time.monotonic() - start, worst[0], worst[1], error)


def warm(log=print) -> None:
    """Make every image present and pay the one-time costs before the talk.

    Args:
        log: called with progress lines.

    >>> warm(log=lambda line: None)                  # doctest: +SKIP

    (skipped: it prepares images and creates a machine on the engine.)
    """
    from . import images

    images.prepare(log=log)
    warm_machine(log=log)
    import matplotlib.pyplot  # noqa: F401  (builds the font cache on first import)
    import pandas  # noqa: F401


def warm_machine(log=print) -> float:
    """Create one docker-machine host (notebook 03's kind), ping it over mutual TLS, remove it.

    Proves the Docker-in-Docker path works on this machine before the talk, and
    warms what notebook 03's first ``create`` pays for (the dind image, the image
    copy into the machine).

    Args:
        log: called with one line: how long it took.

    Returns:
        The seconds it took.

    >>> warm_machine(log=lambda line: None) < 60     # doctest: +SKIP
    True

    (skipped: it creates a machine on the engine.)
    """
    import docker

    from .machine import Machine

    start = time.monotonic()
    machines = Machine(notebook="09")
    machines.create("preflight")
    try:
        docker.DockerClient(**machines.config(machine="preflight")).ping()
    finally:
        machines.rm(machine="preflight", force=True)
    seconds = time.monotonic() - start
    log(f"a machine: created, answered over mutual TLS, removed in {seconds:.1f} s")
    return seconds


def rehearse(notebooks_dir: str = NOTEBOOKS, log=print) -> str:
    """Warm everything, dry-run every notebook, and return the timing table.

    Args:
        notebooks_dir: where the ``NN-*.ipynb`` notebooks are.
        log: called with progress lines.

    Returns:
        The table, one line per notebook: cells, total seconds, worst cell.

    >>> print(rehearse())                            # doctest: +SKIP
    notebook                       cells  total (s)  worst cell (s)   worst cell starts with
    00-start-here                     12        4.1             1.9   client.containers.run(

    (skipped: it runs every notebook on the engine, for minutes.)
    """
    warm(log=lambda line: None)
    rows = []
    for path in sorted(glob.glob(os.path.join(notebooks_dir, "[0-9][0-9]-*.ipynb"))):
        log(f"dry run: {os.path.basename(path)} ...")
        rows.append(dry_run(path))
    header = f"{'notebook':<30} {'cells':>5} {'total (s)':>10} {'worst cell (s)':>15}   worst cell starts with"
    return "\n".join([header] + [t.row() for t in rows])
