"""rawapi: HTTP over the unix socket and the stream frames, against the real engine."""

from __future__ import annotations

import json
import random
import time
import uuid

import pytest

import labhelpers as lab
from labhelpers.rawapi import FrameDecoder, RawClient, demux, frames, hijack, raw_request, split, versions

IMAGE = lab.images.spec("python").ref
BOTH = "for i in 1 2 3; do echo out$i; echo err$i >&2; done"
# Not the notebook's labels: a run of notebook 02 at the same time would clean these away.
RUN = f"h02-{uuid.uuid4().hex[:8]}"
LABELS = {"org.labhelpers.test": RUN}


@pytest.fixture
def api(client):
    return RawClient()  # negotiates on its first request


@pytest.fixture
def make(api, python_image):
    """Create containers with the raw API; remove them afterwards."""
    made = []

    def create(cmd, tty=False, start=True, **extra):
        name = f"h02-{uuid.uuid4().hex[:8]}"
        body = {"Image": IMAGE, "Cmd": ["sh", "-c", cmd], "Tty": tty, "Labels": LABELS, **extra}
        resp = api.post("/containers/create", query={"name": name}, json=body)
        assert resp.status == 201, resp.message
        cid = resp.json()["Id"]
        made.append(cid)
        if start:
            assert api.post(f"/containers/{cid}/start").status == 204
            assert api.post(f"/containers/{cid}/wait").json()["StatusCode"] == 0
        return cid

    yield create
    for cid in made:
        api.delete(f"/containers/{cid}", query={"force": 1})


def test_ping_version_and_negotiation(api):
    assert api.get("/_ping").body == b"OK"
    fresh = RawClient()
    newest = RawClient(version=None).get("/version").json()["ApiVersion"]  # unversioned: the engine's
    assert fresh.negotiate() == min(newest, versions.client_newest(), key=versions.parse)
    too_new = RawClient(version="1.99").get("/version")
    assert too_new.status == 400 and "too new" in too_new.message


def test_raw_request_by_hand_is_http(api):
    answer = raw_request(api.socket_path, "GET", api.url("/_ping"))
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"Api-Version: " in answer and answer.endswith(b"\r\n\r\nOK")


def test_missing_container_is_a_404_with_the_engines_message(api):
    resp = api.get("/containers/h02-does-not-exist/json")
    assert resp.status == 404
    assert resp.message == "No such container: h02-does-not-exist"


def test_filters_are_json_in_the_query(api, make):
    cid = make("true", start=False)
    query = {"all": 1, "filters": {"id": [cid], "label": [f"org.labhelpers.test={RUN}"]}}
    assert [c["Id"] for c in api.get("/containers/json", query=query).json()] == [cid]


def test_logs_decode_both_streams_like_docker_py(client, api, make):
    cid = make(BOTH)
    body = api.get(f"/containers/{cid}/logs", query={"stdout": 1, "stderr": 1}).body
    out, err = split([body])
    assert out == client.api.logs(cid, stdout=True, stderr=False) == b"out1\nout2\nout3\n"
    assert err == client.api.logs(cid, stdout=False, stderr=True) == b"err1\nerr2\nerr3\n"
    streams = [f.name for f in demux([body])]
    assert set(streams) == {"stdout", "stderr"} and len(streams) == 6


def test_frames_split_across_reads_decode_the_same(api, make):
    cid = make("head -c 150000 /dev/zero | tr '\\0' a; echo; echo tail >&2")
    body = api.get(f"/containers/{cid}/logs", query={"stdout": 1, "stderr": 1}).body
    whole = list(demux([body]))
    one_byte = list(demux(body[i:i + 1] for i in range(len(body))))
    rng = random.Random(2)
    cuts = sorted(rng.sample(range(1, len(body)), 40))
    pieces = [body[a:b] for a, b in zip([0] + cuts, cuts + [len(body)])]
    assert whole == one_byte == list(demux(pieces))
    assert b"".join(f.data for f in whole if f.name == "stdout") == b"a" * 150000 + b"\n"
    assert any(len(f.data) < 150001 for f in whole)  # the engine cut the output into several frames


def test_a_stream_cut_inside_a_frame_is_an_error(api, make):
    cid = make("echo hello")
    body = api.get(f"/containers/{cid}/logs", query={"stdout": 1}).body
    decoder = FrameDecoder()
    assert decoder.feed(body[:-2]) == [] and decoder.pending == len(body) - 2
    with pytest.raises(frames.FramingError):
        decoder.close()


def test_tty_output_has_no_frames(api, make):
    cid = make(BOTH, tty=True)
    body = api.get(f"/containers/{cid}/logs", query={"stdout": 1, "stderr": 1}).body
    assert b"out1" in body and b"err1" in body
    with pytest.raises(frames.FramingError):
        FrameDecoder().feed(body)
    assert split([body], tty=True) == (body, b"")


def test_attach_over_a_hijacked_connection(api, make):
    cid = make("read line; echo got $line; echo bye >&2", start=False, OpenStdin=True, StdinOnce=True,
               AttachStdin=True, AttachStdout=True, AttachStderr=True)
    target = api.url(f"/containers/{cid}/attach", {"stream": 1, "stdin": 1, "stdout": 1, "stderr": 1})
    with hijack(api.socket_path, target) as h:
        assert h.status.startswith("HTTP/1.1 101")
        assert api.post(f"/containers/{cid}/start").status == 204
        h.send(b"ping\n")
        h.close_stdin()
        out, err = split(h.chunks(3))  # tiny reads: frames arrive cut
    assert (out, err) == (b"got ping\n", b"bye\n")


def test_events_follow_a_container_started_elsewhere(api, make):
    import threading

    def later():
        time.sleep(0.5)
        make("true")

    thread = threading.Thread(target=later)
    start = time.monotonic()
    thread.start()
    seen = [e["Action"] for e in api.events(3, {"label": [f"org.labhelpers.test={RUN}"], "type": ["container"]})]
    thread.join()
    assert 2.5 < time.monotonic() - start < 10
    assert seen[:2] == ["create", "start"] and "die" in seen
