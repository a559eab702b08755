"""The current engine (labhelpers.current): today's Docker Engine with Docker 29's defaults.

`make test-current` runs this file, with every notebook, through
`scripts/in-current-engine.sh`: the engine's socket at the default path, its published
ports on 127.0.0.1, as a learner on Engine 28/29 or Docker Desktop has them. Run any
other way, it skips (or fails where LABHELPERS_REQUIRE_CURRENT=1).
"""

from __future__ import annotations

import os
import urllib.request

import docker
import docker.errors
import pytest

import labhelpers as lab
from labhelpers import current, ports
from labhelpers.waiting import wait_until
from labhelpers.rawapi.versions import parse

pytestmark = pytest.mark.engine


@pytest.fixture
def version(client):
    found = client.version()
    if found.get("MinAPIVersion") != current.MIN_API_VERSION:
        why = (f"the engine at the default socket is Docker {found.get('Version')}, not the current "
               "engine: run this file with scripts/in-current-engine.sh (make test-current)")
        if os.environ.get("LABHELPERS_REQUIRE_CURRENT") == "1":
            pytest.fail(why, pytrace=False)
        pytest.skip(why)
    return found


def test_it_is_todays_engine_with_docker_29_defaults(client, version):
    assert parse(version["Version"]) >= (28,)
    assert version["MinAPIVersion"] == "1.44"
    info = client.info()
    assert ["driver-type", "io.containerd.snapshotter.v1"] in info["DriverStatus"]


def test_a_client_pinned_to_an_old_api_is_refused(version):
    old = docker.APIClient(base_url="unix:///var/run/docker.sock", version="1.41")
    with pytest.raises(docker.errors.APIError, match="1.41 is too old"):
        old.containers()
    old.close()


def test_the_kits_client_negotiates(client, version):
    assert parse(client.api.api_version) >= (1, 44)
    assert client.ping()


def test_published_ports_answer_on_loopback(client, version, python_image, prefix):
    box = client.containers.run(
        python_image.id, ["python", "-m", "http.server", "8000"], name=f"{prefix}-web",
        ports={"8000/tcp": ("127.0.0.1", None)}, detach=True, labels=lab.labels.labels_for("00"))
    try:
        box.reload()
        url = ports.url(box, "/", "8000/tcp")
        wait_until(lambda: urllib.request.urlopen(url, timeout=2).status == 200, 20,
                   what=f"the web server at {url}", ignore=(OSError,))
    finally:
        box.remove(force=True)


def test_bind_mounts_see_the_same_paths(client, version, python_image, tmp_path):
    (tmp_path / "hello.txt").write_text("same path\n")
    out = client.containers.run(python_image.id, ["cat", f"{tmp_path}/hello.txt"],
                                volumes={str(tmp_path): {"bind": str(tmp_path), "mode": "ro"}},
                                remove=True)
    assert out == b"same path\n"
