"""The official ``python`` image family: its tag scheme, as a table.

Tags combine a **Python version** (``3``, ``3.13``, ``3.13.9``), a **variant** (none:
the full Debian image with compilers; ``slim``; ``alpine``) and a **base OS release**
(``trixie`` = Debian 13, ``bookworm`` = Debian 12, ``alpine3.22``...). The shorter the
tag, the more it moves: ``python:3`` is a different image every few months (it became
3.14 in October 2025), ``python:3.13`` moved from bookworm to trixie in August 2025.

Sizes are what the classic image store reports for the official amd64 images: the
unpacked layers. On the containerd image store (Docker Desktop, new installs of
Docker Engine 29) ``docker images`` shows more for the same image: its content (the
compressed layers) plus the unpacked snapshot; see :mod:`labhelpers.imagestore`.

>>> table().loc[0, "tag"]
'python:3.13-trixie'

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

#: (tag, base, what is in it, about MB unpacked on amd64, when to use it)
TAGS = [
    ("python:3.13-trixie", "Debian 13, full", "Python + compilers, headers, git",
     1010, "building packages that have no wheel (sdists with C code)"),
    ("python:3.13-slim-trixie", "Debian 13, minimal", "Python + pip, nothing else",
     130, "most apps: manylinux wheels work, add apt packages as needed  ← the lab"),
    ("python:3.13-alpine", "Alpine (musl libc)", "Python + pip on musl",
     45, "tiny images; only musllinux wheels, glibc wheels do not install"),
    ("python:3.13-slim-bookworm", "Debian 12, minimal", "as slim, older OS",
     130, "an app tied to Debian 12's libraries"),
    ("python:3.13.9-slim-trixie", "Debian 13, minimal", "a patch release pinned",
     130, "reproducible builds (or pin the digest: python@sha256:...)"),
    ("python:3.13 = 3.13-trixie", "moves with Debian releases", "an alias",
     1010, "quick tries; the OS under it changes when Debian's does"),
    ("python:3, python:latest", "moves with Python releases", "an alias",
     1010, "never in a Dockerfile you keep: the Python version changes"),
]


def table():
    """The tag scheme as a pandas DataFrame.

    Returns:
        One row per tag: tag, base, contents, about MB (unpacked, amd64, approximate:
        the classic store's measure), use it for.

    >>> list(table().columns)
    ['tag', 'base', 'contents', 'about MB (unpacked)', 'use it for']
    """
    import pandas as pd

    return pd.DataFrame(TAGS, columns=["tag", "base", "contents", "about MB (unpacked)",
                                       "use it for"])
