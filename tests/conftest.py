"""Shared fixtures: the real engine (or a clear skip), and per-test name prefixes."""

from __future__ import annotations

import os
import uuid

import pytest

import labhelpers as lab
from labhelpers.errors import EngineError
from labhelpers.ports import free_port  # noqa: F401 (the tests import it from here)

REQUIRE = os.environ.get("LABHELPERS_REQUIRE_ENGINE") == "1"


def _engine_or_skip():
    lab.engine.reset()
    try:
        return lab.client()
    except EngineError as err:
        if REQUIRE:
            pytest.fail(f"LABHELPERS_REQUIRE_ENGINE=1 but no engine: {err}", pytrace=False)
        pytest.skip(f"no Docker engine reachable ({err.what}); run `make engine`")


@pytest.fixture
def client():
    """The kit's DockerClient for the real engine; skips (or fails in CI) without one."""
    return _engine_or_skip()


@pytest.fixture
def python_image(client):
    """The lab's python image, made present the way the notebooks do."""
    return lab.ensure("python", client=client, log=lambda line: None)


@pytest.fixture
def prefix():
    """A unique name prefix for the Docker objects one test creates."""
    return f"lhtest-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """An environment with no DOCKER_* settings and an empty docker config folder."""
    for key in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    lab.engine.reset()
    yield
    lab.engine.reset()


