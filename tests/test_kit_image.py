"""The kit as one image: run it, wait for JupyterLab, validate every notebook inside it.

Runs only under `make test-image` (which builds the image first and names it in
LABHELPERS_KIT_IMAGE): building takes minutes, so `make test` leaves it to that target.
The container gets the inner engine's capabilities in their explicit form (this host
refuses --privileged: every capability it has), systempaths=unconfined (Engine 28 writes IPv6 sysctls in each
container), a volume for /var/lib/docker, and a random loopback port. One container serves
both tests: the second runs nbval over the image's own copy of the notebooks with the
repository's sanitizer, on the inner engine (Engine 28, Docker 29's defaults).
"""

from __future__ import annotations

import io
import json
import os
import re
import tarfile
import time
import urllib.request
import uuid
from pathlib import Path

import pytest

import labhelpers as lab
from labhelpers.machine.dind import run_dind
from labhelpers.waiting import wait_until

from .conftest import _engine_or_skip

IMAGE = os.environ.get("LABHELPERS_KIT_IMAGE")
TOKEN = "h09-kit"
SANITIZER = Path(__file__).resolve().parent / "nbval-sanitize.cfg"
NOTEBOOKS = sorted(p.name for p in (Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]-*.ipynb"))
#: Seconds nbval may take over every notebook inside the kit.
NBVAL_TIMEOUT = 3600

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not IMAGE, reason="the kit image is tested by `make test-image` "
                                         "(set LABHELPERS_KIT_IMAGE to an image built from the Dockerfile)"),
]



def run_kit(engine, name: str, volume: str, image: str | None = None, token: str = TOKEN):
    """Start the kit as the Dockerfile documents it: --privileged, else its explicit form.

    (This host refuses --privileged: every capability it has, seccomp and AppArmor
    unconfined, the cgroup tree, and systempaths=unconfined.)
    """
    return run_dind(engine, image or IMAGE, binds={volume: {"bind": "/var/lib/docker", "mode": "rw"}},
                    port_bindings={8888: ("127.0.0.1", None)}, name=name,
                    labels=lab.labels_for("09"), environment={"JUPYTER_TOKEN": token})


@pytest.fixture(scope="module")
def engine():
    return _engine_or_skip()


@pytest.fixture(scope="module")
def kit(engine):
    name = f"h09-kit-{uuid.uuid4().hex[:6]}"
    volume = engine.volumes.create(name, labels=lab.labels_for("09"))
    start = time.monotonic()
    container = run_kit(engine, name, volume.name)
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


def _inner(container, *cmd: str) -> str:
    done = container.exec_run(list(cmd))
    assert done.exit_code == 0, done.output.decode(errors="replace")
    return done.output.decode().strip()


def test_kit_image_serves_the_lab_on_its_own_current_engine(kit, engine):
    container, start = kit
    container.reload()
    port = container.ports["8888/tcp"][0]["HostPort"]
    url = f"http://127.0.0.1:{port}/api/contents?token={TOKEN}"
    def answers():
        container.reload()
        assert container.status == "running", container.logs(tail=60).decode(errors="replace")
        return _answers(url)

    wait_until(answers, start + 300 - time.monotonic(), interval=0.5, what="JupyterLab in the kit image")
    answered = time.monotonic() - start
    print(f"docker run -> JupyterLab answering: {answered:.1f} s")
    listing = json.load(urllib.request.urlopen(url, timeout=10))
    assert set(NOTEBOOKS) <= {item["name"] for item in listing["content"]}

    # The inner engine is a separate engine: Engine 28 or later, with Docker 29's defaults.
    assert _inner(container, "docker", "info", "--format", "{{.ID}}") != engine.info()["ID"]
    version = _inner(container, "docker", "version", "--format", "{{.Server.Version}} {{.Server.MinAPIVersion}}")
    print(f"inner engine: {version}")
    assert int(version.split(".")[0]) >= 28 and version.split()[1] == "1.44"
    assert "io.containerd.snapshotter" in _inner(container, "docker", "info", "--format", "{{json .DriverStatus}}")
    assert _inner(container, "docker", "buildx", "version") and _inner(container, "docker", "compose", "version")
    # ... and it holds the lab's images, loaded offline.
    for entry in lab.images.CATALOGUE.values():
        _inner(container, "docker", "image", "inspect", "--format", "{{.Id}}", entry.ref)
    # What a JupyterHub spawns in it (jupyterhub/jupyterhub_config.py) is installed.
    assert container.exec_run(["jupyterhub-singleuser", "--version"]).exit_code == 0


def _sanitizer_tar() -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        tar.add(SANITIZER, arcname="nbval-sanitize.cfg")
    return buf.getvalue()


def test_every_notebook_passes_nbval_inside_the_kit(kit, engine):
    container, _ = kit
    container.put_archive("/tmp", _sanitizer_tar())
    # Wait as long as the notebooks take (docker-py's default read timeout is 60 s).
    api, usual = engine.api, engine.api.timeout
    api.timeout = NBVAL_TIMEOUT
    try:
        output, code, seconds = _nbval(api, container)
    finally:
        api.timeout = usual
    print(f"\nnbval over {len(NOTEBOOKS)} notebooks inside the kit: {seconds:.0f} s")
    assert code == 0, output[-4000:]
    assert re.search(r"\d+ passed", output) and " failed" not in output
    leftovers = _inner(container, "docker", "ps", "-aq", "--filter", "label=org.labhelpers.notebook")
    assert leftovers == "", "the notebooks' last cells clean up"


def _nbval(api, container) -> tuple[str, int, float]:
    cmd = ["python", "-m", "pytest", *NOTEBOOKS, "--nbval", "--nbval-current-env",
           "--nbval-sanitize-with", "/tmp/nbval-sanitize.cfg", "-p", "no:cacheprovider",
           "-q", "--durations=0", "--durations-min=20"]
    start = time.monotonic()
    run = api.exec_create(container.id, cmd, workdir="/home/lab/notebooks")
    chunks = []
    for chunk in api.exec_start(run["Id"], stream=True):
        text = chunk.decode(errors="replace")
        chunks.append(text)
        print(text, end="", flush=True)
    return "".join(chunks), api.exec_inspect(run["Id"])["ExitCode"], time.monotonic() - start
