"""Podman's Docker-compatible socket (labhelpers.podman), against a real Podman service.

`make test-podman` starts the kit's service, prepares the lab's images into it and runs
this file with the notebooks of PODMAN_NOTEBOOKS (00, 01, 02 and 04), with
DOCKER_HOST naming Podman's socket.
Where no Podman service answers, the engine tests skip with the reason (they fail where
LABHELPERS_REQUIRE_PODMAN=1, as make test-podman sets; the machine's `make test` runs
before Podman is installed, so LABHELPERS_REQUIRE_ENGINE alone does not require it).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import time

import docker
import pytest

import labhelpers as lab
from labhelpers import podman
from labhelpers.doctor import check
from labhelpers.errors import PodmanStartError

REQUIRE = os.environ.get("LABHELPERS_REQUIRE_PODMAN") == "1"

# The message runc gave through Podman 4.3's API on this machine without the kit's settings.
RLIMIT_FAILURE = ("runc: runc create failed: unable to start container process: error during "
                  "container init: error setting rlimits for ready process: error setting rlimit "
                  "type 7: operation not permitted: OCI permission denied")


def _skip_or_fail(why: str):
    if REQUIRE:
        pytest.fail(f"LABHELPERS_REQUIRE_PODMAN=1 but {why}", pytrace=False)
    pytest.skip(why)


@pytest.fixture
def socket_path():
    """The socket of a Podman service that answers: DOCKER_HOST's, else the rootful one."""
    host = os.environ.get("DOCKER_HOST", "")
    candidates = ([host.removeprefix("unix://")] if host.startswith("unix://") else []) + lab.engine.podman_sockets()
    for path in candidates:
        version = podman._answers(path)
        if version is not None and podman.is_podman(version):
            return path
    _skip_or_fail("no Podman service answers (start one: `make podman`, as root)")


@pytest.fixture
def on_podman(socket_path, monkeypatch):
    """The kit pointed at Podman with DOCKER_HOST, as a learner would; its client."""
    monkeypatch.setenv("DOCKER_HOST", f"unix://{socket_path}")
    lab.engine.reset()
    yield lab.client()
    lab.engine.reset()


def test_podman_sockets_rootful_and_rootless():
    found = lab.engine.podman_sockets({"XDG_RUNTIME_DIR": "/run/user/1000"})
    assert set(found) == {"/run/podman/podman.sock", "/run/user/1000/podman/podman.sock"}
    urls = lab.engine._default_sockets()
    assert "unix:///run/podman/podman.sock" in urls
    assert urls.index("unix:///var/run/docker.sock") < urls.index("unix:///run/podman/podman.sock")


def test_settings_stay_within_this_machines_hard_limits():
    text = podman.settings()
    for name in podman.WANTED_ULIMITS:
        value = podman.ulimits()[name]
        hard = resource.getrlimit(getattr(resource, f"RLIMIT_{name.upper()}"))[1]
        assert f'"{name}={value}:{value}"' in text
        assert hard == resource.RLIM_INFINITY or value <= hard


def test_the_rlimit_failure_says_what_to_set():
    err = podman.explain_start_failure(docker.errors.APIError(RLIMIT_FAILURE))
    assert isinstance(err, PodmanStartError)
    assert "default_ulimits" in err.todo and "containers.conf" in err.todo
    assert podman.explain_start_failure(docker.errors.APIError("no such image")) is None


@pytest.mark.engine
def test_the_doctor_says_podman_and_that_containers_start(on_podman):
    report = check()
    assert report.ok, report
    assert report["engine version"].startswith("Podman ")
    assert "a container starts in" in report["engine version"]


@pytest.mark.engine
def test_docker_py_runs_a_container_through_podman(on_podman):
    image = lab.images.spec("python").ref
    lab.ensure(image, client=on_podman, log=lambda line: None)
    start = time.monotonic()
    out = on_podman.containers.run(image, ["python", "-c", "print('hi')"], remove=True,
                                   labels=lab.labels_for("00"))
    assert out == b"hi\n"
    assert time.monotonic() - start < 30


@pytest.mark.engine
def test_stand_ins_are_tagged_as_docker_lists_them(on_podman):
    image = lab.ensure("python", client=on_podman, log=lambda line: None)
    assert lab.images.spec("python").ref in map(lab.images.short_tag, image.tags)
    if image.labels.get(lab.labels.STANDIN):
        assert lab.images.is_standin(image)
    assert not [t for t in map(lab.images.short_tag, image.tags) if t.endswith("-labhelpers-import")]


@pytest.mark.engine
def test_the_kits_service_reads_only_the_kits_settings(socket_path):
    pid = podman._pid()
    if pid is None or socket_path != podman.ROOTFUL_SOCKET:
        pytest.skip("the Podman service here is not the kit's (python -m labhelpers engine podman start)")
    environ = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
    conf = os.path.join(podman.RUN_DIR, "containers.conf")
    assert f"CONTAINERS_CONF={conf}".encode() in environ
    assert open(conf).read() == podman.settings()
    registries = os.path.join(podman.RUN_DIR, "registries.conf")
    assert f"CONTAINERS_REGISTRIES_CONF={registries}".encode() in environ
    assert 'location = "127.0.0.1"\ninsecure = true' in open(registries).read()


@pytest.mark.engine
def test_a_service_without_the_kits_settings_is_diagnosed(socket_path, tmp_path, on_podman):
    """A second service on a private socket, with Podman's defaults: the doctor's test run."""
    if not shutil.which("podman") or os.geteuid() != 0:
        pytest.skip("needs the podman command, as root")
    sock = tmp_path / "defaults.sock"
    proc = subprocess.Popen(["podman", "system", "service", "--time=0", f"unix://{sock}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={k: v for k, v in os.environ.items() if k != "CONTAINERS_CONF"})
    try:
        for _ in range(100):
            if podman._answers(str(sock)) is not None:
                break
            time.sleep(0.2)
        plain = docker.DockerClient(base_url=f"unix://{sock}", version="1.41")
        try:
            podman.smoke_test(plain, lab.images.spec("python").ref)
        except PodmanStartError as err:
            assert "rlimit" in err.what and "default_ulimits" in err.todo
        else:
            pytest.skip("Podman's default rlimits are within this host's hard limits: nothing to diagnose")
        finally:
            plain.close()
    finally:
        proc.terminate()
        proc.wait(timeout=30)


@pytest.mark.engine
def test_stats_come_about_once_a_second_as_on_docker(on_podman):
    """Podman 4.3's stats stream sends one document every 5 s: stats.frame asks one at a time."""
    from labhelpers import stats

    busy = on_podman.containers.run(lab.images.spec("python").ref, ["python", "-c", "while True: pass"],
                                    detach=True, nano_cpus=500_000_000, labels=lab.labels_for("99"))
    try:
        df = stats.frame(busy, samples=3)
    finally:
        busy.remove(force=True)
    # The samples' own clock, not the cell's: Podman's stream would space them 5 s apart.
    gaps = df["t (s)"].diff().dropna()
    assert len(df) == 3 and (gaps < 3).all(), df
    assert df["cpu %"].notna().all() and df["cpu %"].max() > 5 and df["cpu %"].mean() < 60


@pytest.mark.engine
def test_a_build_summary_names_the_dockerfiles_last_step_not_the_kits_labels(on_podman):
    """buildah lists the build's labels quoted (LABEL "org.labhelpers.notebook"="99")."""
    import io

    from labhelpers.widgets.build import BuildProgress

    progress = BuildProgress(on_podman)
    dockerfile = f"FROM {lab.images.spec('python').ref}\nCMD [\"true\"]\n"
    image = progress.build("h-podman-summary:1", fileobj=io.BytesIO(dockerfile.encode()),
                           labels=lab.labels_for("99"))
    try:
        assert progress.summary().endswith('the Dockerfile\'s last: CMD ["true"]'), progress.summary()
    finally:
        on_podman.images.remove(image.id, force=True)
