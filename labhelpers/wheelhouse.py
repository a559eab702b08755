"""Wheelhouses: the wheels an image needs, downloaded on the host, installed offline.

Inside containers the package index may be out of reach (or its certificates not
trusted), and a build that downloads is slow and not reproducible. So the host
downloads every wheel once with ``pip download`` (for the engine's platform and the
image's Python), and the Dockerfile installs them with
``pip install --no-index --find-links``. The wheelhouse is cached, keyed by the
requirements file's content and the target platform: the second time is instant.

>>> platform_tag("x86_64")
'manylinux2014_x86_64'
>>> build("notebooks/apps/hello-flask/requirements.txt")   # doctest: +SKIP
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

from .errors import LabError
from .standin import cache_dir

#: The Python the lab's images run (``python:3.11-slim-bookworm``).
PYTHON_VERSION = "3.11"

_ARCHES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "aarch64", "arm64": "aarch64"}


class WheelhouseError(LabError):
    """``pip download`` could not fetch the wheels."""


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
        """Copy the wheels into ``dest`` (a build context's ``wheels/``); return it."""
        os.makedirs(dest, exist_ok=True)
        for wheel in self.wheels:
            shutil.copy2(os.path.join(self.path, wheel), dest)
        return dest


def platform_tag(arch: str) -> str:
    """The manylinux platform tag for an engine architecture (``docker version``'s Arch).

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


def _key(requirements: bytes, platform: str, python: str) -> str:
    digest = hashlib.sha256(requirements + f"\n{platform}\n{python}".encode()).hexdigest()
    return digest[:16]


def build(requirements: str, arch: str = "x86_64", python: str = PYTHON_VERSION,
          log=print) -> Wheelhouse:
    """Download the wheels of ``requirements`` for a Linux image, once.

    Args:
        requirements: a ``requirements.txt`` path (pin every package in it).
        arch: the engine's architecture (``client.version()["Arch"]``).
        python: the image's Python version, ``"3.11"``.
        log: called with one line saying what happened.

    Returns:
        The :class:`Wheelhouse`, under ``~/.cache/labhelpers/wheelhouse/``.

    Raises:
        WheelhouseError: pip could not download a wheel (no network, no wheel for the
            platform); the message shows pip's last lines.

    >>> build("requirements.txt", arch="x86_64")     # doctest: +SKIP
    Wheelhouse(8 wheels, downloaded)
    """
    with open(requirements, "rb") as f:
        content = f.read()
    platform = platform_tag(arch)
    dest = os.path.join(cache_dir(), "wheelhouse", _key(content, platform, python))
    stamp = os.path.join(dest, ".complete")
    if os.path.exists(stamp):
        wheels = tuple(sorted(w for w in os.listdir(dest) if w.endswith(".whl")))
        log(f"wheelhouse: {len(wheels)} wheels, cached")
        return Wheelhouse(dest, wheels, cached=True)
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".partial-", dir=os.path.dirname(dest))
    cmd = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check",
           "--only-binary=:all:", "--platform", platform, "--python-version", python,
           "--implementation", "cp", "--dest", tmp, "-r", os.path.abspath(requirements)]
    log(f"wheelhouse: pip download for {platform}, Python {python} ...")
    done = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if done.returncode:
        shutil.rmtree(tmp, ignore_errors=True)
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise WheelhouseError(
            f"pip could not download the wheels of {os.path.basename(requirements)}:\n{tail}",
            "check that this machine reaches the package index (`pip download flask`), "
            "or copy a wheelhouse made elsewhere into ~/.cache/labhelpers/wheelhouse",
        )
    open(os.path.join(tmp, ".complete"), "w").close()
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    wheels = tuple(sorted(w for w in os.listdir(dest) if w.endswith(".whl")))
    log(f"wheelhouse: {len(wheels)} wheels downloaded")
    return Wheelhouse(dest, wheels, cached=False)
