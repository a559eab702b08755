"""Checkers of notebook 06 (container builds).

>>> from labhelpers.checks import nb06
>>> nb06.fast_rebuild()                          # doctest: +SKIP
✅ pass: after a one-line code change, the rebuild takes pip install from the cache (0.6 s)

Introduced in ``06-container-builds``.
"""

from __future__ import annotations

from pathlib import Path

from . import Exercise, Result

#: What a good rebuild takes here, in seconds: shown, never judged (a loaded machine is slow).
LIMIT = 2.0


def fast_rebuild(project=None, limit: float = LIMIT, notebook: str = "06", tag: str | None = None,
                 client=None) -> Result:
    """Exercise: "a one-line code change must not re-run ``pip install``".

    Builds the project's ``app/Dockerfile`` (warming the layer cache), changes one
    line of ``app/app.py``, rebuilds, then puts the code back. What is judged is what
    the Dockerfile decides, on every engine and image store: the rebuild takes the
    ``pip install`` step, and every other ``RUN``, from the layer cache. The time is
    shown (and a hint names ``limit`` when it is over), but never decides: on a
    loaded machine a good Dockerfile is slow too, on a fast one a bad one is quick.

    Args:
        project: the project folder (default: ``lab.builds.project_dir(notebook)``).
        limit: the time a cached rebuild takes on a workshop laptop, for the hint.
        notebook: whose labels the image gets (``lab.clean`` removes it).
        tag: the image's tag (default ``nbNN-exercise:latest``).
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        A :class:`~labhelpers.checks.Result`; a hint names the steps that re-ran.
    """
    from .. import builds, dockerfiles
    from ..labels import name

    project = Path(project) if project is not None else builds.project_dir(notebook)
    task = "after a one-line code change, the rebuild takes pip install from the cache"
    if not (project / "app" / "Dockerfile").exists():
        return Result.of(task, ["no project yet: run lab.builds.scaffold() first"], exercise="06-fast-rebuild")
    tag = tag or name(notebook, "exercise") + ":latest"
    context = project / "app"
    try:
        first = dockerfiles.build(context, tag, notebook=notebook, client=client, log=None)
        old = dockerfiles.touch_code(project)
        try:
            again = dockerfiles.build(context, tag, notebook=notebook, client=client, log=None)
        finally:
            (project / "app" / dockerfiles.CODE_FILE).write_text(old)
    except builds.BuildError as err:
        return Result.of(task, [f"the image does not build: {err.what}"], exercise="06-fast-rebuild")
    installs = [s for s, _ in first.steps if s.upper().startswith("RUN") and "pip install" in s]
    if not installs:
        return Result.of(task, [("the Dockerfile has no `RUN pip install` step: keep the one that "
                                 "installs requirements.txt from wheels/", 2)], exercise="06-fast-rebuild")
    rerun = [s for s in again.rerun if not s.startswith("LABEL org.labhelpers.")]  # the kit's own
    slow = [s for s in rerun if s.split()[0].upper() == "RUN"]
    if not slow:
        return Result.of(f"{task} ({again.seconds:.1f} s)", [], exercise="06-fast-rebuild")
    hints = [(f"the rebuild took {again.seconds:.1f} s (a cached one takes under {limit:g} s); "
              "these steps re-ran: " + "; ".join(s[:60] for s in rerun), 1),
             ("a RUN step re-ran after a code change: copy only what it needs "
              "(requirements.txt, wheels/) before it, and the code after it", 2)]
    return Result.of(task, hints, exercise="06-fast-rebuild")


def _exercise_image() -> list[str]:
    from ..labels import name

    return [name("06", "exercise") + ":latest"]


EXERCISES = [Exercise(
    name="06-fast-rebuild",
    task="app/Dockerfile edited so that a code change keeps pip install cached",
    check=fast_rebuild,
    hints=[
        "The builder reuses each step from its cache until one step's input changed; every "
        "step after that one runs again. What does `COPY . .` copy, and what runs after it?",
        "Copy only what `pip install` needs first (`requirements.txt` and `wheels/`), run "
        "`pip install`, and copy `app.py` last of all.",
        "FROM the slim base; WORKDIR /srv; COPY requirements.txt ./; COPY wheels/ wheels/; "
        "RUN pip install --no-cache-dir --no-index --find-links=wheels -r requirements.txt; "
        "EXPOSE 8000; CMD [\"python\", \"app.py\"]; and COPY app.py ./ at the very end.",
    ],
    solution="""\
slim = lab.images.spec("python").ref   # the slim base, from the catalogue
steps = [f"FROM {slim}", "WORKDIR /srv", "COPY requirements.txt ./", "COPY wheels/ wheels/",
         "RUN pip install --no-cache-dir --no-index --find-links=wheels -r requirements.txt",
         "EXPOSE 8000", 'CMD ["python", "app.py"]', "COPY app.py ./"]
(project / "app" / "Dockerfile").write_text("\\n".join(steps) + "\\n")
print((project / "app" / "Dockerfile").read_text())
""",
    names=_exercise_image,
)]
