"""The kit as one image: run it, wait for JupyterLab, run notebook 00 inside it.

Runs only under `make test-image` (which builds the image first and names it in
LABHELPERS_KIT_IMAGE): building takes minutes, so `make test` leaves it to that target.
The container gets the inner engine's capabilities in their explicit form (this host
refuses --privileged), a volume for /var/lib/docker, and a random loopback port.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
import uuid

import docker.errors
import pytest

import labhelpers as lab

IMAGE = os.environ.get("LABHELPERS_KIT_IMAGE")
TOKEN = "h09-kit"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not IMAGE, reason="the kit image is tested by `make test-image` "
                                         "(set LABHELPERS_KIT_IMAGE to an image built from the Dockerfile)"),
]

# Docker-in-Docker without --privileged: the explicit form documented in the Dockerfile.
DIND = dict(cap_add=["ALL"], cap_drop=["SYS_RESOURCE"],
            security_opt=["seccomp=unconfined", "apparmor=unconfined"])

RUN_NOTEBOOK = """
import nbformat, time
from nbclient import NotebookClient
nb = nbformat.read('00-start-here.ipynb', as_version=4)
start = time.monotonic()
NotebookClient(nb, timeout=600, kernel_name='python3').execute()
errors = [o for c in nb.cells if c.cell_type == 'code' for o in c.outputs if o.output_type == 'error']
print('notebook 00 ran in %.1f s, errors: %d' % (time.monotonic() - start, len(errors)))
print(''.join(str(c.outputs) for c in nb.cells if c.cell_type == 'code')[:3000])
"""


@pytest.fixture
def kit(client):
    name = f"h09-kit-{uuid.uuid4().hex[:6]}"
    volume = client.volumes.create(name, labels=lab.labels_for("09"))
    start = time.monotonic()
    container = client.containers.run(
        IMAGE, name=name, detach=True, labels=lab.labels_for("09"),
        environment={"JUPYTER_TOKEN": TOKEN}, ports={"8888/tcp": ("127.0.0.1", None)},
        volumes={volume.name: {"bind": "/var/lib/docker", "mode": "rw"},
                 "/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}}, **DIND)
    try:
        yield container, start
    finally:
        print(container.logs(tail=40).decode(errors="replace"))
        container.remove(force=True)
        volume.remove(force=True)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def test_kit_image_serves_the_lab_and_runs_notebook_00_on_its_inner_engine(kit, client):
    container, start = kit
    container.reload()
    port = container.ports["8888/tcp"][0]["HostPort"]
    url = f"http://127.0.0.1:{port}/api/contents?token={TOKEN}"
    deadline = start + 300
    while not _answers(url):
        container.reload()
        assert container.status == "running", container.logs(tail=60).decode(errors="replace")
        assert time.monotonic() < deadline, "JupyterLab did not answer within 300 s"
        time.sleep(0.5)
    answered = time.monotonic() - start
    print(f"docker run -> JupyterLab answering: {answered:.1f} s")
    listing = json.load(urllib.request.urlopen(url, timeout=10))
    assert "00-start-here.ipynb" in {item["name"] for item in listing["content"]}

    # The inner engine is a separate engine, and it holds the lab's images, loaded offline.
    inner = container.exec_run(["docker", "info", "--format", "{{.ID}} {{.Images}}"])
    assert inner.exit_code == 0, inner.output
    assert inner.output.decode().split()[0] != client.info()["ID"]
    for entry in lab.images.CATALOGUE.values():
        found = container.exec_run(["docker", "image", "inspect", entry.ref])
        assert found.exit_code == 0, f"{entry.ref} is not in the inner engine"

    # What a JupyterHub spawns in it (jupyterhub/jupyterhub_config.py) is installed.
    assert container.exec_run(["jupyterhub-singleuser", "--version"]).exit_code == 0

    done = container.exec_run(["python", "-c", RUN_NOTEBOOK])
    text = done.output.decode(errors="replace")
    print(text[:400])
    assert done.exit_code == 0, text[-3000:]
    assert "errors: 0" in text
    assert "Docker Engine" in text  # the doctor's report, from the inner engine
    leftovers = container.exec_run(["docker", "ps", "-aq", "--filter", "label=org.labhelpers.notebook=00"])
    assert leftovers.output.strip() == b""
