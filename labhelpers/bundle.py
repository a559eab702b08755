"""The offline bundle: every image of the lab and its Python wheels, in one file.

For a room with bad wifi: one machine with a network exports the bundle, the
file goes round on a USB stick, and every other machine imports it, then runs
``prepare`` and ``pip install`` with no network at all.

A bundle is a gzipped tar archive::

    manifest.json                 format, kit version, and for every file its sha256
    images/<ref>.tar              one `docker save` tarball per catalogue image
    wheelhouse/*.whl              the package and its dependencies, as wheels

:func:`import_bundle` checks every checksum **before** it loads anything: a
corrupt or truncated archive is refused with one :class:`~labhelpers.errors.LabError`,
and nothing of it is loaded. The verified image tarballs are kept where
:func:`labhelpers.images.ensure` looks for them (:func:`labhelpers.images.bundle_path`),
the wheels in :func:`labhelpers.settings.wheelhouse_dir`.

>>> from labhelpers import bundle
>>> bundle.export_bundle("lab-bundle.tar.gz")          # doctest: +SKIP
>>> bundle.import_bundle("lab-bundle.tar.gz")          # doctest: +SKIP

Introduced for workshops (``python -m labhelpers bundle export|import FILE``);
the kit image (the root ``Dockerfile``) is built from one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import tarfile
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

from . import catalogue, images, wheelhouse
from .errors import BundleError
from .settings import cache_dir, wheelhouse_dir  # the one answer to where wheels live

#: Version of the bundle layout; import refuses other versions.
FORMAT = 1
MANIFEST = "manifest.json"
#: The extras whose dependencies go into the wheelhouse.
EXTRAS = ("builds", "clients", "lab", "hub", "machines", "test")
_CHUNK = 1 << 20


_TODO = ("export the bundle on a machine that reaches the package index, or pass "
         "--wheelhouse DIR with wheels gathered before")


@dataclass
class Manifest:
    """What a bundle holds: for each file its path in the archive, size and sha256."""

    images: list[dict] = field(default_factory=list)
    wheels: list[dict] = field(default_factory=list)
    kit: str = ""
    created: str = ""

    def files(self) -> list[dict]:
        return self.images + self.wheels

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, "kit": self.kit, "created": self.created,
                           "images": self.images, "wheels": self.wheels}, indent=1)

    @classmethod
    def from_json(cls, text: str, where: str) -> "Manifest":
        """Read a manifest written by :func:`export_bundle`.

        Args:
            text: the manifest's JSON.
            where: the bundle, named in messages.

        Returns:
            The :class:`Manifest`.

        Raises:
            BundleError: another format, or unreadable JSON.

        >>> Manifest.from_json('{"format": 0}', "old.tar.gz")    # doctest: +IGNORE_EXCEPTION_DETAIL
        Traceback (most recent call last):
        BundleError: old.tar.gz is a bundle of format 0; this kit reads format 1.

        Introduced in README.md ("Delivering a workshop"); no notebook calls it.
        """
        try:
            data = json.loads(text)
            if data.get("format") != FORMAT:
                raise BundleError(
                    f"{where} is a bundle of format {data.get('format')!r}; this kit reads "
                    f"format {FORMAT}.",
                    "export the bundle again with this version of the kit",
                )
            return cls(images=list(data["images"]), wheels=list(data["wheels"]),
                       kit=data.get("kit", ""), created=data.get("created", ""))
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            raise BundleError(f"{where} has an unreadable manifest ({err}).",
                              "export the bundle again") from None

    def summary(self) -> str:
        size = sum(f["bytes"] for f in self.files()) / 1e6
        refs = ", ".join(i["ref"] for i in self.images)
        return f"{len(self.images)} images ({refs}), {len(self.wheels)} wheels, {size:.0f} MB unpacked"


def source_root() -> Path | None:
    """The kit's source tree (with ``pyproject.toml``) when installed from one."""
    root = Path(__file__).resolve().parent.parent
    return root if (root / "pyproject.toml").exists() else None


def requirements(extras=EXTRAS) -> list[str]:
    """The package's own requirements, with those of ``extras``, from its metadata.

    Args:
        extras: the extras whose requirements are included too.

    Returns:
        Requirement strings, markers removed (``docker>=7.1``...).

    >>> any(r.startswith("docker") for r in requirements())
    True

    Introduced in README.md ("Delivering a workshop"); no notebook calls it.
    """
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    out = []
    for text in requires("labhelpers") or []:
        req = Requirement(text)
        wanted = req.marker is None or any(req.marker.evaluate({"extra": e}) for e in extras)
        if wanted:
            req.marker = None
            out.append(str(req))
    return out


def build_wheelhouse(dest: str, python_version: str | None = None, log=print, client=None) -> list[str]:
    """Gather the package and all its dependencies as wheels into ``dest``.

    With every extra (``[builds,clients,lab,machines,hub,test]``), so the wheelhouse installs the whole kit
    with ``pip install --no-index --find-links``.

    Args:
        dest: the folder to fill.
        python_version: the Python the wheels are for (``"3.11.2"``), when it is
            not this one (the kit image's base, another machine): binary wheels
            only, chosen for that version and for the engine's architecture.
            Default: this Python, on this machine.
        client: the ``docker.DockerClient`` whose architecture the wheels are for,
            with ``python_version`` (default: the kit's).

    Raises:
        BundleError: pip failed (no network, no index, no wheel for that Python).

    Args:
        dest: the folder for the wheels (made if missing).
        log: called with progress lines.

    Returns:
        The names of the wheels in ``dest``, sorted.

    >>> build_wheelhouse("wheelhouse")                 # doctest: +SKIP
    ['labhelpers-0.1.0-py3-none-any.whl', 'docker-7.1.0-py3-none-any.whl', ...]

    Introduced in README.md ("Delivering a workshop"); no notebook calls it.
    """
    root = source_root()
    os.makedirs(dest, exist_ok=True)
    extras = ",".join(EXTRAS)
    log(f"wheelhouse: the kit [{extras}] and its dependencies, for Python "
        f"{python_version or '.'.join(map(str, sys.version_info[:3]))} ...")
    if python_version is None:
        _pip(["wheel", "-q", "--wheel-dir", dest, f"{root}[{extras}]" if root else f"labhelpers[{extras}]"],
             "gather the wheels")
    else:  # for the kit image: its Python, on the engine's architecture
        if root:
            _pip(["wheel", "-q", "--no-deps", "--wheel-dir", dest, str(root)], "build the kit's wheel")
        wheelhouse.download(requirements(), dest, python_version, client=client, log=lambda line: None,
                            error=BundleError, todo=_TODO)
    return sorted(name for name in os.listdir(dest) if name.endswith(".whl"))


def _pip(args: list[str], what: str) -> str:
    return wheelhouse.pip(args, what, BundleError, _TODO)


def _hash_copy(src, dst_path: str) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(dst_path, "wb") as dst:
        for chunk in src:
            digest.update(chunk)
            dst.write(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _chunks(f):
    while chunk := f.read(_CHUNK):
        yield chunk


def export_bundle(path: str, client=None, wheelhouse: str | None = None,
                  python_version: str | None = None, log=print) -> Manifest:
    """Write the offline bundle: every catalogue image, the wheelhouse, a manifest.

    Images missing on this engine are made present first (:func:`labhelpers.images.ensure`).
    The archive is written next to ``path`` and renamed at the end, so an
    interrupted export never leaves a half bundle under that name.

    Args:
        path: the archive to write (``.tar.gz``).
        client: a ``docker.DockerClient`` (default: the kit's).
        wheelhouse: a folder of wheels to include as is; default: gather them
            with :func:`build_wheelhouse`.
        python_version: the Python the wheels are for, when not this one.
        log: called with progress lines.

    Returns:
        The :class:`Manifest` written.

    >>> export_bundle("lab-bundle.tar.gz").summary()   # doctest: +SKIP
    '3 images (python:3.13-slim-trixie, registry:2, redis:8), 62 wheels, 412 MB unpacked'

    Introduced in README.md ("Delivering a workshop"); no notebook calls it.
    """
    from . import __version__
    from .engine import client as get_client

    client = client or get_client()
    path = os.path.abspath(path)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    manifest = Manifest(kit=__version__, created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    with tempfile.TemporaryDirectory(prefix=".labhelpers-bundle-", dir=os.path.dirname(path)) as tmp:
        os.makedirs(os.path.join(tmp, "images"))
        for name, entry in catalogue.CATALOGUE.items():
            image = images.ensure(name, client=client, log=log)
            member = "images/" + os.path.basename(images.bundle_path(entry.ref))
            t0 = time.monotonic()
            sha, size = _hash_copy(image.save(named=entry.ref), os.path.join(tmp, member))
            log(f"{entry.ref}: saved {size / 1e6:.0f} MB in {time.monotonic() - t0:.1f} s")
            manifest.images.append({"ref": entry.ref, "id": image.id, "file": member,
                                    "bytes": size, "sha256": sha})
        wheels_dir = os.path.join(tmp, "wheelhouse")
        if wheelhouse:
            shutil.copytree(wheelhouse, wheels_dir)
        else:
            build_wheelhouse(wheels_dir, python_version, log, client)
        for name in sorted(os.listdir(wheels_dir)):
            if not name.endswith((".whl", ".tar.gz", ".zip")):
                continue
            with open(os.path.join(wheels_dir, name), "rb") as f:
                digest = hashlib.sha256()
                for chunk in _chunks(f):
                    digest.update(chunk)
            manifest.wheels.append({"file": f"wheelhouse/{name}",
                                    "bytes": os.path.getsize(os.path.join(wheels_dir, name)),
                                    "sha256": digest.hexdigest()})
        with open(os.path.join(tmp, MANIFEST), "w") as f:
            f.write(manifest.to_json())
        part = path + ".part"
        log(f"writing {os.path.basename(path)} ({manifest.summary()}) ...")
        with tarfile.open(part, "w:gz", compresslevel=3) as tar:
            tar.add(os.path.join(tmp, MANIFEST), MANIFEST)
            for item in manifest.files():
                tar.add(os.path.join(tmp, item["file"]), item["file"])
        os.replace(part, path)
    return manifest


def _refuse(path: str, why: str) -> BundleError:
    return BundleError(
        f"{path} is not a complete, intact labhelpers bundle ({why}); nothing was loaded.",
        "copy the file again (compare its size with the original), or export a new one "
        "with `python -m labhelpers bundle export FILE`",
    )


def _unpack_and_verify(path: str, dest: str) -> Manifest:
    """Extract the archive into ``dest`` and check every file against the manifest."""
    found: dict[str, tuple[str, int]] = {}
    manifest_text = None
    try:
        with tarfile.open(path, "r:*") as tar:
            for member in tar:
                name = member.name
                if not member.isfile():
                    continue
                parts = name.split("/")
                if name != MANIFEST and (len(parts) != 2 or parts[0] not in ("images", "wheelhouse")
                                         or parts[1] in ("", ".", "..")):
                    raise _refuse(path, f"unexpected member {name!r}")
                src = tar.extractfile(member)
                if name == MANIFEST:
                    manifest_text = src.read().decode()
                    continue
                os.makedirs(os.path.join(dest, parts[0]), exist_ok=True)
                found[name] = _hash_copy(_chunks(src), os.path.join(dest, name))
    except (tarfile.TarError, EOFError, zlib.error, OSError, UnicodeDecodeError) as err:
        raise _refuse(path, f"{type(err).__name__}: {err}") from None
    if manifest_text is None:
        raise _refuse(path, f"no {MANIFEST}")
    manifest = Manifest.from_json(manifest_text, path)
    for item in manifest.files():
        got = found.get(item["file"])
        if got is None:
            raise _refuse(path, f"{item['file']} is missing")
        if got != (item["sha256"], item["bytes"]):
            raise _refuse(path, f"{item['file']} does not match its checksum")
    return manifest


def import_bundle(path: str, client=None, log=print, load: bool = True) -> Manifest:
    """Verify a bundle, then load its images and keep its wheels.

    Every file is checked against the manifest's sha256 before anything is
    loaded; then the image tarballs go where :func:`labhelpers.images.ensure`
    finds them and are loaded into the engine, and the wheels go to
    :func:`wheelhouse_dir`.

    Args:
        path: the bundle archive.
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with progress lines.
        load: False to verify and place the files only, with no engine (the kit
            image does this at build time; ``prepare`` loads them at start).

    Raises:
        BundleError: the file is missing, truncated or corrupt (nothing loaded).
        EngineError: no engine to load the images into (nothing loaded).

    Returns:
        The bundle's :class:`Manifest`.

    >>> import_bundle("lab-bundle.tar.gz").summary()   # doctest: +SKIP
    '3 images (python:3.13-slim-trixie, registry:2, redis:8), 62 wheels, 412 MB unpacked'

    Introduced in README.md ("Delivering a workshop"); no notebook calls it.
    """
    from .engine import client as get_client

    if not os.path.isfile(path):
        raise BundleError(f"There is no bundle at {path}.",
                          "give the path of a file made by `python -m labhelpers bundle export`")
    if load:
        client = client or get_client()
    os.makedirs(cache_dir(), exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".import-", dir=cache_dir()) as tmp:
        t0 = time.monotonic()
        manifest = _unpack_and_verify(path, tmp)
        log(f"verified {manifest.summary()} in {time.monotonic() - t0:.1f} s")
        for item in manifest.images:
            target = images.bundle_path(item["ref"])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.replace(os.path.join(tmp, item["file"]), target)
        os.makedirs(wheelhouse_dir(), exist_ok=True)
        for item in manifest.wheels:
            os.replace(os.path.join(tmp, item["file"]),
                       os.path.join(wheelhouse_dir(), os.path.basename(item["file"])))
    for item in manifest.images if load else []:
        t0 = time.monotonic()
        with open(images.bundle_path(item["ref"]), "rb") as f:
            client.images.load(f)
        if images.present(client, item["ref"]) is None:
            raise BundleError(f"Loading {item['ref']} from the bundle did not create that image.",
                              "export the bundle again on the original machine")
        log(f"{item['ref']}: loaded in {time.monotonic() - t0:.1f} s")
    if not load:
        log(f"images kept in {os.path.dirname(images.bundle_path('x'))}: `prepare` loads them")
    log(f"wheels kept in {wheelhouse_dir()}: pip install --no-index --find-links <that folder> ...")
    return manifest
