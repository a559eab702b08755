"""The image catalogue and `ensure`: present, pull, offline bundle, stand-in."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import docker.errors
import pytest

import labhelpers as lab
from labhelpers import images, standin
from labhelpers.errors import ImageError

from .conftest import only_in_bundle


def test_spec_by_short_name_or_reference():
    assert images.spec("python") is images.spec("python:3.13-slim-trixie")
    with pytest.raises(ImageError, match="catalogue"):
        images.spec("nginx:latest")


def test_mirror_is_read_from_deb822_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("LABHELPERS_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.invalid/debian\nSuites: bookworm\n"
        "Components: main\n\nTypes: deb\nURIs: http://mirror.invalid/debian-security\n"
        "Suites: bookworm-security\nComponents: main\n"
    )
    assert standin.debian_mirror(str(tmp_path)) == "http://mirror.invalid/debian"


def test_mirror_is_read_from_one_line_sources(tmp_path, monkeypatch):
    monkeypatch.delenv("LABHELPERS_DEBIAN_MIRROR", raising=False)
    (tmp_path / "sources.list").write_text(
        "# deb http://old.invalid/debian buster main\n"
        "deb [arch=amd64] http://mirror.invalid/debian bookworm main contrib\n"
    )
    assert standin.debian_mirror(str(tmp_path)) == "http://mirror.invalid/debian"


def test_no_mirror_is_one_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("LABHELPERS_DEBIAN_MIRROR", raising=False)
    with pytest.raises(ImageError, match="LABHELPERS_DEBIAN_MIRROR"):
        standin.debian_mirror(str(tmp_path))


def test_present_image_returns_at_once(client, python_image):
    start = time.monotonic()
    outcome = images.ensure_outcome("python", client=client, log=lambda line: None)
    assert outcome.how == "present"
    assert time.monotonic() - start < 1.0
    assert "python:3.13-slim-trixie" in outcome.image.tags


def test_python_image_behaves_like_the_official_one(client, python_image):
    script = "import sys, ssl, venv; print(sys.version_info[:2])"
    out = client.containers.run(python_image.id, ["python", "-c", script], remove=True)
    assert out.decode().strip() == "(3, 13)"
    pip = client.containers.run(python_image.id, ["pip", "--version"], remove=True)
    assert b"python 3.13" in pip
    if images.is_standin(python_image):
        assert python_image.labels[lab.labels.STANDIN] == "python:3.13-slim-trixie"
        assert lab.labels.MANAGED not in python_image.labels


def test_offline_bundle_is_loaded_when_pull_fails(client, python_image, prefix, tmp_path, monkeypatch):
    """Save an image to the bundle folder, remove it, and have ensure() load it back."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.delenv("LABHELPERS_OFFLINE", raising=False)
    ref = f"{prefix}-bundled:1"
    only_in_bundle(client, ref)
    monkeypatch.setitem(images.CATALOGUE, "bundled",
                        images.ImageSpec(ref, "test", ("00",), 0, standin=None))
    lines = []
    try:
        outcome = images.ensure_outcome("bundled", client=client, log=lines.append)
        assert outcome.how == "bundle", lines
        assert ref in outcome.image.tags
        assert any("pull failed" in line for line in lines), lines
    finally:
        try:
            client.images.remove(ref)
        except docker.errors.ImageNotFound:
            pass


def test_unobtainable_image_lists_every_reason(client, prefix, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    monkeypatch.setenv("LABHELPERS_OFFLINE", "1")
    ref = f"{prefix}-nowhere:1"
    monkeypatch.setitem(images.CATALOGUE, "nowhere",
                        images.ImageSpec(ref, "test", ("00",), 0, standin=None))
    with pytest.raises(ImageError) as err:
        images.ensure("nowhere", client=client, log=lambda line: None)
    assert "LABHELPERS_OFFLINE" in err.value.what and "bundle" in err.value.what
    assert "bundle import" in err.value.todo


def test_prepare_is_idempotent(client, python_image):
    done = subprocess.run([sys.executable, "-m", "labhelpers", "prepare"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "present" in done.stdout
    assert "prepared" in done.stdout


def test_standin_rootfs_is_kept_by_recipe_hash(monkeypatch, tmp_path):
    """Same recipe, same cache file; any change to what shapes the root filesystem, another."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    entry = images.CATALOGUE["python"]
    path = standin.rootfs_path(entry)
    assert path.startswith(str(tmp_path / "labhelpers" / "rootfs"))
    assert path == standin.rootfs_path(entry)
    changed = images.ImageSpec(entry.ref, entry.purpose, entry.notebooks, entry.official_mb,
                               standin=standin.Recipe(entry.standin.packages + ("curl",)))
    assert standin.rootfs_path(changed) != path


@pytest.mark.skipif(os.name != "posix" or os.geteuid() != 0, reason="a base is made as root")
def test_base_falls_back_to_debootstrap_when_mmdebstrap_fails(monkeypatch, tmp_path, capsys):
    """A host where mmdebstrap fails still gets its base, from debootstrap (fakes of both: no network)."""
    tools = tmp_path / "bin"
    tools.mkdir()
    (tools / "mmdebstrap").write_text("#!/bin/sh\necho 'E: cannot mount proc' >&2\nexit 25\n")
    # debootstrap's last two arguments but one are the root and the mirror: make a root there.
    (tools / "debootstrap").write_text('#!/bin/sh\nfor a; do root=$prev; prev=$a; done\n'
                                       'mkdir -p "$root/etc" && echo made > "$root/etc/made-by"\n')
    for tool in tools.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setenv("LABHELPERS_DEBIAN_MIRROR", "http://mirror.invalid/debian")
    tar = standin.base("trixie", log=print)
    listing = subprocess.run(["tar", "tf", tar], capture_output=True, text=True, check=True).stdout
    assert "./etc/made-by" in listing.splitlines()
    assert "mmdebstrap trixie failed (E: cannot mount proc); trying debootstrap" in capsys.readouterr().out


def test_stand_ins_that_can_start_at_once_start_first_the_longest_first(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    specs = [images.CATALOGUE[name] for name in ("registry", "redis", "dind", "python-full")]
    trixie = standin.base_path("trixie")  # made for notebook 00's image; sid's is not
    os.makedirs(os.path.dirname(trixie))
    open(trixie, "w").close()
    order = [spec.ref for spec in standin.build_order(specs)]
    assert order[0] == "python:3.13-trixie" and order[-1] == "docker:28-dind", order


def test_standins_are_built_from_todays_debian():
    assert images.CATALOGUE["python"].standin.suite == "trixie"
    assert images.CATALOGUE["dind"].standin.suite == "sid"


def test_prepare_for_one_notebook_makes_only_its_images_present(client, python_image):
    assert [e.ref for e in images.for_notebook("03")] == [images.CATALOGUE["python"].ref,
                                                         images.CATALOGUE["dind"].ref]
    done = subprocess.run([sys.executable, "-m", "labhelpers", "prepare", "--notebook", "00"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert images.CATALOGUE["python"].ref in done.stdout
    assert images.CATALOGUE["redis"].ref not in done.stdout
    assert "prepared 1 image for notebook 00" in done.stdout
