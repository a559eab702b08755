"""Labels and cleanup: the lab's objects go, the user's objects all survive."""

from __future__ import annotations

import dataclasses
import io
import subprocess
import sys

import docker.errors
import pytest

import labhelpers as lab
from labhelpers.errors import LabError
from labhelpers.labels import MANAGED, NOTEBOOK

NB = "99"  # a notebook number no real notebook uses


def test_labels_and_names():
    assert lab.labels_for("03") == {MANAGED: "true", NOTEBOOK: "03"}
    assert lab.name("03", "worker") == "nb03-worker"
    with pytest.raises(LabError, match="two digits"):
        lab.labels_for("3")


def test_prefix_keeps_two_learners_apart(monkeypatch):
    monkeypatch.setenv("LABHELPERS_PREFIX", "alice-")
    assert lab.name("01", "web") == "alice-nb01-web"


def _build(client, tag, labels=None):
    dockerfile = b"FROM python:3.13-slim-trixie\nRUN echo built > /built\n"
    image, _ = client.images.build(fileobj=io.BytesIO(dockerfile), tag=tag, labels=labels, rm=True)
    return image


@pytest.fixture
def user_and_lab_objects(client, python_image, prefix):
    """Objects of 'the user' (no labels) and of the lab (notebook 99), all real."""
    ref = python_image.id
    user = {
        "container": client.containers.create(ref, "sleep 60", name=f"{prefix}-user"),
        "volume": client.volumes.create(f"{prefix}-user"),
        "network": client.networks.create(f"{prefix}-user"),
        "image": _build(client, f"{prefix}-user-img:1"),
    }
    labels = lab.labels_for(NB)
    ours = {
        "container": client.containers.run(ref, "sleep 60", name=lab.name(NB, f"{prefix}-c"),
                                           labels=labels, detach=True),
        "volume": client.volumes.create(lab.name(NB, f"{prefix}-v"), labels=labels),
        "network": client.networks.create(lab.name(NB, f"{prefix}-n"), labels=labels),
        "image": _build(client, f"{lab.name(NB, prefix)}-img:1", labels=labels),
    }
    yield user, ours
    for obj in user.values():
        try:
            if isinstance(obj, docker.models.images.Image):
                client.images.remove(obj.id, force=True)
            elif isinstance(obj, docker.models.containers.Container):
                obj.remove(force=True)
            else:
                obj.remove()
        except docker.errors.NotFound:
            pass


def _exists(client, kind, obj):
    getter = {"container": client.containers, "volume": client.volumes,
              "network": client.networks, "image": client.images}[kind]
    try:
        getter.get(obj.id if kind != "volume" else obj.name)
        return True
    except docker.errors.NotFound:
        return False


def test_clean_removes_the_labs_objects_and_nothing_else(client, user_and_lab_objects):
    user, ours = user_and_lab_objects
    listed = {(m.kind, m.id if m.kind != "volume" else m.name) for m in lab.cleanup.managed(client, NB)}
    for kind, obj in ours.items():
        assert (kind, obj.id if kind != "volume" else obj.name) in listed
    for kind, obj in user.items():
        assert (kind, obj.id if kind != "volume" else obj.name) not in listed

    dry = subprocess.run([sys.executable, "-m", "labhelpers", "clean", "--notebook", NB, "--dry-run"],
                         capture_output=True, text=True, timeout=120)
    assert dry.returncode == 0 and "would remove 4 lab objects" in dry.stdout
    assert all(_exists(client, kind, obj) for kind, obj in ours.items())

    done = subprocess.run([sys.executable, "-m", "labhelpers", "clean", "--notebook", NB],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    for kind, obj in ours.items():
        assert not _exists(client, kind, obj), f"lab {kind} survived cleanup"
    for kind, obj in user.items():
        assert _exists(client, kind, obj), f"the user's {kind} was touched by cleanup"
    assert lab.cleanup.managed(client, NB) == []


def test_clean_never_lists_catalogue_images(client, python_image, prefix, monkeypatch):
    # A catalogue image that carries the lab's labels (an image built FROM a labelled
    # one inherits them) must still be left alone. The real catalogue images carry no
    # such label, so the test adds an entry of its own to the catalogue, for a real
    # image built here with notebook 99's labels.
    ref = f"{prefix}-catalogue:1"
    entry = dataclasses.replace(next(iter(lab.catalogue.CATALOGUE.values())), ref=ref, notebooks=(NB,))
    monkeypatch.setitem(lab.catalogue.CATALOGUE, f"{prefix}-catalogue", entry)
    image = _build(client, ref, labels=lab.labels_for(NB))
    try:
        assert image.labels[MANAGED] == "true"
        assert ref not in {m.name for m in lab.cleanup.managed(client)}
        lab.cleanup.clean(NB, client=client)
        assert _exists(client, "image", image), "clean removed an image of the catalogue"
    finally:
        client.images.remove(image.id, force=True)
    refs = {m.name for m in lab.cleanup.managed(client)}
    assert "python:3.13-slim-trixie" not in refs
