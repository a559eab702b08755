"""Checker of notebook 02's exercise: a container made with the raw API alone.

The task: create and start a container named ``nb02-hello`` (``lab.name("02", "hello")``),
with the lab's labels, that prints ``hello``, using only HTTP requests to the
engine's socket (``http.client``, ``requests-unixsocket`` or curl), no docker-py.

>>> from labhelpers.checks import nb02
>>> nb02.hello()                                 # doctest: +SKIP
✅ pass: create and start a container named nb02-hello using only the raw API

Introduced in ``02-docker-engine-api``.
"""

from __future__ import annotations


from . import Exercise, Result, engine_client, lookup
from ..labels import is_lab, name

ZERO_TIME = "0001-01-01T00:00:00Z"


def hello(client=None) -> Result:
    """Is there a container ``nb02-hello``, labelled for the lab, started, that said hello?

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
    """
    client = engine_client(client)
    wanted = name("02", "hello")
    task = f"create and start a container named {wanted} using only the raw API"
    info, not_yet = lookup(client.api.inspect_container, wanted, task,
                           f"no container named {wanted} yet: POST /containers/create?name={wanted}", 1, "02-hello")
    if not_yet is not None:
        return not_yet
    missing = []
    if not is_lab(info["Config"].get("Labels"), "02"):
        missing.append(('give it the lab\'s labels: "Labels": lab.labels_for("02") in the create body', 2))
    state = info["State"]
    if state.get("StartedAt", ZERO_TIME) == ZERO_TIME:
        missing.append((f"it was created, never started: POST /containers/{wanted}/start", 3))
    else:
        from ..waiting import wait_until

        said = wait_until(  # just started: give it a moment to speak; docker-py removes the frames
            lambda: b"hello" in client.api.logs(info["Id"], stdout=True, stderr=True).lower(), 3, error=None)
        if not said:
            missing.append(('its output has no "hello": give it a command like ["echo", "hello"]', 2))
    return Result.of(task, missing, exercise="02-hello")


EXERCISES = [Exercise(
    name="02-hello",
    task="a container that says hello, made and started with HTTP requests alone",
    check=hello,
    hints=[
        "A container is made in two requests: one creates it (name, image, command, labels), "
        "the other starts it. `api.post(path, query=..., json=...)` sends one.",
        "`POST /containers/create?name=nb02-hello` with the JSON body `{\"Image\": IMAGE, "
        "\"Cmd\": [\"echo\", \"hello\"], \"Labels\": lab.labels_for(\"02\")}`; the answer's JSON "
        "holds the new container's `Id`.",
        "`made = api.post(\"/containers/create\", query={\"name\": lab.name(\"02\", \"hello\")}, "
        "json=body)`, then `api.post(f\"/containers/{made.json()['Id']}/start\")`: 204 means started.",
    ],
    solution="""\
hello = {"Image": IMAGE, "Cmd": ["echo", "hello"], "Labels": lab.labels_for("02")}
made = api.post("/containers/create", query={"name": lab.name("02", "hello")}, json=hello)
api.post(f"/containers/{made.json()['Id']}/start").status
""",
    names=lambda: [name("02", "hello")],
)]
