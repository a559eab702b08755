"""The official ``python`` image family: its tag scheme, as a table.

Tags combine a **Python version** (``3``, ``3.11``, ``3.11.9``), a **variant** (none:
the full Debian image with compilers; ``slim``; ``alpine``) and a **base OS release**
(``bookworm`` = Debian 12, ``bullseye`` = Debian 11, ``alpine3.20``...). The shorter the
tag, the more it moves: ``python:3`` is a different image every few months.

>>> table().loc[0, "tag"]
'python:3.11-bookworm'

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

#: (tag, base, what is in it, about MB on amd64 uncompressed, when to use it)
TAGS = [
    ("python:3.11-bookworm", "Debian 12, full", "Python + compilers, headers, git",
     1010, "building packages that have no wheel (sdists with C code)"),
    ("python:3.11-slim-bookworm", "Debian 12, minimal", "Python + pip, nothing else",
     130, "most apps: manylinux wheels work, add apt packages as needed  ← the lab"),
    ("python:3.11-alpine", "Alpine (musl libc)", "Python + pip on musl",
     55, "tiny images; only musllinux wheels, glibc wheels do not install"),
    ("python:3.11-slim-bullseye", "Debian 11, minimal", "as slim, older OS",
     125, "an app tied to Debian 11's libraries"),
    ("python:3.11.9-slim-bookworm", "Debian 12, minimal", "a patch release pinned",
     130, "reproducible builds (or pin the digest: python@sha256:...)"),
    ("python:3.11 = 3.11-bookworm", "moves with Debian releases", "an alias",
     1010, "quick tries; the OS under it changes when Debian does"),
    ("python:3, python:latest", "moves with Python releases", "an alias",
     1010, "never in a Dockerfile you keep: the Python version changes"),
]


def table():
    """The tag scheme as a pandas DataFrame (sizes are the official images', approximate)."""
    import pandas as pd

    return pd.DataFrame(TAGS, columns=["tag", "base", "contents", "about MB", "use it for"])
