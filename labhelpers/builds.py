"""Container builds the way Ansible Container did them, with today's tools.

Ansible Container (``ansible-container init / build / run / shipit``) is archived.
This module does its jobs with Ansible's ``community.docker`` collection (shipped in
the ``ansible`` package, no Galaxy access needed) and the engine's own builder:

- :func:`scaffold` makes a small project folder from a template in the package,
  like ``ansible-container init``: a Flask app, its Dockerfile, an inventory and a
  playbook per step (``build.yml``, ``run.yml``, ``shipit.yml``);
- :func:`wheelhouse` downloads the app's dependencies on the host, so image builds
  never need the network (``pip install --no-index --find-links=wheels``);
- :func:`playbook` runs a playbook against the real engine and shows one readable
  line per task (its name, ok / changed / failed), live.

Measuring Dockerfiles is :mod:`labhelpers.dockerfiles`.

>>> import labhelpers as lab
>>> project = lab.builds.scaffold("nb06-project")          # doctest: +SKIP
>>> lab.builds.playbook(project, "build.yml")               # doctest: +SKIP
build | Build the app image ........................ changed
build | ok=1 changed=1 failed=0

Introduced in ``06-container-builds``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from string import Template

from .errors import BuildError, LabError
from .labels import labels_for, name as lab_name
from .ports import free_port  # noqa: F401 (lab.builds.free_port in notebook 06)
from .settings import data_path

#: The template project, shipped in the package.
TEMPLATE = "container-project"


def _template_files(root=None, prefix: str = ""):
    root = root or data_path(TEMPLATE)
    for entry in sorted(root.iterdir(), key=lambda e: e.name):
        # ".tmpl": a file that must not look like code of the package (app.py.tmpl).
        rel = f"{prefix}{entry.name.removesuffix('.tmpl')}"
        if entry.is_dir():
            yield from _template_files(entry, rel + "/")
        elif not entry.name.endswith(".pyc"):
            yield rel, entry.read_text()


def from_catalogue(dockerfile: str) -> str:
    """A Dockerfile template with its base images filled in from the kit's catalogue.

    ``${python}`` becomes the slim Python image's reference, ``${python_full}`` the
    full one's (:data:`labhelpers.images.CATALOGUE`); any other ``$WORD`` is left as is.

    Args:
        dockerfile: the template's text.

    Returns:
        The Dockerfile's text.

    >>> from labhelpers.images import spec
    >>> from_catalogue("FROM ${python}\\nENV PATH=/venv/bin:$PATH") == (
    ...     f"FROM {spec('python').ref}\\nENV PATH=/venv/bin:$PATH")
    True
    """
    from .images import spec

    return Template(dockerfile).safe_substitute(python=spec("python").ref,
                                                python_full=spec("python-full").ref)


def project_dir(notebook: str = "06") -> Path:
    """The default folder of a notebook's build project, in the kit's cache.

    Args:
        notebook: the notebook's two digits.

    Returns:
        ``<cache>/projects/nbNN-project`` (it may not exist yet).

    >>> project_dir().name
    'nb06-project'
    """
    from .settings import cache_path

    return Path(cache_path("projects", lab_name(notebook, "project")))


def scaffold(path=None, notebook: str = "06", base: str | None = None, force: bool = False,
             fresh: bool = False, log=print) -> Path:
    """Make a build project from the package's template, like ``ansible-container init``.

    Idempotent: a file already there with the template's content is left alone; a
    file you changed is kept (and reported) unless ``force``.

    Args:
        path: the project folder (default: :func:`project_dir`).
        notebook: the notebook whose names and labels the project's objects get.
        base: the base of those names (default ``nbNN``; tests pass their own prefix).
        force: overwrite files that differ from the template.
        fresh: first remove the folder and all in it (a new start).
        log: called with one line per file (None: silent).

    Returns:
        The project folder.

    >>> import tempfile
    >>> p = scaffold(tempfile.mkdtemp() + "/demo", log=None)
    >>> sorted(f.name for f in p.iterdir())
    ['app', 'build.yml', 'inventory.yml', 'run.yml', 'shipit.yml']
    """
    path = Path(path) if path is not None else project_dir(notebook)
    say = log or (lambda line: None)
    names = _names(notebook, base)
    values = dict(names, labels=json.dumps(labels_for(notebook)))
    if fresh and path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    for rel, text in _template_files():
        if rel == "inventory.yml":
            text = Template(text).substitute(values)
        elif rel.endswith("Dockerfile"):
            text = from_catalogue(text)
        target = path / rel
        if target.exists() and target.read_text() == text:
            state = "unchanged"
        elif target.exists() and not force:
            state = "kept (yours differs from the template)"
        else:
            state = "replaced" if target.exists() else "created"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
        say(f"{state:<10} {rel}")
    return path


def _names(notebook: str, base: str | None) -> dict[str, str]:
    def named(what: str) -> str:
        return f"{base}-{what}" if base else lab_name(notebook, what)

    return {"image": named("app"), "container": named("app"), "network": named("net"),
            "registry": named("registry")}


def wheelhouse(project, client=None, log=print) -> list[str]:
    """Put the app's dependencies as wheels into ``app/wheels``, downloaded on the host.

    Containers here cannot reach the package index (and at a conference, should not
    have to): images install from this folder with ``--no-index``. The wheels come
    from the kit's one wheelhouse (:func:`labhelpers.wheelhouse.build`, cached per
    requirements and platform): for the images' CPython (the catalogue's ``python``
    tag says which) and the **engine's**
    architecture (``client.version()["Arch"]``, mapped to a manylinux tag), not this
    machine's: on a Mac with Apple silicon or on Windows, ``platform.machine()`` names
    no Linux platform, and the engine may run another architecture than its client.

    Args:
        project: the project folder (see :func:`scaffold`).
        client: a ``docker.DockerClient`` (default: the kit's).
        log: called with one line saying what is there (None: silent).

    Returns:
        The wheel files' names.

    Raises:
        BuildError: pip could not download them (no package index, and no wheels cached).

    >>> wheelhouse(project_dir())                     # doctest: +SKIP
    wheelhouse: 7 wheels (blinker, click, flask, itsdangerous, jinja2, markupsafe, werkzeug)
    """
    from . import wheelhouse as wh
    from .engine import client as get_client
    from .images import spec

    client = client or get_client()
    app = Path(project) / "app"
    tag = spec("python").ref.partition(":")[2]  # "3.13-slim-trixie": the images' Python
    python = ".".join(tag.split("-")[0].split(".")[:2]) or wh.PYTHON_VERSION
    try:
        house = wh.build(str(app / "requirements.txt"), arch=wh.engine_arch(client),
                         python=python, log=lambda line: None)
    except wh.WheelhouseError as err:
        raise BuildError(err.what, err.todo) from None
    wheels = app / "wheels"
    if wheels.exists():
        shutil.rmtree(wheels)  # exactly the wheelhouse: none left from another platform
    house.copy_to(str(wheels))
    found = sorted(house.wheels)
    if log:
        log(f"wheelhouse: {len(found)} wheels ({', '.join(w.split('-')[0] for w in found)})")
    return found


# ---------------------------------------------------------------- playbooks


@dataclass
class TaskLine:
    """One task's outcome on one host, as :func:`playbook` shows it."""

    play: str
    task: str
    status: str  # ok | changed | failed | skipped | unreachable
    message: str = ""

    def head(self) -> str:
        """The line's start, shown as soon as the task starts."""
        return f"{self.play} | {self.task} {'.' * max(3, 52 - len(self.task))} "

    def tail(self) -> str:
        """The line's end: the status, and a message if any."""
        return f"{self.status}: {self.message}" if self.message else self.status

    def __str__(self) -> str:
        return self.head() + self.tail()


@dataclass
class PlayResult:
    """What a playbook run did: one :class:`TaskLine` per task and host, and the recap."""

    playbook: str
    tasks: list[TaskLine] = field(default_factory=list)
    stats: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def changed(self) -> int:
        return self.stats.get("changed", 0)

    @property
    def failed(self) -> int:
        return self.stats.get("failures", 0) + self.stats.get("unreachable", 0)

    def __repr__(self) -> str:
        return (f"<PlayResult {self.playbook}: ok={self.stats.get('ok', 0)} "
                f"changed={self.changed} failed={self.failed}>")


def _message(status: str, result: dict) -> str:
    if status in ("failed", "unreachable"):
        msg = result.get("msg") or result.get("stderr") or result.get("module_stderr") or ""
        return " ".join(str(msg).split())[:400]
    if "msg" in result and result.get("_ansible_verbose_always"):  # the debug module
        msg = result["msg"]
        return msg if isinstance(msg, str) else json.dumps(msg)
    return ""


class EventReader:
    """Turns the ``ansible.posix.jsonl`` callback's events into :class:`TaskLine`.

    Pure: it only reads dictionaries, so it is tested without Ansible.

    Args:
        playbook: the playbook's name, for the :class:`PlayResult`.

    >>> r = EventReader("build.yml")
    >>> r.feed({"_event": "v2_playbook_on_play_start", "play": {"name": "build"}})
    >>> line = r.feed({"_event": "v2_runner_on_ok", "task": {"name": "Build"},
    ...                "hosts": {"localhost": {"changed": True}}})
    >>> str(line[0])
    'build | Build ............................................... changed'
    """

    STATUS = {"v2_runner_on_ok": "ok", "v2_runner_on_failed": "failed",
              "v2_runner_on_skipped": "skipped", "v2_runner_on_unreachable": "unreachable"}

    def __init__(self, playbook: str):
        self.result = PlayResult(playbook)
        self.play = ""

    def feed(self, event: dict):
        """Read one event; what it shows, if anything.

        Args:
            event: one event of the ``ansible.posix.jsonl`` callback, as a dict.

        Returns:
            The :class:`TaskLine` of a task that starts; a list of them (one per host) for
            a task's result; None for the events that show nothing.

        >>> EventReader("build.yml").feed({"_event": "v2_playbook_on_task_start", "task": {"name": "Build"}}).task
        'Build'
        """
        kind = event.get("_event", "")
        if kind == "v2_playbook_on_task_start":
            return TaskLine(self.play, event.get("task", {}).get("name", "?"), "")
        if kind == "v2_playbook_on_play_start":
            self.play = event.get("play", {}).get("name", "")
            return None
        if kind == "v2_playbook_on_stats":
            totals: dict[str, int] = {}
            for host_stats in event.get("stats", {}).values():
                for key, value in host_stats.items():
                    if isinstance(value, int):
                        totals[key] = totals.get(key, 0) + value
            self.result.stats = totals
            return None
        if kind not in self.STATUS:
            return None
        lines = []
        for result in event.get("hosts", {}).values():
            status = self.STATUS[kind]
            if status == "failed" and result.get("_ansible_ignore_errors"):
                status = "failed (ignored)"
            elif status == "ok" and result.get("changed"):
                status = "changed"
            line = TaskLine(self.play, event.get("task", {}).get("name", "?"), status,
                            _message(status, result))
            self.result.tasks.append(line)
            lines.append(line)
        return lines


def _ansible_playbook() -> str:
    here = Path(sys.executable).parent / "ansible-playbook"
    found = str(here) if here.exists() else shutil.which("ansible-playbook")
    if not found:
        raise BuildError("ansible-playbook is not installed in this environment.",
                         "run `make venv` (the `ansible` package is a dependency of labhelpers)")
    return found


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.jsonl",
        "ANSIBLE_LOAD_CALLBACK_PLUGINS": "1",
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
        "ANSIBLE_LOCALHOST_WARNING": "0",
        "ANSIBLE_DEPRECATION_WARNINGS": "0",
        "ANSIBLE_SYSTEM_WARNINGS": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "PYTHONUNBUFFERED": "1",
    })
    if "DOCKER_HOST" not in env:
        try:
            from .engine import find_endpoint

            env["DOCKER_HOST"] = find_endpoint().url
        except LabError:
            pass
    return env


def playbook(project, name: str, log=print, check: bool = True, **extra_vars) -> PlayResult:
    """Run ``ansible-playbook`` on a project's playbook, against the real engine.

    Each task is shown as it finishes, one line: the play, the task's name, and
    ok / changed / failed (with the module's message on a failure, the ``msg``
    of a ``debug`` task). Then the recap.

    Args:
        project: the project folder (see :func:`scaffold`).
        name: the playbook's file name, like ``"build.yml"``.
        log: called with each line (None: silent).
        check: raise :class:`BuildError` when a task failed.
        **extra_vars: passed with ``-e`` (as JSON).

    Returns:
        A :class:`PlayResult`.

    Raises:
        BuildError: a task failed (its name and the engine's message), or Ansible
            itself could not start.

    >>> playbook(project_dir(), "build.yml").changed   # doctest: +SKIP
    0
    """
    project = Path(project)
    if not (project / name).exists():
        raise BuildError(f"{project.name} has no playbook {name!r}.",
                         "make the project with lab.builds.scaffold(), or check the name")
    cmd = [_ansible_playbook(), "-i", "inventory.yml", name]
    if extra_vars:
        cmd += ["-e", json.dumps(extra_vars)]
    reader = EventReader(name)
    say = log or (lambda line: None)
    live = log is print  # the task's name shows when it starts, its status when it ends
    start = time.monotonic()
    noise: list[str] = []
    with tempfile.TemporaryFile("w+") as errors:
        proc = subprocess.Popen(cmd, cwd=project, env=_environment(), stdout=subprocess.PIPE,
                                stderr=errors, stdin=subprocess.DEVNULL, text=True)
        for raw in proc.stdout:
            try:
                event = json.loads(raw)
            except ValueError:
                if raw.strip():
                    noise.append(raw.rstrip())
                continue
            lines = reader.feed(event)
            if isinstance(lines, TaskLine):  # a task starts: show its name at once
                if live:
                    print(lines.head(), end="", flush=True)
                continue
            for line in lines or []:
                if live:
                    print(line.tail(), flush=True)
                else:
                    say(str(line))
        code = proc.wait()
        errors.seek(0)
        noise += [line for line in errors.read().splitlines() if line.strip()]
    result = reader.result
    result.seconds = time.monotonic() - start
    if result.stats:
        say(f"{name}: ok={result.stats.get('ok', 0)} changed={result.changed} "
            f"failed={result.failed}")
    failed = [t for t in result.tasks if t.status in ("failed", "unreachable")]
    if check and failed:
        first = failed[0]
        raise BuildError(f"{name}: task {first.task!r} failed: {first.message}",
                         "read the message above; fix the playbook or the engine's state "
                         "and run it again")
    if code and not failed and check:
        raise BuildError(f"ansible-playbook {name} stopped (exit {code}):\n" + "\n".join(noise[-15:]),
                         "check the playbook's syntax and the inventory")
    return result
