"""Wheelhouses: the wheels an image needs, downloaded on the host, installed offline.

Inside containers the package index may be out of reach (or its certificates not
trusted), and a build that downloads is slow and not reproducible. So the host
downloads every wheel once with ``pip download``, and the Dockerfile installs them with
``pip install --no-index --find-links``. The wheels are for the **image's** Python
(3.13, as ``python:3.13-slim-trixie``) and the **engine's** architecture, which is not
always the host's: on Apple silicon or Windows the host's ``platform.machine()``
(``arm64``, ``AMD64``) is no manylinux tag, and a remote engine may run another
architecture. :func:`engine_arch` asks the engine (``docker info``'s Architecture);
:func:`platform_tags` maps it to the manylinux tags its glibc images install. The
wheelhouse is cached, keyed by the requirements file's content, the platform and the
Python: the second time is instant.

>>> platform_tag("x86_64")
'manylinux2014_x86_64'
>>> build("notebooks/apps/hello-flask/requirements.txt", arch=engine_arch())  # doctest: +SKIP
Wheelhouse(8 wheels, cached)

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass

from .errors import LabError, WheelhouseError
from .settings import wheelhouse_dir

#: The Python the lab's images run (``python:3.13-slim-trixie``).
PYTHON_VERSION = "3.13"

#: Engine architectures (``docker info``'s Architecture is the kernel's ``uname -m``;
#: ``docker version``'s Arch is Go's name) to the manylinux architecture.
_ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}

#: The newest glibc the wheels may need: the oldest Debian the lab's images use
#: (Debian 12 has 2.36, Debian 13 2.41). Wheels built for an older glibc install too.
GLIBC = (2, 36)


@dataclass(frozen=True)
class Wheelhouse:
    """A folder of wheels for one requirements file and one platform.

    Attributes:
        path: the folder holding the ``.whl`` files.
        wheels: their file names, sorted.
        cached: True when it was already there (nothing downloaded).
    """

    path: str
    wheels: tuple[str, ...]
    cached: bool

    def __repr__(self) -> str:
        return f"Wheelhouse({len(self.wheels)} wheels, {'cached' if self.cached else 'downloaded'})"

    def copy_to(self, dest: str) -> str:
        """Copy the wheels into ``dest`` (a build context's ``wheels/``); return it.

        Args:
            dest: the folder to copy into (made if missing).

        Returns:
            ``dest``.

        >>> import tempfile
        >>> Wheelhouse(tempfile.mkdtemp(), (), cached=True).copy_to(tempfile.mkdtemp() + "/wheels").endswith("wheels")
        True
        """
        os.makedirs(dest, exist_ok=True)
        for wheel in self.wheels:
            shutil.copy2(os.path.join(self.path, wheel), dest)
        return dest


def engine_arch(client=None) -> str:
    """The architecture of the engine's machine, where the images run (not this host's).

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        ``docker info``'s Architecture, e.g. ``"x86_64"`` or ``"aarch64"``.

    >>> engine_arch() in ("x86_64", "aarch64")       # doctest: +SKIP
    True
    """
    if client is None:
        from .engine import client as get_client

        client = get_client()
    arch = client.info().get("Architecture") or client.version().get("Arch", "x86_64")
    return {"amd64": "x86_64", "arm64": "aarch64"}.get(arch, arch)  # Podman says Go's names


def platform_tag(arch: str) -> str:
    """The manylinux2014 platform tag for an engine architecture.

    Args:
        arch: ``docker info``'s Architecture (``x86_64``, ``aarch64``) or ``docker
            version``'s Arch (``amd64``, ``arm64``).

    Returns:
        The tag pip's ``--platform`` takes.

    Raises:
        WheelhouseError: an architecture without manylinux wheels the kit knows.

    >>> platform_tag("arm64")
    'manylinux2014_aarch64'
    """
    try:
        return f"manylinux2014_{_ARCHES[arch]}"
    except KeyError:
        raise WheelhouseError(
            f"The engine's architecture {arch!r} has no manylinux wheels the kit knows.",
            "build on an x86_64 or arm64 engine, or install the requirements in the "
            "Dockerfile from source",
        ) from None


def platform_tags(arch: str, glibc: tuple[int, int] = GLIBC) -> list[str]:
    """Every manylinux tag an image with ``glibc`` on ``arch`` installs, newest first.

    pip's ``--platform manylinux2014_X`` alone misses wheels tagged only for a newer
    glibc (``manylinux_2_28_X``); these are all passed.

    Args:
        arch: the engine's architecture (see :func:`platform_tag`).
        glibc: the images' glibc version, ``(major, minor)``.

    Returns:
        ``manylinux_2_36_x86_64`` down to ``manylinux_2_17_x86_64``, then
        ``manylinux2014_x86_64`` (pip adds the older 2010 and 1).

    Raises:
        WheelhouseError: an architecture without manylinux wheels the kit knows.

    >>> platform_tags("aarch64")[0], platform_tags("aarch64")[-1]
    ('manylinux_2_36_aarch64', 'manylinux2014_aarch64')
    """
    legacy = platform_tag(arch)
    machine = legacy.split("_", 1)[1]
    return [f"manylinux_{glibc[0]}_{minor}_{machine}"
            for minor in range(glibc[1], 16, -1)] + [legacy]


def pip(args: list[str], what: str, error: type[LabError] = WheelhouseError,
        todo: str = "check that this machine reaches the package index (`pip download flask`), "
        "or copy a wheelhouse made elsewhere into ~/.cache/labhelpers/wheelhouse") -> str:
    """Run this Python's pip; on failure raise ``error`` with pip's last lines.

    Args:
        args: pip's arguments (``["wheel", "--wheel-dir", dest, "."]``).
        what: what pip was to do, for the message (``"download the wheels"``).
        error: the :class:`LabError` subclass to raise.
        todo: what to do when it failed.

    Returns:
        pip's output.

    Raises:
        WheelhouseError: pip failed (or ``error``).

    >>> "pip" in pip(["--version"], "say its version")
    True
    """
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode:
        noise = "is ignored: it is neither a file nor a directory"
        lines = [line for line in (done.stdout + done.stderr).strip().splitlines() if noise not in line]
        raise error(f"pip could not {what} (exit {done.returncode}):\n" + "\n".join(lines[-8:]), todo)
    return done.stdout


def download(requirements: list[str], dest: str, python: str = PYTHON_VERSION,
             arch: str | None = None, client=None, log=print, error: type[LabError] = WheelhouseError,
             todo: str | None = None) -> list[str]:
    """The kit's one ``pip download``: binary wheels for an image's Python on the engine's machine.

    Args:
        requirements: pip's requirement arguments (``["flask==3.1.0"]``, or
            ``["-r", "requirements.txt"]``).
        dest: the folder the wheels go to.
        python: the image's Python version (``"3.13"``, ``"3.11.2"``).
        arch: the engine's architecture; default: asked from the engine
            (:func:`engine_arch`), never the host's ``platform.machine()``.
        client: the ``docker.DockerClient`` asked for ``arch`` (default: the kit's).
        log: called with one line saying what is downloaded.
        error: the :class:`LabError` subclass raised when pip fails.
        todo: what to do then (default: check the package index).

    Returns:
        The wheel files' names in ``dest``, sorted.

    Raises:
        WheelhouseError: pip could not download a wheel (no network, no wheel for the
            platform); the message shows pip's last lines (or ``error``).

    >>> download(["flask==3.1.0"], "wheels", arch="aarch64")   # doctest: +SKIP
    ['blinker-1.9.0-py3-none-any.whl', 'click-8.1.8-py3-none-any.whl', ...]
    """
    platforms = platform_tags(arch or engine_arch(client))
    log(f"wheelhouse: pip download for {platforms[-1]} (glibc up to "
        f"{'.'.join(map(str, GLIBC))}), Python {python} ...")
    pip(["download", "--only-binary=:all:", *(f"--platform={p}" for p in platforms),
         "--python-version", python, "--implementation", "cp", "--dest", dest, *requirements],
        f"download the wheels of {_named(requirements)} for Python {python}", error,
        **({"todo": todo} if todo else {}))
    return sorted(name for name in os.listdir(dest) if name.endswith(".whl"))


def _named(requirements: list[str]) -> str:
    """``requirements.txt`` for ``["-r", "/a/b/requirements.txt"]``, else the names."""
    names = [os.path.basename(r) if i and requirements[i - 1] == "-r" else r
             for i, r in enumerate(requirements) if r != "-r"]
    text = ", ".join(names)
    return text if len(text) <= 80 else f"{len(names)} requirements"


def _key(requirements: bytes, platform: str, python: str) -> str:
    digest = hashlib.sha256(requirements + f"\n{platform}\n{python}".encode()).hexdigest()
    return digest[:16]


def build(requirements: str, arch: str | None = None, python: str = PYTHON_VERSION,
          log=print, client=None) -> Wheelhouse:
    """Download the wheels of ``requirements`` for a Linux image, once.

    Args:
        requirements: a ``requirements.txt`` path (pin every package in it).
        arch: the engine's architecture; default: asked from the engine
            (:func:`engine_arch`), never the host's.
        python: the image's Python version, ``"3.13"``.
        log: called with one line saying what happened.
        client: the ``docker.DockerClient`` asked for ``arch`` (default: the kit's).

    Returns:
        The :class:`Wheelhouse`, in a sub-folder of :func:`labhelpers.settings.wheelhouse_dir`
        (the kit's own wheels, from a bundle, lie at its top; ``--find-links`` does not
        look into sub-folders, so the two never mix).

    Raises:
        WheelhouseError: pip could not download a wheel (no network, no wheel for the
            platform); the message shows pip's last lines.

    >>> build("requirements.txt", arch="aarch64")    # doctest: +SKIP
    Wheelhouse(8 wheels, downloaded)
    """
    with open(requirements, "rb") as f:
        content = f.read()
    arch = arch or engine_arch(client)
    dest = os.path.join(wheelhouse_dir(), _key(content, " ".join(platform_tags(arch)), python))
    stamp = os.path.join(dest, ".complete")
    if os.path.exists(stamp):
        wheels = tuple(sorted(w for w in os.listdir(dest) if w.endswith(".whl")))
        log(f"wheelhouse: {len(wheels)} wheels, cached")
        return Wheelhouse(dest, wheels, cached=True)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".partial-", dir=os.path.dirname(dest))
    try:
        download(["-r", os.path.abspath(requirements)], tmp, python, arch, log=log)
    except WheelhouseError:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    open(os.path.join(tmp, ".complete"), "w").close()
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    wheels = tuple(sorted(w for w in os.listdir(dest) if w.endswith(".whl")))
    log(f"wheelhouse: {len(wheels)} wheels downloaded")
    return Wheelhouse(dest, wheels, cached=False)
