"""Shared fixtures: the real engine (or a clear skip), and per-test name prefixes.

Also the order of `make test` (issue 13): tests that need no engine are marked ``quick``
and run first, side by side on pytest-xdist workers, stopping at the first failure
(``pytest -m quick -x -n 2``); then the rest and the notebooks. Each test carries the group
of its notebook (its nbval run, its second run and the test files that create objects under
its prefix, or check that it has none left). ``--share K/N`` keeps only the groups of share K
of N, so that N pytest processes run side by side (``scripts/test-shares.sh``), each running
its notebooks one after the other: two notebooks of different shares share no object, and
nbval's kernel stays with its notebook's cells (pytest-xdist's workers do not promise that).
"""

from __future__ import annotations

import io
import os
import uuid

import pytest

import labhelpers as lab
from labhelpers.errors import EngineError
from labhelpers.ports import free_port  # noqa: F401 (the tests import it from here)

REQUIRE = os.environ.get("LABHELPERS_REQUIRE_ENGINE") == "1"
# The notebooks' second run (test_notebooks.py) runs every exercise's solution, as nbval
# does (notebooks/conftest.py): the stored outputs were made so.
os.environ.setdefault("LABHELPERS_RUN_SOLUTIONS", "1")
#: Fixtures that need the engine: a test using none of them (and not slow) is ``quick``.
ENGINE_FIXTURES = {"client", "python_image"}
#: Test files that create objects under a notebook's number, or check that it has none
#: left: they share that notebook's group. 09 and 99 are numbers no notebook uses.
NOTEBOOK_OF = {
    "test_demo.py": "00", "test_bundle.py": "09", "test_exercises.py": "09",
    "test_browser.py": "04", "test_nb01_helpers.py": "01", "test_checks_nb02.py": "02",
    "test_machine.py": "03", "test_nb04_checks.py": "04", "test_nb04_widgets.py": "04",
    "test_nb04_stats.py": "99", "test_labels.py": "99", "test_streams.py": "99",
    "test_builds.py": "06",
}
#: Numbers whose objects meet across test files, so their groups run in one process: the
#: browser's learner path makes notebook 04's nb04-small; the demo, the browser and the
#: exercises use 09 (and check it is left empty); test_labels cleans all of 99.
SAME_GROUP = {"04": "00", "09": "00", "99": "00"}


#: Seconds each group took in `make test`'s two shares side by side (their JUnit XML, Debian
#: 12's engine, load 8-10);
#: --share deals the groups out by these, the longest first, to the share with the least.
#: A group not named here counts as GROUP_SECONDS_DEFAULT.
GROUP_SECONDS = {
    "nb00": 525, "nb01": 195, "nb02": 70, "nb03": 275, "nb05": 130, "nb06": 535,
    "test_alternatives.py": 40, "test_cloud.py": 25, "test_lab.py": 25, "test_mirror.py": 25,
}
GROUP_SECONDS_DEFAULT = 10


def pytest_addoption(parser):
    parser.addoption("--share", default=None, metavar="K/N",
                     help="run only share K of N of the tests' groups (each notebook with its tests)")


def shares(groups: list[str], count: int) -> list[set[str]]:
    """Deal groups out to ``count`` shares by their seconds, the longest first.

    >>> [sorted(share) for share in shares(["nb03", "nb06", "nb00", "test_engine.py"], 2)]
    [['nb06', 'test_engine.py'], ['nb00', 'nb03']]
    """
    dealt: list[set[str]] = [set() for _ in range(count)]
    load = [0] * count
    for group in sorted(set(groups), key=lambda g: (-GROUP_SECONDS.get(g, GROUP_SECONDS_DEFAULT), g)):
        lightest = load.index(min(load))
        dealt[lightest].add(group)
        load[lightest] += GROUP_SECONDS.get(group, GROUP_SECONDS_DEFAULT)
    return dealt


def _share(option: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in option.split("/"))
    except ValueError:
        raise pytest.UsageError(f"--share {option}: expected K/N, such as 1/2") from None
    if not 1 <= k <= n:
        raise pytest.UsageError(f"--share {option}: K must be between 1 and N")
    return k, n


def _group(item) -> str:
    """The xdist group of a test: its notebook's (``nb04``), else its file's."""
    number = None
    callspec = getattr(item, "callspec", None)
    if item.path.suffix == ".ipynb":
        number = item.path.name[:2]
    elif item.path.name == "test_notebooks.py" and callspec is not None:
        number = callspec.params["path"].name[:2]
    else:
        number = NOTEBOOK_OF.get(item.path.name)
    if number is None:
        return item.path.name
    return f"nb{SAME_GROUP.get(number, number)}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark the engine-less tests ``quick`` and put them first; give each test its group."""
    for item in items:
        needs_engine = (item.path.suffix == ".ipynb" or ENGINE_FIXTURES & set(getattr(item, "fixturenames", ()))
                        or item.get_closest_marker("slow") or item.get_closest_marker("engine"))
        if not needs_engine:
            item.add_marker(pytest.mark.quick)
        item.add_marker(pytest.mark.xdist_group(_group(item)))
    items.sort(key=lambda item: item.get_closest_marker("quick") is None)
    option = config.getoption("--share")
    if option:
        k, n = _share(option)
        mine = shares([_group(item) for item in items], n)[k - 1]
        keep = [item for item in items if _group(item) in mine]
        config.hook.pytest_deselected(items=[item for item in items if _group(item) not in mine])
        items[:] = keep


def _engine_or_skip():
    lab.engine.reset()
    try:
        return lab.client()
    except EngineError as err:
        if REQUIRE:
            pytest.fail(f"LABHELPERS_REQUIRE_ENGINE=1 but no engine: {err}", pytrace=False)
        pytest.skip(f"no Docker engine reachable ({err.what}); run `make engine`")


@pytest.fixture
def client():
    """The kit's DockerClient for the real engine; skips (or fails in CI) without one."""
    return _engine_or_skip()


@pytest.fixture
def python_image(client):
    """The lab's python image, made present the way the notebooks do.

    Shared with the notebooks running beside the test: never tag it; :func:`own_image`
    gives a test an image of its own to tag, save and remove.
    """
    return lab.ensure("python", client=client, log=lambda line: None)


def own_image(client, ref: str):
    """Build ``ref`` as this test's own image: the python image plus one label.

    A tag put on the shared python image itself shows in every notebook that prints that
    image's tags (notebook 05 does), and ``make test`` runs notebooks in another process at
    the same time. An image of its own has its own ID, so its tag shows nowhere else; it
    shares the python image's layers, so it costs no disk and saves and loads the same.

    >>> own_image(client, "lhtest-1a2b3c4d-bundled:1").tags
    ['lhtest-1a2b3c4d-bundled:1']
    """
    base = lab.images.spec("python").ref
    image, _ = client.images.build(fileobj=io.BytesIO(f"FROM {base}\n".encode()), tag=ref,
                                   labels={"org.labhelpers.test": ref}, pull=False, rm=True)
    return image


def only_in_bundle(client, ref: str) -> str:
    """Make ``ref`` an image that exists only as its offline bundle, where ``ensure`` looks.

    Builds it with :func:`own_image`, saves it to :func:`labhelpers.images.bundle_path`
    (under the current ``XDG_CACHE_HOME``) and removes it from the engine.

    >>> only_in_bundle(client, "lhtest-1a2b3c4d-bundled:1").endswith("bundled_1.tar")
    True
    """
    path = lab.images.bundle_path(ref)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        for chunk in own_image(client, ref).save(named=ref):
            f.write(chunk)
    client.images.remove(ref)
    return path


@pytest.fixture
def prefix():
    """A unique name prefix for the Docker objects one test creates."""
    return f"lhtest-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    """An environment with no DOCKER_* settings and an empty docker config folder."""
    for key in ("DOCKER_HOST", "DOCKER_TLS_VERIFY", "DOCKER_CERT_PATH", "DOCKER_CONTEXT"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DOCKER_CONFIG", str(tmp_path / "docker-config"))
    lab.engine.reset()
    yield
    lab.engine.reset()


