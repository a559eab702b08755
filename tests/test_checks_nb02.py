"""Notebook 02's checker: fails until a raw-API container says hello, then passes."""

from __future__ import annotations

import uuid

import pytest

import labhelpers as lab
from labhelpers.checks import nb02
from labhelpers.rawapi import RawClient


@pytest.fixture
def hello_name(monkeypatch, client):
    """A private LABHELPERS_PREFIX, so nb02-hello of a notebook run is never touched."""
    monkeypatch.setenv("LABHELPERS_PREFIX", f"h02-{uuid.uuid4().hex[:8]}-")
    name = lab.name("02", "hello")
    yield name
    client.api.remove_container(name, force=True) if client.containers.list(all=True, filters={"name": name}) else None


def create(name, labels, cmd=("echo", "hello")):
    api = RawClient()
    body = {"Image": lab.images.spec("python").ref, "Cmd": list(cmd), "Labels": labels}
    resp = api.post("/containers/create", query={"name": name}, json=body)
    assert resp.status == 201, resp.message
    return api, resp.json()["Id"]


def test_nothing_there_fails_with_the_create_hint(hello_name, client):
    result = nb02.hello(client)
    assert not result and "POST /containers/create" in result.missing[0]


def test_created_but_not_started_and_unlabelled_fails(hello_name, client, python_image):
    create(hello_name, {"org.labhelpers.test": hello_name})
    result = nb02.hello(client)
    assert not result.passed
    assert any("labels" in m for m in result.missing)
    assert any("/start" in m for m in result.missing)


def test_started_without_hello_fails(hello_name, client, python_image):
    api, cid = create(hello_name, lab.labels_for("02", test=hello_name), cmd=("echo", "bye"))
    api.post(f"/containers/{cid}/start")
    api.post(f"/containers/{cid}/wait")
    result = nb02.hello()
    assert not result.passed and result.missing == ['its output has no "hello": give it a command like ["echo", "hello"]']


def test_raw_api_create_and_start_passes(hello_name, client, python_image):
    api, cid = create(hello_name, lab.labels_for("02", test=hello_name))
    assert api.post(f"/containers/{cid}/start").status == 204
    api.post(f"/containers/{cid}/wait")
    result = nb02.hello()
    assert result.passed, result
    assert repr(result).startswith("✅ pass")
