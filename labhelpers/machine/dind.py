"""The ``dind`` driver: a docker machine is a Docker-in-Docker container.

Each machine is one container of the catalogue's ``dind`` image
(``docker:28-dind``, a stand-in offline) on the current engine, with:

- its own ``dockerd``, its own storage (a volume on ``/var/lib/docker``);
- a place on one lab network shared by the machines of a store, so they reach
  each other (a swarm needs that);
- the engine API on port 2376 with **mutual TLS only** (``--tlsverify``),
  published on the host's loopback (``127.0.0.1``) and nowhere else; no
  plain-TCP port exists;
- a folder in the machine store with its CA, server and client certificates
  (:mod:`labhelpers.machine.certs`) and its ``config.json``;
- with ``ssh=True``, an SSH server too, on a second loopback port, with keys the kit
  made and its host key pinned (:mod:`labhelpers.machine.ssh`).

:class:`Dind` is the driver ``Machine()`` delegates to by default.

Privileged mode is tried first; where the host refuses it ("unable to apply
caps"), the driver falls back to what ``--privileged`` gives, spelled out:
``--cap-add=ALL --cap-drop=<what the host lacks>``, seccomp and AppArmor
unconfined, ``/sys/fs/cgroup`` mounted, and ``systempaths=unconfined``
(a writable ``/proc/sys``: Engine 28 and later set IPv6 sysctls in each
container's network namespace, and fail to start any container without it).

>>> driver = Dind(store="/tmp/machines", notebook="03")     # doctest: +SKIP
>>> driver.create("node1").url                               # doctest: +SKIP
'tcp://127.0.0.1:49153'

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tarfile
import threading
import time
from dataclasses import dataclass

import docker
import docker.errors
import docker.tls

from .. import labels as lab_labels
from ..errors import MachineError
from . import caps, certs, ssh
from .driver import LS_FIELDS, Driver

#: The engine port inside each machine (docker-machine's, TLS).
PORT = 2376
#: Where the machine's engine finds its certificates.
TLS_DIR = "/etc/docker/tls"
#: Label holding the machine's name, and the store it belongs to.
MACHINE = lab_labels.PREFIX + "machine"
STORE = lab_labels.PREFIX + "machine-store"
#: Seconds to wait for a new machine's engine to answer over TLS.
BOOT_TIMEOUT = 90
#: Seconds a ``docker load`` of a lab image into a machine may take.
LOAD_TIMEOUT = 600

# Waits for the certificates (copied in once the container has its address),
# then starts the engine through the image's entrypoint (official or stand-in).
_BOOT = (
    f"until [ -s {TLS_DIR}/ready ]; do sleep 0.1; done; " + ssh.BOOT +
    "exec dockerd-entrypoint.sh dockerd --host=unix:///var/run/docker.sock "
    f"--host=tcp://0.0.0.0:{PORT} --tlsverify --tlscacert={TLS_DIR}/ca.pem "
    f"--tlscert={TLS_DIR}/server.pem --tlskey={TLS_DIR}/server-key.pem \"$@\""
)

# Per engine: True once privileged containers were refused there.
_NO_PRIVILEGED: dict[str, bool] = {}
_LOCK = threading.Lock()


def default_store() -> str:
    """The machine store: ``LABHELPERS_MACHINE_STORAGE``, else
    ``$XDG_DATA_HOME/labhelpers/machines`` (``~/.local/share/...``).

    >>> os.environ["LABHELPERS_MACHINE_STORAGE"] = "/tmp/m"; default_store()
    '/tmp/m'
    >>> del os.environ["LABHELPERS_MACHINE_STORAGE"]
    """
    from ..settings import machine_store

    return machine_store()


def fallback_options(missing: list[str]) -> dict:
    """docker-py ``run``/``create`` options that replace ``privileged=True``.

    Every capability the host has, no seccomp or AppArmor profile, and the cgroup
    tree. The one more thing ``--privileged`` gives, unmasked and writable system
    paths (the CLI's ``--security-opt systempaths=unconfined``), has no docker-py
    option: :data:`UNCONFINED_SYSTEM_PATHS` adds it to a host config.

    Args:
        missing: the capabilities the host cannot give (:func:`caps.missing_here`).

    Returns:
        keyword arguments for ``create_host_config``/``containers.run``, with
        ``extra_volumes`` to merge into the binds.

    >>> fallback_options(["SYS_RESOURCE"])["cap_drop"]
    ['SYS_RESOURCE']
    """
    return {
        "cap_add": ["ALL"],
        "cap_drop": list(missing),
        "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
        "extra_volumes": {"/sys/fs/cgroup": {"bind": "/sys/fs/cgroup", "mode": "rw"}},
    }


#: What the CLI's ``--security-opt systempaths=unconfined`` sends the engine (HostConfig
#: fields docker-py does not expose): nothing masked in ``/proc``, ``/proc/sys`` writable.
#: A machine's Engine 28 or later needs it without ``--privileged``: it writes IPv6 sysctls
#: in each container's network namespace and fails to start any container otherwise
#: ("failed to disable IPv6 on container's interface eth0"); 20.10 did not.
UNCONFINED_SYSTEM_PATHS = {"MaskedPaths": [], "ReadonlyPaths": []}


def run_dind(client, image: str, binds: dict, port_bindings: dict | None = None, **create):
    """Create and start a Docker-in-Docker container: privileged, else the explicit form.

    ``--privileged`` first; where the host refuses it ("unable to apply caps"), every
    capability the host has (:func:`fallback_options`) and unconfined system paths
    (:data:`UNCONFINED_SYSTEM_PATHS`), which an inner Engine 28 needs. The refusal is
    remembered per engine. Used by the machines here, and to run the kit image in its tests.

    Args:
        client: the engine's ``DockerClient``.
        image: the image to run.
        binds: volumes as docker-py's ``binds`` (``/sys/fs/cgroup`` is added in the fallback).
        port_bindings: docker-py's ``port_bindings`` (their ports are exposed too).
        **create: more ``APIClient.create_container`` arguments (``name``, ``labels``...).

    Returns:
        The started container (``docker.models.containers.Container``).

    Raises:
        docker.errors.APIError: the engine refused the container for another reason.

    >>> run_dind(client, "docker:28-dind", {"vol": {"bind": "/var/lib/docker"}}, name="n")  # doctest: +SKIP
    <Container: ...>
    """
    api = client.api
    binds, port_bindings = dict(binds), dict(port_bindings or {})
    create.setdefault("ports", list(port_bindings) or None)
    create.setdefault("detach", True)

    def start(host_config: dict):
        created = api.create_container(image, host_config=host_config, **create)
        try:
            api.start(created["Id"])
        except docker.errors.APIError:
            api.remove_container(created["Id"], force=True, v=True)
            raise
        return client.containers.get(created["Id"])

    if not _NO_PRIVILEGED.get(api.base_url):
        try:
            return start(api.create_host_config(binds=binds, port_bindings=port_bindings, privileged=True))
        except docker.errors.APIError as err:
            if "apply caps" not in str(err) and "operation not permitted" not in str(err):
                raise
            _NO_PRIVILEGED[api.base_url] = True
    options = fallback_options(caps.missing_here())
    binds.update(options.pop("extra_volumes"))
    host_config = api.create_host_config(binds=binds, port_bindings=port_bindings, **options)
    host_config.update(UNCONFINED_SYSTEM_PATHS)
    return start(host_config)


class MachineTLS(docker.tls.TLSConfig):
    """docker-py's TLS settings, made immune to ``REQUESTS_CA_BUNDLE``.

    requests lets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` replace the CA a
    session was given (psf/requests#5209, docker/docker-py#2433), so a client
    would check the machine's engine against the system's CAs and fail. The
    client this configures ignores those variables (and proxy variables: the
    engine is on loopback).
    """

    def configure_client(self, client):
        super().configure_client(client)
        client.trust_env = False


@dataclass
class Host:
    """One machine as the driver sees it (the container may be gone)."""

    name: str
    folder: str
    container: object | None

    @property
    def state(self) -> str:
        """docker-machine's states: Running, Stopped, Starting, Paused, Error."""
        if self.container is None:
            return "Error"
        status = self.container.status
        return {"running": "Running", "exited": "Stopped", "created": "Stopped",
                "restarting": "Starting", "paused": "Paused"}.get(status, "Error")

    def _published(self, port: int) -> int | None:
        """The loopback port that ``port`` inside the machine is published on, if any."""
        if self.container is None:
            return None
        bound = (self.container.attrs["NetworkSettings"].get("Ports") or {}).get(f"{port}/tcp")
        return int(bound[0]["HostPort"]) if bound else None

    @property
    def port(self) -> int | None:
        """The loopback port of the machine's engine (TLS)."""
        return self._published(PORT)

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}" if self.port else ""

    @property
    def ssh_port(self) -> int | None:
        """The loopback port of the machine's sshd (None: made without ``ssh=True``)."""
        return self._published(ssh.PORT)

    @property
    def ip(self) -> str:
        """The machine's address on the lab network (other machines reach it there)."""
        if self.container is None:
            return ""
        nets = self.container.attrs["NetworkSettings"].get("Networks") or {}
        return next((n["IPAddress"] for n in nets.values() if n.get("IPAddress")), "")

    def path(self, key: str) -> str:
        return os.path.join(self.folder, certs.FILES.get(key) or ssh.FILES[key])

    def tls(self) -> docker.tls.TLSConfig:
        return MachineTLS(client_cert=(self.path("client_cert"), self.path("client_key")),
                                    ca_cert=self.path("ca"), verify=True)

    def config(self) -> dict:
        return {"base_url": self.url.replace("tcp://", "https://"), "tls": self.tls()}


class Dind(Driver):
    """Docker machines as Docker-in-Docker containers of one engine.

    Args:
        store: the machine store folder (default: :func:`default_store`).
        notebook: the notebook whose labels and name prefix the objects carry.
        client: the engine that hosts the machines (default: the kit's).
        images: catalogue names of images loaded into each new machine.
        log: called with progress lines.
    """

    name = "dind"

    def __init__(self, store: str | None = None, notebook: str = "03", client=None,
                 images=("python",), log=None):
        self.store = os.path.abspath(store or default_store())
        self.notebook = notebook
        self._client = client
        self.images = tuple(images)
        self.log = log or (lambda line: None)

    # -- the host engine and names ---------------------------------------------------------
    @property
    def client(self):
        if self._client is None:
            from ..engine import client as get_client

            self._client = get_client()
        return self._client

    def container_name(self, machine: str) -> str:
        """``nbNN-<machine>`` (a machine already named ``nbNN-...`` keeps its name)."""
        own = lab_labels.name(self.notebook, "")
        return machine if machine.startswith(own) else lab_labels.name(self.notebook, machine)

    @property
    def network_name(self) -> str:
        return lab_labels.name(self.notebook, "machines")

    def _labels(self, machine: str | None = None) -> dict:
        extra = {"machine-store": self.store}
        if machine:
            extra["machine"] = machine
        return lab_labels.labels_for(self.notebook, **extra)

    def folder(self, machine: str) -> str:
        return os.path.join(self.store, machine)

    # -- reading ---------------------------------------------------------------------------
    def _containers(self, machine: str | None = None) -> list:
        wanted = [f"{STORE}={self.store}"] + ([f"{MACHINE}={machine}"] if machine else [])
        return self.client.containers.list(all=True, filters={"label": wanted}, ignore_removed=True)

    def hosts(self) -> list[Host]:
        """Every machine of the store; folders left without a container are pruned."""
        found = {c.labels[MACHINE]: c for c in self._containers()}
        if os.path.isdir(self.store):
            for entry in os.listdir(self.store):
                if entry not in found and os.path.exists(os.path.join(self.store, entry, "config.json")):
                    shutil.rmtree(os.path.join(self.store, entry), ignore_errors=True)
                    ssh.exclude(self.store)
        return [Host(n, self.folder(n), c) for n, c in sorted(found.items())]

    def host(self, machine: str) -> Host:
        """The machine, or :class:`MachineError` if there is none of that name."""
        found = self._containers(machine)
        if not found:
            raise MachineError(f"There is no machine {machine!r} (driver dind, store {self.store}).",
                               "list them with Machine().ls(), or create it with create(name)")
        return Host(machine, self.folder(machine), found[0])

    def exists(self, machine: str) -> bool:
        return bool(self._containers(machine))

    # -- creating --------------------------------------------------------------------------
    def _network(self):
        try:
            return self.client.networks.get(self.network_name)
        except docker.errors.NotFound:
            try:
                return self.client.networks.create(self.network_name, driver="bridge",
                                                   labels=self._labels())
            except docker.errors.APIError:  # made meanwhile by a parallel create
                return self.client.networks.get(self.network_name)

    def _run(self, machine: str, image: str, volume: str, xarg, with_ssh: bool = False):
        api = self.client.api
        ports = {PORT: ("127.0.0.1", None), **({ssh.PORT: ("127.0.0.1", None)} if with_ssh else {})}
        return run_dind(
            self.client, image, binds={volume: {"bind": "/var/lib/docker", "mode": "rw"}},
            port_bindings=ports,
            name=self.container_name(machine), hostname=machine,
            entrypoint=["sh", "-c", _BOOT, "boot"], command=list(xarg or []),
            environment={"DOCKER_TLS_CERTDIR": ""}, labels=self._labels(machine),
            networking_config=api.create_networking_config(
                {self.network_name: api.create_endpoint_config()}))

    def _remove_container(self, name: str) -> None:
        try:
            self.client.api.remove_container(name, force=True, v=True)
        except docker.errors.NotFound:
            pass

    def create(self, machine: str, driver: str | None = None, xarg=None, ssh: bool = False) -> Host:
        """Create and boot a machine; load the lab's images into it.

        Args:
            machine: its name (letters, digits, ``-``, ``.``, ``_``).
            driver: ``None`` or ``"dind"``; another name (the talk's ``"virtualbox"``)
                is noted in the log, and a dind machine is made.
            xarg: extra ``dockerd`` flags (e.g. ``["--label", "zone=a"]``).
            ssh: also run sshd, reachable as :meth:`ssh_url` with the kit's keys.

        Returns:
            The new machine's :class:`Host`.

        Raises:
            MachineError: a bad or taken name, an image without sshd (with ``ssh``),
                or an engine that did not boot.
        """
        from ..images import CATALOGUE, ensure

        if driver not in (None, "dind"):
            self.log(f"driver {driver!r} needs docker-machine and its hypervisor; "
                     f"{machine} is a Docker-in-Docker machine instead")
        if not machine or not all(ch.isalnum() or ch in "-._" for ch in machine):
            raise MachineError(f"{machine!r} is not a valid machine name.",
                               "use letters, digits, '-', '.' or '_'")
        if self.exists(machine):
            raise MachineError(f"Machine {machine!r} already exists.",
                               f"use it, or remove it first with rm(machine={machine!r})")
        t0 = time.monotonic()
        image = ensure("dind", client=self.client, log=self.log).tags[0]
        folder = self.folder(machine)
        shutil.rmtree(folder, ignore_errors=True)
        volume = self.container_name(machine) + "-docker"
        self.client.volumes.create(volume, labels=self._labels(machine))
        with _LOCK:
            self._network()
        try:
            container = self._run(machine, image, volume, xarg, with_ssh=ssh)
            container.reload()
            host = Host(machine, folder, container)
            paths = certs.write_machine_certs(folder, machine, ips=["127.0.0.1", host.ip],
                                              dns=[self.container_name(machine)])
            extra = self._ssh_files(host, image) if ssh else []
            container.put_archive("/", _tls_tar(paths, extra))
            self._save_config(host)
            self.wait(host)
            # Loading an image takes a while on a busy host: a patient client.
            client = docker.DockerClient(**host.config(), timeout=LOAD_TIMEOUT)
            for name in self.images:
                self._load(CATALOGUE[name].ref, client)
            client.close()
        except BaseException:
            self.remove(machine, quiet=True)
            raise
        self.log(f"{machine}: created in {time.monotonic() - t0:.1f} s")
        return self.host(machine)

    def _ssh_files(self, host: Host, image: str) -> list:
        """Check the image can serve SSH; make the keys, pin the host key; the machine's files."""
        code, _ = host.container.exec_run(["sh", "-c", "test -x /usr/sbin/sshd && command -v docker"])
        if code:
            raise MachineError(
                f"The machine image {image} has no sshd, or no docker CLI (ssh:// runs "
                "`docker system dial-stdio` on the machine).",
                "with a kit stand-in made before they were in its recipe: `docker rmi "
                f"{image}` then `python -m labhelpers prepare --notebook 03`; with the official "
                "image, create the machine without ssh=True")
        ssh.write_keys(host.folder, host.name)
        self._pin(host)
        return ssh.machine_files(host.folder)

    def _pin(self, host: Host) -> None:
        """Write the machine's known_hosts and ssh_config for its port; include the store's."""
        if host.ssh_port:
            ssh.pin(host.folder, self.container_name(host.name), host.ssh_port)
            ssh.include(self.store)

    def _save_config(self, host: Host) -> None:
        data = {"Name": host.name, "DriverName": "dind", "Container": host.container.name,
                "Store": self.store, "Notebook": self.notebook}
        with open(os.path.join(host.folder, "config.json"), "w") as f:
            json.dump(data, f, indent=2)

    def wait(self, host: Host, timeout: float = BOOT_TIMEOUT):
        """Wait until the machine's engine answers over TLS; return a client for it."""
        from ..waiting import wait_until

        def answers():
            host.container.reload()
            if host.container.status not in ("running", "created", "restarting"):
                tail = host.container.logs(tail=15).decode(errors="replace").strip()
                from ..room import nested_engine_refused

                refused = nested_engine_refused(host.name, tail)  # in a room: one clear sentence
                if refused:
                    raise MachineError(*refused)
                raise MachineError(f"Machine {host.name!r} stopped while booting:\n{tail}",
                                   "check the host engine's logs; `python -m labhelpers doctor`")
            if host.port:
                client = docker.DockerClient(**host.config(), timeout=10)
                client.ping()
                return client

        return wait_until(answers, timeout, interval=0.3, error=MachineError,
                          what=f"machine {host.name!r} to answer on {host.url}",
                          todo=f"look at its logs: docker logs {host.container.name}",
                          ignore=(Exception,))  # not up yet

    def _load(self, ref: str, target) -> None:
        """Copy an image from the host engine into a machine (docker save → load)."""
        try:
            image = self.client.images.get(ref)
        except docker.errors.ImageNotFound:
            from ..images import ensure

            image = ensure(ref, client=self.client, log=self.log)
        self.log(f"loading {ref} into the machine")
        target.images.load(image.save(named=ref))

    # -- life cycle ------------------------------------------------------------------------
    def start(self, machine: str) -> None:
        host = self.host(machine)
        host.container.start()
        self.wait(host)
        host.container.reload()
        self._pin(host)  # its ports may have changed

    def stop(self, machine: str) -> None:
        self.host(machine).container.stop(timeout=15)

    def kill(self, machine: str) -> None:
        self.host(machine).container.kill()

    def remove(self, machine: str, quiet: bool = False) -> None:
        """Remove the machine's container, volume and folder; the lab network with the last."""
        if not quiet and not self.exists(machine):
            raise MachineError(f"There is no machine {machine!r} to remove.",
                               "list them with Machine().ls()")
        self._remove_container(self.container_name(machine))
        try:
            self.client.api.remove_volume(self.container_name(machine) + "-docker", force=True)
        except docker.errors.NotFound:
            pass
        shutil.rmtree(self.folder(machine), ignore_errors=True)
        ssh.exclude(self.store)
        if not self._containers():
            with _LOCK:
                try:
                    self.client.api.remove_network(self.network_name)
                except docker.errors.APIError:  # gone, or used by another store's machines
                    pass

    def rm(self, machine: str, force: bool = False) -> None:
        self.remove(machine, quiet=force)

    def ssh(self, machine: str, cmd: str) -> str:
        """Run a shell command in the machine (with ``docker exec``, as ``docker-machine ssh`` would)."""
        code, out = self.host(machine).container.exec_run(["sh", "-c", cmd])
        text = out.decode(errors="replace")
        if code:
            raise MachineError(f"`{cmd}` failed on {machine!r} (exit {code}): {text.strip()}",
                               "check the command")
        return text

    # -- reading a machine, as docker-machine did ---------------------------------------------
    def _running(self, machine: str) -> Host:
        host = self.host(machine)
        if host.state != "Running":
            raise MachineError(f"Machine {machine!r} is {host.state.lower()}, not running.",
                               f"start it with start(machine={machine!r})")
        return host

    def version(self) -> str:
        from .. import __version__

        return f"labhelpers {__version__} (dind)"

    def config(self, machine: str) -> dict:
        return self._running(machine).config()

    def ls(self) -> list[dict]:
        return [self._row(h) for h in self.hosts()]

    def _row(self, host: Host) -> dict:
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

    def status(self, machine: str) -> bool:
        return self.host(machine).state == "Running"

    def env(self, machine: str) -> dict[str, str]:
        host = self._running(machine)
        return {"DOCKER_TLS_VERIFY": "1", "DOCKER_HOST": host.url,
                "DOCKER_CERT_PATH": host.folder, "DOCKER_MACHINE_NAME": machine}

    def inspect(self, machine: str) -> dict:
        host = self.host(machine)
        return {
            "ConfigVersion": 3, "DriverName": "dind", "Name": machine,
            "Driver": {"MachineName": machine, "IPAddress": host.ip, "StorePath": self.store,
                       "ContainerName": host.container.name, "ContainerId": host.container.id,
                       "EnginePort": PORT, "HostPort": host.port,
                       "Image": (host.container.image.tags or [""])[0],
                       **({"SSHUser": ssh.USER, "SSHPort": host.ssh_port,
                           "SSHKeyPath": host.path("key")} if host.ssh_port else {})},
            "HostOptions": {"AuthOptions": {
                "CertDir": host.folder, "CaCertPath": host.path("ca"),
                "CaPrivateKeyPath": host.path("ca_key"), "ServerCertPath": host.path("server_cert"),
                "ServerKeyPath": host.path("server_key"), "ClientCertPath": host.path("client_cert"),
                "ClientKeyPath": host.path("client_key")}},
        }

    def ip(self, machine: str) -> str:
        return self.host(machine).ip

    def url(self, machine: str) -> str:
        return self._running(machine).url

    def active(self):
        url = os.environ.get("DOCKER_HOST", "")
        return next((h.name for h in self.hosts() if url and h.url == url), None)

    def ssh_url(self, machine: str) -> str:
        """``ssh://root@nbNN-NAME:PORT``: the ``Host`` block the kit wrote names the rest.

        Raises:
            MachineError: the machine was made without ``ssh=True``, or is not running.
        """
        host = self._running(machine)
        if not host.ssh_port:
            raise MachineError(f"Machine {machine!r} runs no SSH server.",
                               f"create one with create({machine!r}, ssh=True)")
        return f"ssh://{ssh.USER}@{self.container_name(machine)}:{host.ssh_port}"

    def ssh_client(self, machine: str, use_ssh_client: bool = False, **kwargs):
        return ssh.client(self.ssh_url(machine), self.folder(machine), use_ssh_client, **kwargs)


def _tls_tar(paths: dict, ssh_files=()) -> bytes:
    """The engine's TLS files (and SSH's) as a tar for ``put_archive``, with ``ready`` last."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        base = TLS_DIR.lstrip("/")
        folders = ("etc", "etc/docker", base) + ((ssh.SSH_DIR.lstrip("/"),) if ssh_files else ())
        for part in folders:
            info = tarfile.TarInfo(part)
            info.type, info.mode = tarfile.DIRTYPE, 0o755
            tar.addfile(info)
        files = []
        for arcname, key in (("ca.pem", "ca"), ("server.pem", "server_cert"), ("server-key.pem", "server_key")):
            with open(paths[key], "rb") as f:
                files.append((f"{base}/{arcname}", f.read(), 0o600))
        files += [(f"{ssh.SSH_DIR.lstrip('/')}/{name}", data, mode) for name, data, mode in ssh_files]
        for arcname, data, mode in files:
            info = tarfile.TarInfo(arcname)
            info.size, info.mode = len(data), mode
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo(f"{base}/ready")
        info.size = 3
        tar.addfile(info, io.BytesIO(b"ok\n"))
    return buf.getvalue()
