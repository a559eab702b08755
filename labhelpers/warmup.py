"""The lab's images, prepared in the background while JupyterLab already serves.

``make lab`` starts ``python -m labhelpers prepare --background`` and serves JupyterLab
at once. The background prepare writes its progress to :func:`status_path` (one JSON
document: each image's state, when it started, how long it is expected to take);
:func:`summary` turns it into the doctor's line (which images are ready, which are
being made, how long is left) and :func:`wait_for`, which ``lab.doctor("NN")`` calls,
waits with a progress bar for the images *that notebook* needs, or prepares them
itself when nothing is preparing them.

>>> from labhelpers import warmup
>>> warmup.start()                               # doctest: +SKIP
'preparing the lab's images in the background (log: ~/.cache/labhelpers/prepare.log)'
>>> warmup.wait_for("00")                        # doctest: +SKIP

Introduced in ``00-start-here``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time

from . import images
from .settings import cache_path

#: Seconds an image is expected to take when no earlier run measured it: a stand-in
#: built from Debian packages on a 2-core machine (imported from the cache: seconds).
DEFAULT_SECONDS = 60.0
#: Seconds between two looks at the background prepare while waiting for it.
POLL = 1.0


def status_path() -> str:
    """The background prepare's progress file."""
    return cache_path("prepare", "prepare-status.json")


def log_path() -> str:
    """The background prepare's log."""
    return cache_path("prepare", "prepare.log")


def _times_path() -> str:
    return cache_path("prepare", "prepare-times.json")


def _read(path: str) -> dict:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _write(path: str, data: dict) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    partial = f"{path}.{os.getpid()}"
    with open(partial, "w") as f:
        json.dump(data, f)
    os.replace(partial, path)


def _alive(pid) -> bool:
    try:
        os.kill(int(pid), 0)
    except (OSError, TypeError, ValueError):
        return False
    try:  # a process that ended but was not reaped yet is no longer at work
        with open(f"/proc/{int(pid)}/stat") as f:
            return f.read().rpartition(")")[2].split()[0] != "Z"
    except OSError:
        return True


def running(status: dict | None = None) -> bool:
    """True while a background prepare is at work.

    Args:
        status: the progress file's content (default: read it).

    Returns:
        True while it runs (its process is alive and it has not finished).

    >>> running({"pid": None})
    False
    """
    status = _read(status_path()) if status is None else status
    return bool(status) and not status.get("finished") and _alive(status.get("pid"))


class Recorder:
    """Keeps the progress file and the measured times up to date for :func:`images.prepare`.

    Args:
        refs: the images being prepared.

    >>> Recorder(["python:3.13-slim-trixie"]).state["images"]["python:3.13-slim-trixie"]["state"]
    'waiting'
    """

    def __init__(self, refs: list[str]):
        times = _read(_times_path())
        self._lock = threading.Lock()
        self.state = {"pid": os.getpid(), "started": time.time(), "finished": None, "images": {
            ref: {"state": "waiting", "since": None, "expected": times.get(ref, DEFAULT_SECONDS)}
            for ref in refs}}

    def __call__(self, ref: str, state: str) -> None:
        with self._lock:
            entry = self.state["images"][ref]
            took = time.time() - entry["since"] if entry["since"] is not None else 0.0
            if state == "ready" and took >= 1.0:  # an image found present says nothing of the next time
                times = _read(_times_path())
                times[ref] = round(took, 1)
                _write(_times_path(), times)
            entry.update(state=state, since=time.time() if state == "working" else entry["since"])
            _write(status_path(), self.state)

    def finish(self) -> None:
        with self._lock:
            self.state["finished"] = time.time()
            _write(status_path(), self.state)


def seconds_left(status: dict, workers: int | None = None) -> float:
    """How long the images not ready yet should still take, shared among the workers.

    Args:
        status: the progress file's content.
        workers: images made side by side (default: the machine's CPUs).

    Returns:
        The seconds, estimated from each image's expected time.

    >>> seconds_left({"images": {"a": {"state": "waiting", "since": None, "expected": 60},
    ...                          "b": {"state": "ready", "since": 0, "expected": 10}}}, workers=2)
    30.0
    """
    now = time.time()
    left = 0.0
    for entry in status.get("images", {}).values():
        if entry["state"] == "waiting":
            left += entry["expected"]
        elif entry["state"] == "working":
            left += max(entry["expected"] - (now - entry["since"]), 1.0)
    return left / max(1, workers or os.cpu_count() or 1)


def summary(status: dict | None = None) -> str | None:
    """One line on the background prepare, for the doctor; None when none runs.

    Args:
        status: the progress file's content (default: read it).

    Returns:
        ``N/M ready; being made: ...; waiting: ... (about S s left)``, or None.

    >>> summary({})
    """
    status = _read(status_path()) if status is None else status
    if not running(status):
        return None
    by_state: dict[str, list[str]] = {}
    for ref, entry in status["images"].items():
        by_state.setdefault(entry["state"], []).append(ref)
    parts = [f"{len(by_state.get('ready', []))}/{len(status['images'])} ready"]
    if by_state.get("working"):
        parts.append("being made: " + ", ".join(by_state["working"]))
    if by_state.get("waiting"):
        parts.append("waiting: " + ", ".join(by_state["waiting"]))
    return "; ".join(parts) + f" (about {seconds_left(status):.0f} s left)"


def start() -> str:
    """Start ``prepare`` in the background, unless one already runs; say where it logs.

    >>> start()                                      # doctest: +SKIP
    'preparing the lab's images in the background (log: ...)'
    """
    if running():
        return f"the lab's images are already being prepared (log: {log_path()})"
    os.makedirs(cache_path("prepare"), exist_ok=True)
    with open(log_path(), "ab") as out:
        proc = subprocess.Popen([sys.executable, "-m", "labhelpers", "prepare", "--record"],
                                stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True, close_fds=True)
    # The child writes its own status at once; this one is there from the first instant.
    _write(status_path(), {"pid": proc.pid, "started": time.time(), "finished": None,
                           "images": Recorder([e.ref for e in images.CATALOGUE.values()]).state["images"]})
    return f"preparing the lab's images in the background (log: {log_path()})"


def record(client=None, log=print) -> list:
    """Prepare every image, notebook 00's first, keeping the progress file (``prepare --record``).

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with progress lines.

    Returns:
        What :func:`labhelpers.images.prepare` returns for every image.

    >>> record(log=lambda line: None)                # doctest: +SKIP

    (skipped: it prepares every image on the engine, minutes the first time.)
    """
    recorder = Recorder([e.ref for e in images.CATALOGUE.values()])
    _write(status_path(), recorder.state)
    try:
        # Notebook 00's image alone first, with the whole machine: the first notebook
        # is usable as soon as possible; then the rest side by side.
        images.prepare(client, log, notebook="00", progress=recorder)
        return images.prepare(client, log, progress=recorder)
    finally:
        recorder.finish()


def wait_ready(notebook: str, timeout: float = 600) -> bool:
    """Wait until the background prepare has made ``notebook``'s images, or stopped.

    It reads the progress file only (no engine, no preparing of its own): ``make lab``
    starts what can wait (installing the extras) once notebook 00's image is there, instead
    of slowing that image down (issue 13: nine seconds of 42 in the cold benchmark).

    Args:
        notebook: two digits, ``"00"``.
        timeout: seconds to wait at most.

    Returns:
        True when the images are ready; False when no prepare runs, it stopped or failed
        on one of them, or ``timeout`` passed.

    >>> wait_ready("00", timeout=0)                  # doctest: +SKIP
    False
    """
    from .waiting import wait_until

    refs = [entry.ref for entry in images.for_notebook(notebook)]

    def settled():
        status = _read(status_path())
        states = [status.get("images", {}).get(ref, {}).get("state") for ref in refs]
        if states and all(state == "ready" for state in states):
            return "ready"
        return "stopped" if "failed" in states or not running(status) else None

    return wait_until(settled, timeout, interval=POLL, error=None) == "ready"


def wait_for(notebook: str, client=None, log=print, timeout: float = 1800) -> bool:
    """Make the images ``notebook`` needs present: wait for the background prepare, or prepare.

    Args:
        notebook: two digits, ``"00"``.
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with progress lines when this process prepares them itself.
        timeout: seconds to wait for the background prepare before preparing here.

    Returns:
        False when the images were all present already; True when it waited or prepared.

    Raises:
        ImageError: an image could not be made present (the message says why).

    >>> wait_for("00")                               # doctest: +SKIP
    False
    """
    from tqdm.auto import tqdm

    from .engine import client as get_client

    client = client or get_client()

    def missing() -> list[str]:
        return [e.ref for e in images.for_notebook(notebook) if images.present(client, e.ref) is None]

    todo = missing()
    if not todo:
        return False
    if running():
        from .waiting import wait_until

        with tqdm(total=len(todo), desc=f"images for notebook {notebook}", unit="image") as bar:
            def done_or_stopped():
                left = missing()
                bar.n = len(todo) - len(left)
                bar.set_postfix_str(f"about {seconds_left(_read(status_path())):.0f} s left")
                return "done" if not left else (not running() and "stopped")

            if wait_until(done_or_stopped, timeout, interval=POLL, error=None) == "done":
                return True
    if missing():
        images.prepare(client, log, notebook=notebook)
    return True
