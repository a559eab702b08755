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
        raise MachineError(f"`docker-machine {command}` has no equivalent with the driver {self.name!r}.",
                           "use Machine(driver='docker-machine') with the real executable")

    # -- the calls every driver has (Machine's API) ------------------------------------------
    def version(self) -> str:
        """The version of what runs the machines."""
        self._unsupported("version")

    def create(self, name: str, driver: str | None = None, xarg=None, ssh: bool = False) -> None:
        """Create a machine and wait until its engine answers.

        Args:
            name: the machine's name.
            driver: the ``driver`` the caller asked for (the talk's ``"virtualbox"``).
            xarg: extra flags for the driver.
            ssh: also run an SSH server reachable with the kit's keys.
        """
        self._unsupported("create")

    def config(self, machine: str) -> dict:
        """``base_url`` and ``tls`` for ``docker.DockerClient(**config)``."""
        self._unsupported("config")

    def ls(self) -> list[dict]:
        """One dict per machine, keyed by docker-machine's ``ls`` fields."""
        self._unsupported("ls")

    def exists(self, machine: str) -> bool:
        """True when the machine exists."""
        self._unsupported("ls")

    def status(self, machine: str) -> bool:
        """True when the machine is running."""
        self._unsupported("status")

    def start(self, machine: str) -> None:
        """Start a stopped machine and wait for its engine."""
        self._unsupported("start")

    def stop(self, machine: str) -> None:
        """Stop the machine."""
        self._unsupported("stop")

    def kill(self, machine: str) -> None:
        """Stop the machine at once."""
        self._unsupported("kill")

    def rm(self, machine: str, force: bool = False) -> None:
        """Remove the machine and everything the driver made for it."""
        self._unsupported("rm")

    def env(self, machine: str) -> dict[str, str]:
        """The variables that point the ``docker`` CLI at the machine."""
        self._unsupported("env")

    def inspect(self, machine: str) -> dict:
        """docker-machine's ``inspect`` document."""
        self._unsupported("inspect")

    def ip(self, machine: str) -> str:
        """The machine's IP address."""
        self._unsupported("ip")

    def url(self, machine: str) -> str:
        """The engine's ``tcp://HOST:PORT``."""
        self._unsupported("url")

    def active(self):
        """The machine ``DOCKER_HOST`` points at, or None."""
        self._unsupported("active")

    def ssh(self, machine: str, cmd: str) -> str:
        """Run a shell command on the machine; its output."""
        self._unsupported("ssh")

    def ssh_url(self, machine: str) -> str:
        """The machine's engine as an ``ssh://`` URL for docker-py and the CLI."""
        self._unsupported("ssh")

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
    def scp(self, source: str, destination: str, recursive: bool = False) -> str:
        """Copy files between machines."""
        self._unsupported("scp")

    def provision(self, machine: str) -> None:
        """Re-provision the machine."""
        self._unsupported("provision")

    def regenerate_certs(self, machine: str) -> None:
        """New TLS certificates for the machine."""
        self._unsupported("regenerate-certs")

    def upgrade(self, machine: str) -> None:
        """Upgrade the machine's engine."""
        self._unsupported("upgrade")
