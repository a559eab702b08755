"""The room cache for real: filled from this engine, a second engine pulls through it.

The second engine is a throwaway docker-in-docker engine configured with the line
``mirror.config_line`` prints; ``prepare`` there must get its image by pull (from the
mirror, with no upstream registry reachable), not by building a stand-in.
"""

from __future__ import annotations

import os
import shutil
import tempfile

import docker
import pytest

from labhelpers import images, mirror
from labhelpers.machine import dind
from labhelpers.waiting import wait_until

from .conftest import free_port

pytestmark = [pytest.mark.engine, pytest.mark.slow]
PREFIX = os.environ.get("LABHELPERS_TEST_PREFIX", "labhelpers-test-")


def test_config_line_names_the_mirror_and_plain_http():
    line = mirror.config_line("10.1.2.3:5000")
    assert '"registry-mirrors": ["http://10.1.2.3:5000"]' in line
    assert '"insecure-registries": ["10.1.2.3:5000"]' in line


@pytest.fixture
def room(monkeypatch, client):
    monkeypatch.setattr(mirror, "NAME", f"{PREFIX}mirror")
    monkeypatch.setattr(mirror, "VOLUME", f"{PREFIX}mirror-data")
    yield client
    mirror.stop(client, purge=True)


def _dind(client, address: str, folder: str):
    image = images.ensure("dind", client=client)
    binds = {folder: {"bind": "/run/second", "mode": "rw"}}
    return dind.run_dind(
        client, image.id, binds, name=f"{PREFIX}second-engine", labels={mirror.LABEL: "test"},
        command=["dockerd", "--host=unix:///run/second/docker.sock",
                 f"--registry-mirror=http://{address}", f"--insecure-registry={address}"],
        volumes=["/run/second"])


def test_second_engine_prepares_through_the_mirror(room):
    client = room
    ref = images.CATALOGUE["python"].ref
    images.ensure("python", client=client)
    port = free_port()
    status = mirror.start(client, port=port, fill_first=False, log=lambda line: None)
    assert "running" in status and mirror.config_line(mirror.room_address(port)) in status
    mirror.stop(client)
    assert mirror.fill(client, refs=[ref], log=lambda line: None) == [ref]
    mirror.start(client, port=port, fill_first=False, log=lambda line: None)
    assert f"library/{ref}" in mirror.status(client)
    box = client.containers.get(mirror.NAME)
    ip = box.attrs["NetworkSettings"]["IPAddress"]  # the room's address, seen from the bridge
    folder = tempfile.mkdtemp(prefix=f"{PREFIX}second-")
    second = _dind(client, f"{ip}:5000", folder)
    try:
        sock = f"unix://{folder}/docker.sock"

        def answers():
            other = docker.DockerClient(base_url=sock, version="auto", timeout=120)
            other.ping()
            return other

        other = wait_until(answers, 90, interval=0.5, what=f"the engine in {second.name}",
                           todo=second.logs(tail=20).decode(), ignore=(Exception,))
        assert images.present(other, ref) is None
        done = images.prepare(client=other, notebook="00", log=lambda line: None)
        assert [o.how for o in done] == ["pulled"]
        assert any(d.startswith(f"{ref.split(':')[0]}@") for d in other.images.get(ref).attrs["RepoDigests"])
    finally:
        second.remove(force=True, v=True)
        shutil.rmtree(folder, ignore_errors=True)
