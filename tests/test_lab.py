"""`make lab` serves JupyterLab on the notebooks (the README's first command)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from pathlib import Path

import pytest

from labhelpers.waiting import wait_until

from .conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_make_lab_serves_the_notebooks(client):
    port, token = free_port(), "labtest"
    proc = subprocess.Popen(
        ["make", "-s", "lab", f"LAB_PORT={port}", "NO_BROWSER=1", f"LAB_TOKEN={token}"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/api/contents?token={token}"
    try:
        def listed():
            if proc.poll() is not None:
                raise AssertionError("JupyterLab ended:\n" + proc.stdout.read())
            with urllib.request.urlopen(url, timeout=5) as answer:
                return json.load(answer)

        listing = wait_until(listed, 180, interval=0.5, what="JupyterLab (make lab)", ignore=(OSError,))
        names = {item["name"] for item in listing["content"]}
        assert "00-start-here.ipynb" in names
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab?token={token}", timeout=10) as page:
            assert page.status == 200
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
