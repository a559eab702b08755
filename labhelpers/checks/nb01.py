"""Checkers of ``01-python-apps-in-docker``'s exercise.

>>> import labhelpers as lab
>>> lab.checks.nb01.two_instances()              # doctest: +SKIP
✅ pass: two instances of the app, on ports 8081 and 8082

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations


import requests

from . import Exercise, Result, engine_client

#: The app image the exercise runs (built in the notebook's "A Python web app" section).
APP_REPO = "hello-flask"


def _publishers(client, port: int) -> list:
    """Running containers publishing host port ``port``."""
    found = []
    for c in client.containers.list():
        ports = (c.attrs.get("NetworkSettings") or {}).get("Ports") or {}
        if any(str(b.get("HostPort")) == str(port) for bs in ports.values() for b in bs or []):
            found.append(c)
    return found


def _runs_app(container) -> bool:
    tags = container.image.tags if container.image is not None else []
    return any(APP_REPO in tag.rsplit(":", 1)[0] for tag in tags)


def _answer(port: int, timeout: float):
    """The app's JSON answer on ``port``, retrying while it starts; None if none came."""
    from ..waiting import wait_until

    return wait_until(lambda: requests.get(f"http://127.0.0.1:{port}/", timeout=2).json(), timeout,
                      error=None, ignore=(requests.RequestException, ValueError))


def two_instances(ports=(8081, 8082), client=None, timeout: float = 3) -> Result:
    """Pass when the app runs in two containers, one on each host port, and both answer.

    Args:
        ports: the host ports the exercise asks for.
        client: a ``docker.DockerClient`` (default: the kit's).
        timeout: seconds to wait for each app to answer (it may still be starting).

    Returns:
        A :class:`~labhelpers.checks.Result`: a pass, or one hint per thing missing.
    """
    client = engine_client(client)
    task = f"two instances of the app, on ports {' and '.join(map(str, ports))}"
    missing, seen = [], {}
    for port in ports:
        found = _publishers(client, port)
        if not found:
            missing.append((f"no running container publishes port {port}: "
                            f"`containers.run(..., ports={{'5000/tcp': {port}}}, detach=True)`", 2))
            continue
        container = found[0]
        if not _runs_app(container):
            missing.append((f"{container.name} publishes port {port} but runs "
                            f"{(container.image.tags or ['another image'])[0]}, not the app's image", 1))
            continue
        if container.id in seen.values():
            missing.append((f"{container.name} serves both ports: start a second container", 1))
            continue
        seen[port] = container.id
        body = _answer(port, timeout)
        if body is None:
            missing.append((f"{container.name} publishes port {port} but nothing answers on "
                            "http://127.0.0.1:%d/ yet (still starting? look at its logs)" % port, 3))
            continue
        if "hits" not in body:
            missing.append((f"port {port} answers, but not as hello-flask", 1))
    return Result.of(task, missing, exercise="01-two-apps")


EXERCISES = [Exercise(
    name="01-two-apps",
    task="the app's image run twice, answering on host ports 8081 and 8082",
    check=two_instances,
    hints=[
        "One container per instance: `client.containers.run(APP, ..., detach=True)` twice, "
        "each with `labels=LABELS` so that the clean-up finds it.",
        "`ports={'5000/tcp': 8081}` publishes the app's port 5000 on the host's port 8081; "
        "the second container gets 8082.",
        "Loop over (8081, 8082): `c = client.containers.run(APP, detach=True, labels=LABELS, "
        "ports={'5000/tcp': ('127.0.0.1', port)})`, then `c.reload()` and "
        "`lab.apps.wait_http(c)` until it answers.",
    ],
    solution="""\
for port in (8081, 8082):
    c = client.containers.run(APP, detach=True, name=lab.name("01", f"ex-{port}"),
                              labels=LABELS, ports={"5000/tcp": ("127.0.0.1", port)})
    c.reload()
    lab.apps.wait_http(c)
""",
    ports=(8081, 8082),
)]
