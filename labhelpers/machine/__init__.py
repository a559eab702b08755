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
- ``ssh(machine, cmd)`` runs ``cmd`` in the machine with ``docker exec``
  (a dind machine has no SSH server); ``scp``, ``provision``, ``upgrade`` and
  ``regenerate_certs`` exist only with the docker-machine driver.
- Errors are :class:`~labhelpers.errors.MachineError` (a ``LabError``:
  what went wrong, what to do) instead of ``RuntimeError``.

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import json
import re
import shutil
import time

import docker
import docker.tls

from ..errors import MachineError
from . import executable
from .dind import MACHINE as MACHINE_LABEL
from .dind import Dind, MachineTLS, default_store

LS_FIELDS = ["Name", "Active", "ActiveHost", "ActiveSwarm", "DriverName", "State", "URL", "Swarm",
             "Error", "DockerVersion", "ResponseTime"]

__all__ = ["LS_FIELDS", "MACHINE_LABEL", "Machine", "MachineError", "MachineTLS", "default_store",
           "ensure_docker_config"]


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
            self.path = None
            self._dind = Dind(store=store, notebook=notebook, client=client, images=images,
                              log=self.log)
        elif driver == "docker-machine":
            self.path = shutil.which(path)
            self._dind = None
            if not self.path:
                raise MachineError(f"The docker-machine executable ({path}) is not on this machine.",
                                   "use Machine() (driver 'dind'), or install docker-machine")
        else:
            raise MachineError(f"Unknown machine driver {driver!r}.",
                               "use driver='dind' (default) or driver='docker-machine'")

    def __repr__(self) -> str:
        return f"Machine(driver={self.driver!r})"

    # -- the docker-machine executable, as the original ran it ------------------------------
    def _run(self, cmd: list[str], raise_error: bool = True) -> tuple[str, str, int]:
        if self._dind is not None:
            raise MachineError(f"`docker-machine {cmd[0]}` has no dind equivalent.",
                               "use Machine(driver='docker-machine') with the real executable")
        done = executable.run([self.path, *cmd], timeout=self.timeout)
        if raise_error and done.code:
            raise MachineError(f"`docker-machine {' '.join(cmd)}` failed (exit {done.code}): "
                               f"{done.stderr.strip()}", "read docker-machine's message above")
        return done.stdout, done.stderr, done.code

    def _match(self, cmd: list[str], regexp: str):
        stdout, _, _ = self._run(cmd)
        match = re.match(regexp, stdout.strip())
        if not match:
            raise MachineError(f"Cannot parse the output of `docker-machine {' '.join(cmd)}`: "
                               f"{stdout.strip()!r}", "check the docker-machine version")
        return match

    @property
    def store(self) -> str | None:
        """The dind machine store folder (None with the docker-machine driver)."""
        return self._dind.store if self._dind else None

    def version(self) -> str:
        """docker-machine's version, or the kit's for the dind driver."""
        if self._dind is None:
            return self._match(["version"], "docker-machine version (.+), build (.+)").group(1)
        from .. import __version__

        return f"labhelpers {__version__} (dind)"

    # -- create, list, configure, remove ---------------------------------------------------
    def create(self, name: str, driver: str | None = None, blocking: bool = True, xarg=None) -> int:
        """Create a machine; return 0 (the exit code, as the original).

        Args:
            name: the machine's name (unique).
            driver: with dind, ``None``/``"dind"``; another name is noted and a
                dind machine is made. With docker-machine: its ``--driver``
                (default ``virtualbox``, as the original).
            blocking: accepted for compatibility; create always waits.
            xarg: extra flags (dockerd's with dind, docker-machine's otherwise).
        """
        if self._dind is None:
            cmd = ["create", "--driver", driver or "virtualbox", *(xarg or []), name]
            return self._run(cmd)[2]
        if driver not in (None, "dind"):
            self.log(f"driver {driver!r} needs docker-machine and its hypervisor; "
                     f"{name} is a Docker-in-Docker machine instead")
        self._dind.create(name, xarg=xarg)
        return 0

    def config(self, machine: str = "default") -> dict:
        """``base_url`` and ``tls`` for ``docker.DockerClient(**config)``.

        >>> client = docker.DockerClient(**m.config(machine="node1"))   # doctest: +SKIP
        """
        if self._dind is None:
            regexp = '(--tlsverify\n)?--tlscacert="(.+)"\n--tlscert="(.+)"\n--tlskey="(.+)"\n-H=(.+)'
            tlsverify, ca, cert, key, host = self._match(["config", machine], regexp).group(1, 2, 3, 4, 5)
            return {"base_url": host.replace("tcp://", "https://") if tlsverify else host,
                    "tls": MachineTLS(client_cert=(cert, key), ca_cert=ca, verify=True)}
        host = self._running(machine)
        return host.config()

    def client(self, machine: str = "default", **kwargs) -> docker.DockerClient:
        """A ``docker.DockerClient`` for the machine (not in the original)."""
        return docker.DockerClient(**self.config(machine), **kwargs)

    def ls(self) -> list[dict]:
        """The machines, one dict each, keyed by docker-machine's ``ls`` fields (:data:`LS_FIELDS`)."""
        if self._dind is None:
            sep = "\t"
            fields = sep.join("{{.%s}}" % f for f in LS_FIELDS)
            stdout, _, _ = self._run(["ls", "-f", fields])
            return [dict(zip(LS_FIELDS, line.split(sep))) for line in stdout.splitlines() if line]
        return [self._row(h) for h in self._dind.hosts()]

    def _row(self, host) -> dict:
        row = dict.fromkeys(LS_FIELDS, "")
        row.update(Name=host.name, Active="-", ActiveHost=False, ActiveSwarm=False,
                   DriverName="dind", State=host.state, URL=host.url if host.state == "Running" else "")
        if host.state == "Error":
            row["Error"] = "the machine's container is gone"
        if host.state == "Running":
            t0 = time.monotonic()
            try:
                client = docker.DockerClient(**host.config(), timeout=20)
                info = client.version()
                row["DockerVersion"] = "v" + info["Version"]
                row["ResponseTime"] = f"{(time.monotonic() - t0) * 1000:.0f}ms"
                swarm = client.info().get("Swarm") or {}
                if swarm.get("LocalNodeState") == "active":
                    row["Swarm"] = "manager" if swarm.get("ControlAvailable") else "worker"
                client.close()
            except Exception as err:  # noqa: BLE001 - shown, as docker-machine does
                row["Error"] = str(err).splitlines()[0][:120]
        return row

    def exists(self, machine: str = "default") -> bool:
        """True when the machine exists."""
        if self._dind is None:
            stdout, _, _ = self._run(["ls", "--filter", "NAME=" + machine, "--format", "{{.Name}}"])
            return machine in stdout.split()
        return self._dind.exists(machine)

    def status(self, machine: str = "default") -> bool:
        """True when the machine is running (as the original: a bool, not the state)."""
        if self._dind is None:
            return self._run(["status", machine])[0].strip() == "Running"
        return self._dind.host(machine).state == "Running"

    def _running(self, machine: str):
        host = self._dind.host(machine)
        if host.state != "Running":
            raise MachineError(f"Machine {machine!r} is {host.state.lower()}, not running.",
                               f"start it with start(machine={machine!r})")
        return host

    def start(self, machine: str = "default") -> bool:
        """Start a stopped machine and wait for its engine; True."""
        if self._dind is None:
            self._run(["start", machine])
        else:
            self._dind.start(machine)
        return True

    def stop(self, machine: str = "default") -> bool:
        """Stop the machine (its engine, containers, then the host); True."""
        if self._dind is None:
            self._run(["stop", machine])
        else:
            self._dind.stop(machine)
        return True

    def restart(self, machine: str = "default") -> bool:
        """Stop, then start the machine; True."""
        self.stop(machine)
        return self.start(machine)

    def kill(self, machine: str = "default") -> bool:
        """Stop the machine at once; True."""
        if self._dind is None:
            self._run(["kill", machine])
        else:
            self._dind.kill(machine)
        return True

    def rm(self, machine: str = "default", force: bool = False) -> bool:
        """Remove the machine: host, storage, certificates; True.

        Args:
            force: with dind, do not complain when the machine does not exist.
        """
        if self._dind is None:
            self._run(["rm", "-y", *(["-f"] if force else []), machine])
        else:
            self._dind.remove(machine, quiet=force)
        return True

    # -- settings --------------------------------------------------------------------------
    def env(self, machine: str = "default") -> dict[str, str]:
        """The variables that point the ``docker`` CLI (and docker-py) at the machine."""
        if self._dind is None:
            stdout, _, _ = self._run(["env", "--shell", "bash", machine])
            return dict(re.findall(r'export (\w+)="([^"]*)"', stdout))
        host = self._running(machine)
        return {"DOCKER_TLS_VERIFY": "1", "DOCKER_HOST": host.url,
                "DOCKER_CERT_PATH": host.folder, "DOCKER_MACHINE_NAME": machine}

    def inspect(self, machine: str = "default") -> dict:
        """docker-machine's ``inspect`` document for the machine."""
        if self._dind is None:
            return json.loads(self._run(["inspect", machine])[0])
        host = self._dind.host(machine)
        return {
            "ConfigVersion": 3, "DriverName": "dind", "Name": machine,
            "Driver": {"MachineName": machine, "IPAddress": host.ip, "StorePath": self.store,
                       "ContainerName": host.container.name, "ContainerId": host.container.id,
                       "EnginePort": 2376, "HostPort": host.port,
                       "Image": (host.container.image.tags or [""])[0]},
            "HostOptions": {"AuthOptions": {
                "CertDir": host.folder, "CaCertPath": host.path("ca"),
                "CaPrivateKeyPath": host.path("ca_key"), "ServerCertPath": host.path("server_cert"),
                "ServerKeyPath": host.path("server_key"), "ClientCertPath": host.path("client_cert"),
                "ClientKeyPath": host.path("client_key")}},
        }

    def ip(self, machine: str = "default") -> str:
        """The machine's IP address (with dind: on the lab network)."""
        if self._dind is None:
            return self._run(["ip", machine])[0].strip()
        return self._dind.host(machine).ip

    def url(self, machine: str = "default") -> str:
        """The engine's URL, ``tcp://HOST:PORT``."""
        if self._dind is None:
            return self._run(["url", machine])[0].strip()
        return self._running(machine).url

    def active(self):
        """The active machine (DOCKER_HOST's), or None."""
        if self._dind is None:
            stdout, stderr, code = self._run(["active"], raise_error=False)
            return None if code == 1 and stderr.strip() == "No active host found" else stdout.strip()
        import os

        url = os.environ.get("DOCKER_HOST", "")
        return next((h.name for h in self._dind.hosts() if url and h.url == url), None)

    def ssh(self, machine: str, cmd: str) -> list[str]:
        """Run a shell command on the machine; its output split on whitespace (as the original)."""
        if self._dind is None:
            return self._run(["ssh", machine, cmd])[0].split()
        return self._dind.exec(machine, cmd).split()

    def scp(self, source: str, destination: str, recursive: bool = False) -> list[str]:
        """Copy files between machines (docker-machine driver only)."""
        return self._run(["scp", *(["-r"] if recursive else []), source, destination])[0].split()

    def provision(self, machine: str = "default") -> bool:
        """Re-provision the machine (docker-machine driver only)."""
        self._run(["provision", machine])
        return True

    def regenerate_certs(self, machine: str = "default") -> bool:
        """New TLS certificates for the machine (docker-machine driver only)."""
        self._run(["regenerate-certs", "--force", machine])
        return True

    def upgrade(self, machine: str = "default") -> bool:
        """Upgrade the machine's engine (docker-machine driver only)."""
        self._run(["upgrade", machine])
        return True
