"""Notebook 01's helpers against the real engine: wheelhouse, app build, registry, compose, checker.

Every object here is named ``h01-<random>-...`` and carries only a test label (never the
lab's notebook labels), so a notebook run on the same engine never removes it, and each
test removes what it made.
"""

from __future__ import annotations

import os
import uuid

import docker.errors
import pytest
import requests

import labhelpers as lab
from labhelpers import apps, compose, registry, wheelhouse
from labhelpers.checks import nb01
from tests.conftest import _engine_or_skip, free_port

APP = apps.app_dir("hello-flask")
TEST_LABELS = {"org.labhelpers-test.h01": "true"}


@pytest.fixture(scope="module")
def engine():
    return _engine_or_skip()


@pytest.fixture(scope="module")
def tag():
    return f"h01-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def app_image(engine, tag):
    """The hello-flask image, built once for the module the way the notebook builds it."""
    lab.ensure("python", client=engine, log=lambda line: None)
    report = apps.build(APP, f"{tag}-hello-flask:test", "01", client=engine,
                        progress=False, labels=TEST_LABELS)
    yield report
    try:
        engine.images.remove(report.tag, force=True)
    except docker.errors.ImageNotFound:
        pass


@pytest.fixture
def containers(engine):
    """Containers a test starts; removed afterwards whatever happens."""
    started = []
    yield started
    for c in started:
        try:
            c.remove(force=True, v=True)
        except docker.errors.NotFound:
            pass


# -- wheelhouse ---------------------------------------------------------------------------

def test_wheelhouse_downloads_once_then_is_cached(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    lines = []
    first = wheelhouse.build(os.path.join(APP, "requirements.txt"), log=lines.append)
    assert not first.cached
    names = {w.split("-")[0].lower() for w in first.wheels}
    assert {"flask", "werkzeug", "redis", "markupsafe"} <= names
    # MarkupSafe has compiled code: the wheel must be for Linux and CPython 3.11, not the host
    assert any(w.startswith("markupsafe") and "cp311" in w and "manylinux" in w for w in first.wheels)
    second = wheelhouse.build(os.path.join(APP, "requirements.txt"), log=lines.append)
    assert second.cached and second.wheels == first.wheels and second.path == first.path
    assert "cached" in lines[-1]
    copied = first.copy_to(str(tmp_path / "ctx" / "wheels"))
    assert sorted(os.listdir(copied)) == list(first.wheels)


def test_wheelhouse_failure_says_what_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    req = tmp_path / "requirements.txt"
    req.write_text("flask==0.0.0.1\n")
    with pytest.raises(wheelhouse.WheelhouseError) as err:
        wheelhouse.build(str(req), log=lambda line: None)
    assert "flask" in err.value.what and err.value.todo
    leftovers = os.listdir(tmp_path / "labhelpers" / "wheelhouse")
    assert leftovers == [], "a failed download leaves no partial wheelhouse"


def test_platform_tag_refuses_unknown_arch():
    with pytest.raises(wheelhouse.WheelhouseError):
        wheelhouse.platform_tag("s390x")


# -- the app image ------------------------------------------------------------------------

def test_app_image_is_built_well(engine, app_image):
    assert app_image.steps[0] == "FROM python:3.11-slim-bookworm"
    steps = " | ".join(app_image.steps)
    assert steps.index("COPY requirements.txt") < steps.index("COPY app.py"), "deps before code"
    config = app_image.image.attrs["Config"]
    assert config["User"] == "app"
    assert config["Healthcheck"]["Test"][0] == "CMD"
    assert app_image.image.labels["org.labhelpers-test.h01"] == "true"
    listing = engine.containers.run(app_image.tag, ["ls", "-A", "/app"], remove=True).decode().split()
    assert listing == ["app.py", "requirements.txt"], ".dockerignore keeps tests and wheels out"


def test_app_runs_answers_and_becomes_healthy(engine, app_image, tag, containers):
    c = apps.run(app_image.tag, "01", "x", name=f"{tag}-web", labels=TEST_LABELS, client=engine)
    containers.append(c)
    assert apps.get(c, "/")["message"] == "Hello from hello-flask"
    assert [apps.get(c, "/hits")["hits"] for _ in range(2)] == [2, 3]
    table = apps.table([c], extra=lambda c: {"hits": apps.get(c, "/hits")["hits"]})
    assert list(table.columns) == ["name", "status", "port", "uptime", "hits"]
    assert table.loc[0, "status"] == "running" and table.loc[0, "hits"] == 4
    assert table.loc[0, "uptime"].startswith("Up ")


def test_rebuild_after_a_code_change_reuses_the_dependency_layer(engine, app_image, tag, tmp_path):
    import shutil

    copy = tmp_path / "app"
    shutil.copytree(APP, copy)
    (copy / "app.py").write_text((copy / "app.py").read_text().replace(
        'GREETING = "Hello from hello-flask"', 'GREETING = "Hello again"'))
    report = apps.build(str(copy), f"{tag}-hello-flask:changed", "01", client=engine,
                        progress=False, labels=TEST_LABELS)
    try:
        pip_step = next(i for i, s in enumerate(report.steps) if s.startswith("RUN pip install"))
        assert report.cached >= pip_step, report.log  # every step up to pip install: cached
        out = engine.containers.run(report.tag, ["python", "-c", "import app; print(app.GREETING)"],
                                    remove=True)
        assert out.decode().strip() == "Hello again"
    finally:
        engine.images.remove(report.tag, force=True)


def test_a_failing_build_raises_with_the_failing_step(engine, tag, tmp_path):
    (tmp_path / "Dockerfile").write_text("FROM python:3.11-slim-bookworm\nRUN exit 3\n")
    with pytest.raises(apps.AppError) as err:
        apps.build(str(tmp_path), f"{tag}-broken:test", "01", client=engine, progress=False,
                   labels=TEST_LABELS)
    assert "exit 3" in err.value.what or "non-zero code: 3" in err.value.what


# -- registry -----------------------------------------------------------------------------

def test_push_remove_pull_run_through_a_loopback_registry(engine, app_image, tag, containers):
    reg = registry.start("01", client=engine, name=f"{tag}-registry", labels=TEST_LABELS)
    try:
        assert reg.address.startswith("127.0.0.1:")
        ref = reg.ref(f"{tag}-hello:1.0")
        engine.images.get(app_image.tag).tag(ref)
        pushed = registry.push(ref, client=engine)
        assert pushed["digest"].startswith("sha256:") and pushed["layers"] >= 1
        assert f"{tag}-hello" in reg.catalog() and reg.tags(f"{tag}-hello") == ["1.0"]
        engine.images.remove(ref)
        with pytest.raises(docker.errors.ImageNotFound):
            engine.images.get(ref)
        pulled = registry.pull(ref, client=engine)
        assert pulled["digest"] == pushed["digest"]
        c = apps.run(ref, "01", "x", name=f"{tag}-pulled", labels=TEST_LABELS, client=engine)
        containers.append(c)
        assert requests.get(apps.url(c, "/health"), timeout=5).text == "ok\n"
        engine.images.remove(ref, force=True)
    finally:
        reg.stop()
    with pytest.raises(docker.errors.NotFound):
        engine.containers.get(reg.container.id)


def test_push_to_a_stopped_registry_fails_clearly(engine, app_image, tag):
    reg = registry.start("01", client=engine, name=f"{tag}-registry-gone", labels=TEST_LABELS)
    ref = reg.ref(f"{tag}-nowhere:1")
    reg.stop()
    engine.images.get(app_image.tag).tag(ref)
    try:
        with pytest.raises(registry.RegistryError) as err:
            registry.push(ref, client=engine)
        assert "push" in err.value.what and err.value.todo
    finally:
        engine.images.remove(ref)


# -- compose ------------------------------------------------------------------------------

def test_compose_tool_is_found_and_runs():
    found = compose.tool()
    assert found.argv in (("docker", "compose"), ("docker-compose",))
    assert found.major in (1, 2)


def test_compose_without_any_tool_says_what_to_install(monkeypatch):
    compose.tool.cache_clear()
    monkeypatch.setattr(compose.shutil, "which", lambda name: None)
    try:
        with pytest.raises(compose.ComposeError) as err:
            compose.tool()
        assert "docker-compose" in err.value.todo
    finally:
        compose.tool.cache_clear()


def test_compose_up_counts_through_redis_then_down(engine, app_image, tag):
    lab.ensure("redis", client=engine, log=lambda line: None)
    project, port = f"{tag}-counter", free_port()
    file = os.path.join(APP, "docker-compose.yml")
    env = {"APP_IMAGE": app_image.tag, "WEB_PORT": str(port)}
    try:
        running = compose.up(file, project, env=env)
        services = [c.labels[compose.SERVICE_LABEL] for c in running]
        assert services == ["redis", "web"]
        web = running[1]
        apps.wait_http(web)
        counts = [requests.get(f"http://127.0.0.1:{port}/count", timeout=5).json()["count"]
                  for _ in range(3)]
        assert counts == [1, 2, 3]
        assert web.labels["org.labhelpers.notebook"] == "01"
    finally:
        compose.down(file, project, env=env)
    assert compose.ps(project, client=engine) == []
    assert engine.networks.list(filters={"label": f"{compose.PROJECT_LABEL}={project}"}) == []


def test_compose_failure_raises_with_its_output(tag, tmp_path):
    bad = tmp_path / "docker-compose.yml"
    bad.write_text("services:\n  web:\n    image: h01-no-such-image-anywhere:never\n")
    with pytest.raises(compose.ComposeError) as err:
        compose.up(str(bad), f"{tag}-bad")
    compose.down(str(bad), f"{tag}-bad")
    assert "up" in err.value.what


# -- the exercise's checker ---------------------------------------------------------------

def test_checker_passes_with_two_app_instances(engine, app_image, tag, containers):
    ports = (free_port(), free_port())
    for i, port in enumerate(ports):
        containers.append(apps.run(app_image.tag, "01", "x", port=port, name=f"{tag}-ex{i}",
                                   labels=TEST_LABELS, client=engine))
    result = nb01.two_instances(ports, client=engine)
    assert result.passed, repr(result)
    assert "pass" in repr(result)


def test_checker_says_what_is_missing(engine, app_image, tag, containers):
    ports = (free_port(), free_port())
    result = nb01.two_instances(ports, client=engine)
    assert not result.passed and len(result.missing) == 2
    assert all("no running container publishes port" in m for m in result.missing)
    containers.append(apps.run(app_image.tag, "01", "x", port=ports[0], name=f"{tag}-one",
                               labels=TEST_LABELS, client=engine))
    result = nb01.two_instances(ports, client=engine)
    assert not result.passed and len(result.missing) == 1 and str(ports[1]) in result.missing[0]


def test_checker_rejects_another_image_on_the_port(engine, app_image, tag, containers):
    ports = (free_port(), free_port())
    containers.append(apps.run(app_image.tag, "01", "x", port=ports[0], name=f"{tag}-ok",
                               labels=TEST_LABELS, client=engine))
    containers.append(engine.containers.run(
        "python:3.11-slim-bookworm", ["python", "-m", "http.server", "5000"], detach=True,
        name=f"{tag}-impostor", labels=TEST_LABELS, ports={"5000/tcp": ("127.0.0.1", ports[1])}))
    result = nb01.two_instances(ports, client=engine)
    assert not result.passed
    assert result.missing == [f"{tag}-impostor publishes port {ports[1]} but runs "
                              "python:3.11-slim-bookworm, not the app's image"]


def test_wait_healthy_follows_the_images_healthcheck(engine, app_image, tag, containers):
    c = apps.run(app_image.tag, "01", "x", name=f"{tag}-health", labels=TEST_LABELS, client=engine)
    containers.append(c)
    assert apps.wait_healthy(c) == "healthy"
    plain = engine.containers.run("python:3.11-slim-bookworm", ["sleep", "30"], detach=True,
                                  name=f"{tag}-nohealth", labels=TEST_LABELS)
    containers.append(plain)
    assert apps.wait_healthy(plain) == "none"
