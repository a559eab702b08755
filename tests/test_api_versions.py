"""API version negotiation, against both real engines: the machine's and the current one.

The machine's engine (Debian 12's 20.10) serves API 1.12 to 1.41; the current one
(Engine 28.5 started with Docker 29's defaults) serves 1.44 to 1.51. Every client of
the kit must agree on a version inside that range, and a client that cannot gets one
clear LabError. Literal versions appear here only as what a client is pinned to.
"""

from __future__ import annotations

import json
import os

import docker
import docker.constants
import docker.errors
import pytest

import labhelpers as lab
from labhelpers import current
from labhelpers.errors import EngineRefusesClient
from labhelpers.rawapi import RawClient, latency, negotiated, versions
from labhelpers.widgets.explorer import Explorer

MACHINE = "/var/run/docker.sock"
CURRENT = "/run/labhelpers-current/docker.sock"


@pytest.fixture(params=["machine", "current"])
def sock(request):
    """The socket of each engine; the current one is skipped while it is not running."""
    path = MACHINE if request.param == "machine" else CURRENT
    if not os.path.exists(path) or (path == CURRENT and not current.running()):
        if request.param == "machine" and os.environ.get("LABHELPERS_REQUIRE_ENGINE") == "1":
            pytest.fail(f"no engine at {path}")
        pytest.skip(f"no engine at {path} (the current engine is not running)")
    return path


def engine_range(path):
    answer = RawClient(path, version=None).get("/version").json()  # unversioned: always answered
    return answer["MinAPIVersion"], answer["ApiVersion"]


def test_raw_client_uses_the_older_of_both_newest(sock):
    oldest, newest = engine_range(sock)
    api = RawClient(sock)
    resp = api.get("/containers/json")
    expected = min(newest, versions.client_newest(), key=versions.parse)
    assert resp.status == 200 and api.version == expected
    assert resp.path == f"/v{expected}/containers/json"
    assert versions.parse(oldest) <= versions.parse(api.version) <= versions.parse(newest)


def test_the_engine_answers_400_outside_its_range(sock):
    oldest, newest = engine_range(sock)
    too_old = RawClient(sock, version=versions.shifted(oldest, -1)).get("/version")
    assert too_old.status == 400 and "is too old" in too_old.message and oldest in too_old.message
    too_new = RawClient(sock, version=versions.shifted(newest, +1)).get("/version")
    assert too_new.status == 400 and "is too new" in too_new.message and newest in too_new.message


def test_a_client_older_than_the_engines_oldest_is_refused_clearly(sock):
    oldest, _ = engine_range(sock)
    pinned = versions.shifted(oldest, -1)
    with pytest.raises(EngineRefusesClient) as err:
        negotiated(sock, client=pinned)
    assert f"{oldest} to" in err.value.what and "pip install -U docker" in err.value.todo
    with pytest.raises(EngineRefusesClient):
        RawClient(sock).negotiate(newest=pinned)


def test_kit_client_negotiates_and_diagnose_is_unversioned(sock, clean_env, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{sock}")
    version = lab.engine.diagnose()
    assert {"ApiVersion", "MinAPIVersion"} <= set(version)
    client = lab.client()
    assert client.api.api_version == negotiated(sock)
    assert client.ping() and client.version()["ApiVersion"] == version["ApiVersion"]


def test_docker_py_7_0_on_engine_29_defaults_gets_one_lab_error(clean_env, monkeypatch):
    """For real: the current engine (oldest 1.44) and a docker-py that speaks 1.41 (docker 7.0)."""
    if not current.running():
        pytest.skip(f"no engine at {CURRENT} (the current engine is not running)")
    oldest, _ = engine_range(CURRENT)
    if versions.parse(oldest) <= (1, 41):
        pytest.skip(f"the current engine serves API {oldest}: not started with Docker 29's minimum")
    with pytest.raises(docker.errors.APIError) as raw:  # what docker 7.0 alone would meet
        docker.APIClient(base_url=f"unix://{CURRENT}", version="1.41").containers()
    assert raw.value.status_code == 400 and "too old" in str(raw.value)
    monkeypatch.setattr(docker.constants, "DEFAULT_DOCKER_API_VERSION", "1.41")
    monkeypatch.setenv("DOCKER_HOST", f"unix://{CURRENT}")
    with pytest.raises(EngineRefusesClient) as err:
        lab.client()
    assert "docker-py" in err.value.what and "`pip install -U docker`" in err.value.todo
    report = lab.doctor(strict=False)  # the first cell of every notebook shows the same message
    assert isinstance(report.error, EngineRefusesClient) and "refuses" in report["engine"]


def test_latency_and_explorer_negotiate(sock):
    table = latency.measure(repeat=2, warmup=0, socket_path=sock)
    assert len(table) == len(latency.WAYS) * len(latency.ENDPOINTS)
    explorer = Explorer(RawClient(sock))
    explorer.choose("GET /version")
    explorer.send_button.click()
    assert explorer.last.status == 200
    assert json.loads(explorer.last.body)["ApiVersion"] == engine_range(sock)[1]


def test_negotiating_with_no_engine_is_a_lab_error(tmp_path):
    with pytest.raises(lab.errors.LabError) as err:
        RawClient(str(tmp_path / "none.sock")).get("/version")
    assert "doctor" in err.value.todo
