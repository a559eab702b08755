"""Finding the engine and diagnosing every way it fails, each situation made for real."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler
from socketserver import ThreadingMixIn, UnixStreamServer

import pytest

import labhelpers as lab
from labhelpers import engine
from labhelpers.errors import (
    EngineNotFound,
    EngineNotRunning,
    EnginePermissionDenied,
    EngineTLSError,
    EngineTooOld,
    EngineUnreachable,
    LabError,
)

from .conftest import free_port


def test_docker_host_wins_over_context_and_socket(clean_env, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "tcp://127.0.0.1:2375")
    monkeypatch.setenv("DOCKER_CONTEXT", "does-not-matter")
    endpoint = engine.find_endpoint()
    assert (endpoint.url, endpoint.source) == ("tcp://127.0.0.1:2375", "DOCKER_HOST")


def test_default_socket_when_nothing_is_set(clean_env):
    endpoint = engine.find_endpoint()
    assert endpoint.source == "default socket"
    assert endpoint.url.startswith("unix://")


def test_current_context_is_used_and_talks_to_the_engine(clean_env, client, tmp_path, monkeypatch):
    """A context made by the real `docker context create`, selected by `docker context use`."""
    real = engine.find_endpoint({"DOCKER_CONFIG": os.environ["DOCKER_CONFIG"]})
    env = dict(os.environ)
    subprocess.run(["docker", "context", "create", "labtest", "--docker", f"host={real.url}"],
                   env=env, check=True, capture_output=True)
    subprocess.run(["docker", "context", "use", "labtest"], env=env, check=True, capture_output=True)
    endpoint = engine.find_endpoint()
    assert endpoint.source == "context labtest"
    assert endpoint.url == real.url
    assert lab.client().ping()


def test_missing_context_says_how_to_pick_one(clean_env, monkeypatch):
    monkeypatch.setenv("DOCKER_CONTEXT", "nowhere")
    with pytest.raises(EngineNotFound, match="docker context use"):
        engine.find_endpoint()


def test_no_socket(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/docker.sock")
    with pytest.raises(EngineNotFound) as err:
        lab.client()
    assert "does not exist" in err.value.what
    assert "engine start" in err.value.todo


def test_socket_file_with_no_listener_means_daemon_not_running(clean_env, monkeypatch, tmp_path):
    path = str(tmp_path / "docker.sock")
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(path)  # the file exists, nobody listens: what a dead dockerd leaves
    stale.close()
    monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
    with pytest.raises(EngineNotRunning, match="no daemon listens"):
        lab.client()


def _run_as_unprivileged(code: str, env: dict) -> subprocess.CompletedProcess:
    """Run Python without the capabilities that let root ignore file modes."""
    cmd = [sys.executable, "-c", code]
    if os.geteuid() == 0:
        cmd = ["setpriv", "--inh-caps=-all",
               "--bounding-set=-dac_override,-dac_read_search", *cmd]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)


def test_permission_denied_on_the_socket(clean_env, tmp_path):
    path = str(tmp_path / "docker.sock")
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(path)
    listener.listen(1)
    os.chmod(path, 0o000)
    try:
        env = dict(os.environ, DOCKER_HOST=f"unix://{path}")
        done = _run_as_unprivileged(
            "import labhelpers as lab\n"
            "try:\n    lab.client()\n"
            "except lab.errors.EnginePermissionDenied as err:\n    print('DENIED', err)\n",
            env,
        )
    finally:
        listener.close()
    assert "DENIED" in done.stdout, done.stdout + done.stderr
    assert "usermod -aG" in done.stdout


def test_docker_host_pointing_nowhere(clean_env, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")
    with pytest.raises(EngineUnreachable) as err:
        lab.client()
    assert "nothing answers" in err.value.what
    assert "unset DOCKER_HOST" in err.value.todo


def test_docker_host_with_a_bogus_scheme(clean_env, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "banana://engine")
    with pytest.raises(EngineUnreachable, match="scheme"):
        lab.client()


def test_tls_endpoint_with_missing_certificates(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{free_port()}")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(tmp_path / "certs"))
    with pytest.raises(EngineTLSError) as err:
        lab.client()
    assert "ca.pem" in err.value.todo


class _OldEngine(BaseHTTPRequestHandler):
    """Answers like Docker 1.6 (API 1.18) would: an engine far too old for the lab."""

    def do_GET(self):
        body = json.dumps({"Version": "1.6.2", "ApiVersion": "1.18", "Os": "linux"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def address_string(self):
        return "unix"

    def log_message(self, *args):
        pass


class _UnixHTTPServer(ThreadingMixIn, UnixStreamServer):
    daemon_threads = True


def test_engine_too_old(clean_env, monkeypatch, tmp_path):
    path = str(tmp_path / "old.sock")
    server = _UnixHTTPServer(path, _OldEngine)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("DOCKER_HOST", f"unix://{path}")
        with pytest.raises(EngineTooOld) as err:
            lab.client()
    finally:
        server.shutdown()
        server.server_close()
    assert "API 1.18" in err.value.what
    assert "upgrade" in err.value.todo


def test_every_engine_error_is_a_lab_error_with_advice(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/nothing.sock")
    with pytest.raises(LabError) as err:
        lab.client()
    assert "What to do:" in str(err.value)
    assert err.value._render_traceback_()[0].count("\n") == 0


def test_client_is_cached_and_works(client):
    assert lab.client() is client
    assert client.ping()
    assert engine.round_trip_ms(client.api, repeat=5) > 0


def test_doctor_reports_the_engine(client):
    report = lab.doctor()
    assert report.ok
    assert report["engine"] == "found"
    for row in ("endpoint", "engine version", "API version", "OS/arch", "lab images",
                "free disk", "round trip"):
        assert report[row]
    assert "<table>" in report._repr_html_()


def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "labhelpers", *args], capture_output=True,
                          text=True, env=env, timeout=120)


def test_doctor_cli_exit_codes(client, tmp_path):
    ok = _cli("doctor")
    assert ok.returncode == 0, ok.stderr
    assert "engine version" in ok.stdout
    env = dict(os.environ, DOCKER_HOST=f"unix://{tmp_path}/none.sock")
    bad = _cli("doctor", env=env)
    assert bad.returncode == 1
    assert "What to do:" in bad.stdout
    assert "Traceback" not in bad.stdout + bad.stderr


def test_doctor_in_strict_mode_raises_one_clear_error(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    with pytest.raises(EngineNotFound):
        lab.doctor()
    report = lab.doctor(strict=False)
    assert not report.ok and report["engine"] == "NOT FOUND"


def test_doctor_on_binder_explains_read_only(clean_env, monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/none.sock")
    monkeypatch.setenv("BINDER_LAUNCH_HOST", "https://mybinder.example/")
    report = lab.doctor()
    assert "read-only" in report["read-only"]


def test_engine_status_and_start_do_nothing_with_an_engine(client):
    status = _cli("engine", "status")
    assert status.returncode == 0 and status.stdout.startswith("running: Docker")
    start = _cli("engine", "start")
    assert start.returncode == 0 and "already running" in start.stdout
