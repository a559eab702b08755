"""Every path and setting of the kit, in one place: where it keeps things, what it reads.

A leaf: it imports nothing from the rest of the package, so any module may use it.
Each setting is read when it is asked for (a test or a notebook may set the variable
first); :data:`VARIABLES` says what every ``LABHELPERS_*`` and ``LAB_*`` variable the
package reads means.

>>> cache_dir().endswith("labhelpers")
True
>>> "LABHELPERS_OFFLINE" in VARIABLES
True

Introduced in ``00-start-here`` (the cache that ``python -m labhelpers prepare`` fills).
"""

from __future__ import annotations

import os
from importlib import resources

#: The environment variables the package reads, and what each one means.
VARIABLES: dict[str, str] = {
    "LABHELPERS_OFFLINE": "1/true/yes: never try a registry; images come from bundles or stand-ins",
    "LABHELPERS_PREFIX": "put before every lab object's name (alice-nb01-web), so learners sharing an engine never collide",
    "LABHELPERS_MIRROR": "IP:PORT of the room's registry cache, pulled from before an image's own registry",
    "LABHELPERS_DEBIAN_MIRROR": "the Debian mirror stand-ins are built from (default: the host's apt sources)",
    "LABHELPERS_MACHINE_STORAGE": "the folder of notebook 03's docker machines (default: $XDG_DATA_HOME/labhelpers/machines)",
    "LABHELPERS_LIVE_SURVEY": "1: notebook 05's survey asks the live package index instead of the stored snapshot",
    "LABHELPERS_ISOLATION": "set by a room's hub inside a participant's container: its isolation level",
    "LAB_ISOLATION": "the isolation a room's hub gives participants: rootless (default) or dind",
    "LAB_PIDS_LIMIT": "the most processes a room participant's container may run (default 1024)",
    "LAB_DISK_LIMIT": "the size of each room participant's inner-engine disk, a sparse ext4 file (default 10G; 0: no limit)",
    "LABHELPERS_ROOM_DISK": "set inside a room by the hub's spawner: the sentence saying the participant's disk limit",
    "LAB_PROGRESS_FILE": "set inside a room: the file where exercise checks record a participant's progress",
    "LABHELPERS_RUN_SOLUTIONS": "1/true/yes: every exercise's lab.solution() runs its code (a speaker's demo, CI, nbval)",
    "LABHELPERS_DATA_DIR": "the folder of the learner's own data, such as exercise progress (default: $XDG_DATA_HOME/labhelpers)",
    "LAB_HUB_URL": "the public URL of a room's hub (default http://127.0.0.1:PORT)",
}

#: The folders under :func:`cache_dir`, by what they hold (:func:`cache_path` joins them).
CACHE: dict[str, str] = {
    "bundles": "images",            # offline image bundles, `docker save` tarballs (notebook 00)
    "rootfs": "rootfs",             # stand-ins' packed root filesystems, kept between builds
    "debootstrap": "debootstrap",   # Debian packages, one folder per release, for every stand-in
    "wheelhouse": "wheelhouse",     # the kit's one wheelhouse (notebook 01)
    "projects": "projects",         # notebook 06's build projects
    "survey": "survey",             # notebook 05's package-index answers
    "prepare": "",                  # the background prepare's status, log and timings (warmup)
}

#: Where a daemon the kit starts (``python -m labhelpers engine start``) writes its log.
DAEMON_LOG = "/var/log/labhelpers-dockerd.log"
#: The folder the current engine (Docker-in-Docker) shares with the host: its socket, its configuration.
CURRENT_RUN_DIR = "/run/labhelpers-current"
#: The folder of the kit's own Podman service: its ``containers.conf``, pid and log.
PODMAN_RUN_DIR = "/run/labhelpers-podman"


def data_path(*parts: str):
    """A file or folder of the data shipped in the package (``labhelpers/data/...``).

    Args:
        *parts: the path's parts below ``data``.

    Returns:
        An ``importlib.resources`` traversable (``.read_text()``, ``.iterdir()``).

    >>> data_path("dockerfiles").name
    'dockerfiles'
    """
    return resources.files("labhelpers").joinpath("data", *parts)


def _flag(name: str) -> bool:
    return os.environ.get(name, "").lower() in ("1", "true", "yes")


def cache_dir() -> str:
    """The kit's cache folder, ``$XDG_CACHE_HOME/labhelpers`` (``~/.cache/labhelpers``).

    Bundles, stand-ins' root filesystems, wheels, projects, the survey and the
    background prepare's state all live under it.

    Returns:
        The folder (it may not exist yet).

    >>> cache_dir().endswith(os.path.join(".cache", "labhelpers")) or "XDG_CACHE_HOME" in os.environ
    True
    """
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "labhelpers")


def cache_path(kind: str, *parts: str) -> str:
    """A folder of :data:`CACHE` (or a path inside it), under :func:`cache_dir`.

    Args:
        kind: what the folder holds, a key of :data:`CACHE` (``"bundles"``, ``"rootfs"``...).
        *parts: a path below that folder.

    Returns:
        The path (it may not exist yet).

    >>> cache_path("bundles", "redis_8.tar").endswith(os.path.join("labhelpers", "images", "redis_8.tar"))
    True
    >>> cache_path("debootstrap", "sid").endswith(os.path.join("debootstrap", "sid"))
    True
    """
    return os.path.join(cache_dir(), CACHE[kind], *parts)


def wheelhouse_dir() -> str:
    """The kit's one wheelhouse: wheels for containers, fetched on the host (notebook 01).

    >>> wheelhouse_dir() == cache_path("wheelhouse")
    True
    """
    return cache_path("wheelhouse")


def _xdg_data() -> str:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(base, "labhelpers")


def machine_store() -> str:
    """The folder of notebook 03's docker machines.

    ``LABHELPERS_MACHINE_STORAGE``, else ``$XDG_DATA_HOME/labhelpers/machines``
    (``~/.local/share/labhelpers/machines``).

    >>> machine_store().endswith("machines") or "LABHELPERS_MACHINE_STORAGE" in os.environ
    True
    """
    return os.environ.get("LABHELPERS_MACHINE_STORAGE") or os.path.join(_xdg_data(), "machines")


def data_dir() -> str:
    """The folder of the learner's own data (exercise progress): ``LABHELPERS_DATA_DIR``,
    else ``$XDG_DATA_HOME/labhelpers`` (``~/.local/share/labhelpers``).

    >>> data_dir().endswith("labhelpers") or "LABHELPERS_DATA_DIR" in os.environ
    True
    """
    return os.environ.get("LABHELPERS_DATA_DIR") or _xdg_data()


def run_solutions() -> bool:
    """``LABHELPERS_RUN_SOLUTIONS``: every exercise's solution runs (a speaker's demo, CI, nbval).

    >>> run_solutions() in (True, False)
    True
    """
    return _flag("LABHELPERS_RUN_SOLUTIONS")


def offline() -> bool:
    """True when ``LABHELPERS_OFFLINE`` asks the kit not to try registries.

    >>> isinstance(offline(), bool)
    True
    """
    return _flag("LABHELPERS_OFFLINE")


def prefix() -> str:
    """``LABHELPERS_PREFIX``: what goes before every lab object's name (empty by default).

    >>> isinstance(prefix(), str)
    True
    """
    return os.environ.get("LABHELPERS_PREFIX", "")


def mirror() -> str | None:
    """``LABHELPERS_MIRROR``: the room cache (``IP:PORT``) that pulls try first, or None.

    >>> mirror() is None or ":" in mirror()
    True
    """
    return os.environ.get("LABHELPERS_MIRROR") or None


def debian_mirror() -> str | None:
    """``LABHELPERS_DEBIAN_MIRROR``: the Debian mirror for stand-ins, or None (the host's apt sources)."""
    return os.environ.get("LABHELPERS_DEBIAN_MIRROR") or None


def live_survey() -> bool:
    """True when ``LABHELPERS_LIVE_SURVEY=1`` asks notebook 05 for the live index."""
    return os.environ.get("LABHELPERS_LIVE_SURVEY") == "1"


def room_isolation() -> str | None:
    """``LABHELPERS_ISOLATION``: inside a room's container, the isolation its hub gave it."""
    return os.environ.get("LABHELPERS_ISOLATION") or None


def hub_isolation() -> str:
    """``LAB_ISOLATION``: the isolation a room's hub gives its participants (``rootless``)."""
    return os.environ.get("LAB_ISOLATION", "rootless")


def pids_limit() -> int:
    """``LAB_PIDS_LIMIT``: the most processes a participant's container may run (1024)."""
    return int(os.environ.get("LAB_PIDS_LIMIT", "1024"))


def disk_limit() -> str:
    """``LAB_DISK_LIMIT``: the size of each participant's inner-engine disk (``10G``; ``0``: none).

    One participant running notebooks 00 to 06 used 2.4 GB (README, "Rooms").

    >>> disk_limit()[-1] in "0123456789KMGT"
    True
    """
    return os.environ.get("LAB_DISK_LIMIT", "10G")


def room_disk() -> str | None:
    """``LABHELPERS_ROOM_DISK``: inside a room, the hub's sentence on this participant's disk."""
    return os.environ.get("LABHELPERS_ROOM_DISK") or None


def progress_file() -> str | None:
    """``LAB_PROGRESS_FILE``: inside a room, where exercise checks are recorded (None outside)."""
    return os.environ.get("LAB_PROGRESS_FILE") or None


def hub_url(port: int) -> str:
    """``LAB_HUB_URL``: the room hub's public URL, by default on loopback at ``port``.

    >>> hub_url(8000) if "LAB_HUB_URL" not in os.environ else "http://127.0.0.1:8000"
    'http://127.0.0.1:8000'
    """
    return os.environ.get("LAB_HUB_URL", f"http://127.0.0.1:{port}")
