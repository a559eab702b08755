"""Five clients on one task, against the real engine: each runs, reads, removes."""

from __future__ import annotations

import os
import uuid

# testcontainers reads its settings when imported: its Ryuk reaper is an image that
# would be pulled, and no registry may be reachable here.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")

import pytest  # noqa: E402

import labhelpers as lab  # noqa: E402
from labhelpers import alternatives  # noqa: E402
from labhelpers.rawapi import Tap  # noqa: E402


@pytest.fixture
def h05(client, python_image):
    """A name prefix and labels for one test; checks that nothing of it is left."""
    tag = f"h05-{uuid.uuid4().hex[:8]}"
    labels = lab.labels_for("05", test=tag)
    yield tag, labels
    left = client.containers.list(all=True, filters={"label": f"org.labhelpers.test={tag}"})
    for c in left:
        c.remove(force=True)
    assert not left, f"left behind: {[c.name for c in left]}"


@pytest.mark.engine
@pytest.mark.parametrize("name", list(alternatives.CLIENTS))
def test_each_client_runs_reads_and_removes(h05, name):
    tag, labels = h05
    seconds, out = alternatives.timed(name, 2, f"{tag}-{name.replace(' ', '')}", labels=labels)
    assert out == ["hello from a container"] * 2
    assert seconds > 0


@pytest.mark.engine
def test_a_failing_container_is_still_removed(h05, client):
    tag, labels = h05
    # The container is created, then fails to start (no such program): the raw way's
    # `finally` must remove it. The tap shows each step really happened, in order.
    with Tap() as tap:
        with pytest.raises(Exception):
            alternatives.with_raw(["h05-no-such-program"], f"{tag}-bad", 1, labels=labels, sock=tap.path)
        tap.wait_idle()
    steps = [(ex.method, "" if ex.method == "DELETE" else ex.path.rsplit("/", 1)[-1], ex.status)
             for ex in tap.records if "/containers/" in ex.path]
    assert [s[:2] for s in steps] == [("POST", "create"), ("POST", "start"), ("DELETE", "")], steps
    assert steps[0][2] == 201 and steps[1][2] >= 400 and steps[2][2] == 204, steps
    assert client.containers.list(all=True, filters={"label": f"org.labhelpers.test={tag}"}) == []
    out = alternatives.with_raw(["python", "-c", "import sys; print('err', file=sys.stderr)"],
                                f"{tag}-stderr", 1, labels=labels)
    assert out == [""]  # stdout only, as asked; the container is gone all the same


@pytest.mark.engine
def test_compare_table(h05):
    tag, labels = h05
    table = alternatives.compare(lambda slug: f"{tag}-{slug}", ns=(1, 2), labels=labels, progress=False)
    assert list(table.index) == list(alternatives.CLIENTS)
    assert table["outputs right"].all()
    assert (table["time for 2 (s)"] > 0).all()
    assert table.loc["raw socket", "dependencies"] == 0
    assert table.loc["docker-py", "dependencies"] >= 4  # docker, requests, urllib3, ...


def test_lines_of_code_skip_docstrings_and_blanks():
    def sample():
        """A docstring
        over two lines."""
        x = 1

        # a comment
        return x

    alternatives.CLIENTS["_sample"] = (sample, None, "test")
    try:
        assert alternatives.lines_of_code("_sample") == 3  # def, x = 1, return
    finally:
        del alternatives.CLIENTS["_sample"]


def test_dependencies_are_transitive():
    deps = alternatives.dependencies("docker")
    assert "requests" in deps and "urllib3" in deps
    assert set(alternatives.dependencies("requests")) < set(deps)


def test_frames_decoder():
    stream = b"\x01\x00\x00\x00\x00\x00\x00\x03abc" + b"\x02\x00\x00\x00\x00\x00\x00\x02de"
    assert alternatives._frames(stream) == b"abcde"
