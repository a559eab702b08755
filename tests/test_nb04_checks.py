"""The checkers of notebook 04: each passes on the exercise done, and hints otherwise."""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import docker.errors
import pytest

import labhelpers as lab
from labhelpers.checks import nb04
from labhelpers.widgets.build import BuildProgress

PY = "python:3.13-slim-trixie"
APP = Path(__file__).resolve().parent.parent / "notebooks" / "apps" / "nb04-app"


@pytest.fixture
def own_names(monkeypatch):
    """Exercise names behind a unique prefix, so the notebook's own objects are not seen."""
    monkeypatch.setenv("LABHELPERS_PREFIX", f"h04-{uuid.uuid4().hex[:8]}-")


@pytest.fixture
def cleanup(client):
    names = []
    yield names
    for n in names:
        for remove in (lambda: client.api.remove_container(n, force=True),
                       lambda: client.images.remove(n, force=True)):
            try:
                remove()
            except docker.errors.NotFound:
                pass


def _small(client, cleanup, **kwargs):
    name = lab.name("04", "small")
    cleanup.append(name)
    return client.containers.run(PY, ["sleep", "300"], detach=True, name=name, **kwargs)


def test_small_container_fails_without_it(client, own_names):
    result = nb04.small_container(client)
    assert not result and "no container is named" in result.missing[0]


def test_small_container_hints_at_the_wrong_limit_and_labels(client, python_image, own_names, cleanup):
    _small(client, cleanup, mem_limit="128m")
    result = nb04.small_container(client)
    assert not result
    assert any("128 MiB, not 64" in m for m in result.missing)
    assert any("labels" in m for m in result.missing)


def test_small_container_passes(client, python_image, own_names, cleanup):
    _small(client, cleanup, mem_limit="64m", labels=lab.labels_for("04"))
    result = nb04.small_container(client)
    assert result, result
    assert repr(result).startswith("✅")


def test_app_image_fails_without_it(client, own_names):
    result = nb04.app_image(client)
    assert not result and "no image is tagged" in result.missing[0]


def test_app_image_fails_for_another_dockerfile(client, python_image, own_names, cleanup):
    tag = lab.name("04", "app") + ":1"
    cleanup.append(tag)
    BuildProgress(client).build(tag, fileobj=io.BytesIO(f"FROM {PY}\nCMD [\"true\"]\n".encode()))
    result = nb04.app_image(client)
    assert not result and "not built from apps/nb04-app" in result.missing[0]


def test_app_image_passes_when_built_from_its_dockerfile(client, python_image, own_names, cleanup):
    tag = lab.name("04", "app") + ":1"
    cleanup.append(tag)
    BuildProgress(client).build(tag, path=str(APP))
    result = nb04.app_image(client)
    assert result, result
