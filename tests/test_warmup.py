"""Images prepared in the background (make lab), and notebooks waiting for theirs."""

from __future__ import annotations

import json
import os
import time

import pytest

from labhelpers import images, warmup
from labhelpers.waiting import wait_until

from .conftest import only_in_bundle


@pytest.fixture
def cache(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    return tmp_path / "labhelpers"


def test_background_prepare_records_each_image_and_finishes(client, python_image, cache):
    for entry in images.CATALOGUE.values():
        images.ensure(entry.ref, client=client, log=lambda line: None)
    assert "in the background" in warmup.start()
    assert wait_until(lambda: not warmup.running(), 120, error=None), open(warmup.log_path()).read()
    status = json.loads((cache / "prepare-status.json").read_text())
    assert status["finished"]
    assert {ref: e["state"] for ref, e in status["images"].items()} == {
        e.ref: "ready" for e in images.CATALOGUE.values()}
    assert not (cache / "prepare-times.json").exists(), "images found present are no measure of the next time"
    assert "prepared 5 images" in open(warmup.log_path()).read()
    assert warmup.summary() is None


def test_summary_says_what_is_ready_what_is_made_and_how_long_is_left():
    now = time.time()
    status = {"pid": os.getpid(), "finished": None, "images": {
        "a:1": {"state": "ready", "since": now - 9, "expected": 9},
        "b:1": {"state": "working", "since": now - 10, "expected": 50},
        "c:1": {"state": "waiting", "since": None, "expected": 40}}}
    line = warmup.summary(status)
    assert line.startswith("1/3 ready; being made: b:1; waiting: c:1 (about ")
    assert 35 <= warmup.seconds_left(status, workers=2) <= 45


def test_waiting_for_images_that_are_present_returns_at_once(client, python_image, cache):
    start = time.monotonic()
    assert warmup.wait_for("00", client=client) is False
    assert time.monotonic() - start < 2


def test_a_notebook_waits_for_the_background_then_prepares_what_it_left(
        client, python_image, prefix, cache, monkeypatch):
    """A background prepare that ends without the notebook's image: wait for it, then do it here."""
    import subprocess

    monkeypatch.setenv("LABHELPERS_OFFLINE", "1")
    ref = f"{prefix}-waited:1"
    only_in_bundle(client, ref)
    monkeypatch.setitem(images.CATALOGUE, "waited",
                        images.ImageSpec(ref, "test", ("77",), 0, standin=None))
    background = subprocess.Popen(["sleep", "3"])
    warmup._write(warmup.status_path(), {"pid": background.pid, "finished": None, "images": {
        ref: {"state": "working", "since": time.time(), "expected": 3}}})
    lines = []
    try:
        start = time.monotonic()
        assert warmup.summary().startswith("0/1 ready; being made: ")
        assert warmup.wait_for("77", client=client, log=lines.append) is True
        assert time.monotonic() - start >= 2.5, "it did not wait for the background prepare"
        assert images.present(client, ref) is not None
        assert any("loading" in line for line in lines), lines
    finally:
        background.wait()
        if images.present(client, ref) is not None:
            client.images.remove(ref)
