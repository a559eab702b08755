"""Checkers for the exercises of ``04-docker-py``.

>>> import labhelpers as lab
>>> lab.checks.nb04.small_container()            # doctest: +SKIP
✅ pass: a container named nb04-small with a 64 MB memory limit

Introduced in ``04-docker-py``.
"""

from __future__ import annotations

import docker.errors

from ..labels import MANAGED, NOTEBOOK, is_lab, name
from . import Exercise, Result, engine_client, lookup

#: The memory limit exercise 1 asks for: 64 MB, as docker-py's ``mem_limit="64m"`` means it.
SMALL_LIMIT = 64 * 2**20
#: The label the exercise's Dockerfile sets (``notebooks/apps/nb04-app/Dockerfile``).
EXERCISE_LABEL = "org.labhelpers.exercise"


def small_container(client=None) -> Result:
    """Exercise 1: a container named ``nb04-small`` runs with a 64 MB memory limit.

    The container must carry the lab's labels (``lab.labels_for("04")``) too, so
    that the notebook's cleanup removes it.
    """
    client = engine_client(client)
    wanted = name("04", "small")
    task = f"a container named {wanted} with a 64 MB memory limit"
    container, not_yet = lookup(client.containers.get, wanted, task,
                                f"no container is named {wanted}: pass name={wanted!r} to containers.run", 2, "04-small")
    if not_yet is not None:
        return not_yet
    missing = []
    limit = container.attrs["HostConfig"].get("Memory") or 0
    if limit == 0:
        missing.append(("it has no memory limit: pass mem_limit='64m'", 2))
    elif limit != SMALL_LIMIT:
        missing.append((f"its memory limit is {limit / 2**20:g} MiB, not 64: pass mem_limit='64m'", 2))
    if container.status != "running":
        missing.append((f"it is {container.status}, not running: give it a command that lasts "
                        "(['sleep', '300']) and detach=True", 1))
    if not is_lab(container.labels, "04"):
        missing.append(("it lacks the lab's labels: pass labels=lab.labels_for('04') "
                        "(so that the clean-up at the end removes it)", 2))
    return Result.of(task, missing, exercise="04-small")


def app_image(client=None) -> Result:
    """Exercise 2: the Dockerfile in ``apps/nb04-app`` built and tagged ``nb04-app:1``.

    The checker runs the image once and expects the app's greeting.
    """
    client = engine_client(client)
    tag = name("04", "app") + ":1"
    task = f"the Dockerfile of apps/nb04-app built and tagged {tag}"
    image, not_yet = lookup(client.images.get, tag, task,
                            f"no image is tagged {tag}: build apps/nb04-app with tag={tag!r}", 1, "04-app")
    if not_yet is not None:
        return not_yet
    if image.labels.get(EXERCISE_LABEL) != "nb04-app":
        return Result.of(task, [(f"{tag} was not built from apps/nb04-app/Dockerfile (its label "
                                 "org.labhelpers.exercise is missing): build path='apps/nb04-app'", 2)],
                         exercise="04-app")
    try:
        out = client.containers.run(tag, remove=True, labels={MANAGED: "true", NOTEBOOK: "04"})
    except docker.errors.DockerException as err:
        return Result.of(task, [(f"the image does not run: {getattr(err, 'explanation', None) or err}", 2)],
                         exercise="04-app")
    if b"nb04-app works" not in out:
        return Result.of(task, [(f"the image ran but printed {out[:80]!r}, not the app's greeting", 2)],
                         exercise="04-app")
    return Result.of(task, [], exercise="04-app")


EXERCISES = [
    Exercise(
        name="04-small",
        task="a container named nb04-small, running, with a 64 MB memory limit",
        check=small_container,
        hints=[
            "`client.containers.run(image, command, ...)` takes the limits as keyword arguments; "
            "`detach=True` returns at once, and a command like `sleep 300` keeps it running.",
            "The limit is `mem_limit=\"64m\"`, the name `name=lab.name(\"04\", \"small\")`, "
            "the labels `labels=lab.labels_for(\"04\")`.",
            "`client.containers.run(PY, [\"sleep\", \"300\"], detach=True, mem_limit=\"64m\", "
            "name=lab.name(\"04\", \"small\"), labels=lab.labels_for(\"04\"))`",
        ],
        solution="""\
small = client.containers.run(PY, ["sleep", "300"], detach=True, mem_limit="64m",
                              name=lab.name("04", "small"), labels=lab.labels_for("04"))
""",
        names=lambda: [name("04", "small")],
    ),
    Exercise(
        name="04-app",
        task="apps/nb04-app/Dockerfile built and tagged nb04-app:1",
        check=app_image,
        hints=[
            "docker-py builds with `client.images.build(path=..., tag=...)`; "
            "`BuildProgress(client).build(tag, path=...)` does the same and shows the steps.",
            "The folder to build is `apps/nb04-app` (its Dockerfile is there); the tag is "
            "`lab.name(\"04\", \"app\") + \":1\"`.",
            "`BuildProgress(client).build(lab.name(\"04\", \"app\") + \":1\", path=\"apps/nb04-app\")`",
        ],
        solution="""\
BuildProgress(client).build(lab.name("04", "app") + ":1", path="apps/nb04-app")
""",
        names=lambda: [name("04", "app") + ":1"],
    ),
]
