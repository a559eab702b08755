"""Which image store the engine uses, and what an image's size means there.

An engine keeps images in one of two stores, and the sizes it reports measure
different things in each:

- the **classic store** (graph drivers such as ``overlay2``; 20.10 here, and Docker
  Engine up to 28 by default): ``docker images`` and ``docker image inspect`` (docker-py's
  ``image.attrs["Size"]``) both give the unpacked layers, the files on disk;
- the **containerd image store** (``docker info`` shows ``driver-type
  io.containerd.snapshotter.v1``; the default of Docker Desktop and of new installs of
  Docker Engine 29): ``docker images`` gives the image's content (its layers as pulled,
  compressed, or as built) **plus** its unpacked snapshot, and ``docker image inspect``
  gives the content alone. On Engine 28.5 the kit's python stand-in lists 166 MB and
  inspects 44 MB where the classic store says 119 MB for both.

A size table must say which it measures. :attr:`ImageStore.size_means` says what
``docker images`` counts; :func:`unpacked_bytes` measures the unpacked layers on either
store (the classic store's measure, the one the official images' sizes are quoted in),
and :func:`size_table` compares images with the official sizes in that measure.

>>> store = detect()                             # doctest: +SKIP
>>> store.kind, store.size_means                 # doctest: +SKIP
('containerd', 'content + unpacked snapshot')

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

from dataclasses import dataclass

import docker.errors

from .catalogue import for_notebook
from .labels import STANDIN


@dataclass(frozen=True)
class ImageStore:
    """The engine's image store.

    Attributes:
        kind: ``"containerd"`` (the containerd image store) or ``"classic"``.
        driver: the snapshotter or graph driver, e.g. ``"overlayfs"`` or ``"overlay2"``.
    """

    kind: str
    driver: str

    @property
    def containerd(self) -> bool:
        """True on the containerd image store."""
        return self.kind == "containerd"

    @property
    def size_means(self) -> str:
        """What ``docker images`` counts in an image's size on this store, in a few words.

        >>> ImageStore("classic", "overlay2").size_means
        'unpacked layers'
        """
        return "content + unpacked snapshot" if self.containerd else "unpacked layers"

    @property
    def inspect_size_means(self) -> str:
        """What ``docker image inspect`` (docker-py's ``image.attrs["Size"]``) counts.

        >>> ImageStore("containerd", "overlayfs").inspect_size_means
        'content (compressed layers)'
        """
        return "content (compressed layers)" if self.containerd else "unpacked layers"

    def __str__(self) -> str:
        """One line for a notebook: the store, its driver, what its sizes mean.

        >>> print(ImageStore("classic", "overlay2"))
        classic image store (overlay2): docker images and image inspect both give the unpacked layers
        """
        if self.containerd:
            return (f"containerd image store ({self.driver}): docker images gives content + "
                    "unpacked snapshot, image inspect the content (compressed layers) alone")
        return (f"classic image store ({self.driver}): docker images and image inspect both "
                "give the unpacked layers")


def _kind(info: dict) -> str:
    """``"containerd"`` or ``"classic"``, from a ``docker info`` answer.

    >>> _kind({"DriverStatus": [["driver-type", "io.containerd.snapshotter.v1"]]})
    'containerd'
    >>> _kind({"Driver": "overlay2", "DriverStatus": [["Backing Filesystem", "extfs"]]})
    'classic'
    """
    status = dict(tuple(pair) for pair in info.get("DriverStatus") or [] if len(pair) == 2)
    return "containerd" if "snapshotter" in status.get("driver-type", "") else "classic"


def _client(client):
    if client is not None:
        return client
    from .engine import client as get_client

    return get_client()


def store(client=None) -> str:
    """How the engine keeps images: ``"containerd"`` or ``"classic"`` (the one place the kit reads it).

    Docker 29 and Docker Desktop keep images in containerd's content store and
    unpack them into snapshots (``docker info`` shows the driver
    ``io.containerd.snapshotter.v1``); older engines keep unpacked layers in a
    graph driver (``overlay2``). An image's size means something else on each.
    Notebook 00 calls it as ``lab.images.store(client)``.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        ``"containerd"`` or ``"classic"``.

    >>> store()                                      # doctest: +SKIP
    'classic'

    Introduced in ``00-start-here``.
    """
    return _kind(_client(client).info())


def detect(client=None) -> ImageStore:
    """The engine's image store, asked from the engine (``docker info``): its kind and driver.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        The :class:`ImageStore`.

    >>> print(detect())                              # doctest: +SKIP
    classic image store (overlay2): docker images and image inspect both give the unpacked layers
    """
    info = _client(client).info()
    return ImageStore(_kind(info), info.get("Driver") or "unknown")


def unpacked_bytes(client, image) -> int:
    """The unpacked size of an image's layers, on either store (the classic measure).

    The sum of the layer sizes ``docker history`` reports: on the classic store this is
    the image's ``Size``; on the containerd store, its snapshot's disk usage (the
    content left out).

    Args:
        client: a ``docker.DockerClient``.
        image: an image name or id, or a ``docker.models.images.Image``.

    Returns:
        Bytes.

    >>> unpacked_bytes(client, "python:3.13-slim-trixie") // 10**6   # doctest: +SKIP
    119
    """
    ref = getattr(image, "id", image)
    return sum(max(layer.get("Size") or 0, 0) for layer in client.api.history(ref))


def listed_bytes(client, ref: str) -> int | None:
    """The size ``docker images`` shows for ``ref`` (see :attr:`ImageStore.size_means`).

    Args:
        client: a ``docker.DockerClient``.
        ref: an image name.

    Returns:
        Bytes, or None when the engine has no such image.

    >>> listed_bytes(client, "python:3.13-slim-trixie") // 10**6     # doctest: +SKIP
    166
    """
    for row in client.api.images(name=ref):
        return row.get("Size")
    return None


def size_table(client, refs):
    """Images' unpacked sizes here next to the official images', in the same measure.

    Args:
        client: a ``docker.DockerClient``.
        refs: image names of the kit's catalogue (see :mod:`labhelpers.images`).

    Returns:
        A pandas DataFrame: image, here (``official``, ``stand-in`` or ``missing``),
        ``unpacked (MB)`` (:func:`unpacked_bytes`, the same measure on both stores),
        ``official (MB)`` (the official amd64 image, unpacked).

    >>> size_table(client, ["python:3.13-slim-trixie"])              # doctest: +SKIP
                         image      here  unpacked (MB)  official (MB)
    0  python:3.13-slim-trixie  stand-in            122            120
    """
    import pandas as pd

    official = {spec.ref: spec.official_mb for spec in for_notebook()}
    rows = []
    for ref in refs:
        try:
            image = client.images.get(ref)
        except docker.errors.ImageNotFound:
            rows.append({"image": ref, "here": "missing", "unpacked (MB)": None,
                         "official (MB)": official.get(ref)})
            continue
        here = "stand-in" if (image.labels or {}).get(STANDIN) else "official"
        rows.append({"image": ref, "here": here,
                     "unpacked (MB)": round(unpacked_bytes(client, image) / 1e6),
                     "official (MB)": official.get(ref)})
    return pd.DataFrame(rows).astype({"unpacked (MB)": "Int64", "official (MB)": "Int64"})
