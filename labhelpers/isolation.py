"""Docker vs virtualenv, shown: facts about a Python, on the host and inside an image.

:func:`compare` runs the same few lines in this kernel's Python and in a container,
and puts the answers side by side. :func:`linked_libraries` shows which operating-system
libraries a Python extension module links, and which Debian package brings each: the
part of an environment a virtualenv cannot hold and an image does.

>>> compare(client, "python:3.13-slim-trixie")            # doctest: +SKIP
>>> linked_libraries(client, "python:3.13-slim-trixie", "_ssl")   # doctest: +SKIP

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

import json
import subprocess
import sys

#: Run in both Pythons: prints one JSON object of facts.
FACTS = r"""
import importlib, json, platform, ssl, sqlite3, sys
import importlib.metadata as md
try:
    os_name = platform.freedesktop_os_release()["PRETTY_NAME"]
except OSError:
    os_name = platform.platform()
ext = importlib.import_module("_ssl").__file__ or ""
print(json.dumps({
    "Python": platform.python_version(),
    "operating system": os_name,
    "pip packages installed": len({d.metadata["Name"].lower() for d in md.distributions()}),
    "a virtualenv": sys.prefix != sys.base_prefix,
    "OpenSSL (ssl module)": ssl.OPENSSL_VERSION,
    "SQLite (sqlite3 module)": sqlite3.sqlite_version,
    "_ssl inside the environment": ext.startswith(sys.prefix),
}))
"""

#: Run in the image: for a module, the libraries it links and their Debian packages.
LIBS = r"""
import importlib, json, subprocess, sys
path = importlib.import_module(sys.argv[1]).__file__
rows = []
for line in subprocess.run(["ldd", path], capture_output=True, text=True).stdout.splitlines():
    if "=>" not in line or "/" not in line.split("=>")[1]:
        continue
    lib, target = line.split("=>")[0].strip(), line.split("=>")[1].split()[0]
    owner = subprocess.run(["dpkg", "-S", target.replace("/lib/", "/usr/lib/", 1)],
                           capture_output=True, text=True).stdout or \
        subprocess.run(["dpkg", "-S", target], capture_output=True, text=True).stdout
    pkg = owner.split(":")[0] if owner else "?"
    ver = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True,
                         text=True).stdout if pkg != "?" else ""
    rows.append({"library": lib, "Debian package": pkg, "version": ver})
print(json.dumps(rows))
"""


def facts(client=None, image: str | None = None, **run_kwargs) -> dict:
    """The :data:`FACTS` of this Python (``image=None``) or of ``image``'s Python.

    Args:
        client: a ``docker.DockerClient`` (needed with ``image``).
        image: the image whose ``python`` answers; None: this kernel's Python.
        **run_kwargs: more ``containers.run`` arguments (``labels``, ``name``...).

    Returns:
        Fact name to value: Python and OS versions, packages, OpenSSL, SQLite...

    Raises:
        docker.errors.ContainerError: the image has no working ``python``.

    >>> facts()["a virtualenv"] in (True, False)
    True
    """
    if image is None:
        out = subprocess.run([sys.executable, "-c", FACTS], capture_output=True, text=True,
                             check=True).stdout
    else:
        out = client.containers.run(image, ["python", "-c", FACTS], remove=True,
                                    **run_kwargs).decode()
    return json.loads(out)


def compare(client, image: str, **run_kwargs):
    """This kernel's Python next to ``image``'s, as a pandas DataFrame.

    Args:
        client: a ``docker.DockerClient``.
        image: the image to compare with, e.g. ``"python:3.13-slim-trixie"``.
        **run_kwargs: more ``containers.run`` arguments (``labels``...).

    Returns:
        One row per fact, one column per Python.

    >>> compare(client, "python:3.13-slim-trixie").loc["a virtualenv"].tolist()  # doctest: +SKIP
    [True, False]
    """
    import pandas as pd

    return pd.DataFrame({"this notebook's Python (host)": facts(),
                         f"inside {image}": facts(client, image, **run_kwargs)})


def linked_libraries(client, image: str, module: str = "_ssl", **run_kwargs):
    """The OS libraries ``module`` links inside ``image``, with their Debian packages.

    Args:
        client: a ``docker.DockerClient``.
        image: a Debian-based image with ``python``, ``ldd`` and ``dpkg``.
        module: an extension module, e.g. ``"_ssl"`` or ``"_sqlite3"``.
        **run_kwargs: more ``containers.run`` arguments (``labels``...).

    Returns:
        A pandas DataFrame: library, Debian package, version.

    >>> linked_libraries(client, "python:3.13-slim-trixie").loc[0, "library"]  # doctest: +SKIP
    'libssl.so.3'
    """
    import pandas as pd

    out = client.containers.run(image, ["python", "-c", LIBS, module], remove=True, **run_kwargs)
    return pd.DataFrame(json.loads(out.decode()))
