"""The image catalogue, as data: every image the notebooks use, which notebook needs it,
and how to build a stand-in for it from Debian packages.

A leaf: it imports nothing from the rest of the package. Making an image present
(pull, bundle, stand-in) is :mod:`labhelpers.images`'s work; building a stand-in is
:mod:`labhelpers.standin`'s.

>>> CATALOGUE["python"].ref
'python:3.13-slim-trixie'
>>> [entry.ref for entry in for_notebook("00")]
['python:3.13-slim-trixie']

Introduced in ``00-start-here`` (``lab.images.table()`` shows it).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

#: Debian release a stand-in is built from unless its recipe names another (the
#: official images' ``trixie``: Debian 13, whose python3 is 3.13).
SUITE = "trixie"

#: Trimmed from every stand-in: documentation, manuals, translations, apt's lists and
#: caches, logs; the official slim images drop the same.
TRIM = (
    "usr/share/doc/*", "usr/share/man/*", "usr/share/info/*", "usr/share/locale/*",
    "usr/share/lintian/*", "usr/share/linda/*", "var/lib/apt/lists/*", "var/cache/apt/*",
    "var/cache/debconf/*-old", "var/log/*", "var/lib/dpkg/*-old", "tmp/*",
)


@dataclass(frozen=True)
class Recipe:
    """How to build a stand-in from Debian packages.

    Attributes:
        packages: Debian packages to install on top of ``minbase``.
        script: shell run inside the root filesystem (``chroot``) after install.
        changes: Dockerfile instructions applied by ``docker import``
            (``CMD``, ``ENV``, ``EXPOSE``, ``WORKDIR``, ``USER``, ``ENTRYPOINT``).
        suite: the Debian release to build from (``trixie``; ``sid`` where the
            newest packages are the point, as for today's Docker Engine).
    """

    packages: tuple[str, ...]
    script: str = ""
    changes: tuple[str, ...] = field(default_factory=tuple)
    suite: str = SUITE

    def digest(self) -> str:
        """A short hash of everything that shapes the root filesystem.

        >>> Recipe(("python3",)).digest() == Recipe(("python3",)).digest()
        True
        >>> Recipe(("python3",)).digest() == Recipe(("python3",), suite="sid").digest()
        False
        """
        text = "\n".join([self.suite, *self.packages, self.script, *TRIM])
        return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ImageSpec:
    """One image of the catalogue.

    Attributes:
        ref: the image's name and tag, as the notebooks use it.
        purpose: what the lab uses it for.
        notebooks: the notebooks that need it.
        official_mb: the size the official image reports, uncompressed, in MB
            (to compare the stand-in with).
        standin: how to build a stand-in from Debian packages, or None.
    """

    ref: str
    purpose: str
    notebooks: tuple[str, ...]
    official_mb: int
    standin: Recipe | None = None


# The python stand-ins behave as the official images do: `python` and `pip` on the
# PATH, pip usable without --break-system-packages, a UTF-8 locale.
_PYTHON_LIKE_OFFICIAL = (
    "ln -sf /usr/bin/python3 /usr/local/bin/python\n"
    "ln -sf /usr/bin/pip3 /usr/local/bin/pip\n"
    "rm -f /usr/lib/python3.*/EXTERNALLY-MANAGED\n"
)
_PYTHON_CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    "ENV PYTHONUNBUFFERED=1",
    'CMD ["python3"]',
)

#: Every image the notebooks use, by short name.
CATALOGUE: dict[str, ImageSpec] = {
    "python": ImageSpec(
        ref="python:3.13-slim-trixie",
        purpose="runs Python in containers: the base of every example and sample app",
        notebooks=("00", "01", "02", "03", "04", "05", "06"),
        official_mb=130,
        standin=Recipe(
            packages=("python3", "python3-pip", "python3-venv", "ca-certificates"),
            script=_PYTHON_LIKE_OFFICIAL,
            changes=_PYTHON_CHANGES,
        ),
    ),
    "registry": ImageSpec(
        # Debian packages distribution 2.8, the registry:2 generation; the library's
        # newest is registry:3 (distribution 3.x), which the notebooks say where they
        # show it.
        ref="registry:2",
        purpose="a private image registry on loopback: push to share, pull back (01, 06)",
        notebooks=("01", "06"),
        official_mb=25,
        standin=Recipe(
            packages=("docker-registry",),
            # The official image's configuration: no authentication, storage in
            # /var/lib/registry (Debian's own enables htpasswd auth).
            script=(
                "mkdir -p /var/lib/registry\n"
                "cat > /etc/docker/registry/config.yml <<'YAML'\n"
                "version: 0.1\n"
                "log:\n  fields:\n    service: registry\n"
                "storage:\n  cache:\n    blobdescriptor: inmemory\n"
                "  filesystem:\n    rootdirectory: /var/lib/registry\n"
                "http:\n  addr: :5000\n  headers:\n    X-Content-Type-Options: [nosniff]\n"
                "health:\n  storagedriver:\n    enabled: true\n    interval: 10s\n    threshold: 3\n"
                "YAML\n"
            ),
            changes=(
                "ENV REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY=/var/lib/registry",
                "ENV REGISTRY_HTTP_ADDR=0.0.0.0:5000",
                "EXPOSE 5000",
                'CMD ["/usr/bin/docker-registry", "serve", "/etc/docker/registry/config.yml"]',
            ),
        ),
    ),
    "redis": ImageSpec(
        # Debian 13 packages Redis 8.0, the official redis:8's generation.
        ref="redis:8",
        purpose="a Redis server: the hit counter of the compose example (01)",
        notebooks=("01",),
        official_mb=137,
        standin=Recipe(
            packages=("redis-server",),
            changes=(
                "EXPOSE 6379",
                'CMD ["redis-server", "--protected-mode", "no", "--bind", "0.0.0.0"]',
            ),
        ),
    ),
    "dind": ImageSpec(
        # Today's engine: the newest Docker Engine Debian packages (sid: 28.5), the
        # official docker:28-dind's generation. It is also the current engine that
        # `make test-current` runs (labhelpers.current).
        ref="docker:28-dind",
        purpose="Docker-in-Docker: each docker machine of notebook 03 is one; the current engine of the tests",
        notebooks=("03",),
        official_mb=380,
        standin=Recipe(
            # dockerd with containerd, runc, tini; iptables for its networks, procps
            # for ps/pkill, wget to probe web servers from inside (as busybox does in
            # the official image: the kit uses only options busybox's wget has).
            packages=("docker.io", "docker-cli", "openssh-server", "iptables", "ca-certificates", "procps", "wget"),
            suite="sid",
            # The official image's entrypoint contract: `dockerd-entrypoint.sh dockerd
            # ARGS` (or only ARGS starting with "-") starts the engine.
            script=(
                "cat > /usr/local/bin/dockerd-entrypoint.sh <<'SH'\n"
                "#!/bin/sh\n"
                "set -e\n"
                'case "$1" in -*|"") set -- dockerd "$@" ;; esac\n'
                "# cgroup v2: move this shell out of the root cgroup so dockerd may\n"
                "# enable the controllers for its own containers.\n"
                "if [ -f /sys/fs/cgroup/cgroup.controllers ]; then\n"
                "  mkdir -p /sys/fs/cgroup/init\n"
                "  xargs -rn1 < /sys/fs/cgroup/cgroup.procs > /sys/fs/cgroup/init/cgroup.procs 2>/dev/null || true\n"
                "  sed -e 's/ / +/g' -e 's/^/+/' < /sys/fs/cgroup/cgroup.controllers"
                " > /sys/fs/cgroup/cgroup.subtree_control 2>/dev/null || true\n"
                "fi\n"
                'exec "$@"\n'
                "SH\n"
                "chmod +x /usr/local/bin/dockerd-entrypoint.sh\n"
                "# Debugging tools dockerd never calls, and containerd's v1 shims (the\n"
                "# engine runs containers with the runc v2 shim).\n"
                "rm -f /usr/bin/ctr /usr/bin/dnet /usr/bin/containerd-shim"
                " /usr/bin/containerd-shim-runc-v1\n"
            ),
            changes=(
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "VOLUME /var/lib/docker",
                "EXPOSE 2376",
                'ENTRYPOINT ["dockerd-entrypoint.sh"]',
                "CMD []",
            ),
        ),
    ),
    "python-full": ImageSpec(
        ref="python:3.13-trixie",
        purpose="the full (non-slim) Python image: compilers and headers, the naive build's base (06)",
        notebooks=("06",),
        official_mb=1010,
        standin=Recipe(
            # What the full image adds to slim that matters for builds: a C toolchain,
            # Python's headers, git and curl, the usual -dev libraries (not all of them).
            packages=("python3", "python3-pip", "python3-venv", "python3-dev", "ca-certificates",
                      "build-essential", "git", "curl", "libffi-dev", "libssl-dev", "zlib1g-dev"),
            script=_PYTHON_LIKE_OFFICIAL,
            changes=_PYTHON_CHANGES,
        ),
    ),
}


def find(name: str) -> ImageSpec | None:
    """The catalogue entry for a short name (``"python"``) or a full reference, or None.

    Args:
        name: a catalogue name or an image reference.

    Returns:
        The :class:`ImageSpec`, or None for an image outside the catalogue
        (:func:`labhelpers.images.spec` says so as an error).

    >>> find("redis:8").notebooks
    ('01',)
    >>> find("nginx") is None
    True
    """
    if name in CATALOGUE:
        return CATALOGUE[name]
    return next((entry for entry in CATALOGUE.values() if entry.ref == name), None)


def refs() -> set[str]:
    """Every catalogue image's name, as Docker Engine names it and as Podman does.

    Podman names Docker Hub's images in full (``docker.io/library/python:...``).

    >>> sorted(r for r in refs() if r.startswith("docker.io/library/redis"))
    ['docker.io/library/redis:8']
    """
    return {entry.ref for entry in CATALOGUE.values()} | {
        f"docker.io/{'' if '/' in entry.ref else 'library/'}{entry.ref}" for entry in CATALOGUE.values()}


def for_notebook(notebook: str | None = None) -> list[ImageSpec]:
    """The catalogue entries one notebook needs (every entry when ``notebook`` is None).

    Args:
        notebook: two digits, or None for every entry.

    Returns:
        The :class:`ImageSpec` entries, in the catalogue's order.

    >>> [entry.ref for entry in for_notebook("00")]
    ['python:3.13-slim-trixie']
    """
    return [entry for entry in CATALOGUE.values() if notebook is None or notebook in entry.notebooks]
