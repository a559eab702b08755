"""What every way of running a docker machine offers: the interface ``Machine`` delegates to.

docker-py picks its transport once, when a client is made (``docker/api/client.py``), and
no method asks again which one it has. ``Machine`` does the same with its *driver*: it
makes one :class:`Driver` in its constructor, and each of its calls is one call of it.
The drivers:

- :class:`labhelpers.machine.dind.Dind` (``"dind"``): a machine is a Docker-in-Docker
  container of your engine, with its own engine behind mutual TLS (and sshd on request);
- :class:`labhelpers.machine.executable.Executable` (``"docker-machine"``): the real
  executable, run so that it can never hang on a prompt.

A new way (a VM, a cloud) is one more subclass: it implements the methods that raise
:class:`~labhelpers.errors.MachineError` here, and ``Machine`` needs no change.

>>> Driver().scp("a:/x", "b:/y")
Traceback (most recent call last):
...
labhelpers.errors.MachineError: `docker-machine scp` has no equivalent with the driver 'none'.
What to do: use Machine(driver='docker-machine') with the real executable

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

from ..errors import MachineError

#: The fields of ``docker-machine ls``, the keys of each row of ``Machine.ls()``.
LS_FIELDS = ["Name", "Active", "ActiveHost", "ActiveSwarm", "DriverName", "State", "URL", "Swarm",
             "Error", "DockerVersion", "ResponseTime"]


def _needs(command: str, doc: str):
    """A method of the interface that a driver without it answers with a MachineError."""

    def method(self, *args, **kwargs):
        self._unsupported(command)

    method.__doc__ = doc
    return method


class Driver:
    """One way of running docker machines: the calls of python-docker-machine's ``Machine``.

    Each method takes the machine's name and answers as the original did (see
    :class:`labhelpers.machine.Machine` for the differences). A method a driver cannot
    do raises :class:`~labhelpers.errors.MachineError` saying which driver can.
    """

    #: The driver's name, as ``Machine(driver=...)`` and ``ls()``'s ``DriverName`` spell it.
    name = "none"
    #: The machine store folder (None when the driver keeps no store of its own).
    store: str | None = None

    def _unsupported(self, command: str):
        """Raise: ``docker-machine COMMAND`` has no equivalent with this driver."""
        raise MachineError(f"`docker-machine {command}` has no equivalent with the driver {self.name!r}.",
                           "use Machine(driver='docker-machine') with the real executable")

    # -- the calls every driver has (Machine's API) ------------------------------------------
    def create(self, name: str, driver: str | None = None, xarg=None, ssh: bool = False) -> None:
        """Create a machine and wait until its engine answers.

        Args:
            name: the machine's name.
            driver: the ``driver`` the caller asked for (the talk's ``"virtualbox"``).
            xarg: extra flags for the driver.
            ssh: also run an SSH server reachable with the kit's keys.
        """
        self._unsupported("create")

    version = _needs("version", "The version of what runs the machines.")
    config = _needs("config", "``base_url`` and ``tls`` for ``docker.DockerClient(**config)``.")
    ls = _needs("ls", "One dict per machine, keyed by :data:`LS_FIELDS`.")
    exists = _needs("ls", "True when the machine exists.")
    status = _needs("status", "True when the machine is running.")
    start = _needs("start", "Start a stopped machine and wait for its engine.")
    stop = _needs("stop", "Stop the machine.")
    kill = _needs("kill", "Stop the machine at once.")
    rm = _needs("rm", "Remove the machine (``force``: no complaint if it is gone) and what was made for it.")
    env = _needs("env", "The variables that point the ``docker`` CLI at the machine.")
    inspect = _needs("inspect", "docker-machine's ``inspect`` document.")
    ip = _needs("ip", "The machine's IP address.")
    url = _needs("url", "The engine's ``tcp://HOST:PORT``.")
    active = _needs("active", "The machine ``DOCKER_HOST`` points at, or None.")
    ssh = _needs("ssh", "Run a shell command on the machine; its output.")
    ssh_url = _needs("ssh", "The machine's engine as an ``ssh://`` URL for docker-py and the CLI.")

    def ssh_client(self, machine: str, use_ssh_client: bool = False, **kwargs):
        """A ``docker.DockerClient`` that reaches the machine's engine over SSH.

        Args:
            machine: the machine's name.
            use_ssh_client: run the ``ssh`` command (True) instead of paramiko.
            **kwargs: more ``DockerClient`` arguments (``timeout``...).
        """
        import docker

        return docker.DockerClient(base_url=self.ssh_url(machine), use_ssh_client=use_ssh_client, **kwargs)

    # -- docker-machine only ------------------------------------------------------------------
    scp = _needs("scp", "Copy files between machines.")
    provision = _needs("provision", "Re-provision the machine.")
    regenerate_certs = _needs("regenerate-certs", "New TLS certificates for the machine.")
    upgrade = _needs("upgrade", "Upgrade the machine's engine.")
