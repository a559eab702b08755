"""Notebook 01's helpers against the real engine: wheelhouse, app build, registry, compose,
image store, checker. They pass on the machine's engine (20.10, classic store) and on a
current one (Engine 28.5, minimum API 1.44, containerd store): run them with
``scripts/in-current-engine.sh`` in front for the latter.

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
from labhelpers import apps, compose, imagestore, registry, wheelhouse
from labhelpers.checks import nb01
from tests.conftest import _engine_or_skip, free_port

APP = apps.app_dir("hello-flask")
PY = "python:3.13-slim-trixie"
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

def test_wheelhouse_downloads_once_then_is_cached(engine, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    lines = []
    first = wheelhouse.build(os.path.join(APP, "requirements.txt"), log=lines.append, client=engine)
    assert not first.cached
    names = {w.split("-")[0].lower() for w in first.wheels}
    assert {"flask", "werkzeug", "redis", "markupsafe"} <= names
    # MarkupSafe has compiled code: the wheel must be for Linux, CPython 3.13 and the
    # engine's architecture, not the host's Python or machine
    arch = engine.info()["Architecture"]
    assert any(w.startswith("markupsafe") and "cp313" in w and f"manylinux2014_{arch}" in w
               for w in first.wheels), first.wheels
    second = wheelhouse.build(os.path.join(APP, "requirements.txt"), log=lines.append,
                              client=engine)
    assert second.cached and second.wheels == first.wheels and second.path == first.path
    assert "cached" in lines[-1]
    copied = first.copy_to(str(tmp_path / "ctx" / "wheels"))
    assert sorted(os.listdir(copied)) == list(first.wheels)


def test_wheelhouse_is_for_the_engines_architecture_not_the_hosts(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    other = wheelhouse.build(os.path.join(APP, "requirements.txt"), arch="aarch64",
                             log=lambda line: None)
    assert any(w.startswith("markupsafe") and "cp313" in w and "aarch64" in w
               for w in other.wheels), other.wheels


def test_engine_arch_is_docker_infos_architecture(engine):
    assert wheelhouse.engine_arch(engine) == engine.info()["Architecture"]
    assert wheelhouse.platform_tag(wheelhouse.engine_arch(engine)).startswith("manylinux2014_")


def test_platform_tags_cover_newer_glibc_wheels():
    tags = wheelhouse.platform_tags("amd64")
    assert tags[0] == "manylinux_2_36_x86_64" and "manylinux_2_28_x86_64" in tags
    assert tags[-2:] == ["manylinux_2_17_x86_64", "manylinux2014_x86_64"]


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
    assert app_image.steps[0] == f"FROM {PY}"
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
    (tmp_path / "Dockerfile").write_text(f"FROM {PY}\nRUN exit 3\n")
    with pytest.raises(apps.AppError) as err:
        apps.build(str(tmp_path), f"{tag}-broken:test", "01", client=engine, progress=False,
                   labels=TEST_LABELS)
    assert "exit 3" in err.value.what or "non-zero code: 3" in err.value.what


# -- registry -----------------------------------------------------------------------------

def test_push_remove_pull_run_through_a_loopback_registry(engine, app_image, tag, containers):
    reg = registry.start("01", client=engine, name=f"{tag}-registry", labels=TEST_LABELS)
    try:
        assert reg.address.startswith("127.0.0.1:")
        assert reg.software().startswith("Distribution 2.")  # registry:2 is Distribution 2.x
        assert "registry:3 (Distribution 3.x)" in reg.describe()
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


# -- image store and sizes ----------------------------------------------------------------

def test_image_store_is_read_from_the_engine(engine):
    store = imagestore.detect(engine)
    info = engine.info()
    assert store.driver == info["Driver"]
    containerd = ["driver-type", "io.containerd.snapshotter.v1"] in info["DriverStatus"]
    assert store.containerd == containerd
    assert store.size_means == ("content + unpacked snapshot" if containerd else "unpacked layers")


def test_unpacked_size_is_the_classic_measure_on_both_stores(engine):
    lab.ensure("python", client=engine, log=lambda line: None)
    image = engine.images.get(PY)
    unpacked = imagestore.unpacked_bytes(engine, image)
    assert unpacked > 10**6
    listed = imagestore.listed_bytes(engine, PY)
    if imagestore.detect(engine).containerd:
        # docker images: content + snapshot; image inspect: the content alone
        assert listed == image.attrs["Size"] + unpacked
    else:
        assert listed == image.attrs["Size"] == unpacked
    table = imagestore.size_table(engine, [PY, "h01-no-such-image:never"])
    assert list(table.columns) == ["image", "here", "unpacked (MB)", "official (MB)"]
    assert table.loc[0, "unpacked (MB)"] == round(unpacked / 1e6)
    assert table.loc[1, "here"] == "missing"


# -- compose ------------------------------------------------------------------------------

def _compose_v1():
    """Compose v1 where it runs: ``$LABHELPERS_TEST_COMPOSE_V1`` (a command line), or a
    ``docker-compose`` that is v1 (Debian 12's package); None elsewhere."""
    for argv in (os.environ.get("LABHELPERS_TEST_COMPOSE_V1", "").split(), ["docker-compose"]):
        found = compose.probe(argv) if argv else None
        if found and found.retired:
            return found
    return None


V2 = compose.probe(["docker", "compose"])
V1 = _compose_v1()


def test_compose_tool_prefers_v2():
    if V2 is None:
        pytest.skip("no `docker compose` (v2 plugin) here")
    compose.tool.cache_clear()
    assert compose.tool() == V2 and V2.major == 2 and not V2.retired
    assert str(compose.tool()).endswith("(`docker compose`, v2)")


def test_compose_v1_says_it_is_retired():
    v1 = compose.Tool(("docker-compose",), "1.29.2")
    assert v1.retired and "retired" in str(v1) and "Compose v2" in str(v1)


def test_compose_without_any_tool_says_what_to_install(monkeypatch):
    compose.tool.cache_clear()
    monkeypatch.setattr(compose.shutil, "which", lambda name: None)
    try:
        with pytest.raises(compose.ComposeError) as err:
            compose.tool()
        assert "Compose v2" in err.value.todo and "make setup" in err.value.todo
    finally:
        compose.tool.cache_clear()


@pytest.mark.parametrize("which", ["v2", "v1"])
def test_compose_up_counts_through_redis_then_down(engine, app_image, tag, which):
    using = {"v2": V2, "v1": V1}[which]
    if using is None:
        pytest.skip(f"compose {which} does not run here")
    lab.ensure("redis", client=engine, log=lambda line: None)
    project, port = f"{tag}-counter-{which}", free_port()
    file = os.path.join(APP, "docker-compose.yml")
    env = {"APP_IMAGE": app_image.tag, "WEB_PORT": str(port)}
    try:
        running = compose.up(file, project, env=env, using=using, client=engine)
        services = [c.labels[compose.SERVICE_LABEL] for c in running]
        assert services == ["redis", "web"]
        web = running[1]
        sep = "_" if using.retired else "-"
        assert web.name == f"{project}{sep}web{sep}1"
        apps.wait_http(web)
        counts = [requests.get(f"http://127.0.0.1:{port}/count", timeout=5).json()["count"]
                  for _ in range(3)]
        assert counts == [1, 2, 3]
        assert web.labels["org.labhelpers.notebook"] == "01"
    finally:
        compose.down(file, project, env=env, using=using)
    assert compose.ps(project, client=engine) == []
    assert engine.networks.list(filters={"label": f"{compose.PROJECT_LABEL}={project}"}) == []


def test_compose_v1_recreating_on_todays_engine_says_what_to_do(engine, app_image, tag):
    """v1 reaches a current engine (it negotiates), but re-creating a changed service
    needs the image's ContainerConfig, which the containerd store does not report."""
    if V1 is None:
        pytest.skip("compose v1 does not run here (set LABHELPERS_TEST_COMPOSE_V1)")
    lab.ensure("redis", client=engine, log=lambda line: None)
    project, file = f"{tag}-recreate-v1", os.path.join(APP, "docker-compose.yml")
    env = {"APP_IMAGE": app_image.tag, "WEB_PORT": str(free_port())}
    try:
        compose.up(file, project, env=env, using=V1, client=engine)
        changed = {**env, "WEB_PORT": str(free_port())}          # web must be re-created
        if imagestore.detect(engine).containerd:
            with pytest.raises(compose.ComposeError) as err:
                compose.up(file, project, env=changed, using=V1, client=engine)
            assert "ContainerConfig" in err.value.what and "Compose v2" in err.value.todo
        else:
            web = compose.up(file, project, env=changed, using=V1, client=engine)[1]
            assert apps.host_port(web) == int(changed["WEB_PORT"])
    finally:
        compose.down(file, project, env=env, using=V1)
    assert compose.ps(project, client=engine) == []


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
        PY, ["python", "-m", "http.server", "5000"], detach=True,
        name=f"{tag}-impostor", labels=TEST_LABELS, ports={"5000/tcp": ("127.0.0.1", ports[1])}))
    result = nb01.two_instances(ports, client=engine)
    assert not result.passed
    assert result.missing == [f"{tag}-impostor publishes port {ports[1]} but runs "
                              f"{PY}, not the app's image"]


def test_wait_healthy_follows_the_images_healthcheck(engine, app_image, tag, containers):
    c = apps.run(app_image.tag, "01", "x", name=f"{tag}-health", labels=TEST_LABELS, client=engine)
    containers.append(c)
    assert apps.wait_healthy(c) == "healthy"
    plain = engine.containers.run(PY, ["sleep", "30"], detach=True,
                                  name=f"{tag}-nohealth", labels=TEST_LABELS)
    containers.append(plain)
    assert apps.wait_healthy(plain) == "none"


# -- the python image family --------------------------------------------------------------

def test_python_tag_table_agrees_with_the_catalogue():
    from labhelpers import images, pythonimages

    table = pythonimages.table().set_index("tag")["about MB (unpacked)"]
    for name in ("python", "python-full"):
        spec = images.spec(name)
        assert table[spec.ref] == spec.official_mb, spec.ref


def test_compose_project_names_are_the_notebooks():
    assert compose.project_name("01", "counter") == "nb01-counter"
