"""A private image registry on loopback, run as a container: push to share, pull back.

The registry is the ``registry:2`` image: CNCF Distribution 2.8, the version the
library's ``registry:2`` tag still carries. Offline it is the kit's stand-in, built from
Debian's ``docker-registry`` package: Distribution 2.8 too, the same API and storage.
The library's newest registry image is ``registry:3`` (Distribution 3.x: the same
``/v2/`` API, a new configuration layout, OCI media types first);
:meth:`Registry.software` says what runs. It listens on
``127.0.0.1`` on a port the engine picks, so it never collides with anything, and the
engine accepts plain HTTP for it because loopback registries are trusted as insecure
by default.

>>> reg = start("01")                            # doctest: +SKIP
>>> reg.address                                  # doctest: +SKIP
'127.0.0.1:49153'
>>> reg.ref("hello-flask:1.0")                   # doctest: +SKIP
'127.0.0.1:49153/hello-flask:1.0'
>>> reg.stop()                                   # doctest: +SKIP

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import docker.errors
import requests

from .errors import RegistryError
from .labels import STANDIN, labels_for, name as lab_name
from .ports import host_port as published_port
from .streams import Layers, progress
from .waiting import wait_until

IMAGE = "registry:2"

#: The newest registry image in Docker's official library (Distribution 3.x).
NEWEST = "registry:3"

_VERSION = re.compile(r"\bv?(\d+\.\d+(?:\.\d+)?)")


@dataclass
class Registry:
    """A running registry container and its address.

    Attributes:
        container: the ``docker.models.containers.Container``.
        address: ``127.0.0.1:PORT``, the prefix of image names pushed to it.
    """

    container: object
    address: str

    @property
    def url(self) -> str:
        return f"http://{self.address}"

    def ref(self, repo_tag: str) -> str:
        """The full name of ``repo_tag`` in this registry.

        Args:
            repo_tag: ``repository:tag``.

        Returns:
            ``ADDRESS/repository:tag``.

        >>> Registry(None, "127.0.0.1:5000").ref("app:1")
        '127.0.0.1:5000/app:1'
        """
        return f"{self.address}/{repo_tag}"

    def catalog(self) -> list[str]:
        """The repositories the registry holds (``GET /v2/_catalog``)."""
        return requests.get(f"{self.url}/v2/_catalog", timeout=5).json().get("repositories") or []

    def tags(self, repo: str) -> list[str]:
        """The tags of one repository (``GET /v2/REPO/tags/list``).

        Args:
            repo: the repository, without the registry's address.

        Returns:
            Its tags, empty when it has none.

        >>> reg.tags("hello-flask")                      # doctest: +SKIP
        ['1.0']

        (skipped: it needs the running registry.)
        """
        return requests.get(f"{self.url}/v2/{repo}/tags/list", timeout=5).json().get("tags") or []

    def software(self) -> str:
        """The registry program running in the container and its version.

        Returns:
            e.g. ``"Distribution 2.8.2"`` (the official image's ``registry``, or Debian's
            ``docker-registry`` in the stand-in), or ``"Distribution (version unknown)"``.

        >>> reg.software()                           # doctest: +SKIP
        'Distribution 2.8.2'
        """
        out = self.container.exec_run(
            ["sh", "-c", "registry --version 2>/dev/null || docker-registry --version"])
        found = _VERSION.search(out.output.decode(errors="replace").split("distribution")[-1])
        return f"Distribution {found.group(1)}" if found else "Distribution (version unknown)"

    def describe(self) -> str:
        """One sentence: the image, the software it runs, and the library's newest.

        >>> print(reg.describe())                    # doctest: +SKIP
        registry:2 (the kit's stand-in from Debian's docker-registry) runs Distribution 2.8.2; the library's newest registry image is registry:3 (Distribution 3.x)
        """
        image = self.container.image
        standin = (image.labels or {}).get(STANDIN) if image else None
        where = ("the kit's stand-in from Debian's docker-registry" if standin
                 else "the official image")
        return (f"{IMAGE} ({where}) runs {self.software()}; the library's newest registry "
                f"image is {NEWEST} (Distribution 3.x)")

    def stop(self) -> None:
        """Stop and remove the registry container (and its storage)."""
        try:
            self.container.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass


def host_port(container, port: str = "5000/tcp") -> int:
    """The host port a registry container publishes its ``port`` on.

    Args:
        container: a ``docker.models.containers.Container`` (its attrs as created or reloaded).
        port: the container's port, ``"5000/tcp"``.

    Returns:
        The port on the host.

    Raises:
        RegistryError: the container publishes no host port for ``port``.

    >>> host_port(client.containers.get("nb01-registry"))   # doctest: +SKIP
    32768
    """
    found = published_port(container, port)
    if found is not None:
        return found
    raise RegistryError(
        f"The registry container {container.name} publishes no host port for {port}.",
        "remove it (`python -m labhelpers clean --notebook NN`) and start it again",
    )


def wait_ready(url: str, timeout: float = 30) -> None:
    """Wait until ``url/v2/`` answers 200, or raise :class:`RegistryError`.

    Args:
        url: the registry's base URL (``http://127.0.0.1:PORT``).
        timeout: the most seconds to wait.

    Raises:
        RegistryError: no 200 within ``timeout``.

    >>> wait_ready("http://127.0.0.1:9", timeout=0.5)  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    RegistryError: The registry at http://127.0.0.1:9 did not answer within 0 s (ConnectionError).
    """
    def answers() -> bool:
        answer = requests.get(f"{url}/v2/", timeout=2)
        if answer.status_code != 200:
            raise requests.HTTPError(f"HTTP {answer.status_code}")
        return True

    wait_until(answers, timeout, what=f"the registry at {url} to answer", error=RegistryError,
               todo="look at its logs (`docker logs` of the registry container) and start it again",
               ignore=(requests.RequestException,))


def start(notebook: str, base: str = "registry", client=None, name: str | None = None,
          labels: dict | None = None) -> Registry:
    """Start a registry container on 127.0.0.1 with a free port; wait until it answers.

    Args:
        notebook: two digits; the container is named and labelled for it.
        base: the container's name after the notebook prefix (``nbNN-registry``).
        client: a ``docker.DockerClient`` (default: the kit's).
        name: the full container name (overrides ``notebook`` and ``base``; tests).
        labels: the labels (default: ``labels_for(notebook)``).

    Returns:
        The :class:`Registry`.

    Raises:
        RegistryError: the container did not start or does not answer.

    >>> start("01").address                          # doctest: +SKIP
    '127.0.0.1:49153'
    """
    from .engine import client as get_client
    from .images import ensure

    client = client or get_client()
    ensure(IMAGE, client=client, log=lambda line: None)
    container = client.containers.run(
        IMAGE, detach=True, name=name or lab_name(notebook, base),
        labels=labels if labels is not None else labels_for(notebook, role="registry"),
        ports={"5000/tcp": ("127.0.0.1", None)},
    )
    container.reload()
    registry = Registry(container, f"127.0.0.1:{host_port(container)}")
    try:
        wait_ready(registry.url)
    except RegistryError:
        logs = container.logs(tail=5).decode(errors="replace")
        registry.stop()
        raise RegistryError(
            f"The registry container did not answer on {registry.address}. Its last lines:\n{logs}",
            "check that the registry image works (`python -m labhelpers prepare`), then retry",
        ) from None
    return registry


def _stream(events, what: str, ref: str) -> dict:
    """Follow a push/pull stream with a progress bar; return the layer count and digest."""
    reader = Layers(what, ref, RegistryError, "check that the registry is running (`reg.catalog()`) "
                    "and the name starts with its address")
    with progress(desc=f"{what} {ref}", unit=" layer", leave=False) as bar:
        for event in events:
            reader.feed(event)
            bar.update(len(reader.done) - bar.n)
    layers, digest = reader.done, reader.digest
    if not layers or not digest:  # Podman's streams name no layers (nor, pulling, the digest)
        count, found = _manifest(ref)
        return {"ref": ref, "layers": len(layers) or count, "digest": digest or found}
    return {"ref": ref, "layers": len(layers), "digest": digest}


def _manifest(ref: str) -> tuple[int, str | None]:
    """The layer count and digest of the registry's manifest of ``ref`` (``ADDRESS/repo:tag``)."""
    address, _, rest = ref.partition("/")
    repo, _, tag = rest.rpartition(":")
    accept = ", ".join(("application/vnd.docker.distribution.manifest.v2+json",
                        "application/vnd.oci.image.manifest.v1+json"))
    try:
        answer = requests.get(f"http://{address}/v2/{repo}/manifests/{tag}",
                              headers={"Accept": accept}, timeout=10)
        if not answer.ok:
            return 0, None
        return len(answer.json().get("layers") or []), answer.headers.get("Docker-Content-Digest")
    except (requests.RequestException, ValueError):
        return 0, None


def push(ref: str, client=None) -> dict:
    """Push the local image ``ref`` (``ADDRESS/repo:tag``) with a progress bar.

    Returns:
        ``{"ref", "layers", "digest"}``: what was sent, summarized.

    Args:
        ref: the image's full name in the registry (``Registry.ref``).
        client: a ``docker.DockerClient`` (default: the kit's).

    >>> push(reg.ref("hello-flask:1.0"))             # doctest: +SKIP
    {'ref': '127.0.0.1:49153/hello-flask:1.0', 'layers': 3, 'digest': 'sha256:...'}
    """
    from .engine import client as get_client

    client = client or get_client()
    repo, _, tag = ref.rpartition(":")
    return _stream(client.api.push(repo, tag=tag, stream=True, decode=True), "push", ref)


def pull(ref: str, client=None) -> dict:
    """Pull ``ref`` from the registry with a progress bar; the summary as :func:`push`.

    Args:
        ref: the image's full name in the registry (``Registry.ref``).
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        ``{"ref", "layers", "digest"}``, as :func:`push`.

    >>> pull(reg.ref("hello-flask:1.0"))["layers"]   # doctest: +SKIP
    3

    (skipped: they need the running registry.)
    """
    from .engine import client as get_client

    client = client or get_client()
    repo, _, tag = ref.rpartition(":")
    return _stream(client.api.pull(repo, tag=tag, stream=True, decode=True), "pull", ref)
