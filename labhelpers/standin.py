"""Stand-ins: images built from the operating system's own packages.

With no registry in reach (conference wifi, an air-gapped room, CI), the kit
builds a stand-in for a public image: a Debian root filesystem made with
``debootstrap`` from the mirror in the host's apt sources, with the packages
that make it behave like the original, imported with ``docker import`` and
tagged with the original's name. Stand-ins carry the label
``org.labhelpers.standin=<original>``, and :func:`labhelpers.doctor` says so.

>>> from labhelpers.catalogue import CATALOGUE
>>> build(CATALOGUE["python"])                    # doctest: +SKIP

Introduced in ``00-start-here``.
"""

from __future__ import annotations

import glob
import io
import os
import shutil
import subprocess
import tempfile
import time

from . import settings
from .catalogue import TRIM, Recipe
from .errors import ImageError
from .labels import STANDIN

def debian_mirror(apt_dir: str = "/etc/apt") -> str:
    """The Debian mirror the host's apt uses (``LABHELPERS_DEBIAN_MIRROR`` wins).

    Args:
        apt_dir: apt's configuration folder; its ``sources.list`` and deb822
            ``sources.list.d/*.sources`` are read.

    Raises:
        ImageError: no Debian mirror is configured on this machine.

    Returns:
        The mirror's URL, ending in ``/debian``.

    >>> debian_mirror()                               # doctest: +SKIP
    'http://.../debian'

    (skipped: the answer is this machine's apt configuration.)
    """
    override = settings.debian_mirror()
    if override:
        return override
    for path in sorted(glob.glob(os.path.join(apt_dir, "sources.list.d", "*.sources"))):
        with open(path, errors="replace") as f:
            stanzas = f.read().split("\n\n")
        for stanza in stanzas:
            fields = {}
            for line in stanza.splitlines():
                if ":" in line and not line.startswith(("#", " ")):
                    key, _, value = line.partition(":")
                    fields[key.strip().lower()] = value.strip()
            if "deb" in fields.get("types", "").split() and "main" in fields.get("components", ""):
                for uri in fields.get("uris", "").split():
                    if uri.rstrip("/").endswith("/debian"):
                        return uri
    for path in [os.path.join(apt_dir, "sources.list"),
                 *sorted(glob.glob(os.path.join(apt_dir, "sources.list.d", "*.list")))]:
        try:
            lines = open(path, errors="replace").read().splitlines()
        except OSError:
            continue
        for line in lines:
            parts = line.split("#")[0].split()
            if parts[:1] == ["deb"]:
                uri = next((p for p in parts[1:] if "://" in p), "")
                if uri.rstrip("/").endswith("/debian"):
                    return uri
    raise ImageError(
        "No Debian mirror is configured in this machine's apt sources, so the kit cannot "
        "build a stand-in image.",
        "set LABHELPERS_DEBIAN_MIRROR to a Debian mirror's URL, load an offline bundle "
        "(`python -m labhelpers bundle import FILE`), or connect to a registry",
    )


def _require_tools() -> str:
    if os.name != "posix" or os.geteuid() != 0:
        raise ImageError(
            "Building a stand-in image needs root (debootstrap makes a root filesystem).",
            "run `sudo python -m labhelpers prepare`, or load an offline bundle, or "
            "connect to a registry so the image can be pulled",
        )
    tool = shutil.which("debootstrap") or ("/usr/sbin/debootstrap" if os.path.exists("/usr/sbin/debootstrap") else None)
    if tool is None:
        raise ImageError(
            "debootstrap is not installed, so the kit cannot build a stand-in image.",
            "run `make setup` (it installs it) or `apt-get install debootstrap`",
        )
    return tool


def _run(cmd: list[str], what: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode:
        tail = (done.stdout + done.stderr).strip()[-3000:]
        raise ImageError(
            f"{what} failed (exit {done.returncode}):\n{tail}",
            "check that this machine reaches its Debian mirror (`apt-get update`), "
            "or load an offline bundle",
        )


def rootfs_path(spec) -> str:
    """Where the packed root filesystem of ``spec``'s stand-in is kept between builds.

    The name carries the recipe's hash: a changed recipe builds anew, an unchanged
    one is imported again in seconds (a second engine, a pruned one, the current
    engine of ``make test-current``).

    Args:
        spec: an :class:`~labhelpers.images.ImageSpec` with a stand-in recipe.

    Returns:
        The path of the ``.tar`` in the kit's cache folder (it may not exist yet).

    >>> from labhelpers.catalogue import CATALOGUE
    >>> rootfs_path(CATALOGUE["python"]).endswith(".tar")
    True
    """
    name = spec.ref.replace("/", "_").replace(":", "_")
    return settings.cache_path("rootfs", f"{name}-{spec.standin.digest()}.tar")


def download(specs, log=print) -> None:
    """Fetch, once per Debian release, every package the stand-ins of ``specs`` need.

    Stand-ins are then built side by side from the warm package cache: parallel
    debootstraps never download (nor half-write) the same file at once. Specs whose
    root filesystem is already kept (:func:`rootfs_path`) are skipped.

    Args:
        specs: :class:`~labhelpers.catalogue.ImageSpec` entries with a stand-in recipe.
        log: called with progress lines.

    Raises:
        ImageError: not root, no debootstrap, no mirror, or the download failed.

    >>> download([])                                 # nothing to build: nothing fetched
    """
    wanted: dict[str, set[str]] = {}
    for spec in specs:
        if spec.standin is not None and not os.path.exists(rootfs_path(spec)):
            wanted.setdefault(spec.standin.suite, set()).update(spec.standin.packages)
    if not wanted:
        return
    tool = _require_tools()
    mirror = debian_mirror()
    for suite, packages in sorted(wanted.items()):
        debs = settings.cache_path("debootstrap", suite)
        os.makedirs(debs, exist_ok=True)
        t0 = time.monotonic()
        log(f"debootstrap {suite}: fetching {len(packages)} packages and what they need ...")
        with tempfile.TemporaryDirectory(prefix="labhelpers-download-") as tmp:
            _run([tool, "--download-only", "--variant=minbase",
                  f"--include={','.join(sorted(packages))}", f"--cache-dir={debs}",
                  suite, os.path.join(tmp, "rootfs"), mirror], "debootstrap --download-only")
        log(f"debootstrap {suite}: packages ready in {time.monotonic() - t0:.0f} s")


def _make_rootfs(recipe: Recipe, tar: str, log) -> None:
    tool = _require_tools()
    mirror = debian_mirror()
    debs = settings.cache_path("debootstrap", recipe.suite)
    os.makedirs(debs, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="labhelpers-rootfs-") as tmp:
        root = os.path.join(tmp, "rootfs")
        t0 = time.monotonic()
        log(f"  debootstrap {recipe.suite} (minbase + {', '.join(recipe.packages)}) ...")
        _run([tool, "--variant=minbase", f"--include={','.join(recipe.packages)}",
              f"--cache-dir={debs}", recipe.suite, root, mirror], "debootstrap")
        log(f"  root filesystem ready in {time.monotonic() - t0:.0f} s")
        script = "set -e\n" + recipe.script + "\napt-get clean\n"
        _run(["chroot", root, "/bin/sh", "-c", script], "the stand-in's setup script")
        for pattern in TRIM:
            for path in glob.glob(os.path.join(root, pattern)):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    os.unlink(path)
        for cache in glob.glob(os.path.join(root, "usr/lib/python3*/**/__pycache__"), recursive=True):
            shutil.rmtree(cache, ignore_errors=True)
        os.makedirs(os.path.dirname(tar), exist_ok=True)
        partial = tar + ".partial"
        _run(["tar", "--numeric-owner", "-C", root, "-cf", partial, "."], "packing the root filesystem")
        os.replace(partial, tar)


def _imported_id(answer: str) -> str:
    """The image id in the answer of ``POST /images/create?fromSrc=-`` (one JSON object per line).

    Raises:
        ImageError: the answer names no image (the import failed).

    >>> _imported_id('{"status":"sha256:0a1b"}\\r\\n')
    'sha256:0a1b'
    """
    import json

    for line in reversed(answer.splitlines()):
        try:
            status = json.loads(line).get("status", "")
        except ValueError:
            continue
        if status.startswith("sha256:"):
            return status
    raise ImageError(f"docker import answered without an image id: {answer[-300:]!r}",
                     "check the engine's free disk and its log, then run `python -m labhelpers prepare` again")


def build(spec, client, log=print) -> str:
    """Build and tag the stand-in for ``spec`` (an :class:`~labhelpers.catalogue.ImageSpec`).

    The root filesystem is made once with debootstrap and kept (see
    :func:`rootfs_path`); later builds, into this engine or another, import it.

    Returns:
        The new image's id.

    Raises:
        ImageError: not root, no debootstrap, no mirror, or a step failed.

    Args:
        spec: an :class:`~labhelpers.images.ImageSpec` with a stand-in recipe.
        client: a ``docker.DockerClient`` on the engine to build into.
        log: called with progress lines.

    >>> build(CATALOGUE["redis"], lab.client())      # doctest: +SKIP
    'sha256:...'

    (skipped: it needs root, debootstrap and an engine, and takes minutes the first time.)
    """
    recipe: Recipe = spec.standin
    tar = rootfs_path(spec)
    if os.path.exists(tar):
        log(f"  root filesystem from the cache ({os.path.basename(tar)})")
    else:
        _make_rootfs(recipe, tar, log)
    repo, _, tag = spec.ref.rpartition(":")
    staging = f"{repo}:{tag}-labhelpers-import"
    log("  docker import ...")
    # Imported untagged, then tagged by id: Podman's compatible API ignores the import's
    # tag (it would name the image `repo:latest`, replacing a learner's own).
    answer = client.api.import_image_from_file(tar, changes=list(recipe.changes))
    client.api.tag(_imported_id(answer), repo, f"{tag}-labhelpers-import")
    # `docker import` cannot set labels: one metadata-only build step adds them.
    dockerfile = (
        f"FROM {staging}\n"
        f'LABEL {STANDIN}="{spec.ref}" '
        f'org.opencontainers.image.description="labhelpers stand-in for {spec.ref}, '
        f'built from Debian {recipe.suite} packages"\n'
    )
    image, _ = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=spec.ref, rm=True)
    client.images.remove(staging, noprune=True)
    return image.id
