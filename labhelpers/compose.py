"""Compose from Python: find the machine's compose tool, bring a project up, list it, down.

Compose v2, ``docker compose``, a plugin of the docker CLI (Docker Desktop and the
Docker Engine packages include it; Debian's ``docker-compose`` 2.x package installs it
too), is the tool the kit uses. Compose v1, ``docker-compose`` 1.x, the original
Python program (Debian 12 still ships 1.29), was retired in 2023: the kit uses it only
when nothing newer runs, and says so. It negotiates the API version (docker-py does), so
it still reaches today's engines, but it expects fields they no longer send: on the
containerd image store (Engine 28.5 here) re-creating a changed service fails with
``KeyError: 'ContainerConfig'``, which :func:`run` turns into a :class:`ComposeError`
that says what to do. Both read the same file and label what
they create with ``com.docker.compose.project``, so docker-py can list a project's
containers (v2 names them ``project-service-1``, v1 ``project_service_1``).

Project names are prefixed ``nbNN-`` like every lab object.

>>> print(tool())                                # doctest: +SKIP
Docker Compose 2.40.3 (`docker compose`, v2)
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

from .errors import ComposeError
from .labels import name as lab_name

PROJECT_LABEL = "com.docker.compose.project"
SERVICE_LABEL = "com.docker.compose.service"

#: What to do when the machine has no compose v2.
INSTALL_V2 = ("install Compose v2: as root on Debian/Ubuntu `make setup` installs it (the "
              "`docker-compose` 2.x package from Debian sid, or Docker's "
              "`docker-compose-plugin`); Docker Desktop includes it. Then run "
              "`lab.compose.tool.cache_clear()` or restart the kernel")


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
        """The major version: 2 for compose v2, 1 for the retired v1."""
        return int(self.version.split(".")[0]) if self.version[:1].isdigit() else 0

    @property
    def retired(self) -> bool:
        """True for compose v1 (retired in 2023: no fixes, no new engine support)."""
        return self.major == 1

    def __str__(self) -> str:
        command = " ".join(self.argv)
        if self.retired:
            return (f"docker-compose {self.version} (`{command}`, v1: retired in 2023, no "
                    "fixes since, and it cannot re-create containers on the containerd "
                    "image store. Install Compose v2)")
        return f"Docker Compose {self.version} (`{command}`, v2)"


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


def probe(argv) -> Tool | None:
    """The compose tool that ``argv`` runs, or None when it does not run here.

    Args:
        argv: the command, e.g. ``["docker", "compose"]`` or ``["docker-compose"]``.

    Returns:
        The :class:`Tool` with its version, or None.

    >>> probe(["docker-compose"])                    # doctest: +SKIP
    Tool(argv=('docker-compose',), version='2.40.3')
    >>> probe(["h15-no-such-compose"]) is None
    True

    (the first is skipped: its version is the one installed here.)
    """
    if not shutil.which(argv[0]):
        return None
    version = _version_of(list(argv))
    return Tool(tuple(argv), version) if version else None


@lru_cache(maxsize=1)
def tool() -> Tool:
    """The compose tool: ``docker compose`` (v2) when present, else ``docker-compose``.

    The standalone ``docker-compose`` is compose v2 on current systems (Debian's 2.x
    package, Docker's standalone binary); when it is v1 the kit still uses it, and
    ``str()`` of the tool says that it is retired.

    Returns:
        The :class:`Tool`; ``str(tool())`` says which and, for v1, that it is retired.

    Raises:
        ComposeError: neither is installed; the message says how to get Compose v2.

    >>> tool().major                                 # doctest: +SKIP
    2
    """
    for argv in (["docker", "compose"], ["docker-compose"]):
        found = probe(argv)
        if found:
            return found
    raise ComposeError(
        "No compose tool: neither `docker compose` (v2) nor `docker-compose` runs here.",
        INSTALL_V2,
    )


def project_name(notebook: str, base: str) -> str:
    """The compose project name of a notebook's example: ``nbNN-base``.

    Args:
        notebook: two digits.
        base: the example's name.

    Returns:
        The project name; compose prefixes its containers and networks with it.

    >>> project_name("06", "shop")
    'nb06-shop'
    """
    return lab_name(notebook, base)


def _explain_v1(using: Tool, output: str) -> ComposeError | None:
    """The error to raise for a known compose v1 failure on a current engine, or None."""
    if using.retired and "KeyError: 'ContainerConfig'" in output:
        return ComposeError(
            f"Compose v1 (docker-compose {using.version}, retired in 2023) cannot re-create "
            "a container on this engine: it reads the image's ContainerConfig, which the "
            "containerd image store no longer reports.",
            "bring the project down and up again (`lab.compose.down(...)`, then `up`); "
            "better, " + INSTALL_V2,
        )
    return None


def run(file: str, project: str, *args: str, env: dict | None = None,
        timeout: float = 300, using: Tool | None = None) -> str:
    """Run ``compose -f FILE -p PROJECT ARGS...``; return its output.

    Args:
        file: the compose file.
        project: the project name (see :func:`project_name`).
        *args: the subcommand and its options, e.g. ``"up", "-d"``.
        env: extra environment variables for the file's ``${VARS}``.
        timeout: seconds the command may take.
        using: the compose tool (default: :func:`tool`).

    Returns:
        What the command printed (stdout, then stderr).

    Raises:
        ComposeError: no compose tool, or the command failed; the message holds its last
            lines, or, for compose v1's known failure on today's engines, what to do.

    >>> run("compose.yaml", "nb01-counter", "config", "--services")  # doctest: +SKIP
    'redis\\nweb\\n'
    """
    using = using or tool()
    argv = [*using.argv, "-f", os.path.abspath(file), "-p", project, *args]
    full_env = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=full_env,
                              timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ComposeError(
            f"`{' '.join(args)}` of compose project {project} took over {timeout:.0f} s.",
            f"look at `{' '.join(using.argv)} -p {project} logs`, then bring it down",
        ) from None
    if done.returncode:
        known = _explain_v1(using, done.stdout + done.stderr)
        if known:
            raise known
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
        raise ComposeError(
            f"`{' '.join(using.argv)} {' '.join(args)}` failed for project {project}:\n{tail}",
            "read the lines above; `compose.down(...)` removes a half-started project",
        )
    return done.stdout + done.stderr


def up(file: str, project: str, env: dict | None = None, using: Tool | None = None,
       client=None) -> list:
    """Start the project in the background; return its containers.

    Args:
        file: the compose file.
        project: the project name (see :func:`project_name`).
        env: extra environment variables for the file's ``${VARS}``.
        using: the compose tool (default: :func:`tool`).
        client: a ``docker.DockerClient`` on the same engine (default: the kit's).

    Returns:
        The project's containers, sorted by service (see :func:`ps`).

    Raises:
        ComposeError: compose failed (the message holds its last lines).

    >>> [c.name for c in up("compose.yaml", "nb01-counter")]   # doctest: +SKIP
    ['nb01-counter-redis-1', 'nb01-counter-web-1']
    """
    run(file, project, "up", "-d", "--no-build", env=env, using=using)
    return ps(project, client=client)


def down(file: str, project: str, env: dict | None = None, using: Tool | None = None) -> None:
    """Stop and remove the project's containers, networks and anonymous volumes.

    Args:
        file: the compose file.
        project: the project name.
        env: the same variables as for :func:`up`.
        using: the compose tool (default: :func:`tool`).

    Raises:
        ComposeError: compose failed.

    >>> down("compose.yaml", "nb01-counter")         # doctest: +SKIP
    """
    run(file, project, "down", "--volumes", "--remove-orphans", env=env, using=using)


def ps(project: str, client=None) -> list:
    """The project's containers, through docker-py (the label compose puts on them).

    Args:
        project: the project name.
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        Its containers, running or not, sorted by service name.

    >>> [c.labels["com.docker.compose.service"] for c in ps("nb01-counter")]  # doctest: +SKIP
    ['redis', 'web']
    """
    from .engine import client as get_client

    client = client or get_client()
    found = client.containers.list(all=True, filters={"label": f"{PROJECT_LABEL}={project}"})
    return sorted(found, key=lambda c: c.labels.get(SERVICE_LABEL, c.name))
