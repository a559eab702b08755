"""Tests of the sample app (run on the host with Flask installed: `pytest notebooks/apps`)."""

import importlib.util
import pathlib
import socket

import pytest

pytest.importorskip("flask")

spec = importlib.util.spec_from_file_location(
    "hello_flask_app", pathlib.Path(__file__).resolve().parent.parent / "app.py")
app_module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(app_module)


class FakeRedis:
    """Stands in for redis.Redis: only INCR, which is all the app uses."""

    def __init__(self):
        self.values = {}

    def incr(self, key):
        self.values[key] = self.values.get(key, 0) + 1
        return self.values[key]


def test_index_greets_and_names_the_host():
    client = app_module.create_app().test_client()
    body = client.get("/").get_json()
    assert body["message"] == app_module.GREETING
    assert body["host"] == socket.gethostname()


def test_each_app_keeps_its_own_hits():
    one, two = app_module.create_app().test_client(), app_module.create_app().test_client()
    for _ in range(3):
        one.get("/hits")
    assert one.get("/hits").get_json()["hits"] == 4
    assert two.get("/hits").get_json()["hits"] == 1


def test_count_uses_the_shared_store():
    store = FakeRedis()
    a, b = (app_module.create_app(store).test_client() for _ in range(2))
    assert a.get("/count").get_json()["count"] == 1
    assert b.get("/count").get_json()["count"] == 2


def test_count_without_redis_says_what_to_set(monkeypatch):
    monkeypatch.delenv("REDIS_HOST", raising=False)
    response = app_module.create_app().test_client().get("/count")
    assert response.status_code == 503
    assert "REDIS_HOST" in response.get_json()["error"]


def test_health():
    assert app_module.create_app().test_client().get("/health").data == b"ok\n"
