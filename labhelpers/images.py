"""The images the lab needs, and :func:`ensure` that makes one present, online or not.

``ensure(name)`` tries, in order, and stops at the first that works:

1. **present**: the engine has the image: return at once;
2. **pull** it from its registry, with a progress bar (skipped when
   ``LABHELPERS_OFFLINE=1``);
3. **bundle**: load it from an offline bundle, a ``docker save`` tarball in
   ``~/.cache/labhelpers/images/`` (made by ``python -m labhelpers bundle``);
4. **stand-in**: build one from Debian packages (see :mod:`labhelpers.standin`),
   tagged with the image's name and labelled ``org.labhelpers.standin``.

The same notebook cells then run online and offline.

>>> import labhelpers as lab
>>> lab.ensure("python").tags                   # doctest: +SKIP
['python:3.13-slim-trixie']

Introduced in ``00-start-here``; ``python -m labhelpers prepare`` ensures them all.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

import docker.errors

from . import catalogue, settings
# Re-exported: notebooks and tests read lab.images.CATALOGUE; the data lives in catalogue.
from .catalogue import CATALOGUE, ImageSpec, for_notebook
from .errors import ImageError, StreamError
from .imagestore import detect, store, unpacked_bytes
from .labels import RECIPE, STANDIN
from .streams import Layers, error_text, progress

__all__ = ["CATALOGUE", "ImageSpec", "Outcome", "bundle_path", "ensure", "ensure_outcome", "for_notebook",
           "is_standin", "offline", "prepare", "present", "short_tag", "size_note", "spec", "store", "table"]

#: Seconds a pull may take to start before the kit counts the registry unreachable.
PULL_TIMEOUT = 30


def spec(name: str) -> ImageSpec:
    """The catalogue entry for a short name (``"python"``) or a full reference.

    Raises:
        ImageError: the image is not in the catalogue.

    Args:
        name: a catalogue name (``"python"``) or a full reference.

    Returns:
        Its :class:`ImageSpec`.

    >>> spec("python:3.13-slim-trixie").ref
    'python:3.13-slim-trixie'
    """
    entry = catalogue.find(name)
    if entry is not None:
        return entry
    raise ImageError(
        f"{name!r} is not an image of the lab's catalogue.",
        f"use one of: {', '.join(sorted(catalogue.CATALOGUE))} (or their full names), "
        "or pull other images yourself with client.images.pull",
    )


def bundle_path(ref: str) -> str:
    """Where the offline bundle tarball of ``ref`` is looked for.

    Args:
        ref: the image's full reference.

    Returns:
        The path of the ``.tar`` in the kit's cache folder (it may not exist).

    >>> bundle_path("python:3.13-slim-trixie").endswith("python_3.13-slim-trixie.tar")
    True
    """
    return settings.cache_path("bundles", ref.replace("/", "_").replace(":", "_") + ".tar")


def offline() -> bool:
    """True when ``LABHELPERS_OFFLINE`` asks the kit not to try registries."""
    return settings.offline()


def present(client, ref: str):
    """The image ``ref`` if the engine has it, else None.

    Args:
        client: a ``docker.DockerClient``.
        ref: the image's reference.

    Returns:
        The ``docker.models.images.Image``, or None.

    >>> present(lab.client(), "python:3.13-slim-trixie").tags   # doctest: +SKIP
    ['python:3.13-slim-trixie']

    (skipped: it asks the engine.) Introduced in ``00-start-here``.
    """
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def outdated(entry: ImageSpec, image) -> bool:
    """Whether ``image`` is a stand-in built from an older recipe than ``entry``'s.

    A stand-in carries its recipe's digest (label ``org.labhelpers.recipe``); one
    without it predates the label. Images that are not stand-ins are never outdated.

    Args:
        entry: the catalogue's entry.
        image: the image present under its name (``docker.models.images.Image``).

    Returns:
        True when :func:`ensure` should build it again.

    >>> from types import SimpleNamespace
    >>> entry = CATALOGUE["redis"]
    >>> outdated(entry, SimpleNamespace(labels={STANDIN: entry.ref, RECIPE: entry.standin.digest()}))
    False
    >>> outdated(entry, SimpleNamespace(labels={STANDIN: entry.ref}))
    True
    >>> outdated(entry, SimpleNamespace(labels={}))    # the official image
    False

    Introduced in ``00-start-here``.
    """
    labels = image.labels or {}
    if entry.standin is None or not labels.get(STANDIN):
        return False
    return labels.get(RECIPE) != entry.standin.digest()


def short_tag(tag: str) -> str:
    """A tag as Docker Engine lists it: Podman names Docker Hub's images in full.

    Args:
        tag: an image's tag as the engine lists it.

    Returns:
        The tag without ``docker.io/library/`` or ``docker.io/``.

    >>> short_tag("docker.io/library/python:3.13-slim-trixie")
    'python:3.13-slim-trixie'
    """
    for prefix in ("docker.io/library/", "docker.io/"):
        if tag.startswith(prefix):
            return tag[len(prefix):]
    return tag


def is_standin(image) -> bool:
    """True for an image the kit built from OS packages in place of the original.

    Args:
        image: a ``docker.models.images.Image``.

    Returns:
        True when its stand-in label names one of its own tags.

    >>> is_standin(lab.client().images.get("redis:8"))     # doctest: +SKIP
    True

    (skipped: it needs the image on an engine.) Introduced in ``00-start-here``.
    """
    return bool(image.labels.get(STANDIN)) and image.labels.get(STANDIN) in map(short_tag, image.tags)


def _pull(client, ref: str) -> None:
    """Pull ``ref`` with a progress bar; from the room cache first when one is named.

    With ``LABHELPERS_MIRROR=IP:PORT`` (:func:`labhelpers.settings.mirror`, a room cache of
    :mod:`labhelpers.mirror`) the image is pulled
    from that mirror, where official images live under ``library/``, and tagged
    ``ref``; an engine configured with ``registry-mirrors`` needs no such variable.
    """
    room = settings.mirror()
    if room:
        repo = ref if "/" in ref.partition(":")[0] else f"library/{ref}"
        try:
            _pull_stream(client, f"{room}/{repo}")
            client.images.get(f"{room}/{repo}").tag(ref)
            client.images.remove(f"{room}/{repo}", noprune=True)
            return
        except (docker.errors.APIError, docker.errors.DockerException, OSError):
            pass  # not in the room cache: the image's own registry, as without one
    _pull_stream(client, ref)


def _pull_stream(client, ref: str) -> None:
    """Pull ``ref``: one byte progress bar per layer downloading, and the total."""
    repo, _, tag = ref.rpartition(":")
    reader = Layers("pull", ref)
    layers = reader.progress
    bars: dict[str, object] = {}
    total = None  # made at the first layer: a pull that fails at once draws no bar
    try:
        for event in client.api.pull(repo, tag=tag, stream=True, decode=True):
            try:
                layer = reader.feed(event)
            except StreamError:  # ensure() reads the engine's own words (no registry reachable...)
                raise docker.errors.APIError(error_text(event)) from None
            if layer is None:
                continue
            if total is None:
                total = progress(total=0, unit="B", unit_scale=True, desc=f"pull {ref}", leave=False)
            if layer not in bars:
                bars[layer] = progress(total=layers[layer][1], unit="B", unit_scale=True,
                                       desc=f"  layer {layer[:12]}", leave=False)
            bars[layer].update(layers[layer][0] - bars[layer].n)  # update(): true rates
            total.total = sum(t for _, t in layers.values())
            total.set_description(f"pull {ref} ({len(layers)} layer{'s' * (len(layers) != 1)})", refresh=False)
            total.update(sum(c for c, _ in layers.values()) - total.n)
    finally:
        for bar in [*bars.values(), total]:
            if bar is not None:
                bar.close()


def _pull_failure(err: Exception) -> str:
    text = str(getattr(err, "explanation", None) or err)
    if any(sign in text for sign in ("dial tcp", "no such host", "lookup", "i/o timeout",
                                     "connection refused", "TLS handshake")):
        return "no registry reachable"
    return text.splitlines()[0][:200]


@dataclass
class Outcome:
    """What :func:`ensure` did for one image."""

    ref: str
    how: str  # present | pulled | bundle | stand-in
    seconds: float
    image: object

    def __str__(self) -> str:
        return f"{self.ref:<32} {self.how:<9} {self.seconds:6.1f} s"


def ensure(name: str, client=None, log=print) -> object:
    """Make an image of the catalogue present and return it.

    Args:
        name: a catalogue name (``"python"``) or its full reference.
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with progress lines (default: ``print``).

    Returns:
        The ``docker.models.images.Image``.

    Raises:
        ImageError: every way failed; the message lists each reason.

    >>> ensure("python").tags                        # doctest: +SKIP
    ['python:3.13-slim-trixie']
    """
    return ensure_outcome(name, client, log).image


def ensure_outcome(name: str, client=None, log=print, build: bool = True, pull: bool = True) -> Outcome:
    """Like :func:`ensure`, but says how the image came and how long it took.

    Args:
        name: a catalogue name or its full reference.
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with progress lines.
        build: build a stand-in when nothing else works (False: raise instead).
        pull: try the registry (False: it failed a moment ago, as in :func:`prepare`).

    Returns:
        An :class:`Outcome`: the reference, how it came (``present``, ``pulled``,
        ``bundle``, ``stand-in``), the seconds, the image.

    Raises:
        ImageError: the image is not in the catalogue, or could not be made present
            (the message lists what was tried).

    >>> ensure_outcome("python").how                 # doctest: +SKIP
    'present'

    (skipped: it needs an engine.) Introduced in ``00-start-here``.
    """
    from .engine import client as get_client

    entry = spec(name)
    client = client or get_client()
    start = time.monotonic()

    def done(how: str) -> Outcome:
        return Outcome(entry.ref, how, time.monotonic() - start, client.images.get(entry.ref))

    found = present(client, entry.ref)
    if found is not None and not outdated(entry, found):
        return done("present")
    reasons = []
    if found is not None:  # a stand-in of an older recipe: build it again, nothing else
        log(f"{entry.ref}: a stand-in built from an older recipe; building it again")
        reasons.append("present: a stand-in of an older recipe")
    elif offline() or not pull:
        reasons.append("pull: skipped (" + ("LABHELPERS_OFFLINE is set)" if offline() else "it failed a moment ago)"))
    else:
        log(f"{entry.ref}: pulling ...")
        try:
            _pull(client, entry.ref)
            return done("pulled")
        except (docker.errors.APIError, docker.errors.DockerException, OSError) as err:
            first = _pull_failure(err)
            reasons.append(f"pull: {first}")
            log(f"{entry.ref}: pull failed ({first}); trying the offline bundle")
    tarball = bundle_path(entry.ref)
    if found is None and os.path.exists(tarball):
        log(f"{entry.ref}: loading {tarball}")
        with open(tarball, "rb") as f:
            client.images.load(f.read())
        if present(client, entry.ref) is not None:
            return done("bundle")
        reasons.append(f"bundle: {tarball} does not hold {entry.ref}")
    elif found is None:
        reasons.append(f"bundle: no {tarball}")
    if entry.standin is None or not build:
        raise ImageError(
            f"{entry.ref} could not be made present:\n  " + "\n  ".join(reasons),
            "connect to a registry, or import an offline bundle "
            "(`python -m labhelpers bundle import FILE`)",
        )
    from . import standin

    log(f"{entry.ref}: building a stand-in from Debian packages")
    try:
        standin.build(entry, client, log)
    except ImageError as err:
        raise ImageError(
            f"{entry.ref} could not be made present:\n  " + "\n  ".join(reasons)
            + f"\n  stand-in: {err.what}",
            err.todo,
        ) from None
    return done("stand-in")


def prepare(client=None, log=print, notebook: str | None = None,
            workers: int | None = None, progress=None) -> list[Outcome]:
    """Ensure the images of the catalogue (or of one notebook); print what was done for each.

    Images that are missing are made present side by side, at most ``workers`` at a
    time (default: the machine's cores); stand-ins share their Debian release's base,
    made first, once per release, and start in :func:`labhelpers.standin.build_order`. Idempotent: with every image present it only asks the
    engine, in well under a second.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with progress lines (default: ``print``).
        notebook: only the images this notebook needs (``"03"``).
        workers: how many images to make present at once.
        progress: called as ``progress(ref, state)`` with ``"working"``, then
            ``"ready"`` or ``"failed"``, for each image (:mod:`labhelpers.warmup`).

    Returns:
        One :class:`Outcome` per image, in the catalogue's order.

    Raises:
        ImageError: an image could not be made present (the others are still tried).

    >>> prepare(notebook="00")                       # doctest: +SKIP
    python:3.13-slim-trixie          present      0.0 s
    """
    from concurrent.futures import ThreadPoolExecutor

    from .engine import client as get_client

    client = client or get_client()
    entries = for_notebook(notebook)
    workers = max(1, workers or os.cpu_count() or 1)

    def one(entry: ImageSpec, build: bool) -> Outcome:
        def tagged(line: str) -> None:
            log(f"{entry.ref}: {line.strip()}" if line.startswith(" ") else line)

        if progress:
            progress(entry.ref, "working")
        try:
            outcome = ensure_outcome(entry.ref, client, tagged, build=build, pull=not build)
        except ImageError:
            if progress and (build or entry.standin is None):
                progress(entry.ref, "failed")
            raise
        if progress:
            progress(entry.ref, "ready")
        log(str(outcome))
        return outcome

    # First what is here, pulled or bundled; then the stand-ins (no second pull), on their
    # release's base made once.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {entry.ref: pool.submit(one, entry, False) for entry in entries}
        to_build = [entry for entry in entries
                    if futures[entry.ref].exception() is not None and entry.standin is not None]
        if to_build:
            from . import standin

            standin.prepare_bases(to_build, log)
            futures.update({entry.ref: pool.submit(one, entry, True) for entry in standin.build_order(to_build)})
    futures = [futures[entry.ref] for entry in entries]
    failures = [f.exception() for f in futures if f.exception() is not None]
    if failures:
        raise failures[0] if len(failures) == 1 else ImageError(
            "\n".join(str(getattr(err, "what", err)) for err in failures),
            getattr(failures[0], "todo", "") or "see each image's reason above",
        )
    return [f.result() for f in futures]


def size_note(client=None) -> str:
    """One line saying what the ``size (MB)`` of :func:`table` counts, and on which store.

    The table gives the unpacked layers on every store (what the official sizes are
    quoted in); ``docker images`` on the containerd store counts more.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        The line, computed from the engine's image store.

    >>> size_note()                                  # doctest: +SKIP
    'size (MB): the unpacked layers (classic image store: docker images shows the same)'

    Introduced in ``00-start-here``.
    """
    found = detect(client)
    same = ("docker images shows the same" if not found.containerd
            else f"docker images shows {found.size_means}")
    return f"size (MB): the unpacked layers ({found.kind} image store: {same})"


def table(client=None):
    """The catalogue as a pandas DataFrame: what each image is for and how it is here.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        One row per catalogue image: image, used for, notebooks, here (missing, stand-in,
        official), size (MB), official (MB).

    >>> table()                                      # doctest: +SKIP
                         image  ... size (MB)
    0  python:3.13-slim-trixie  ...       119

    (skipped: it asks the engine.) Introduced in ``00-start-here``.
    """
    import pandas as pd

    from .engine import client as get_client

    client = client or get_client()
    rows = []
    for entry in for_notebook():
        image = present(client, entry.ref)
        state = "missing" if image is None else ("stand-in" if is_standin(image) else "official")
        rows.append({
            "image": entry.ref,
            "used for": entry.purpose,
            "notebooks": " ".join(entry.notebooks),
            "here": state,
            "size (MB)": None if image is None else round(unpacked_bytes(client, image) / 1e6),
            "official (MB)": entry.official_mb,
        })
    return pd.DataFrame(rows)
