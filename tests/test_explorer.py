"""The API explorer widget, driven in Python against the real engine."""

from __future__ import annotations

import html
import json
import uuid

import pytest

from labhelpers.rawapi import RawClient
from labhelpers.widgets.explorer import ENDPOINTS, Explorer


@pytest.fixture(params=["raw", "docker-py"])
def explorer(request, client):
    return Explorer() if request.param == "raw" else Explorer(client)


def test_css_classes_the_browser_test_relies_on(explorer):
    assert "lab-explorer" in explorer._dom_classes
    assert "lab-explorer-send" in explorer.send_button._dom_classes


def test_a_click_sends_the_request_and_shows_the_answer(explorer, client):
    explorer.endpoint.value = "GET /version"
    explorer.send_button.click()
    assert explorer.last.status == 200
    assert "200 OK" in explorer.status.value and " ms" in explorer.status.value
    version = client.version()["Version"]
    assert json.loads(explorer.last.body)["Version"] == version
    assert f"&quot;Version&quot;: &quot;{version}&quot;" in explorer.body.value


def test_an_invalid_id_shows_the_engines_404(explorer):
    missing = f"h02-{uuid.uuid4().hex[:8]}"
    explorer.endpoint.value = "GET /containers/{id}/json"
    explorer.fields["id"].value = missing
    explorer.send_button.click()
    assert explorer.last.status == 404
    assert "404 Not Found" in explorer.status.value
    assert f"No such container: {missing}" in explorer.status.value


def test_bad_query_parameter_shows_the_engines_400(explorer):
    explorer.choose("GET /containers/json", filters="{not json")
    explorer.send_button.click()
    assert explorer.last.status in (400, 500)
    assert explorer.last.message and html.escape(explorer.last.message) in explorer.status.value


def test_logs_are_decoded_from_frames(explorer, client, python_image):
    name = f"h02-{uuid.uuid4().hex[:8]}"
    container = client.containers.run(python_image.id, ["sh", "-c", "echo to-out; echo to-err >&2"],
                                      name=name, detach=True, labels={"org.labhelpers.test": name})
    try:
        container.wait(timeout=30)
        explorer.choose("GET /containers/{id}/logs", id=name)
        explorer.send_button.click()
        assert explorer.last.status == 200
        assert "to-out\n\n--- stderr ---\nto-err" in explorer.body.value
    finally:
        container.remove(force=True)


def test_empty_path_parameter_is_asked_for_not_sent(explorer):
    explorer.endpoint.value = "GET /images/{name}/json"
    explorer.send_button.click()
    assert explorer.last is None and "fill in name" in explorer.status.value


def test_every_get_endpoint_without_path_parameters_answers(client):
    ex = Explorer(RawClient())
    for ep in ENDPOINTS:
        if ep.method == "GET" and not ep.path_params and ep.path != "/system/df":
            ex.endpoint.value = ep.key
            ex.send_button.click()
            assert ex.last.status == 200, (ep.key, ex.last.message)
