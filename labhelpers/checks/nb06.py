"""Checkers of notebook 06 (container builds).

>>> from labhelpers.checks import nb06
>>> nb06.fast_rebuild()                          # doctest: +SKIP
✅ pass: the rebuild after a one-line code change takes under 2 seconds (0.6 s)

Introduced in ``06-container-builds``.
"""

from __future__ import annotations

from pathlib import Path

from . import Result

#: The exercise's target, in seconds.
LIMIT = 2.0


def fast_rebuild(project=None, limit: float = LIMIT, notebook: str = "06", tag: str | None = None,
                 client=None) -> Result:
    """Exercise: "make the rebuild after a code change take under 2 seconds".

    Builds the project's ``app/Dockerfile`` (warming the layer cache), changes one
    line of ``app/app.py``, rebuilds and times it, then puts the code back. A pass
    needs the rebuild under ``limit`` **and** no ``RUN`` step re-run (a fast machine
    must not pass a Dockerfile that re-installs everything after each code change).

    Args:
        project: the project folder (default: ``lab.builds.project_dir(notebook)``).
        limit: the target, in seconds.
        notebook: whose labels the image gets (``lab.clean`` removes it).
        tag: the image's tag (default ``nbNN-exercise:latest``).
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        A :class:`~labhelpers.checks.Result`; a hint names the steps that re-ran.
    """
    from .. import builds, dockerfiles
    from ..labels import name

    project = Path(project) if project is not None else builds.project_dir(notebook)
    task = f"the rebuild after a one-line code change takes under {limit:g} seconds"
    if not (project / "app" / "Dockerfile").exists():
        return Result.of(task, ["no project yet: run lab.builds.scaffold() first"])
    tag = tag or name(notebook, "exercise") + ":latest"
    context = project / "app"
    try:
        dockerfiles.build(context, tag, notebook=notebook, client=client, log=None)
        old = dockerfiles.touch_code(project)
        try:
            again = dockerfiles.build(context, tag, notebook=notebook, client=client, log=None)
        finally:
            (project / "app" / dockerfiles.CODE_FILE).write_text(old)
    except builds.BuildError as err:
        return Result.of(task, [f"the image does not build: {err.what}"])
    rerun = [s for s in again.rerun if not s.startswith("LABEL org.labhelpers.")]  # the kit's own
    slow = [s for s in rerun if s.split()[0].upper() == "RUN"]
    if again.seconds < limit and not slow:
        return Result.of(f"{task} ({again.seconds:.1f} s)", [])
    hints = [f"the rebuild took {again.seconds:.1f} s; these steps re-ran: "
             + "; ".join(s[:60] for s in rerun)]
    if slow:
        hints.append("a RUN step re-ran after a code change: copy only what it needs "
                     "(requirements.txt, wheels/) before it, and the code after it")
    return Result.of(task, hints)
