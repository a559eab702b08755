"""Stand-ins: images built from the operating system's own packages.

With no registry in reach (conference wifi, an air-gapped room, CI), the kit
builds a stand-in for a public image: a Debian root filesystem with the packages
that make it behave like the original, imported with ``docker import`` and
tagged with the original's name. Stand-ins of one Debian release share one base:
a ``minbase`` root filesystem from the mirror in the host's apt sources (mmdebstrap,
or debootstrap where it is missing), made once and kept packed by :func:`base`; each
stand-in unpacks it and adds its own packages with ``apt-get`` in a ``chroot``, from the
release's package cache. Stand-ins carry the label
``org.labhelpers.standin=<original>``, and :func:`labhelpers.doctor` says so.

>>> from labhelpers.catalogue import CATALOGUE
>>> build(CATALOGUE["python"])                    # doctest: +SKIP

Introduced in ``00-start-here``.
"""

from __future__ import annotations

import fcntl
import glob
import hashlib
import io
import os
import shutil
import subprocess
import tempfile
import time
from contextlib import contextmanager

from . import settings
from .catalogue import TRIM, Recipe
from .errors import ImageError
from .labels import RECIPE, STANDIN

#: How a release's base is made; part of its cache key (:func:`base_path`).
_BASE = "debootstrap --variant=minbase; trimmed, apt lists kept"
#: apt-get in a stand-in's chroot: no recommends (as debootstrap --include), no fsync,
#: no service started by a package's postinst (policy-rc.d), never a question.
_APT = ["apt-get", "install", "-y", "-q", "--no-install-recommends",
        "-o", "Dpkg::Options::=--force-unsafe-io", "-o", "Dpkg::Use-Pty=0"]
_APT_ENV = {"DEBIAN_FRONTEND": "noninteractive", "LANG": "C.UTF-8",
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}


def debian_mirror(apt_dir: str = "/etc/apt") -> str:
    """The Debian mirror the host's apt uses (``LABHELPERS_DEBIAN_MIRROR`` wins).

    Args:
        apt_dir: apt's configuration folder; its ``sources.list`` and deb822
            ``sources.list.d/*.sources`` are read.

    Raises:
        ImageError: no Debian mirror is configured on this machine.

    >>> debian_mirror()                               # doctest: +SKIP
    'http://.../debian'
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


def _which(name: str) -> str | None:
    return shutil.which(name, path=os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/usr/bin"]))


def _require_tools() -> list[str]:
    """The bootstrap tools here, fastest first (mmdebstrap, debootstrap); root is required."""
    if os.name != "posix" or os.geteuid() != 0:
        raise ImageError(
            "Building a stand-in image needs root (mmdebstrap or debootstrap makes a root filesystem).",
            "run `sudo python -m labhelpers prepare`, or load an offline bundle, or "
            "connect to a registry so the image can be pulled",
        )
    tools = [tool for tool in (_which("mmdebstrap"), _which("debootstrap")) if tool]
    if not tools:
        raise ImageError(
            "Neither mmdebstrap nor debootstrap is installed, so the kit cannot build a stand-in image.",
            "run `make setup` (it installs it) or `apt-get install mmdebstrap` (or debootstrap)",
        )
    return tools


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

    >>> from labhelpers.catalogue import CATALOGUE
    >>> rootfs_path(CATALOGUE["python"]).endswith(".tar")
    True
    """
    name = spec.ref.replace("/", "_").replace(":", "_")
    return settings.cache_path("rootfs", f"{name}-{spec.standin.digest()}.tar")


def _debs(suite: str) -> str:
    """The package cache of one Debian release, shared by its base and its stand-ins."""
    path = settings.cache_path("debootstrap", suite)
    os.makedirs(os.path.join(path, "partial"), exist_ok=True)
    return path


@contextmanager
def _locked(path: str):
    """One maker of ``path`` at a time, across threads and processes (a lock file beside it)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _trim(root: str, patterns: list[str]) -> None:
    for pattern in patterns:
        for path in glob.glob(os.path.join(root, pattern)):
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                os.unlink(path)


def _pack(root: str, tar: str) -> None:
    partial = tar + ".partial"
    _run(["tar", "--numeric-owner", "-C", root, "-cf", partial, "."], "packing the root filesystem")
    os.replace(partial, tar)


def base_path(suite: str) -> str:
    """Where the packed base of one Debian release is kept (its name carries how it is made).

    >>> base_path("trixie") == base_path("trixie") != base_path("sid")
    True
    """
    digest = hashlib.sha256(f"{suite}\n{_BASE}".encode()).hexdigest()[:16]
    return settings.cache_path("rootfs", f"base-{suite}-{digest}.tar")


def base(suite: str, log=print) -> str:
    """The base root filesystem of ``suite`` (``minbase``), made once, then kept packed.

    Every stand-in of that release starts from it (issue 13: the five stand-ins
    debootstrapped one release each time); two makers at once wait for one another.
    mmdebstrap makes it where installed, debootstrap where not or where mmdebstrap fails.

    Args:
        suite: a Debian release (``"trixie"``).
        log: called with progress lines.

    Returns:
        The path of the packed base (:func:`base_path`).

    Raises:
        ImageError: not root, neither mmdebstrap nor debootstrap, no mirror, or they failed.

    >>> base("trixie")                               # doctest: +SKIP
    '/root/.cache/labhelpers/rootfs/base-trixie-....tar'
    """
    tar = base_path(suite)
    with _locked(tar):
        if os.path.exists(tar):
            return tar
        tools = _require_tools()
        mirror = debian_mirror()
        t0 = time.monotonic()
        log(f"{os.path.basename(tools[0])} {suite}: the base every {suite} stand-in shares (minbase) ...")
        with tempfile.TemporaryDirectory(prefix="labhelpers-base-") as tmp:
            root = os.path.join(tmp, "rootfs")
            for tool in tools:  # debootstrap, slower, where mmdebstrap fails on this host
                try:
                    _run(_bootstrap_command(tool, suite, root, mirror), os.path.basename(tool))
                    break
                except ImageError as err:
                    if tool == tools[-1]:
                        raise
                    log(f"{os.path.basename(tool)} {suite} failed ({err.what.splitlines()[-1]}); "
                        f"trying {os.path.basename(tools[-1])}")
                    shutil.rmtree(root, ignore_errors=True)
            _trim(root, [p for p in TRIM if p != "var/lib/apt/lists/*"])  # apt-get needs the lists
            _pack(root, tar)
        log(f"{os.path.basename(tool)} {suite}: base ready in {time.monotonic() - t0:.0f} s")
    return tar


def _bootstrap_command(tool: str, suite: str, root: str, mirror: str) -> list[str]:
    """The command that makes a ``minbase`` root filesystem of ``suite`` in ``root``.

    mmdebstrap (Debian's, where installed: ``make lab`` installs it) takes a quarter of
    debootstrap's time, since apt and dpkg work on all the packages at once (issue 13: the
    base was 69 of the 83 s before notebook 00's image); debootstrap is the fallback. Both
    keep their packages in the release's cache (:func:`_debs`) and leave apt's lists in place.

    Args:
        tool: the path of ``mmdebstrap`` or ``debootstrap``.
        suite: the Debian release.
        root: the folder to make.
        mirror: the Debian mirror.

    Returns:
        The command, for :func:`_run`.

    >>> _bootstrap_command("/usr/bin/debootstrap", "trixie", "/r", "http://m/debian")[:2]
    ['/usr/bin/debootstrap', '--variant=minbase']
    """
    debs = _debs(suite)
    if os.path.basename(tool) != "mmdebstrap":
        return [tool, "--variant=minbase", f"--cache-dir={debs}", suite, root, mirror]
    # As debootstrap: a Release file past its Valid-Until (a mirror's sid that is not
    # refreshed) is read anyway. dpkg without fsync, as the stand-ins' apt-get (_APT): a
    # quarter to a third faster on a busy disk. Neither option is left in the image.
    return [tool, "--variant=minbase", "--mode=root", "--quiet", "--skip=essential/unlink",
            "--skip=cleanup/apt/lists", '--aptopt=Acquire::Check-Valid-Until "false"',
            "--dpkgopt=force-unsafe-io", '--setup-hook=mkdir -p "$1"/var/cache/apt/archives/',
            f"--setup-hook=sync-in {debs} /var/cache/apt/archives/",
            f"--customize-hook=sync-out /var/cache/apt/archives {debs}",
            '--customize-hook=rm -f "$1"/etc/apt/apt.conf.d/99mmdebstrap "$1"/etc/dpkg/dpkg.cfg.d/99mmdebstrap',
            suite, root, mirror]


def prepare_bases(specs, log=print) -> list:
    """Start making the base of every Debian release the stand-ins of ``specs`` need.

    Each base is made in a thread of its own; this returns at once, and each stand-in's
    build waits for its own release's base only (:func:`base` holds a lock), so the
    stand-ins of a release whose base is kept start while another release's is made.
    Specs whose root filesystem is already kept (:func:`rootfs_path`) need none.

    Args:
        specs: :class:`~labhelpers.catalogue.ImageSpec` entries with a stand-in recipe.
        log: called with progress lines.

    Returns:
        The threads making a base (a failed one is made again, and its error raised, by
        the first stand-in that needs it).

    >>> prepare_bases([])                            # nothing to build: no base made
    []
    """
    import threading

    def make(suite: str) -> None:
        try:
            base(suite, log)
        except ImageError:
            pass  # the stand-ins that need it try again and say why

    suites = sorted({spec.standin.suite for spec in specs if spec.standin is not None
                     and not os.path.exists(rootfs_path(spec)) and not os.path.exists(base_path(spec.standin.suite))})
    threads = [threading.Thread(target=make, args=(suite,), name=f"base-{suite}", daemon=True) for suite in suites]
    for thread in threads:
        thread.start()
    return threads


def build_order(specs) -> list:
    """The order to start building stand-ins in, so that the last one ends soonest.

    Those that can start at once (their root filesystem or their release's base is kept)
    before those that would wait for a base being made; the most packages first among
    them. Cold, after notebook 00's image: ``python:3.13-trixie`` (the longest) beside the
    small ones, ``docker:28-dind`` once sid's base is made (issue 13: in the catalogue's
    order the longest started last).

    Args:
        specs: :class:`~labhelpers.catalogue.ImageSpec` entries with a stand-in recipe.

    Returns:
        The same entries, reordered.

    >>> from labhelpers.catalogue import CATALOGUE
    >>> [spec.ref for spec in build_order([CATALOGUE["redis"], CATALOGUE["python-full"]])]
    ['python:3.13-trixie', 'redis:8']
    """
    def waits(spec) -> bool:
        return not os.path.exists(rootfs_path(spec)) and not os.path.exists(base_path(spec.standin.suite))

    return sorted(specs, key=lambda spec: (waits(spec), -len(spec.standin.packages)))


def _install(root: str, recipe: Recipe) -> None:
    """``apt-get install`` the recipe's packages in ``root``, from the release's package cache.

    The cached packages are linked into the root's own apt archive (each stand-in has
    its own: no lock shared between builds side by side); what apt fetches is kept.
    """
    debs = _debs(recipe.suite)
    archive = os.path.join(root, "var/cache/apt/archives")
    os.makedirs(os.path.join(archive, "partial"), exist_ok=True)
    had = set()
    for deb in glob.glob(os.path.join(debs, "*.deb")):
        had.add(os.path.basename(deb))
        try:
            os.link(deb, os.path.join(archive, os.path.basename(deb)))
        except OSError:
            shutil.copy2(deb, archive)
    resolv = os.path.join(root, "etc/resolv.conf")
    if os.path.lexists(resolv):  # never written through a link (it would point at the host's)
        os.unlink(resolv)
    shutil.copy2("/etc/resolv.conf", resolv)
    policy = os.path.join(root, "usr/sbin/policy-rc.d")
    with open(policy, "w") as f:
        f.write("#!/bin/sh\nexit 101\n")
    os.chmod(policy, 0o755)
    try:
        done = subprocess.run(["chroot", root, *_APT, *recipe.packages], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, env=_APT_ENV)
    finally:
        os.unlink(policy)
    if done.returncode:
        raise ImageError(
            f"apt-get install {' '.join(recipe.packages)} ({recipe.suite}) failed "
            f"(exit {done.returncode}):\n{(done.stdout + done.stderr).strip()[-3000:]}",
            "check that this machine reaches its Debian mirror (`apt-get update`), "
            "or load an offline bundle",
        )
    for deb in glob.glob(os.path.join(archive, "*.deb")):
        if os.path.basename(deb) not in had and not os.path.exists(os.path.join(debs, os.path.basename(deb))):
            shutil.copy2(deb, debs)


def _make_rootfs(recipe: Recipe, tar: str, log) -> None:
    base_tar = base(recipe.suite, log)
    with tempfile.TemporaryDirectory(prefix="labhelpers-rootfs-") as tmp:
        root = os.path.join(tmp, "rootfs")
        os.makedirs(root)
        t0 = time.monotonic()
        log(f"  {recipe.suite} base + {', '.join(recipe.packages)} ...")
        _run(["tar", "--numeric-owner", "-xpf", base_tar, "-C", root], "unpacking the base")
        _install(root, recipe)
        script = "set -e\n" + recipe.script + "\napt-get clean\n"
        _run(["chroot", root, "/bin/sh", "-c", script], "the stand-in's setup script")
        _trim(root, TRIM)
        for cache in glob.glob(os.path.join(root, "usr/lib/python3*/**/__pycache__"), recursive=True):
            shutil.rmtree(cache, ignore_errors=True)
        log(f"  root filesystem ready in {time.monotonic() - t0:.0f} s")
        os.makedirs(os.path.dirname(tar), exist_ok=True)
        _pack(root, tar)


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

    The root filesystem is made once (mmdebstrap or debootstrap) and kept (see
    :func:`rootfs_path`); later builds, into this engine or another, import it.

    Returns:
        The new image's id.

    Raises:
        ImageError: not root, no mmdebstrap nor debootstrap, no mirror, or a step failed.
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
        f'LABEL {STANDIN}="{spec.ref}" {RECIPE}="{recipe.digest()}" '
        f'org.opencontainers.image.description="labhelpers stand-in for {spec.ref}, '
        f'built from Debian {recipe.suite} packages"\n'
    )
    image, _ = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=spec.ref, rm=True)
    client.images.remove(staging, noprune=True)
    return image.id
