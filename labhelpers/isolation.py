"""Docker vs virtualenv, shown: facts about a Python, on the host and inside an image.

:func:`compare` runs the same few lines in this kernel's Python and in a container,
and puts the answers side by side. :func:`linked_libraries` shows which operating-system
libraries a Python extension module links, and which Debian package brings each: the
part of an environment a virtualenv cannot hold and an image does.

>>> compare(client, "python:3.11-slim-bookworm")            # doctest: +SKIP
>>> linked_libraries(client, "python:3.11-slim-bookworm", "_ssl")   # doctest: +SKIP

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
    """The :data:`FACTS` of this Python (``image=None``) or of ``image``'s Python."""
    if image is None:
        out = subprocess.run([sys.executable, "-c", FACTS], capture_output=True, text=True,
                             check=True).stdout
    else:
        out = client.containers.run(image, ["python", "-c", FACTS], remove=True,
                                    **run_kwargs).decode()
    return json.loads(out)


def compare(client, image: str, **run_kwargs):
    """This kernel's Python next to ``image``'s, as a pandas DataFrame."""
    import pandas as pd

    return pd.DataFrame({"this notebook's Python (host)": facts(),
                         f"inside {image}": facts(client, image, **run_kwargs)})


def linked_libraries(client, image: str, module: str = "_ssl", **run_kwargs):
    """The OS libraries ``module`` links inside ``image``, with their Debian packages."""
    import pandas as pd

    out = client.containers.run(image, ["python", "-c", LIBS, module], remove=True, **run_kwargs)
    return pd.DataFrame(json.loads(out.decode()))
