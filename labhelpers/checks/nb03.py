"""Checkers of ``03-docker-machine``.

>>> from labhelpers.checks import nb03
>>> nb03.web_on_machine()                        # doctest: +SKIP
✅ pass: a web container on the machine nb03-worker, not on your local engine
>>> nb03.ssh_context(m)                          # doctest: +SKIP
✅ pass: a docker context nb03-ssh that reaches the machine nb03-ssh over ssh://

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import time

import docker.errors

from .. import labels
from ..errors import LabError
from . import Exercise, Result, engine_client

#: Tries (a second apart) before a published port counts as not answering HTTP.
TRIES = 5
#: Seconds one request may take inside the machine.
WGET_SECONDS = 5
#: Seconds a docker CLI call or an SSH connection may take.
CLI_SECONDS = 60


def _published(container) -> list[int]:
    ports = container.attrs["NetworkSettings"].get("Ports") or {}
    return sorted({int(b["HostPort"]) for binds in ports.values() if binds for b in binds})


def _answers_http(machine, name: str, port: int, tries: int = TRIES) -> bool:
    """Whether ``http://127.0.0.1:PORT/`` answers inside the machine, asked with its ``wget``.

    Only what every machine image has: the official ``docker:dind`` is Alpine, whose
    ``wget`` is busybox's; the Debian stand-in may have GNU wget or Debian's busybox, whose
    wget has no ``-T`` (and crashes on it). So ``wget -q -O-`` alone, bounded by
    ``timeout`` (busybox and coreutils both have it). A server started a moment ago may
    not listen yet: the tries are repeated here, a second apart, rather than with GNU-only
    options (``-t``, ``--waitretry``, ``--retry-connrefused``).

    Args:
        machine: the :class:`~labhelpers.machine.Machine` holding the machine.
        name: the machine's name.
        port: the port published inside the machine.
        tries: how many times to ask before giving up.

    Returns:
        True as soon as one request gets an HTTP answer.

    >>> _answers_http(Machine(), "nb03-worker", 8080)      # doctest: +SKIP
    True
    """
    for attempt in range(tries):
        try:
            machine.ssh(name, f"timeout {WGET_SECONDS} wget -q -O- http://127.0.0.1:{port}/ >/dev/null")
            return True
        except (LabError, docker.errors.APIError):
            if attempt + 1 < tries:
                time.sleep(1)
    return False


def web_on_machine(machine=None, name: str | None = None, client=None) -> Result:
    """Exercise: a machine called ``nb03-worker`` runs a web container, your engine does not.

    Args:
        machine: the notebook's :class:`~labhelpers.machine.Machine` (default: a new one).
        name: the machine's name (default ``nb03-worker``, behind LABHELPERS_PREFIX).
        client: your local engine (default: the kit's).

    Returns:
        A :class:`~labhelpers.checks.Result`: pass, or what is still missing.
    """
    from ..machine import MACHINE_LABEL, Machine

    machine = machine or Machine()
    name = name or labels.name("03", "worker")
    client = engine_client(client)
    task = f"a web container on the machine {name}, not on your local engine"
    missing = []
    local = [c for c in client.containers.list(filters={"label": f"{labels.NOTEBOOK}=03"})
             if MACHINE_LABEL not in c.labels and _published(c)]
    local += [c for c in client.containers.list() if c.name.startswith(labels.name("03", ""))
              and MACHINE_LABEL not in c.labels and _published(c) and c not in local]
    for c in local:
        missing.append(f"{c.name} publishes a port on your local engine: run the web container "
                       f"with the machine's client (m.client({name!r})), and remove this one")
    if not machine.exists(name):
        return Result.of(task, missing + [(f"there is no machine {name!r}: m.create({name!r})", 1)],
                         exercise="03-web")
    if not machine.status(name):
        return Result.of(task, missing + [(f"machine {name!r} is stopped: m.start({name!r})", 1)],
                         exercise="03-web")
    remote = machine.client(name)
    answering = [c.name for c in remote.containers.list()
                 if any(_answers_http(machine, name, port) for port in _published(c))]
    if not answering:
        missing.append(f"no container on {name!r} answers HTTP on a published port: run one "
                       "with the machine's client, e.g. python -m http.server with "
                       "ports={'8000/tcp': 8080}")
    return Result.of(task, [(m, 2) for m in missing], exercise="03-web")


def _cli_answer(context: str) -> tuple[str, str]:
    """``docker --context CONTEXT info``: the engine's name, or the CLI's complaint."""
    import subprocess

    try:
        done = subprocess.run(["docker", "--context", context, "info", "--format", "{{.Name}}"],
                              capture_output=True, text=True, timeout=CLI_SECONDS, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as err:
        return "", str(err)
    return done.stdout.strip(), (done.stderr.strip().splitlines() or [""])[-1]


def ssh_context(machine=None, name: str | None = None, context: str | None = None) -> Result:
    """Exercise: a docker context ``nb03-ssh`` reaches the machine ``nb03-ssh`` over ``ssh://``.

    Passes when the machine runs sshd, docker-py reaches its engine over ``ssh://``
    both with paramiko and with the ``ssh`` command, and the docker CLI's context
    points at the machine's ``ssh://`` URL and answers as that machine.

    Args:
        machine: the notebook's :class:`~labhelpers.machine.Machine` (default: a new one).
        name: the machine's name (default ``nb03-ssh``, behind LABHELPERS_PREFIX).
        context: the context's name (default ``nb03-ssh`` too).

    Returns:
        A :class:`~labhelpers.checks.Result`: pass, or what is still missing.

    >>> nb03.ssh_context(m)                                  # doctest: +SKIP
    ✅ pass: a docker context nb03-ssh that reaches the machine nb03-ssh over ssh://
    """
    from docker.context import ContextAPI

    from ..machine import Machine

    machine = machine or Machine()
    name = name or labels.name("03", "ssh")
    context = context or labels.name("03", "ssh")
    task = f"a docker context {context} that reaches the machine {name} over ssh://"
    if not machine.exists(name):
        return Result.of(task, [f"there is no machine {name!r}: m.create({name!r}, ssh=True)"], exercise="03-ssh")
    try:
        url = machine.ssh_url(name)
    except LabError as err:
        return Result.of(task, [f"{err.what} {err.todo}"], exercise="03-ssh")
    missing = []
    for use_ssh_client, way in ((False, "paramiko"), (True, "the ssh command")):
        try:
            machine.ssh_client(name, use_ssh_client=use_ssh_client, timeout=CLI_SECONDS).close()
        except Exception as err:  # noqa: BLE001 - said as what is missing
            missing.append(f"docker-py over {url} with {way} failed: {str(err).splitlines()[0][:160]}")
    found = ContextAPI.get_context(context)
    if found is None:
        return Result.of(task, missing + [(f"there is no docker context {context!r}: docker context "
                                           f"create {context} --docker host={url}", 1)], exercise="03-ssh")
    if found.Host != url:
        return Result.of(task, missing + [(f"the context {context!r} points at {found.Host}, not at {url}: "
                                           f"remove it (docker context rm {context}) and create it again", 2)],
                         exercise="03-ssh")
    answer, complaint = _cli_answer(context)
    if answer != name:
        missing.append(f"docker --context {context} info did not answer as {name}: {complaint}")
    return Result.of(task, missing, exercise="03-ssh")


def _remove_machine(base: str) -> list[str]:
    """The exercise's machine, removed (``lab.reset``)."""
    from ..machine import Machine

    worker, machine = labels.name("03", base), Machine()
    if not machine.exists(worker):
        return []
    machine.rm(worker, force=True)
    return [f"removed machine {worker}"]


def _remove_context() -> list[str]:
    """The exercise's docker context, removed (``lab.reset("03-ssh")``); the machine stays."""
    import subprocess

    ctx = labels.name("03", "ssh")
    done = subprocess.run(["docker", "context", "rm", "-f", ctx], capture_output=True, text=True)
    return [f"removed docker context {ctx}"] if done.returncode == 0 else []


EXERCISES = [
    Exercise(
        name="03-web",
        task="a web container on the machine nb03-worker, not on your local engine",
        check=web_on_machine,
        hints=[
            "`m.create(name)` makes a machine; `m.client(name)` is a docker-py client for the "
            "machine's engine (`docker.DockerClient(**m.config(machine=name))`), not for yours.",
            "On the machine's client: `containers.run(image, [\"python\", \"-m\", \"http.server\", "
            "\"8000\"], detach=True, ports={\"8000/tcp\": 8080})`.",
            "`worker = lab.name(\"03\", \"worker\")`, `m.create(worker)`, then `m.client(worker)"
            ".containers.run(\"python:3.13-slim-trixie\", [\"python\", \"-m\", \"http.server\", "
            "\"8000\"], name=\"web\", detach=True, ports={\"8000/tcp\": 8080})`.",
        ],
        solution="""\
worker = lab.name("03", "worker")
m.create(worker)
web = m.client(worker).containers.run(
    "python:3.13-slim-trixie", ["python", "-m", "http.server", "8000"],
    name="web", detach=True, ports={"8000/tcp": 8080})
""",
        undo=lambda: _remove_machine("worker"),
    ),
    Exercise(
        name="03-ssh",
        task="a docker context nb03-ssh that reaches the machine over ssh://",
        check=ssh_context,
        hints=[
            "The docker CLI makes contexts: `docker context create NAME --docker host=URL`.",
            "The URL is the machine's `ssh://` one: `m.ssh_url(ssh_host)`; the name "
            "`lab.name(\"03\", \"ssh\")`. Run the command with `subprocess.run([...])`.",
            "`subprocess.run([\"docker\", \"context\", \"create\", lab.name(\"03\", \"ssh\"), "
            "\"--docker\", f\"host={m.ssh_url(ssh_host)}\"])`",
        ],
        solution="""\
ssh_ctx = lab.name("03", "ssh")
subprocess.run(["docker", "context", "rm", "-f", ssh_ctx], capture_output=True)  # an earlier run's
made = subprocess.run(["docker", "context", "create", ssh_ctx, "--docker", f"host={m.ssh_url(ssh_host)}"],
                      capture_output=True, text=True)
print(made.stdout or made.stderr)
""",
        undo=_remove_context,
    ),
]
