"""The one reader of build, pull and push streams (labhelpers.streams).

Pure logic reads recorded stream dicts (as the engines sent them); the build tests
talk to the real engine.
"""

from __future__ import annotations

import io

import pytest

from labhelpers import streams
from labhelpers.errors import LabError, StreamError
from labhelpers.registry import RegistryError

# Docker Engine 20.10's legacy builder, one cached step, one run step, then the image.
LEGACY = [
    {"stream": "Step 1/3 : FROM python:3.13-slim-trixie"}, {"stream": "\n"},
    {"stream": " ---> 3f5ac2a5c1e2\n"},
    {"stream": "Step 2/3 : WORKDIR /srv\n"}, {"stream": " ---> Using cache\n"},
    {"stream": " ---> 9b1d0e3f2a11\n"},
    {"stream": "Step 3/3 : RUN echo hi\n"}, {"stream": " ---> Running in 0c9a\n"},
    {"stream": "hi\n"}, {"stream": "Removing intermediate container 0c9a\n"},
    {"aux": {"ID": "sha256:" + "ab" * 32}},
    {"stream": "Successfully built abababababab\n"},
]
# Podman's (buildah's) words for the same.
BUILDAH = [{"stream": "STEP 1/2: FROM python:3.13-slim-trixie\n"},
           {"stream": "STEP 2/2: RUN echo hi\n"}, {"stream": "--> Using cache 1234\n"}]
FAILED = [{"stream": "Step 1/1 : RUN false\n"}, {"stream": " ---> Running in 77aa\n"},
          {"errorDetail": {"code": 1, "message": "The command '/bin/sh -c false' returned a non-zero code: 1"},
           "error": "The command '/bin/sh -c false' returned a non-zero code: 1"},
          {"stream": "never read\n"}]


def test_legacy_build_steps_cache_and_image():
    events = list(streams.build_events(LEGACY))
    steps = [(e.step, e.total, e.instruction) for e in events if e.kind == "step"]
    assert steps == [(1, 3, "FROM python:3.13-slim-trixie"), (2, 3, "WORKDIR /srv"), (3, 3, "RUN echo hi")]
    assert [e.kind for e in events].count("cached") == 1
    assert [e.image_id for e in events if e.kind == "image"] == ["sha256:" + "ab" * 32]
    assert "hi" in [e.text for e in events if e.kind == "line"]
    assert all(e.text.strip() for e in events if e.kind != "image"), "no blank lines"


def test_buildah_steps_are_read_too():
    events = list(streams.build_events(BUILDAH))
    assert [(e.kind, e.step) for e in events] == [("step", 1), ("step", 2), ("cached", 0)]


def test_a_build_error_is_the_last_event():
    events = list(streams.build_events(FAILED))
    assert events[-1].kind == "error" and "non-zero code: 1" in events[-1].text
    assert "never read" not in [e.text for e in events]


def test_buildkit_plain_lines_in_any_order():
    reader = streams.BuildKitSteps()
    lines = ["#1 [internal] load build definition from Dockerfile", "#1 DONE 0.0s",
             "#4 [stage-0 1/3] FROM docker.io/library/python:3.13-slim-trixie@sha256:" + "0" * 64,
             "#6 [stage-0 3/3] COPY app.py ./", "#5 [stage-0 2/3] RUN pip install flask",
             "#4 DONE 0.1s", "#5 CACHED", "#6 DONE 0.2s", "#6 DONE 0.2s"]
    ended = [e for e in map(reader.feed, lines) if e]
    assert ended == [("FROM docker.io/library/python:3.13-slim-trixie", True),
                     ("RUN pip install flask", True), ("COPY app.py ./", False)]
    assert [step for step, _ in reader.steps()] == [
        "FROM docker.io/library/python:3.13-slim-trixie", "RUN pip install flask", "COPY app.py ./"]
    assert reader.tail[-1] == "#6 DONE 0.2s"


def test_pull_layers_progress_and_digest():
    layers = streams.Layers("pull", "redis:8")
    events = [{"status": "Pulling from library/redis", "id": "8"},
              {"status": "Pulling fs layer", "id": "a1"},
              {"status": "Downloading", "id": "a1", "progressDetail": {"current": 100, "total": 400}},
              {"status": "Downloading", "id": "a1", "progressDetail": {"current": 300, "total": 400}},
              {"status": "Verifying Checksum", "id": "a1"},
              {"status": "Pull complete", "id": "a1"},
              {"status": "Already exists", "id": "b2"},
              {"status": "Digest: sha256:" + "c" * 64}]
    changed = [layers.feed(e) for e in events]
    assert changed == [None, None, "a1", "a1", "a1", "a1", None, None]
    assert layers.progress == {"a1": (400, 400)} and layers.done == {"a1", "b2"}
    assert layers.digest == "sha256:" + "c" * 64


def test_push_digest_and_the_callers_error():
    layers = streams.Layers("push", "127.0.0.1:5000/app:1", RegistryError, "start the registry")
    layers.feed({"status": "Pushed", "id": "d4"})
    layers.feed({"status": f"1.0: digest: sha256:{'e' * 64} size: 527"})
    assert layers.done == {"d4"} and layers.digest == "sha256:" + "e" * 64
    with pytest.raises(RegistryError) as caught:
        layers.feed({"errorDetail": {"message": "connection refused"}})
    assert "connection refused" in caught.value.what and caught.value.todo == "start the registry"


def test_a_stream_error_is_a_lab_error():
    with pytest.raises(StreamError) as caught:
        streams.Layers("pull", "x:1").feed({"error": "manifest unknown"})
    assert isinstance(caught.value, LabError) and caught.value.todo


def test_progress_outside_a_notebook_is_tqdm():
    with streams.progress(total=3, desc="build x", unit=" step", file=io.StringIO()) as bar:
        bar.update(3)
    assert bar.n == 3


# -- on the real engine -------------------------------------------------------------------

@pytest.mark.engine
def test_a_real_build_read_by_every_caller(client, python_image, prefix, tmp_path):
    from labhelpers import dockerfiles
    from labhelpers.builds import BuildError

    (tmp_path / "Dockerfile").write_text(f"FROM {python_image.id}\nRUN echo {prefix}\n")
    tag = f"helpers-{prefix}:1"
    try:
        chunks = list(client.api.build(path=str(tmp_path), tag=tag, rm=True, decode=True))
        events = list(streams.build_events(chunks))
        assert [(e.step, e.total) for e in events if e.kind == "step"] == [(1, 2), (2, 2)]
        built = [e.image_id for e in events if e.kind == "image"] or [client.images.get(tag).id]
        assert client.images.get(tag).id == built[0]
        first = dockerfiles.build(tmp_path, tag, notebook="99", client=client, log=None)
        assert f"RUN echo {prefix}" in [step for step, _ in first.steps]
        again = dockerfiles.build(tmp_path, tag, notebook="99", client=client, log=None)
        assert again.rerun == [], "the second build comes from the cache"
        assert again.image_id == client.images.get(tag).id
        (tmp_path / "Dockerfile").write_text(f"FROM {python_image.id}\nRUN exit 3\n")
        with pytest.raises(BuildError, match="non-zero code: 3"):
            dockerfiles.build(tmp_path, tag + "-bad", notebook="99", client=client, log=None)
        with pytest.raises(BuildError, match="cannot be read|refused"):
            dockerfiles.build(tmp_path / "missing", tag, notebook="99", client=client, log=None)
    finally:
        for name in (tag, tag + "-bad"):
            try:
                client.images.remove(name, force=True)
            except Exception:  # noqa: BLE001 - not built
                pass
