"""Starting a private Docker engine where the machine allows it.

On a fresh Debian or Ubuntu machine, as root, :func:`start` installs Debian's
``docker.io`` when ``dockerd`` is missing, starts the daemon (through systemd
when it runs, else directly, in the background) and waits until ``/_ping``
answers. Where an engine already answers (Docker Desktop, an existing daemon,
``DOCKER_HOST``) it does nothing.

>>> from labhelpers import daemon
>>> daemon.start()                               # doctest: +SKIP
'engine already running at unix:///var/run/docker.sock (default socket)'

Introduced in ``00-start-here``; ``python -m labhelpers engine start`` runs it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from . import engine, settings
from .errors import EngineError, EngineSetupError
from .waiting import wait_until

#: Where a daemon started by the kit writes its log.
LOG_FILE = settings.DAEMON_LOG


def _is_debian() -> bool:
    return os.path.exists("/etc/debian_version") and shutil.which("apt-get") is not None


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def status() -> str:
    """One line: where the engine is and whether it answers.

    >>> status()                                     # doctest: +SKIP
    'running: Docker 28.5.2 (API 1.51) at unix:///var/run/docker.sock (default socket)'
    """
    endpoint = engine.find_endpoint()
    version = engine.diagnose(endpoint)
    return (
        f"running: Docker {version.get('Version')} (API {version.get('ApiVersion')}) "
        f"at {endpoint.url} ({endpoint.source})"
    )


def _install_docker_io(log) -> None:
    log("dockerd is not installed: installing Debian's docker.io (apt-get)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    for cmd in (["apt-get", "update", "-qq"],
                ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "docker.io"]):
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if done.returncode:
            raise EngineSetupError(
                f"`{' '.join(cmd)}` failed:\n{done.stderr.strip()[-2000:]}",
                "install the engine yourself (`apt-get install docker.io`) and run "
                "`python -m labhelpers engine start` again",
            )


def _spawn_dockerd(log) -> None:
    if os.path.isdir("/run/systemd/system") and shutil.which("systemctl"):
        log("starting docker with systemd")
        done = subprocess.run(["systemctl", "start", "docker"], capture_output=True, text=True)
        if done.returncode == 0:
            return
        log(f"systemctl failed ({done.stderr.strip()}); starting dockerd directly")
    log(f"starting dockerd in the background (log: {LOG_FILE})")
    with open(LOG_FILE, "ab") as out:
        subprocess.Popen(
            [shutil.which("dockerd") or "dockerd"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            start_new_session=True, close_fds=True,
        )


def _log_tail(lines: int = 15) -> str:
    try:
        with open(LOG_FILE, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return "(no log)"


def start(wait: float = 60.0, log=print) -> str:
    """Make sure an engine answers, installing and starting one if allowed.

    Args:
        wait: seconds to wait for ``/_ping`` after starting ``dockerd``.
        log: called with each progress line (default: ``print``).

    Returns:
        A one-line description of the running engine.

    Raises:
        EngineSetupError: no engine, and this machine does not let the kit start
            one (not Linux, not root, not Debian/Ubuntu), or the daemon did not
            come up; the message says what to do.

    >>> start(log=lambda line: None)                 # doctest: +SKIP
    'engine already running: Docker 20.10.24 ...'
    """
    try:
        return "engine already " + status()
    except EngineError as err:
        first = err
    endpoint = engine.find_endpoint()
    if endpoint.source != "default socket":
        raise first  # DOCKER_HOST or a context names an engine elsewhere: ours won't help
    if not sys.platform.startswith("linux"):
        raise EngineSetupError(
            "No Docker engine answers, and the kit only starts one on Linux.",
            "start Docker Desktop (or your own engine) and run this again",
        ) from None
    if not _is_root():
        raise EngineSetupError(
            f"No Docker engine answers ({first.what}) and only root can start one.",
            "run `sudo python -m labhelpers engine start`, or `sudo systemctl start docker`",
        ) from None
    if shutil.which("dockerd") is None:
        if not _is_debian():
            raise EngineSetupError(
                "dockerd is not installed, and the kit installs it only on Debian/Ubuntu.",
                "install Docker Engine with your distribution's package manager, then "
                "run `python -m labhelpers engine start` again",
            )
        _install_docker_io(log)
    _spawn_dockerd(log)
    line = wait_until(status, wait, interval=0.25, error=None, ignore=(EngineError,))
    if line:
        engine.reset()
        return "engine started: " + line
    raise EngineSetupError(
        f"dockerd did not answer /_ping within {wait:.0f} s. Its log ends with:\n{_log_tail()}",
        f"read {LOG_FILE}; on machines without systemd the kernel must allow overlay "
        "mounts and iptables, or start dockerd yourself",
    )
