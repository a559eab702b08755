"""The offline bundle: export, remove, import back; corrupt and truncated archives refused.

The round trip runs on the real engine with a catalogue reduced (monkeypatched) to one
copy of the python image tagged under this helper's prefix, so the real catalogue images
are never removed.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid

import docker.errors
import pytest

from labhelpers import bundle, catalogue, images
from labhelpers.bundle import BundleError
from labhelpers.cli import main

from .conftest import own_image


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """Export once: a one-image catalogue (the test's own child of the python image) and a wheel.

    Yields (ref, path, manifest); the image is removed after the export, so each test
    starts without it.
    """
    client = _client_or_skip()
    tmp = tmp_path_factory.mktemp("bundle")
    ref = f"h09-{uuid.uuid4().hex[:8]}-bundled:1"
    images.ensure("python", client=client, log=lambda line: None)
    own_image(client, ref)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("XDG_CACHE_HOME", str(tmp / "export-cache"))
            mp.setattr(catalogue, "CATALOGUE",
                       {"bundled": catalogue.ImageSpec(ref, "test", ("09",), 0, standin=None)})
            wheels = tmp / "wheels"
            # A real wheel, built from this source tree without its dependencies (quick).
            done = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                                   "--wheel-dir", str(wheels), str(bundle.source_root())],
                                  capture_output=True, text=True)
            assert done.returncode == 0, done.stderr[-2000:]
            path = str(tmp / "out" / "lab-bundle.tar.gz")
            manifest = bundle.export_bundle(path, client=client, wheelhouse=str(wheels),
                                            log=lambda line: None)
    finally:
        client.images.remove(ref)
    yield ref, path, manifest
    try:
        client.images.remove(ref)
    except docker.errors.ImageNotFound:
        pass


def _client_or_skip():
    from .conftest import _engine_or_skip

    return _engine_or_skip()


@pytest.fixture
def bundled(exported, python_image, tmp_path, monkeypatch):
    """The exported bundle, this test's own empty cache, and the reduced catalogue."""
    ref, path, manifest = exported
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(catalogue, "CATALOGUE",
                        {"bundled": catalogue.ImageSpec(ref, "test", ("09",), 0, standin=None)})
    return ref, path, manifest


@pytest.mark.slow
def test_round_trip_restores_removed_images_and_wheels(client, bundled):
    ref, path, manifest = bundled
    assert [i["ref"] for i in manifest.images] == [ref]
    assert any(w["file"].startswith("wheelhouse/labhelpers-") for w in manifest.wheels)
    assert not os.path.exists(path + ".part")
    with tarfile.open(path) as tar:
        names = tar.getnames()
        stored = json.load(tar.extractfile("manifest.json"))
    assert names[0] == "manifest.json" and stored["format"] == bundle.FORMAT
    assert len(stored["images"][0]["sha256"]) == 64

    assert images.present(client, ref) is None
    done = subprocess.run([sys.executable, "-m", "labhelpers", "bundle", "import", path],
                          capture_output=True, text=True, timeout=300, env=os.environ.copy())
    assert done.returncode == 0, done.stderr
    assert "imported" in done.stdout
    assert images.present(client, ref).id == stored["images"][0]["id"]
    # Placed where images.ensure looks, and the wheels where pip can find them.
    assert os.path.isfile(images.bundle_path(ref))
    assert any(n.startswith("labhelpers-") for n in os.listdir(bundle.wheelhouse_dir()))
    # With the image gone again, ensure() (what `prepare` runs) loads it from there, offline.
    client.images.remove(ref)
    outcome = images.ensure_outcome("bundled", client=client, log=lambda line: None)
    assert outcome.how == "bundle"
    client.images.remove(ref)


@pytest.mark.slow
def test_truncated_archive_is_refused_and_nothing_is_loaded(client, bundled, tmp_path, capsys):
    ref, path, _ = bundled
    data = open(path, "rb").read()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    code = main(["bundle", "import", str(cut)])
    err = capsys.readouterr().err
    assert code == 1
    assert "not a complete, intact labhelpers bundle" in err and "nothing was loaded" in err
    assert "Traceback" not in err
    assert images.present(client, ref) is None
    assert not os.path.exists(images.bundle_path(ref))
    assert not os.path.exists(bundle.wheelhouse_dir())


@pytest.mark.slow
def test_corrupt_member_fails_its_checksum(client, bundled, tmp_path):
    """A well-formed archive whose image tarball was altered: the sha256 check catches it."""
    ref, path, _ = bundled
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(path) as src, tarfile.open(bad, "w:gz", compresslevel=1) as dst:
        for member in src:
            data = src.extractfile(member).read()
            if member.name.startswith("images/"):
                data = data[:1000] + bytes([data[1000] ^ 0xFF]) + data[1001:]
            dst.addfile(member, io.BytesIO(data))
    with pytest.raises(BundleError) as err:
        bundle.import_bundle(str(bad), client=client, log=lambda line: None)
    assert "does not match its checksum" in err.value.what
    assert "export a new one" in err.value.todo
    assert images.present(client, ref) is None
    assert not os.path.exists(images.bundle_path(ref))


def test_missing_and_foreign_files_are_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    with pytest.raises(BundleError, match="There is no bundle"):
        bundle.import_bundle(str(tmp_path / "nope.tar.gz"), load=False)
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"this is not an archive" * 100)
    with pytest.raises(BundleError, match="not a complete, intact"):
        bundle.import_bundle(str(junk), load=False)
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        info = tarfile.TarInfo("../escape.txt")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"bad"))
    with pytest.raises(BundleError, match="unexpected member"):
        bundle.import_bundle(str(evil), load=False)
    assert not (tmp_path / "escape.txt").exists()


def test_manifest_of_another_format_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    other = tmp_path / "other.tar.gz"
    text = json.dumps({"format": 99, "images": [], "wheels": []}).encode()
    with tarfile.open(other, "w:gz") as tar:
        info = tarfile.TarInfo("manifest.json")
        info.size = len(text)
        tar.addfile(info, io.BytesIO(text))
    with pytest.raises(BundleError, match="format 99"):
        bundle.import_bundle(str(other), load=False)
