"""Cloud labs: Binder (no engine: read-only), Codespaces (devcontainer), JupyterHub config."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import labhelpers as lab

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))


def _first_cell_only(path: Path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    first.outputs = []
    nb.cells = [first]
    return nb, first


def _no_engine(monkeypatch, tmp_path):
    """An environment where no engine can be found (what Binder gives the kernel)."""
    for key in ("DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-engine/docker.sock")
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_cell_on_binder_explains_read_only_mode(path, monkeypatch, tmp_path):
    _no_engine(monkeypatch, tmp_path)
    monkeypatch.setenv("BINDER_SERVICE_HOST", "10.0.0.1")  # repo2docker on Binder sets it
    nb, first = _first_cell_only(path)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    kinds = [o.output_type for o in first.outputs]
    assert "error" not in kinds, first.outputs
    text = "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in first.outputs)
    assert "NOT FOUND" in text and "read-only" in text, text


def test_without_binder_the_first_cell_stops_with_one_clear_message(monkeypatch, tmp_path):
    """The control: the same cell off Binder stops "Run all" with the engine diagnosis."""
    _no_engine(monkeypatch, tmp_path)
    for key in ("BINDER_SERVICE_HOST", "BINDER_LAUNCH_HOST", "BINDER_REQUEST"):
        monkeypatch.delenv(key, raising=False)
    nb, first = _first_cell_only(NOTEBOOKS[0])
    with pytest.raises(Exception):
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(NOTEBOOKS[0].parent)}}).execute()
    errors = [o for o in first.outputs if o.output_type == "error"]
    assert errors and errors[0].ename == "EngineNotFound"
    assert any("What to do" in line for line in errors[0].traceback)


@pytest.mark.slow
def test_binder_postbuild_installs_the_package(tmp_path):
    """Run binder/postBuild as repo2docker does (from the root, `python` on the PATH)."""
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ, PATH=f"{venv / 'bin'}:{os.environ['PATH']}")
    env.pop("PYTHONPATH", None)
    done = subprocess.run(["bash", "binder/postBuild"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    where = subprocess.run(
        [str(venv / "bin" / "python"), "-c",
         "import importlib.metadata as m, importlib.util as u;"
         "print(m.version('labhelpers'), u.find_spec('labhelpers').origin)"],
        cwd=tmp_path, env=env, capture_output=True, text=True)
    version, origin = where.stdout.split()
    assert version == lab.__version__
    assert origin.startswith(str(venv)), "installed into the environment, not used from the source"
    assert (Path(origin).parent / "bundle.py").exists()


def test_devcontainer_runs_the_setup_with_docker_in_docker():
    config = json.loads((ROOT / ".devcontainer" / "devcontainer.json").read_text())
    [feature] = config["features"]
    assert feature == "./docker-in-docker", "a local feature: nothing fetched from a registry"
    folder = ROOT / ".devcontainer" / feature
    meta = json.loads((folder / "devcontainer-feature.json").read_text())
    assert meta["id"] == "docker-in-docker" and meta["entrypoint"]
    install = folder / "install.sh"
    script = install.read_text()
    assert "docker.io" in script and "sid main" in script and "Pin-Priority: 990" in script
    assert "containerd-snapshotter" in script and "DOCKER_MIN_API_VERSION" in script
    # The same cgroup-v2 nesting step as the kit image's entrypoint (tested below).
    assert "/sys/fs/cgroup/init/cgroup.procs" in script and "cgroup.subtree_control" in script
    assert subprocess.run(["bash", "-n", str(install)]).returncode == 0
    command = config["postCreateCommand"]
    assert command.startswith("make ")
    dry = subprocess.run(["make", "-n", *command.split()[1:]], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "labhelpers prepare" in dry.stdout
    assert 8888 in config["forwardPorts"]
    assert config["containerEnv"]["LAB_IP"] == "0.0.0.0"


def _nest(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["sh", str(ROOT / "docker" / "entrypoint.sh"), "--nest-cgroup-only"],
                          env={**os.environ, "LAB_CGROUP_ROOT": str(root)},
                          capture_output=True, text=True)


def test_entrypoint_nests_cgroup_v2_and_leaves_v1_alone(tmp_path):
    # cgroup v2 (a fake root): the processes move to /init, the controllers are enabled.
    v2 = tmp_path / "v2"
    v2.mkdir()
    (v2 / "cgroup.controllers").write_text("cpuset cpu io memory pids\n")
    (v2 / "cgroup.procs").write_text("1\n42\n")
    assert _nest(v2).returncode == 0
    assert (v2 / "init" / "cgroup.procs").read_text().split() == ["1", "42"]
    assert (v2 / "cgroup.subtree_control").read_text().split() == [
        "+cpuset", "+cpu", "+io", "+memory", "+pids"]
    # cgroup v1 or hybrid (this host): no cgroup.controllers at the root, nothing touched.
    v1 = tmp_path / "v1"
    (v1 / "memory").mkdir(parents=True)
    assert _nest(v1).returncode == 0
    assert sorted(p.name for p in v1.iterdir()) == ["memory"]


def test_kit_image_documents_the_options_engine_28_needs():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "ARG BASE=" + lab.images.CATALOGUE["python"].ref in dockerfile
    assert "--security-opt systempaths=unconfined" in dockerfile
    assert "systempaths=unconfined" in (ROOT / "docker" / "entrypoint.sh").read_text()


def test_jupyterhub_config_spawns_the_kit_image_with_its_inner_engine(monkeypatch):
    from traitlets.config import Config

    monkeypatch.setenv("LAB_HUB_PASSWORD", "workshop")
    c = Config()
    source = (ROOT / "jupyterhub" / "jupyterhub_config.py").read_text()
    exec(compile(source, "jupyterhub_config.py", "exec"), {"get_config": lambda: c})
    spawner = c.DockerSpawner
    assert c.JupyterHub.spawner_class == "dockerspawner.DockerSpawner"
    assert spawner.image == "docker-python-lab:latest"
    assert spawner.cmd == ["jupyterhub-singleuser"]
    assert "/var/lib/docker" in spawner.volumes.values()
    assert "{username}" in next(k for k, v in spawner.volumes.items() if v == "/var/lib/docker")
    assert spawner.extra_host_config["cap_add"] == ["ALL"]
    assert "seccomp=unconfined" in spawner.extra_host_config["security_opt"]
    assert c.DummyAuthenticator.password == "workshop"
    # The notebooks folder the hub opens is where the Dockerfile puts them.
    assert f"COPY notebooks {spawner.notebook_dir}" in (ROOT / "Dockerfile").read_text()
