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

from .errors import ImageError
from .labels import STANDIN
from .standin import Recipe, cache_dir

#: Seconds a pull may take to start before the kit counts the registry unreachable.
PULL_TIMEOUT = 30


@dataclass(frozen=True)
class ImageSpec:
    """One image of the catalogue.

    Attributes:
        ref: the image's name and tag, as the notebooks use it.
        purpose: what the lab uses it for.
        notebooks: the notebooks that need it.
        official_mb: the size the official image reports, uncompressed, in MB
            (to compare the stand-in with).
        standin: how to build a stand-in from Debian packages, or None.
    """

    ref: str
    purpose: str
    notebooks: tuple[str, ...]
    official_mb: int
    standin: Recipe | None = None


# The python stand-ins behave as the official images do: `python` and `pip` on the
# PATH, pip usable without --break-system-packages, a UTF-8 locale.
_PYTHON_LIKE_OFFICIAL = (
    "ln -sf /usr/bin/python3 /usr/local/bin/python\n"
    "ln -sf /usr/bin/pip3 /usr/local/bin/pip\n"
    "rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED\n"
)
_PYTHON_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONUNBUFFERED=1",
    'CMD ["python3"]',
)

#: Every image the notebooks use, by short name.
CATALOGUE: dict[str, ImageSpec] = {
    "python": ImageSpec(
        ref="python:3.13-slim-trixie",
        purpose="runs Python in containers: the base of every example and sample app",
        notebooks=("00", "01", "02", "03", "04", "05", "06"),
        official_mb=130,
        standin=Recipe(
            packages=("python3", "python3-pip", "python3-venv", "ca-certificates"),
            script=_PYTHON_LIKE_OFFICIAL,
            changes=_PYTHON_CHANGES,
        ),
    ),
    "registry": ImageSpec(
        # Debian packages distribution 2.8, the registry:2 generation; the library's
        # newest is registry:3 (distribution 3.x), which the notebooks say where they
        # show it.
        ref="registry:2",
        purpose="a private image registry on loopback: push to share, pull back (01, 06)",
        notebooks=("01", "06"),
        official_mb=25,
        standin=Recipe(
            packages=("docker-registry",),
            # The official image's configuration: no authentication, storage in
            # /var/lib/registry (Debian's own enables htpasswd auth).
            script=(
                "mkdir -p /var/lib/registry\n"
                "cat > /etc/docker/registry/config.yml <<'YAML'\n"
                "version: 0.1\n"
                "log:\n  fields:\n    service: registry\n"
                "storage:\n  cache:\n    blobdescriptor: inmemory\n"
                "  filesystem:\n    rootdirectory: /var/lib/registry\n"
                "http:\n  addr: :5000\n  headers:\n    X-Content-Type-Options: [nosniff]\n"
                "health:\n  storagedriver:\n    enabled: true\n    interval: 10s\n    threshold: 3\n"
                "YAML\n"
            ),
            changes=(
                "ENV REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry",
                "ENV REGISTRY_HTTP_ADDR=0.0.0.0:5000",
                "EXPOSE 5000",
                'CMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]',
            ),
        ),
    ),
    "redis": ImageSpec(
        # Debian 13 packages Redis 8.0, the official redis:8's generation.
        ref="redis:8",
        purpose="a Redis server: the hit counter of the compose example (01)",
        notebooks=("01",),
        official_mb=137,
        standin=Recipe(
            packages=("redis-server",),
            changes=(
                "EXPOSE 6379",
                'CMD ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0"]',
            ),
        ),
    ),
    "dind": ImageSpec(
        # Today's engine: the newest Docker Engine Debian packages (sid: 28.5), the
        # official docker:28-dind's generation. It is also the current engine that
        # `make test-current` runs (labhelpers.current).
        ref="docker:28-dind",
        purpose="Docker-in-Docker: each docker machine of notebook 03 is one; the current engine of the tests",
        notebooks=("03",),
        official_mb=380,
        standin=Recipe(
            # dockerd with containerd, runc, tini; iptables for its networks, procps
            # for ps/pkill, wget to probe web servers from inside (as busybox does in
            # the official image: the kit uses only options busybox's wget has).
            packages=("docker.io", "docker-cli", "openssh-server", "iptables", "ca-certificates", "procps", "wget"),
            suite="sid",
            # The official image's entrypoint contract: `dockerd-entrypoint.sh dockerd
            # ARGS` (or only ARGS starting with "-") starts the engine.
            script=(
                "cat > /usr/local/bin/dockerd-entrypoint.sh <<'SH'\n"
                "#!/bin/sh\n"
                "set -e\n"
                'case "$1" in -*|"") set -- dockerd "$@" ;; esac\n'
                "# cgroup v2: move this shell out of the root cgroup so dockerd may\n"
                "# enable the controllers for its own containers.\n"
                "if [ -f /sys/fs/cgroup/cgroup.controllers ]; then\n"
                "  mkdir -p /sys/fs/cgroup/init\n"
                "  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true\n"
                "  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers"
                " > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true\n"
                "fi\n"
                'exec "$@"\n'
                "SH\n"
                "chmod +x /usr/local/bin/dockerd-entrypoint.sh\n"
                "# Debugging tools dockerd never calls, and containerd's v1 shims (the\n"
                "# engine runs containers with the runc v2 shim).\n"
                "rm -f /usr/bin/ctr /usr/bin/dnet /usr/bin/containerd-shim"
                " /usr/bin/containerd-shim-runc-v1\n"
            ),
            changes=(
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "VOLUME /var/lib/docker",
                "EXPOSE 2376",
                'ENTRYPOINT ["dockerd-entrypoint.sh"]',
                "CMD []",
            ),
        ),
    ),
    "python-full": ImageSpec(
        ref="python:3.13-trixie",
        purpose="the full (non-slim) Python image: compilers and headers, the naive build's base (06)",
        notebooks=("06",),
        official_mb=1010,
        standin=Recipe(
            # What the full image adds to slim that matters for builds: a C toolchain,
            # Python's headers, git and curl, the usual -dev libraries (not all of them).
            packages=("python3", "python3-pip", "python3-venv", "python3-dev", "ca-certificates",
                      "build-essential", "git", "curl", "libffi-dev", "libssl-dev", "zlib1g-dev"),
            script=_PYTHON_LIKE_OFFICIAL,
            changes=_PYTHON_CHANGES,
        ),
    ),
}


def spec(name: str) -> ImageSpec:
    """The catalogue entry for a short name (``"python"``) or a full reference.

    Raises:
        ImageError: the image is not in the catalogue.

    >>> spec("python:3.13-slim-trixie").ref
    'python:3.13-slim-trixie'
    """
    if name in CATALOGUE:
        return CATALOGUE[name]
    for entry in CATALOGUE.values():
        if entry.ref == name:
            return entry
    raise ImageError(
        f"{name!r} is not an image of the lab's catalogue.",
        f"use one of: {', '.join(sorted(CATALOGUE))} (or their full names), "
        "or pull other images yourself with client.images.pull",
    )


def bundle_path(ref: str) -> str:
    """Where the offline bundle tarball of ``ref`` is looked for.

    >>> bundle_path("python:3.13-slim-trixie").endswith("python_3.13-slim-trixie.tar")
    True
    """
    return os.path.join(cache_dir(), "images", ref.replace("/", "_").replace(":", "_") + ".tar")


def offline() -> bool:
    """True when ``LABHELPERS_OFFLINE`` asks the kit not to try registries."""
    return os.environ.get("LABHELPERS_OFFLINE", "").lower() in ("1", "true", "yes")


def present(client, ref: str):
    """The image ``ref`` if the engine has it, else None."""
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        return None


def short_tag(tag: str) -> str:
    """A tag as Docker Engine lists it: Podman names Docker Hub's images in full.

    >>> short_tag("docker.io/library/python:3.13-slim-trixie")
    'python:3.13-slim-trixie'
    """
    for prefix in ("docker.io/library/", "docker.io/"):
        if tag.startswith(prefix):
            return tag[len(prefix):]
    return tag


def is_standin(image) -> bool:
    """True for an image the kit built from OS packages in place of the original."""
    return bool(image.labels.get(STANDIN)) and image.labels.get(STANDIN) in map(short_tag, image.tags)


def _pull(client, ref: str) -> None:
    """Pull ``ref`` with a progress bar; from the room cache first when one is named.

    With ``LABHELPERS_MIRROR=IP:PORT`` (:mod:`labhelpers.mirror`) the image is pulled
    from that mirror, where official images live under ``library/``, and tagged
    ``ref``; an engine configured with ``registry-mirrors`` needs no such variable.
    """
    from .mirror import address_for_pull

    room = address_for_pull()
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
    from tqdm.auto import tqdm

    repo, _, tag = ref.rpartition(":")
    layers: dict[str, tuple[int, int]] = {}
    bars: dict[str, object] = {}
    total = None  # made at the first layer: a pull that fails at once draws no bar
    try:
        for event in client.api.pull(repo, tag=tag, stream=True, decode=True):
            if "error" in event:
                raise docker.errors.APIError(event["error"])
            layer, state = event.get("id"), event.get("status", "")
            detail = event.get("progressDetail") or {}
            if layer and state == "Downloading" and detail.get("total"):
                if total is None:
                    total = tqdm(total=0, unit="B", unit_scale=True, desc=f"pull {ref}", leave=False)
                if layer not in bars:
                    bars[layer] = tqdm(total=detail["total"], unit="B", unit_scale=True,
                                       desc=f"  layer {layer[:12]}", leave=False)
                layers[layer] = (detail.get("current", 0), detail["total"])
            elif layer in layers and state in ("Download complete", "Verifying Checksum", "Pull complete"):
                layers[layer] = (layers[layer][1], layers[layer][1])
            else:
                continue
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


def ensure_outcome(name: str, client=None, log=print, build: bool = True) -> Outcome:
    """Like :func:`ensure`, but says how the image came and how long it took.

    Args:
        name: a catalogue name or its full reference.
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with progress lines.
        build: build a stand-in when nothing else works (False: raise instead).
    """
    from .engine import client as get_client

    entry = spec(name)
    client = client or get_client()
    start = time.monotonic()

    def done(how: str) -> Outcome:
        return Outcome(entry.ref, how, time.monotonic() - start, client.images.get(entry.ref))

    if present(client, entry.ref) is not None:
        return done("present")
    reasons = []
    if offline():
        reasons.append("pull: skipped (LABHELPERS_OFFLINE is set)")
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
    if os.path.exists(tarball):
        log(f"{entry.ref}: loading {tarball}")
        with open(tarball, "rb") as f:
            client.images.load(f.read())
        if present(client, entry.ref) is not None:
            return done("bundle")
        reasons.append(f"bundle: {tarball} does not hold {entry.ref}")
    else:
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


def for_notebook(notebook: str | None = None) -> list[ImageSpec]:
    """The catalogue entries one notebook needs (every entry when ``notebook`` is None).

    >>> [entry.ref for entry in for_notebook("00")]
    ['python:3.13-slim-trixie']
    """
    return [entry for entry in CATALOGUE.values() if notebook is None or notebook in entry.notebooks]


def prepare(client=None, log=print, notebook: str | None = None,
            workers: int | None = None, progress=None) -> list[Outcome]:
    """Ensure the images of the catalogue (or of one notebook); print what was done for each.

    Images that are missing are made present side by side, at most ``workers`` at a
    time (default: the machine's cores); stand-ins fetch their Debian packages
    first, once per release. Idempotent: with every image present it only asks the
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
            outcome = ensure_outcome(entry.ref, client, tagged, build=build)
        except ImageError:
            if progress and (build or entry.standin is None):
                progress(entry.ref, "failed")
            raise
        if progress:
            progress(entry.ref, "ready")
        log(str(outcome))
        return outcome

    # First what is here, pulled or bundled; then the stand-ins, from packages fetched once.
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {entry.ref: pool.submit(one, entry, False) for entry in entries}
        to_build = [entry for entry in entries
                    if futures[entry.ref].exception() is not None and entry.standin is not None]
        if to_build:
            from . import standin

            standin.download(to_build, log)
            futures.update({entry.ref: pool.submit(one, entry, True) for entry in to_build})
    futures = [futures[entry.ref] for entry in entries]
    failures = [f.exception() for f in futures if f.exception() is not None]
    if failures:
        raise failures[0] if len(failures) == 1 else ImageError(
            "\n".join(str(getattr(err, "what", err)) for err in failures),
            getattr(failures[0], "todo", "") or "see each image's reason above",
        )
    return [f.result() for f in futures]


def store(client=None) -> str:
    """How the engine keeps images: ``"containerd"`` or ``"classic"``.

    Docker 29 and Docker Desktop keep images in containerd's content store and
    unpack them into snapshots (``docker info`` shows the driver
    ``io.containerd.snapshotter.v1``); older engines keep unpacked layers in a
    graph driver (``overlay2``). An image's size means something else on each.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).

    >>> store()                                      # doctest: +SKIP
    'classic'

    Introduced in ``00-start-here``.
    """
    from .engine import client as get_client

    info = (client or get_client()).info()
    status = dict(tuple(pair) for pair in info.get("DriverStatus") or [] if len(pair) == 2)
    return "containerd" if "snapshotter" in status.get("driver-type", "") else "classic"


def size_note(client=None) -> str:
    """One line saying what the ``size (MB)`` of :func:`table` counts, and on which store.

    The table gives the unpacked layers on every store (what the official sizes are
    quoted in); ``docker images`` on the containerd store counts more.

    >>> size_note()                                  # doctest: +SKIP
    'size (MB): the unpacked layers (classic image store: docker images shows the same)'

    Introduced in ``00-start-here``.
    """
    from .imagestore import detect

    found = detect(client)
    same = ("docker images shows the same" if not found.containerd
            else f"docker images shows {found.size_means}")
    return f"size (MB): the unpacked layers ({found.kind} image store: {same})"


def table(client=None):
    """The catalogue as a pandas DataFrame: what each image is for and how it is here.

    >>> table()                                      # doctest: +SKIP
                         image  ... size (MB)
    0  python:3.13-slim-trixie  ...       119
    """
    import pandas as pd

    from .engine import client as get_client
    from .imagestore import unpacked_bytes

    client = client or get_client()
    rows = []
    for entry in CATALOGUE.values():
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
