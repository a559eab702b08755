"""BuildKit from Python (python-on-whales' buildx), and wheels for the engine's platform.

Real engines only: run it on the machine's engine and, with
``scripts/in-current-engine.sh`` in front, on the current one.
"""

from __future__ import annotations

import shutil
import subprocess
import uuid

import pytest

from labhelpers import builds, dockerfiles, wheelhouse
from labhelpers.images import spec

needs_buildx = pytest.mark.skipif(
    not shutil.which("docker") or subprocess.run(["docker", "buildx", "version"],
                                                 capture_output=True).returncode != 0,
    reason="no docker CLI with the buildx plugin here")


@pytest.fixture
def base():
    return f"hbld-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def project(tmp_path, base, client):
    project = builds.scaffold(tmp_path / "project", base=base, log=None)
    builds.wheelhouse(project, client=client, log=None)
    return project


def _dangling(client) -> set[str]:
    return {i.id for i in client.images.list(filters={"dangling": True,
                                                     "label": "org.labhelpers.notebook=06"})}


def test_wheelhouse_is_for_the_engines_architecture(client, project):
    arch = wheelhouse.platform_tag(client.version()["Arch"]).split("_", 1)[1]  # x86_64, aarch64
    wheels = sorted(p.name for p in (project / "app" / "wheels").glob("*.whl"))
    compiled = [w for w in wheels if not w.endswith("-none-any.whl")]
    assert compiled and all(arch in w for w in compiled), wheels  # markupsafe: the engine's arch


def test_the_legacy_builder_refuses_run_mount(client, python_image, project, base):
    dockerfiles.add_variants(project, ("cache-mount",))
    with pytest.raises(builds.BuildError):
        dockerfiles.build(project / "app", f"{base}-legacy:1", "Dockerfile.cache-mount",
                          client=client, log=None)


@needs_buildx
@pytest.mark.slow
def test_buildkit_rebuild_after_a_code_change_keeps_pip_cached(client, python_image, project, base):
    dockerfile = project / "app" / "Dockerfile"
    dockerfile.write_text(dockerfiles.variant("cache-mount").replace(spec("python-full").ref,
                                                                     spec("python").ref))
    tag = f"{base}-bk:1"
    before = _dangling(client)
    lines: list[str] = []
    try:
        cold = dockerfiles.buildkit(project / "app", tag, client=client, nocache=True, log=lines.append)
        assert any(line.split()[:2] == ["ran", "RUN"] for line in lines), lines
        dockerfiles.touch_code(project)
        again = dockerfiles.buildkit(project / "app", tag, client=client, log=None)
        assert again.rerun == ["COPY app.py ./"], again.steps
        # in the Dockerfile's order, whatever order BuildKit's parallel steps printed in
        assert [s.split()[0] for s, _ in again.steps] == ["FROM", "WORKDIR", "COPY", "RUN", "COPY"]
        assert cold.image_id != again.image_id
        image = client.images.get(tag)
        assert image.id == again.image_id and image.labels["org.labhelpers.notebook"] == "06"
        assert _dangling(client) <= before, "the image the rebuild replaced is removed"
        out = client.containers.run(tag, ["python", "-c", "import flask; print('ok')"], remove=True)
        assert out == b"ok\n"
    finally:
        try:
            client.images.remove(tag, force=True)
        except Exception:
            pass


def test_no_docker_cli_is_one_clear_error(client, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # python-on-whales finds no `docker` here
    with pytest.raises(builds.BuildError) as caught:
        dockerfiles.whales(client)
    assert "docker CLI" in caught.value.what and "docker-buildx" in caught.value.todo


@needs_buildx
def test_whales_talks_to_the_kits_engine_with_buildx(client):
    builder = dockerfiles.whales(client).buildx.inspect()
    assert builder.driver == "docker"  # builds inside the engine: no registry, no container
