"""``Machine``: python-docker-machine's API, backed by real Docker hosts.

The 2017 talk drove ``docker-machine`` from Python with the
``python-docker-machine`` package (module ``machine``)::

    import machine, docker
    m = machine.Machine(path="/usr/local/bin/docker-machine")
    m.create('test-machine', driver='virtualbox', blocking=True)
    client = docker.DockerClient(**m.config(machine='test-machine'))

docker-machine is archived and VirtualBox is rare; the idea lives on. With
``from labhelpers import machine`` the same code runs: by default each machine
is a Docker-in-Docker container on your engine (driver ``dind``, see
:mod:`labhelpers.machine.dind`) with its own engine behind mutual TLS, exactly
as docker-machine's hosts. With ``driver="docker-machine"`` every call runs the
real executable, never hanging on a prompt (:mod:`labhelpers.machine.executable`).
``Machine`` picks its driver once (:mod:`labhelpers.machine.driver`) and hands every
call to it.

>>> from labhelpers import machine
>>> m = machine.Machine()                                    # doctest: +SKIP
>>> m.create("test-machine")                                 # doctest: +SKIP
0
>>> client = docker.DockerClient(**m.config(machine="test-machine"))  # doctest: +SKIP
>>> m.rm(machine="test-machine")                             # doctest: +SKIP
True

Where this differs from python-docker-machine 0.2.5 (whose source it follows):

- ``Machine(path=..., driver="dind")``: the *driver* is chosen per ``Machine``.
  ``path`` is only used by the ``docker-machine`` driver, and a missing
  executable is an error only there (the original raised ``RuntimeError`` at once).
- ``create(name, driver=...)``: with the dind driver a ``driver`` other than
  ``"dind"`` (``"virtualbox"``...) makes a dind machine and logs a note, so the
  talk's call runs unchanged. ``blocking`` is accepted; like the original
  (whose two code paths both wait), ``create`` always waits. With dind,
  ``xarg`` are extra ``dockerd`` flags; with docker-machine, extra CLI flags.
- ``ls()`` has no trailing empty row (the original returned one).
- ``env()`` returns a dict ``{"DOCKER_HOST": ..., "DOCKER_TLS_VERIFY": "1",
  "DOCKER_CERT_PATH": ..., "DOCKER_MACHINE_NAME": ...}`` instead of the shell
  text split on spaces.
- ``ip()`` is the machine's address on the lab network (where other machines
  reach it); ``url()``/``config()`` use the loopback port published for you.
- ``ssh(machine, cmd)`` runs ``cmd`` in the machine with ``docker exec``;
  ``scp``, ``provision``, ``upgrade`` and ``regenerate_certs`` exist only with the
  docker-machine driver.
- ``create(name, ssh=True)`` (dind) also runs an SSH server with keys the kit made:
  ``ssh_url(name)`` and ``ssh_client(name)`` reach its engine over ``ssh://``
  (:mod:`labhelpers.machine.ssh`). Not in the original.
- Errors are :class:`~labhelpers.errors.MachineError` (a ``LabError``:
  what went wrong, what to do) instead of ``RuntimeError``.

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import docker

from ..errors import MachineError
from . import executable
from .dind import MACHINE as MACHINE_LABEL
from .dind import Dind, MachineTLS, default_store
from .driver import LS_FIELDS, Driver
from .executable import Executable


__all__ = ["LS_FIELDS", "MACHINE_LABEL", "Driver", "Machine", "MachineError", "MachineTLS",
           "default_store", "ensure_docker_config"]


def ensure_docker_config() -> str:
    """Make sure the docker CLI's ``config.json`` exists; return its folder.

    docker-py keeps contexts next to that file; when it does not exist yet (no
    ``docker login`` or ``docker context use`` ever ran), docker-py writes them
    to ``./contexts`` in the current folder, where the CLI never looks. An empty
    ``{}`` is what the CLI itself writes first.

    >>> ensure_docker_config()                        # doctest: +SKIP
    '/home/alice/.docker'
    """
    import os

    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    path = os.path.join(folder, "config.json")
    if not os.path.exists(path):
        os.makedirs(folder, mode=0o700, exist_ok=True)
        with open(path, "w") as f:
            f.write("{}\n")
    return folder



def _delegate(name: str, summary: str, returns: str, true: bool = False):
    """A method of :class:`Machine` that hands one machine's name to its driver.

    Args:
        name: the method's (and the driver's) name.
        summary: the first line of its docstring.
        returns: what it returns, for its docstring.
        true: return True (as python-docker-machine does) instead of the driver's answer.

    Returns:
        The method.

    >>> _delegate("ip", "The machine's IP address.", "The address.").__doc__.splitlines()[0]
    "The machine's IP address."
    """

    def method(self, machine: str = "default"):
        answer = getattr(self._driver, name)(machine)
        return True if true else answer

    method.__name__ = name
    method.__qualname__ = f"Machine.{name}"
    method.__doc__ = (f"{summary}\n\n        Args:\n            machine: the machine's name.\n\n"
                      f"        Returns:\n            {returns}\n        ")
    return method


class Machine:
    """Create Docker hosts and hand their settings to docker-py.

    Args:
        path: the docker-machine executable (driver ``docker-machine`` only).
        driver: ``"dind"`` (default: Docker-in-Docker machines on your engine)
            or ``"docker-machine"`` (the real executable, which must be on PATH).
        notebook: the notebook whose labels and ``nbNN-`` prefix the dind
            machines' containers, volumes and network carry.
        store: the machine store folder (default ``LABHELPERS_MACHINE_STORAGE``,
            else ``~/.local/share/labhelpers/machines``).
        client: the engine that hosts dind machines (default: the kit's).
        images: catalogue images loaded into each new dind machine.
        log: called with progress lines (default: silent).
        timeout: seconds a docker-machine call may take.

    Raises:
        MachineError: an unknown driver, or docker-machine not on PATH.

    >>> Machine(driver="vmware")
    Traceback (most recent call last):
    ...
    labhelpers.errors.MachineError: Unknown machine driver 'vmware'.
    What to do: use driver='dind' (default) or driver='docker-machine'
    """

    def __init__(self, path: str = "docker-machine", driver: str = "dind", notebook: str = "03",
                 store: str | None = None, client=None, images=("python",), log=None,
                 timeout: float = executable.TIMEOUT):
        self.driver = driver
        self.log = log or (lambda line: None)
        self.timeout = timeout
        if driver == "dind":
            self._driver: Driver = Dind(store=store, notebook=notebook, client=client, images=images,
                                        log=self.log)
        elif driver == "docker-machine":
            self._driver = Executable(path, timeout=timeout)
        else:
            raise MachineError(f"Unknown machine driver {driver!r}.",
                               "use driver='dind' (default) or driver='docker-machine'")
        self.path = getattr(self._driver, "path", None)

    def __repr__(self) -> str:
        return f"Machine(driver={self.driver!r})"

    @property
    def store(self) -> str | None:
        """The dind machine store folder (None with the docker-machine driver)."""
        return self._driver.store

    def version(self) -> str:
        """docker-machine's version, or the kit's for the dind driver."""
        return self._driver.version()

    # -- create, list, configure, remove ---------------------------------------------------
    def create(self, name: str, driver: str | None = None, blocking: bool = True, xarg=None,
               ssh: bool = False) -> int:
        """Create a machine; return 0 (the exit code, as the original).

        Args:
            name: the machine's name (unique).
            driver: with dind, ``None``/``"dind"``; another name is noted and a
                dind machine is made. With docker-machine: its ``--driver``
                (default ``virtualbox``, as the original).
            blocking: accepted for compatibility; create always waits.
            xarg: extra flags (dockerd's with dind, docker-machine's otherwise).
            ssh: (dind) also run an SSH server: see :meth:`ssh_url`. Not in the original.

        Raises:
            MachineError: the machine could not be made (the message says why).

        Returns:
            0, the exit code, as the original.
        """
        self._driver.create(name, driver=driver, xarg=xarg, ssh=ssh)
        return 0

    def config(self, machine: str = "default") -> dict:
        """``base_url`` and ``tls`` for ``docker.DockerClient(**config)``.

        Args:
            machine: the machine's name.

        Returns:
            ``{"base_url": "tcp://HOST:PORT", "tls": docker.tls.TLSConfig}``.

        >>> client = docker.DockerClient(**m.config(machine="node1"))   # doctest: +SKIP
        """
        return self._driver.config(machine)

    def client(self, machine: str = "default", **kwargs) -> docker.DockerClient:
        """A ``docker.DockerClient`` for the machine (not in the original).

        Args:
            machine: the machine's name.
            **kwargs: more ``DockerClient`` arguments (``timeout``...).

        Returns:
            The ``docker.DockerClient``, over mutual TLS.
        """
        return docker.DockerClient(**self.config(machine), **kwargs)

    def ls(self) -> list[dict]:
        """The machines, one dict each, keyed by docker-machine's ``ls`` fields (:data:`LS_FIELDS`)."""
        return self._driver.ls()

    exists = _delegate("exists", 'True when the machine exists.',
                        'True when it exists.')
    status = _delegate("status", 'True when the machine is running (as the original: a bool, not the state).',
                        'True when it runs.')
    start = _delegate("start", 'Start a stopped machine and wait for its engine; True.',
                        'True, as the original.', true=True)
    stop = _delegate("stop", 'Stop the machine (its engine, containers, then the host); True.',
                        'True, as the original.', true=True)

    def restart(self, machine: str = "default") -> bool:
        """Stop, then start the machine; True.

        Args:
            machine: the machine's name.

        Returns:
            True, as the original.
        """
        self.stop(machine)
        return self.start(machine)

    kill = _delegate("kill", 'Stop the machine at once; True.',
                        'True, as the original.', true=True)

    def rm(self, machine: str = "default", force: bool = False) -> bool:
        """Remove the machine: host, storage, certificates; True.

        Args:
            force: with dind, do not complain when the machine does not exist.

        Returns:
            True, as the original.
        """
        self._driver.rm(machine, force=force)
        return True

    # -- settings --------------------------------------------------------------------------
    env = _delegate("env", 'The variables that point the ``docker`` CLI (and docker-py) at the machine.',
                        '``DOCKER_HOST``, ``DOCKER_TLS_VERIFY``, ``DOCKER_CERT_PATH``, ``DOCKER_MACHINE_NAME``.')
    inspect = _delegate("inspect", "docker-machine's ``inspect`` document for the machine.",
                        'The document, as a dict.')
    ip = _delegate("ip", "The machine's IP address (with dind: on the lab network).",
                        'The address, as text.')
    url = _delegate("url", "The engine's URL, ``tcp://HOST:PORT``.",
                        '``tcp://HOST:PORT``.')

    def active(self):
        """The active machine (DOCKER_HOST's), or None."""
        return self._driver.active()

    def ssh(self, machine: str, cmd: str) -> list[str]:
        """Run a shell command on the machine; its output split on whitespace (as the original).

        Args:
            machine: the machine's name.
            cmd: the shell command.

        Returns:
            The output, split on whitespace.
        """
        return self._driver.ssh(machine, cmd).split()

    def ssh_url(self, machine: str = "default") -> str:
        """The machine's engine as ``ssh://USER@HOST:PORT`` (not in the original).

        With dind, for a machine made with ``create(name, ssh=True)``: the host is the
        ``Host`` alias the kit wrote (:mod:`labhelpers.machine.ssh`), so the ``ssh``
        command and ``docker context create --docker host=URL`` find key and host key.

        Args:
            machine: the machine's name.

        Returns:
            ``ssh://USER@HOST:PORT``.

        >>> m.ssh_url("nb03-ssh")                          # doctest: +SKIP
        'ssh://root@nb03-ssh:32801'
        """
        return self._driver.ssh_url(machine)

    def ssh_client(self, machine: str = "default", use_ssh_client: bool = False,
                   **kwargs) -> docker.DockerClient:
        """A ``docker.DockerClient`` for the machine over ``ssh://`` (not in the original).

        Args:
            machine: the machine's name.
            use_ssh_client: run the ``ssh`` command (OpenSSH) instead of paramiko.
            **kwargs: more ``DockerClient`` arguments.

        Returns:
            The ``docker.DockerClient``.

        >>> m.ssh_client("nb03-ssh", use_ssh_client=True).ping()   # doctest: +SKIP
        True
        """
        return self._driver.ssh_client(machine, use_ssh_client=use_ssh_client, **kwargs)

    def scp(self, source: str, destination: str, recursive: bool = False) -> list[str]:
        """Copy files between machines (docker-machine driver only).

        Args:
            source: ``[MACHINE:]PATH``.
            destination: ``[MACHINE:]PATH``.
            recursive: copy folders too.

        Returns:
            docker-machine's output, split on whitespace.
        """
        return self._driver.scp(source, destination, recursive).split()

    provision = _delegate("provision", 'Re-provision the machine (docker-machine driver only).',
                        'True, as the original.', true=True)

    regenerate_certs = _delegate("regenerate_certs", 'New TLS certificates for the machine (docker-machine driver only).',
                        'True, as the original.', true=True)

    upgrade = _delegate("upgrade", "Upgrade the machine's engine (docker-machine driver only).",
                        'True, as the original.', true=True)
