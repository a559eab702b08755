"""The API tap: the docker CLI behaves exactly the same through it, and every request is recorded."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import time
import uuid

import pytest

import labhelpers as lab
from labhelpers.rawapi import Tap, split

IMAGE = lab.images.spec("python").ref


@pytest.fixture
def tap(client):
    with Tap(record_bodies=True) as tap:
        yield tap


@pytest.fixture
def names(client):
    """Unique container names; whatever carries them is removed afterwards."""
    made = []

    def new():
        made.append(f"h02-{uuid.uuid4().hex[:8]}")
        return made[-1]

    yield new
    for name in made:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True)


def direct(command, input=None):
    env = {k: v for k, v in os.environ.items() if k not in ("DOCKER_HOST", "DOCKER_CONTEXT")}
    return subprocess.run(command, env=env, input=input, capture_output=True, text=True, timeout=120)


def same(tap, command, input=None):
    """Run a command without and with the tap: output and exit status must be identical."""
    plain = direct(command, input)
    tapped = tap.run(command, input=input)
    assert (tapped.stdout, tapped.stderr, tapped.returncode) == (plain.stdout, plain.stderr, plain.returncode)
    return tapped


def test_socket_is_private_and_removed(client):
    with Tap() as tap:
        assert stat.S_IMODE(os.stat(tap.path).st_mode) == 0o600
        assert stat.S_ISSOCK(os.stat(tap.path).st_mode)
        assert stat.S_IMODE(os.stat(os.path.dirname(tap.path)).st_mode) == 0o700
        folder = os.path.dirname(tap.path)
    assert not os.path.exists(folder)


def test_run_with_both_streams_and_an_exit_code(tap, names, python_image):
    name = names()
    command = ["docker", "run", "--rm", "--name", name, IMAGE, "sh", "-c", "echo out; echo err >&2; exit 3"]
    plain = direct(command)
    assert (plain.stdout, plain.stderr, plain.returncode) == ("out\n", "err\n", 3)
    tap.clear()
    name2 = names()
    tapped = tap.run([*command[:4], name2, *command[5:]])
    assert (tapped.stdout, tapped.stderr, tapped.returncode) == ("out\n", "err\n", 3)
    steps = {ex.path.rsplit("/", 1)[-1]: ex for ex in tap.records}
    assert steps["_ping"].method == "HEAD"
    assert steps["create"].status == 201 and json.loads(steps["create"].request_body)["Image"] == IMAGE
    assert steps["attach"].upgraded and steps["attach"].status == 101 and steps["attach"].received > 0
    assert steps["start"].status == 204 and steps["wait"].status == 200
    assert all(ex.duration is not None for ex in tap.records)


def test_stdin_through_a_hijacked_connection(tap, python_image):
    data = "line one\nline two\n" * 500
    tapped = same(tap, ["docker", "run", "-i", "--rm", IMAGE, "cat"], input=data)
    assert tapped.stdout == data
    attach = [ex for ex in tap.records if ex.path.endswith("/attach")][-1]
    assert attach.sent >= len(data)  # stdin went through the tap after the upgrade


def test_inspect_of_a_missing_object_fails_the_same(tap):
    tapped = same(tap, ["docker", "inspect", "h02-missing-object"])
    assert tapped.returncode == 1 and "h02-missing-object" in tapped.stderr
    assert 404 in {ex.status for ex in tap.records}


def test_ps_images_and_logs_are_identical(tap, names, python_image):
    name = names()
    direct(["docker", "run", "--name", name, "--label", "org.labhelpers.test=h02", IMAGE,
            "sh", "-c", "for i in 1 2 3; do echo out$i; echo err$i >&2; done"])
    same(tap, ["docker", "ps", "-a", "--filter", f"name={name}", "--format", "{{.Names}} {{.Image}} {{.Command}}"])
    same(tap, ["docker", "images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}", IMAGE])
    logs = same(tap, ["docker", "logs", name])
    assert logs.stdout == "out1\nout2\nout3\n" and logs.stderr == "err1\nerr2\nerr3\n"
    last = tap.records[-1]
    assert last.path.endswith("/logs") and last.status == 200
    assert split([last.response_body]) == (b"out1\nout2\nout3\n", b"err1\nerr2\nerr3\n")  # frames, as sent


def test_a_streamed_answer_is_recorded_when_it_ends(tap, names, python_image):
    name = names()
    direct(["docker", "create", "--name", name, IMAGE, "true"])

    def events():  # the stream stays open until `until`, 1.5 s from now
        return ["docker", "events", "--since", "60s", "--until", f"{time.time() + 1.5:.3f}",
                "--filter", f"container={name}", "--format", "{{.Action}}"]

    plain, tapped = direct(events()), tap.run(events())
    assert (tapped.stdout, tapped.stderr, tapped.returncode) == (plain.stdout, plain.stderr, plain.returncode)
    assert tapped.stdout == "create\n"
    stream = [ex for ex in tap.records if ex.path.endswith("/events")][-1]
    assert stream.status == 200 and stream.chunked and stream.duration > 1.0


def test_cli_subcommand_keeps_output_and_exit_code(client):
    run = lambda *cmd: subprocess.run([sys.executable, "-m", "labhelpers", "tap", "--", *cmd],
                                      capture_output=True, text=True, timeout=120)
    ok = run("docker", "version", "--format", "{{.Server.APIVersion}}")
    assert ok.returncode == 0 and ok.stdout == direct(["docker", "version", "--format", "{{.Server.APIVersion}}"]).stdout
    lines = ok.stderr.splitlines()
    assert lines[0] == "--- 2 requests through the tap ---"
    assert lines[1].split()[:3] == ["HEAD", "/_ping", "200"] and lines[1].endswith("ms")
    assert lines[2].split()[0] == "GET" and lines[2].split()[1].endswith("/version")
    bad = run("docker", "inspect", "h02-missing-object")
    assert bad.returncode == 1 and "No such object: h02-missing-object" in bad.stderr
    assert "404" in bad.stderr


def test_parser_on_scripted_bytes_forwards_them_unchanged(tmp_path):
    """Pure logic, no engine: a scripted server behind the tap, every byte compared."""
    import socket
    import threading

    answer = (b"HTTP/1.1 100 Continue\r\n\r\n"
              b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
              b"HTTP/1.1 204 No Content\r\n\r\n")
    request = (b"POST /v1.41/build HTTP/1.1\r\nHost: docker\r\nExpect: 100-continue\r\n"
               b"Transfer-Encoding: chunked\r\n\r\n4\r\ntar!\r\n0\r\n\r\n"
               b"DELETE /v1.41/containers/x HTTP/1.1\r\nHost: docker\r\nContent-Length: 0\r\n\r\n")
    path = str(tmp_path / "engine.sock")
    server = socket.socket(socket.AF_UNIX)
    server.bind(path)
    server.listen(1)
    got = []

    def engine():
        conn, _ = server.accept()
        data = b""
        while not data.endswith(b"Content-Length: 0\r\n\r\n"):
            data += conn.recv(1)  # byte by byte: the worst case for the parser
        got.append(data)
        for i in range(0, len(answer), 7):
            conn.sendall(answer[i:i + 7])
        conn.close()

    threading.Thread(target=engine, daemon=True).start()
    with Tap(upstream=path, record_bodies=True) as tap:
        with socket.socket(socket.AF_UNIX) as client:
            client.connect(tap.path)
            for i in range(0, len(request), 5):
                client.sendall(request[i:i + 5])
            received = b"".join(iter(lambda: client.recv(4096), b""))
        tap.wait_idle()
        build, delete = tap.records
    server.close()
    assert got == [request] and received == answer
    assert (build.method, build.path, build.status, build.chunked) == ("POST", "/v1.41/build", 200, True)
    assert (build.request_body, build.response_body, build.sent, build.received) == (b"tar!", b"abcde", 4, 5)
    assert (delete.method, delete.status, delete.response_body) == ("DELETE", 204, None)
    assert build.duration is not None and delete.duration is not None
