"""Compose from Python: find the machine's compose tool, bring a project up, list it, down.

Two tools exist: ``docker compose`` (v2, a plugin of the docker CLI) and
``docker-compose`` (v1, the original Python program; Debian 12 ships 1.29). The kit
uses v2 when the machine has it, else v1 (``make setup`` installs Debian's when
neither is there). Both read the same file and label what they create with
``com.docker.compose.project``, so docker-py can list a project's containers.

Project names are prefixed ``nbNN-`` like every lab object.

>>> tool()                                       # doctest: +SKIP
Tool(argv=('docker-compose',), version='1.29.2')
>>> project_name("01", "counter")
'nb01-counter'

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from functools import lru_cache

from .errors import LabError
from .labels import name as lab_name

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"


class ComposeError(LabError):
    """No compose tool, or a compose command failed."""


@dataclass(frozen=True)
class Tool:
    """The compose command line this machine has.

    Attributes:
        argv: ``("docker", "compose")`` or ``("docker-compose",)``.
        version: its version, e.g. ``"2.24.0"`` or ``"1.29.2"``.
    """

    argv: tuple[str, ...]
    version: str

    @property
    def major(self) -> int:
        return int(self.version.split(".")[0]) if self.version[:1].isdigit() else 0


def _version_of(argv: list[str]) -> str | None:
    try:
        done = subprocess.run([*argv, "version", "--short"], capture_output=True, text=True,
                              timeout=30, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if done.returncode:
        return None
    found = re.search(r"\d+\.\d+(\.\d+)?", done.stdout)
    return found.group(0) if found else None


@lru_cache(maxsize=1)
def tool() -> Tool:
    """The compose tool: ``docker compose`` (v2) when present, else ``docker-compose`` (v1).

    Raises:
        ComposeError: neither is installed; the message says how to get one.
    """
    if shutil.which("docker"):
        version = _version_of(["docker", "compose"])
        if version:
            return Tool(("docker", "compose"), version)
    if shutil.which("docker-compose"):
        version = _version_of(["docker-compose"])
        if version:
            return Tool(("docker-compose",), version)
    raise ComposeError(
        "No compose tool: neither `docker compose` (v2) nor `docker-compose` (v1) runs here.",
        "run `make setup` (as root on Debian/Ubuntu it installs docker-compose), install "
        "the Docker Compose plugin, or use Docker Desktop, which includes it",
    )


def project_name(notebook: str, base: str) -> str:
    """The compose project name of a notebook's example: ``nbNN-base``.

    >>> project_name("06", "shop")
    'nb06-shop'
    """
    return lab_name(notebook, base)


def run(file: str, project: str, *args: str, env: dict | None = None,
        timeout: float = 300) -> str:
    """Run ``compose -f FILE -p PROJECT ARGS...``; return its output.

    Args:
        file: the compose file.
        project: the project name (see :func:`project_name`).
        *args: the subcommand and its options, e.g. ``"up", "-d"``.
        env: extra environment variables for the file's ``${VARS}``.

    Raises:
        ComposeError: the command failed; the message holds its last lines.

    >>> run("compose.yaml", "nb01-counter", "config", "--services")  # doctest: +SKIP
    'redis\\nweb\\n'
    """
    argv = [*tool().argv, "-f", os.path.abspath(file), "-p", project, *args]
    full_env = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=full_env,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ComposeError(
            f"`{' '.join(args)}` of compose project {project} took over {timeout:.0f} s.",
            f"look at `{' '.join(tool().argv)} -p {project} logs`, then bring it down",
        ) from None
    if done.returncode:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
        raise ComposeError(
            f"`{' '.join(tool().argv)} {' '.join(args)}` failed for project {project}:\n{tail}",
            "read the lines above; `compose.down(...)` removes a half-started project",
        )
    return done.stdout + done.stderr


def up(file: str, project: str, env: dict | None = None) -> list:
    """Start the project in the background and wait for its containers; return them.

    >>> [c.name for c in up("compose.yaml", "nb01-counter")]   # doctest: +SKIP
    ['nb01-counter_redis_1', 'nb01-counter_web_1']
    """
    run(file, project, "up", "-d", "--no-build", env=env)
    return ps(project)


def down(file: str, project: str, env: dict | None = None) -> None:
    """Stop and remove the project's containers, networks and anonymous volumes."""
    run(file, project, "down", "--volumes", "--remove-orphans", env=env)


def ps(project: str, client=None) -> list:
    """The project's containers, through docker-py (the label compose puts on them).

    >>> [c.labels["com.docker.compose.service"] for c in ps("nb01-counter")]  # doctest: +SKIP
    ['redis', 'web']
    """
    from .engine import client as get_client

    client = client or get_client()
    found = client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
    return sorted(found, key=lambda c: c.labels.get(SERVICE_LABEL, c.name))
