"""Rooms: a JupyterHub for a workshop, one isolated kit container per participant.

The hub (``jupyterhub/jupyterhub_config.py``) spawns the room image
(``jupyterhub/Dockerfile``) for each participant with DockerSpawner. This module holds
what the hub's configuration, the instructor's commands (``python -m labhelpers room
...``), the tests and the benchmark share: the isolation levels and what each means, the
room's network, the accounts and their printable sheet, a client of the hub's REST API
that also runs code in a participant's kernel through the hub's proxy, the instructor's
view of who is where, and the progress file the exercise checkers write.

>>> ISOLATION["rootless"].split(":")[0]
'rootless inner engine'
>>> gateway_of("172.29.14.0/24")
'172.29.14.1'
>>> hub = Hub.start()                                    # doctest: +SKIP
>>> hub.client().create_accounts(3)                       # doctest: +SKIP

Introduced in README.md ("Rooms"), the instructor's side of the kit; no notebook uses it.
"""

from __future__ import annotations

import hashlib
import html
import ipaddress
import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from . import settings
from .errors import RoomError
from .waiting import wait_until

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "jupyterhub" / "jupyterhub_config.py"
DEFAULT_STATE = ROOT / "build" / "hub" / "state"
DEFAULT_SUBNET = "172.29.14.0/24"
DEFAULT_IMAGE = "docker-python-lab-room:latest"
#: Label on every Docker object a room creates (network, participants' containers).
LABEL = "org.labhelpers.room"
#: Where the inner engine keeps its images and containers, in a rootless room container.
INNER_DATA_ROOT = "/home/lab/.local/share/docker"
#: Label naming the image file behind a participant's disk-limited volume.
DISK_LABEL = "org.labhelpers.room.disk"

#: The participants' seccomp profile: allow-by-default, a deny list of what they never need.
SECCOMP_PROFILE = ROOT / "jupyterhub" / "seccomp-room.json"

#: ``--security-opt systempaths=unconfined`` as the engine's API takes it (the CLI translates).
UNCONFINED_SYSTEM_PATHS = {"MaskedPaths": [], "ReadonlyPaths": []}

#: What each isolation level means for the participants, one sentence each.
ISOLATION = {
    "rootless": (
        "rootless inner engine: each participant is the unprivileged user lab (uid 1000, no "
        "capabilities) in their own container, their Docker engine runs in a user namespace "
        "(its root is an unprivileged uid of the host), no host path or socket is mounted, "
        "participants' containers cannot reach each other, the hub speaks mutual TLS to them; "
        "given up for it: Docker's default seccomp profile (the room's own refuses kernel "
        "modules, kexec, keyrings, BPF, perf... but allows the user namespace's unshare and "
        "mount) and /proc masking"
    ),
    "dind": (
        "root inner engine (the kit image's way, for hosts without user namespaces): every "
        "capability but one, the host's cgroup tree mounted: a participant can become root of "
        "the host; use it only for one trusted learner per machine"
    ),
    "host": (
        "the host's engine, shared: no isolation between participants; for one learner only"
    ),
}


def gateway_of(subnet: str | ipaddress.IPv4Network) -> str:
    """The address Docker gives the host on a network of this subnet: its first one.

    Args:
        subnet: e.g. ``"172.29.14.0/24"``.

    Returns:
        The gateway address, as text.

    >>> gateway_of("10.9.0.0/16")
    '10.9.0.1'
    """
    return str(next(ipaddress.ip_network(subnet).hosts()))


def pinned_ip(subnet: str | ipaddress.IPv4Network, user_id: int) -> str:
    """The fixed address of a participant's container: its certificate names it.

    Args:
        subnet: the room network's subnet.
        user_id: the participant's id in the hub's database (1, 2, ...).

    Returns:
        The address, 10 past the gateway plus the id.

    Raises:
        RoomError: the subnet has no room for that many participants.

    >>> pinned_ip("172.29.14.0/24", 3)
    '172.29.14.13'
    """
    net = ipaddress.ip_network(subnet)
    address = net.network_address + 10 + int(user_id)
    if address >= net.broadcast_address:
        raise RoomError(f"The room network {net} has no address left for participant {user_id}.",
                        "Give the hub a larger subnet: LAB_HUB_SUBNET=172.29.0.0/16.")
    return str(address)


def ensure_network(name: str, subnet: str | ipaddress.IPv4Network = DEFAULT_SUBNET, client=None) -> str:
    """Create the room's network if needed: a bridge where participants cannot reach each other.

    ``enable_icc=false``: traffic between two containers of the network is dropped; each
    still reaches the host (the hub's API, on the gateway) and the hub reaches each of them.

    Args:
        name: the network's name (``LAB_HUB_NETWORK``).
        subnet: its subnet; the hub listens on its gateway.
        client: a docker-py client (default: the machine's engine).

    Returns:
        The gateway address.

    Raises:
        RoomError: a network of that name exists with another subnet, or lets containers talk.

    >>> ensure_network("lab-hub")                            # doctest: +SKIP
    '172.29.14.1'
    """
    import docker

    client = client or docker.from_env(version="auto")
    subnet = str(ipaddress.ip_network(subnet))
    found = client.networks.list(names=[name])
    if found:
        attrs = found[0].attrs
        subnets = [cfg.get("Subnet") for cfg in (attrs.get("IPAM") or {}).get("Config") or []]
        icc = (attrs.get("Options") or {}).get("com.docker.network.bridge.enable_icc", "true")
        if subnet not in subnets or icc != "false":
            raise RoomError(
                f"The network {name} exists with subnet {subnets} and enable_icc={icc}: "
                "participants on it could reach each other, or the hub would listen elsewhere.",
                f"Remove it (`docker network rm {name}`) once no participant uses it, or set "
                "LAB_HUB_NETWORK to another name.")
        return gateway_of(subnet)
    import docker.types

    client.networks.create(
        name, driver="bridge",
        options={"com.docker.network.bridge.enable_icc": "false"},
        ipam=docker.types.IPAMConfig(pool_configs=[
            docker.types.IPAMPool(subnet=subnet, gateway=gateway_of(subnet))]),
        labels={LABEL: "network"},
    )
    return gateway_of(subnet)


def check_public_url(url: str, ssl_cert: str | None) -> None:
    """Refuse to serve the hub beyond loopback in clear text.

    Args:
        url: the public URL the proxy binds (``LAB_HUB_URL``).
        ssl_cert: the TLS certificate given, if any.

    Raises:
        RoomError: a non-loopback address without a certificate.

    >>> check_public_url("http://127.0.0.1:8000", None)
    """
    from urllib.parse import urlparse

    host = urlparse(url).hostname or ""
    try:
        loopback = host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback and not ssl_cert:
        raise RoomError(
            f"The hub would listen on {url} in clear text: passwords and tokens on the room's wifi.",
            "Give it a certificate (LAB_HUB_SSL_CERT and LAB_HUB_SSL_KEY, and an https:// URL), "
            "or keep LAB_HUB_URL on 127.0.0.1 behind a TLS reverse proxy.")


def hub_announcement(isolation: str, disk: str = "") -> str:
    """The line the hub's pages show: which isolation is in force and what it means.

    Args:
        isolation: a key of :data:`ISOLATION`.
        disk: what the participants' engines have for a disk (:func:`disk_sentence`).

    Returns:
        Text for JupyterHub's ``announcement`` template variable.

    >>> hub_announcement("rootless").startswith("Isolation in force: rootless")
    True
    """
    return f"Isolation in force: {ISOLATION.get(isolation, isolation)}{'; ' + disk if disk else ''}."


def isolation_in_force() -> str | None:
    """Inside a room container, the isolation its hub gave it (for the doctor's table).

    Returns:
        ``"rootless: ..."`` from ``LABHELPERS_ISOLATION``, or None outside a room.

    >>> isolation_in_force() is None or ":" in isolation_in_force()
    True
    """
    level = settings.room_isolation()
    if not level:
        return None
    disk = settings.room_disk()  # set by the hub's spawner
    return f"{level}: {ISOLATION.get(level, 'unknown level')}{'; ' + disk if disk else ''}{cgroup_note(level)}"


#: Said in the doctor's isolation row where a rootless inner engine has no cgroups.
NO_CGROUPS_NOTE = (
    "; on this host (cgroup v1) your engine has no cgroups: containers you start take no "
    "--memory/--cpus limit and report no stats (notebook 04's stats cell says so and stops)")


def cgroup_note(level: str, root: str = "/sys/fs/cgroup") -> str:
    """What a participant cannot do with their engine on this host, or ``""``.

    A rootless engine manages cgroups only on a cgroup v2 host that delegates them; on
    cgroup v1 its containers get no limits and ``docker stats`` (and
    :func:`labhelpers.stats.frame`) gets no counters.

    Args:
        level: the isolation in force (a key of :data:`ISOLATION`).
        root: where the cgroup tree is mounted (for tests).

    Returns:
        :data:`NO_CGROUPS_NOTE` for a rootless engine on cgroup v1, else ``""``.

    >>> cgroup_note("dind")
    ''
    """
    if level != "rootless" or os.path.exists(os.path.join(root, "cgroup.controllers")):
        return ""
    return NO_CGROUPS_NOTE


def nested_engine_refused(name: str, log: str) -> tuple[str, str] | None:
    """In a rootless room, why a machine's nested engine did not boot, said once and clearly.

    Notebook 03's machines are Docker-in-Docker engines. Inside a participant's rootless
    engine (a user namespace) the nested ``dockerd`` may not mount overlays nor program
    netfilter on a host like this project's CI (kernel refusal, "you must be root"), so
    it exits while booting. Outside a room, or with another isolation, this says nothing
    and the driver shows the engine's log as usual.

    Args:
        name: the machine's name.
        log: the end of the nested engine's log.

    Returns:
        ``(what, todo)`` for a :class:`~labhelpers.errors.MachineError`, or None.

    >>> said = nested_engine_refused("m", "failed to start daemon: iptables failed")
    >>> said is None or said[0].startswith("Machine 'm' cannot boot in this room")
    True

    Introduced for ``03-docker-machine`` in a room (README, "Rooms").
    """
    if settings.room_isolation() != "rootless":
        return None
    lines = [line for line in log.splitlines() if line.strip()]
    cause = next((line for line in reversed(lines) if "failed to start daemon" in line), lines[-1] if lines else "")
    return (f"Machine {name!r} cannot boot in this room: notebook 03's machines are Docker "
            f"engines nested in yours, and your rootless engine (the room's isolation) may not "
            f"give them the mounts and network rules they need here. The nested engine said: "
            f"{cause.strip()[:300]}",
            "read notebook 03 here (its outputs are stored) and run it with the kit on your own "
            "machine (`make lab`), where machines boot; the rest of the lab runs in this room")


def tools_token(state: Path) -> str:
    """The instructor's API token (the hub's ``room-tools`` service), kept in the state folder.

    Args:
        state: the hub's state folder (mode 0700).

    Returns:
        The token, created on first use.

    >>> tools_token(DEFAULT_STATE)                           # doctest: +SKIP
    """
    path = Path(state) / "room-tools.token"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def host_config(isolation: str) -> dict:
    """The extra Docker host config for a participant's container at an isolation level.

    Args:
        isolation: ``rootless`` (default of the hub) or ``dind``.

    Returns:
        Keyword arguments of docker-py's ``create_host_config``.

    >>> host_config("rootless")["cap_add"]
    []
    """
    pids = settings.pids_limit()
    if isolation == "dind":
        return {"cap_add": ["ALL"], "cap_drop": ["SYS_RESOURCE"], "pids_limit": pids,
                "security_opt": ["seccomp=unconfined", "apparmor=unconfined"]}
    return {
        "cap_add": [],
        # The user namespace of rootlesskit: unshare(CLONE_NEWUSER), mount, setns... are
        # refused by Docker's default seccomp profile to a process without CAP_SYS_ADMIN:
        # the room's own profile allows them and refuses what a participant never needs
        # (SECCOMP_PROFILE). A fresh /proc in the user namespace needs an unmasked /proc
        # (systempaths=unconfined is the CLI's name: the engine takes empty MaskedPaths and
        # ReadonlyPaths, which RoomSpawner sends; see UNCONFINED_SYSTEM_PATHS).
        "security_opt": [f"seccomp={SECCOMP_PROFILE.read_text()}", "apparmor=unconfined"],
        "devices": ["/dev/net/tun:/dev/net/tun:rwm"],
        "pids_limit": pids,
    }


def volumes(isolation: str, prefix: str = "lab") -> dict:
    """The participant's volumes: their inner engine's storage, nothing of the host.

    Args:
        isolation: ``rootless`` or ``dind``.
        prefix: the hub's container prefix.

    Returns:
        DockerSpawner's ``volumes`` (``{username}`` is filled per participant).

    >>> list(volumes("rootless").values())
    ['/home/lab/.local/share/docker']
    """
    if isolation == "dind":
        return {f"{prefix}-docker-{{username}}": "/var/lib/docker", "/sys/fs/cgroup": "/sys/fs/cgroup"}
    return {f"{prefix}-docker-{{username}}": INNER_DATA_ROOT}


def disk_unsupported(limit: str | None = None) -> str | None:
    """Why this host cannot give each inner engine a disk of its own size, or None when it can.

    A disk-limited volume is an ext4 file system in a sparse file of the hub's state, on a
    loop device: the hub must run as root and find ``truncate``, ``mkfs.ext4``, ``losetup``
    and ``/dev/loop-control``.

    Args:
        limit: the size asked (default: ``LAB_DISK_LIMIT``, :func:`labhelpers.settings.disk_limit`);
            ``0`` asks for none.

    Returns:
        One sentence, or None.

    >>> disk_unsupported("0")
    'LAB_DISK_LIMIT=0 asks for no limit'
    """
    limit = settings.disk_limit() if limit is None else limit
    if limit.strip() in ("", "0"):
        return "LAB_DISK_LIMIT=0 asks for no limit"
    if os.geteuid() != 0:
        return "the hub does not run as root, which attaching loop devices needs"
    missing = [tool for tool in ("truncate", "mkfs.ext4", "losetup") if not shutil.which(tool)]
    if missing:
        return f"{', '.join(missing)} missing on the hub's host (Debian: util-linux, e2fsprogs)"
    if not os.path.exists("/dev/loop-control"):
        return "the hub's host has no loop devices (/dev/loop-control)"
    return None


def disk_sentence(limit: str, unsupported: str | None) -> str:
    """What the hub's page and the doctor's isolation row say about the inner engine's disk.

    Args:
        limit: ``LAB_DISK_LIMIT``.
        unsupported: :func:`disk_unsupported`'s answer.

    Returns:
        One clause.

    >>> disk_sentence("10G", None)
    "each participant's engine has a disk of 10G of its own (LAB_DISK_LIMIT)"
    """
    if unsupported:
        return f"each participant's engine disk has NO size limit here ({unsupported}): one can fill the host's disk"
    return f"each participant's engine has a disk of {limit} of its own (LAB_DISK_LIMIT)"


def _loop_devices_of(image: Path) -> list[str]:
    out = subprocess.run(["losetup", "--associated", str(image), "--noheadings", "--output", "NAME"],
                         capture_output=True, text=True).stdout
    return out.split()


def participant_disk(client, volume: str, folder: Path, limit: str) -> str:
    """Make ``volume`` an ext4 disk of ``limit`` bytes: a sparse file in ``folder`` on a loop device.

    Run by the hub (as root) before a participant's container is created. The file is made
    once (``truncate`` + ``mkfs.ext4``, root directory owned by ``lab``) and costs only what
    is written in it; its loop device is attached when missing (after a reboot), and the
    Docker volume (local driver, ``type=ext4,device=/dev/loopN,o=discard``) is re-created when it
    names another device: the data is in the file, the volume only says how to mount it.
    Docker 20.10's local driver cannot take ``o=loop`` (the kernel's mount has no such
    option), hence the loop device. A volume of the same name without the file (an
    unlimited one from before) is left as it is.

    Args:
        client: a low-level ``docker.APIClient`` (DockerSpawner's ``client``).
        volume: the participant's inner-engine volume name.
        folder: the room's disk folder in the hub's state.
        limit: its size, as ``truncate -s`` takes it (``10G``).

    Returns:
        The loop device, or ``""`` when an older unlimited volume was kept.

    Raises:
        RoomError: making the file system or attaching the device failed.

    >>> participant_disk(docker.APIClient(), "lab-docker-p01", DEFAULT_STATE / "disks", "10G")  # doctest: +SKIP
    '/dev/loop3'
    """
    import docker

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    image = folder / f"{volume}.ext4"
    try:
        existing = client.inspect_volume(volume)
    except docker.errors.NotFound:
        existing = None
    if existing and not image.exists():
        return ""  # made before the limit: the participant's work stays where it is
    try:
        if not image.exists():
            tmp = image.with_suffix(".tmp")
            subprocess.run(["truncate", "-s", limit, str(tmp)], check=True, capture_output=True, text=True)
            # no blocks reserved for root; the root directory is lab's, the inner engine's user
            subprocess.run(["mkfs.ext4", "-q", "-F", "-m", "0", "-E", "root_owner=1000:1000", str(tmp)],
                           check=True, capture_output=True, text=True)
            tmp.replace(image)
        devices = _loop_devices_of(image)
        device = devices[0] if devices else subprocess.run(
            ["losetup", "--find", "--show", str(image)], check=True, capture_output=True, text=True).stdout.strip()
    except subprocess.CalledProcessError as err:
        raise RoomError(f"The disk of {volume} could not be made: {' '.join(err.cmd)}: {err.stderr.strip()}",
                        "Free some loop devices (`losetup -a`) or disk, or start the hub with "
                        "LAB_DISK_LIMIT=0 (no disk limit).") from err
    if existing and (existing.get("Options") or {}).get("device") == device:
        return device
    if existing:
        client.remove_volume(volume)
    # discard: what the participant deletes (images, containers) goes back to the host's disk
    client.create_volume(volume, driver="local", driver_opts={"type": "ext4", "device": device, "o": "discard"},
                         labels={LABEL: "participant-disk", DISK_LABEL: str(image)})
    return device


def release_disk(labels: dict | None) -> None:
    """After the room's cleanup removed a participant's volume: detach its loop device, delete its file.

    Args:
        labels: the removed volume's labels; nothing happens without :data:`DISK_LABEL`.

    >>> release_disk({})
    """
    image = (labels or {}).get(DISK_LABEL)
    if not image or not Path(image).exists():
        return
    for device in _loop_devices_of(Path(image)):
        subprocess.run(["losetup", "--detach", device], capture_output=True)
    Path(image).unlink()


def room_spawner_class():
    """DockerSpawner with each participant's address fixed, so that their certificate names it.

    With ``internal_ssl`` the proxy checks the server's certificate against the address it
    connects to. The hub runs on the host, which cannot resolve container names, so each
    participant gets a fixed address on the room's network (:func:`pinned_ip`).

    Returns:
        The ``RoomSpawner`` class (needs dockerspawner, the ``[hub]`` extra).

    >>> room_spawner_class().__name__                        # doctest: +SKIP
    'RoomSpawner'
    """
    from dockerspawner import DockerSpawner
    from traitlets import Unicode, default

    class RoomSpawner(DockerSpawner):
        subnet = Unicode(DEFAULT_SUBNET, config=True, help="The room network's subnet.")
        disk_limit = Unicode("0", config=True, help="Each inner engine's disk size (LAB_DISK_LIMIT).")
        disk_folder = Unicode("", config=True, help="Where the disks' image files are kept.")
        disk_said = ""

        @property
        def room_ip(self) -> str:
            return pinned_ip(self.subnet, self.user.id)

        @default("ssl_alt_names")
        def _room_alt_names(self):
            return [f"DNS:{self.container_name}", f"IP:{self.room_ip}"]

        @default("extra_create_kwargs")
        def _room_create_kwargs(self):
            return {}

        async def move_certs(self, paths):
            # DockerSpawner starts a container to copy the certificates into its volume, then
            # removes it unforced: a race with any image whose command does not exit at once.
            # The copy works on a created container; it is never started, and removed forced.
            docker = self.docker

            async def staging(method, *args, **kwargs):
                if method == "start":
                    return None
                if method == "remove_container":
                    kwargs["force"] = True
                return await docker(method, *args, **kwargs)

            self.docker = staging
            try:
                return await super().move_certs(paths)
            finally:
                del self.docker

        async def start(self):
            # The hub then polls the server with exponential backoff (0.2 s doubling to 5 s,
            # random jitter): a server up after 8 s was seen 2-5 s later. Here the port is
            # tried every 0.1 s, so the hub's first poll finds the server listening.
            host, port = await super().start()
            await wait_for_port(host, port, self.http_timeout)
            return host, port

        async def create_object(self):
            await self.prepare_disk()
            endpoint = self.client.create_endpoint_config(ipv4_address=self.room_ip)
            self.extra_create_kwargs = dict(
                self.extra_create_kwargs,
                networking_config=self.client.create_networking_config({self.network_name: endpoint}),
                host_config=dict(UNCONFINED_SYSTEM_PATHS))
            return await super().create_object()

        async def prepare_disk(self):
            # The inner engine's volume becomes a disk of its own size, made here, as root,
            # before the container (and with it the volume) is created.
            import asyncio

            why = disk_unsupported(self.disk_limit) if self.disk_folder else "no disk folder"
            names = [host for host, bind in self.volume_binds.items()
                     if bind["bind"] in (INNER_DATA_ROOT, "/var/lib/docker")]
            if not why and names:
                device = await asyncio.to_thread(participant_disk, self.client, names[0],
                                                 Path(self.disk_folder), self.disk_limit)
                if not device:
                    why = "this participant's engine volume was made before the limit"
            self.disk_said = disk_sentence(self.disk_limit, why)
            if why:
                self.log.warning("room: %s: %s", self.user.name, self.disk_said)

        def get_env(self):
            return {**super().get_env(), "LABHELPERS_ROOM_DISK": self.disk_said}

    return RoomSpawner


async def wait_for_port(host: str, port: int, timeout: float, every: float = 0.1) -> bool:
    """Wait until something listens on a TCP port, trying every ``every`` seconds.

    Args:
        host: the address (a participant's pinned address).
        port: the port (their server's, 8888).
        timeout: seconds to try; then give up quietly (the hub's own check reports).
        every: seconds between tries.

    Returns:
        True when the port accepted a connection in time.

    >>> import asyncio
    >>> asyncio.run(wait_for_port("127.0.0.1", 9, timeout=0.2))
    False

    Introduced for the room's spawner (``make test-room``, ``benchmarks/room.py``).
    """
    import asyncio

    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 1)
        except (OSError, asyncio.TimeoutError):
            await asyncio.sleep(every)
            continue
        writer.close()
        return True
    return False


def _hash(password: str, salt: str) -> str:
    return hashlib.pbkdf2_hmac("sha256", password.encode(), bytes.fromhex(salt), 200_000).hex()


def __getattr__(name: str):
    """``RoomAuthenticator``, built on first use (it needs JupyterHub, the ``[hub]`` extra)."""
    if name != "RoomAuthenticator":
        raise AttributeError(name)
    from jupyterhub.auth import Authenticator
    from traitlets import Unicode

    class RoomAuthenticator(Authenticator):
        """Names and passwords from the room's accounts file (``room accounts N``)."""

        accounts_file = Unicode(str(DEFAULT_STATE / "accounts.json"), config=True)

        async def authenticate(self, handler, data):
            accounts = read_accounts(Path(self.accounts_file))
            entry = accounts.get(data.get("username", ""))
            if entry and secrets.compare_digest(entry["hash"], _hash(data.get("password", ""), entry["salt"])):
                return data["username"]
            return None

    globals()["RoomAuthenticator"] = RoomAuthenticator
    return RoomAuthenticator


def read_accounts(path: Path) -> dict:
    """The accounts file: name -> salt and password hash.

    Args:
        path: ``accounts.json`` in the hub's state folder.

    Returns:
        The accounts (empty when there is no file yet).

    >>> read_accounts(Path("/nonexistent/accounts.json"))
    {}
    """
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return {}


def add_account(path: Path, name: str, password: str) -> None:
    """Add or replace one account in the accounts file (mode 0600).

    Args:
        path: the accounts file.
        name: the participant's name.
        password: their password (stored as a salted PBKDF2 hash).

    >>> add_account(DEFAULT_STATE / "accounts.json", "instructor", "s3cret")  # doctest: +SKIP
    """
    accounts = read_accounts(path)
    salt = secrets.token_hex(16)
    accounts[name] = {"salt": salt, "hash": _hash(password, salt)}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(accounts, indent=1))
    tmp.chmod(0o600)
    tmp.replace(path)


def new_password() -> str:
    """A password easy to type from a card: three groups of four letters and digits.

    >>> len(new_password())
    14
    """
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))


def sheet(accounts: list[tuple[str, str]], url: str) -> str:
    """A printable HTML sheet: one card per participant, with a QR code of the hub's URL.

    Args:
        accounts: (name, password) pairs.
        url: the hub's public URL.

    Returns:
        The HTML page (QR codes as inline SVG, made by segno).

    >>> "alice" in sheet([("alice", "abcd-efgh-jkmn")], "https://hub.example")  # doctest: +SKIP
    True
    """
    import segno

    qr = segno.make(f"{url.rstrip('/')}/hub/login").svg_inline(scale=3)
    cards = "".join(
        f'<div class="card">{qr}<p class="url">{html.escape(url)}</p>'
        f'<p>name <b>{html.escape(name)}</b></p><p>password <b>{html.escape(password)}</b></p></div>'
        for name, password in accounts)
    return ("<!doctype html><html><head><meta charset='utf-8'><title>Workshop accounts</title><style>"
            "body{font-family:sans-serif}.card{display:inline-block;width:30%;margin:1%;padding:8px;"
            "border:1px dashed #888;page-break-inside:avoid;vertical-align:top}.url{font-size:80%}"
            "b{font-family:monospace;font-size:120%}</style></head><body>" + cards + "</body></html>")


def record_check(task: str, passed: bool) -> None:
    """Note a checker's answer in the participant's progress file, for the instructor's view.

    Does nothing outside a room (no ``LAB_PROGRESS_FILE``). Called by
    :meth:`labhelpers.checks.Result.of`.

    Args:
        task: the exercise, in a few words.
        passed: the checker's answer.

    >>> record_check("a web app on port 8081", True)
    """
    path = settings.progress_file()
    if not path:
        return
    try:
        progress = json.loads(Path(path).read_text())
    except (OSError, ValueError):
        progress = {}
    before = progress.get(task, {})
    progress[task] = {"passed": passed or bool(before.get("passed")), "at": time.time()}
    try:
        Path(path).write_text(json.dumps(progress))
    except OSError:
        pass  # a full or read-only disk must not break the exercise


def hub_installed() -> bool:
    """Whether this environment can start a hub: JupyterHub beside this Python, the proxy from npm.

    ``make hub-deps`` installs both.

    Returns:
        True when both programs are there.

    Example:
        >>> isinstance(hub_installed(), bool)
        True
    """
    exe = Path(sys.executable).with_name("jupyterhub")
    chp = ROOT / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
    return exe.exists() and (chp.exists() or shutil.which("configurable-http-proxy") is not None)


@dataclass
class Participant:
    """One row of the instructor's view.

    Attributes:
        name: the participant's name.
        server: ``ready``, ``pending spawn``, ``pending stop`` or ``stopped``.
        last_activity: the hub's last activity time (ISO 8601), or ``""``.
        passed: the exercises whose checker passed.
    """

    name: str
    server: str
    last_activity: str = ""
    passed: list[str] = field(default_factory=list)


def remove_room(client, prefix: str, network: str) -> None:
    """Remove what a room left on the engine: its participants' containers and volumes
    (named ``prefix...``, with the file and loop device of a disk-limited one) and its
    network. Used after a test's or a benchmark's hub.

    Args:
        client: the host engine's ``docker.DockerClient``.
        prefix: the participants' name prefix (``LAB_HUB_PREFIX``).
        network: the room's network (``LAB_HUB_NETWORK``).

    >>> remove_room(client, "labtest-", "labtest-room")     # doctest: +SKIP

    Introduced for ``make test-room`` and ``benchmarks/room.py``.
    """
    for box in client.containers.list(all=True, filters={"name": prefix}):
        box.remove(force=True)
    for volume in client.volumes.list(filters={"name": prefix}):
        labels = volume.attrs.get("Labels")
        volume.remove(force=True)
        release_disk(labels)  # a disk-limited volume's loop device and file
    for net in client.networks.list(names=[network]):
        net.remove()


class HubClient:
    """The hub's REST API, and participants' kernels through the hub's proxy.

    Args:
        url: the hub's public URL (``http://127.0.0.1:8000``).
        token: an API token with the ``room-tools`` scopes (:func:`tools_token`).

    >>> HubClient("http://127.0.0.1:8000", tools_token(DEFAULT_STATE)).users()  # doctest: +SKIP
    """

    def __init__(self, url: str, token: str):
        import requests

        self.url = url.rstrip("/")
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"token {token}"
        self.token = token

    def api(self, method: str, path: str, **kwargs):
        """One call of the hub's REST API; a refusal becomes a RoomError.

        Args:
            method: ``GET``, ``POST``, ``DELETE``...
            path: the API path after ``/hub/api`` (``/users``).
            **kwargs: more ``requests`` arguments (``json=...``).

        Returns:
            The answer's JSON, or None for an empty answer.

        Raises:
            RoomError: the hub answered 400 or more (the message holds its answer).
        """
        response = self.session.request(method, f"{self.url}/hub/api{path}", timeout=60, **kwargs)
        if response.status_code >= 400:
            raise RoomError(f"The hub answered {response.status_code} to {method} {path}: "
                            f"{response.text[:200]}", "Check the hub's log (build/hub/hub.log).")
        return response.json() if response.content else None

    def users(self) -> list[dict]:
        """Every user the hub knows, with their servers."""
        return self.api("GET", "/users")

    def create_accounts(self, names: list[str], accounts_file: Path) -> list[tuple[str, str]]:
        """Create participants (hub users and accounts-file entries) with fresh passwords.

        Args:
            names: the participants' names.
            accounts_file: the hub's accounts file.

        Returns:
            (name, password) pairs, for the sheet.
        """
        known = {user["name"] for user in self.users()}
        new = [name for name in names if name not in known]
        if new:
            self.api("POST", "/users", json={"usernames": new})
        pairs = []
        for name in names:
            password = new_password()
            add_account(accounts_file, name, password)
            pairs.append((name, password))
        return pairs

    def spawn(self, name: str, timeout: float = 240) -> float:
        """Start a participant's server and wait until it answers through the proxy.

        Args:
            name: the participant.
            timeout: seconds to wait.

        Returns:
            Seconds from the request until the server answered.

        Raises:
            RoomError: the server did not become ready in time.
        """
        start = time.monotonic()
        response = self.session.post(f"{self.url}/hub/api/users/{name}/server", timeout=60)
        if response.status_code not in (201, 202, 400):  # 400: already running
            raise RoomError(f"The hub refused to start {name}'s server: {response.text[:200]}",
                            "Check the hub's log (build/hub/hub.log).")
        def ready():
            server = (self.api("GET", f"/users/{name}").get("servers") or {}).get("")
            return bool(server and server.get("ready")) and self.session.get(
                f"{self.url}/user/{name}/api/status", timeout=30).status_code == 200

        wait_until(ready, timeout, interval=0.5, error=RoomError, what=f"{name}'s server to be ready",
                   todo=f"Look at `docker logs lab-{name}` and the hub's log.")
        return time.monotonic() - start

    def stop(self, name: str, timeout: float = 60) -> None:
        """Stop a participant's server and wait until it is gone.

        Args:
            name: the participant.
            timeout: the most seconds to wait.
        """
        self.session.delete(f"{self.url}/hub/api/users/{name}/server", timeout=60)
        wait_until(lambda: not (self.api("GET", f"/users/{name}").get("servers") or {}), timeout,
                   interval=0.5, error=None)

    def server_api(self, name: str, method: str, path: str, **kwargs):
        """A call of a participant's Jupyter server API, through the hub's proxy.

        Args:
            name: the participant.
            method: ``GET``, ``POST``...
            path: the API path after ``/user/NAME/api`` (``/kernels``).
            **kwargs: more ``requests`` arguments.

        Returns:
            The ``requests.Response``, whatever its status.
        """
        response = self.session.request(method, f"{self.url}/user/{name}/api{path}", timeout=60, **kwargs)
        return response

    def run(self, name: str, code: str, timeout: float = 300, kernel: str | None = None) -> dict:
        """Run code in a participant's kernel, through the proxy (the kernel's websocket).

        Args:
            name: the participant.
            code: the cell's source.
            timeout: seconds to wait for the kernel to go idle.
            kernel: an existing kernel's id (default: a new kernel, shut down afterwards).

        Returns:
            ``{"outputs": [...], "status": "ok" | "error"}`` in nbformat's output shape.
        """
        import asyncio

        own = kernel is None
        if own:
            kernel = self.start_kernel(name)
        try:
            return asyncio.run(self._run(name, kernel, code, timeout))
        finally:
            if own:
                self.server_api(name, "DELETE", f"/kernels/{kernel}")

    def start_kernel(self, name: str) -> str:
        """Start a python3 kernel in a participant's server; returns its id.

        Args:
            name: the participant.

        Returns:
            The kernel's id.

        Raises:
            RoomError: the server refused.
        """
        response = self.server_api(name, "POST", "/kernels", json={"name": "python3"})
        if response.status_code >= 400:
            raise RoomError(f"{name}'s server refused a kernel: {response.status_code} {response.text[:200]}",
                            f"Look at `docker logs lab-{name}`.")
        return response.json()["id"]

    async def _run(self, name: str, kernel: str, code: str, timeout: float) -> dict:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect

        ws_url = self.url.replace("http", "ws", 1) + f"/user/{name}/api/kernels/{kernel}/channels"
        # A loaded machine (load 20 on 2 cores, seen here) answers the handshake in tens of
        # seconds: tornado's default 20 s would end a healthy run.
        request = HTTPRequest(ws_url, headers={"Authorization": f"token {self.token}"},
                              connect_timeout=min(timeout, 120), request_timeout=min(timeout, 120))
        try:
            conn = await websocket_connect(request)
        except Exception as err:  # tornado's HTTPClientError, a refused connection...
            raise RoomError(f"{name}'s kernel did not answer through the proxy: {err}.",
                            "Look at the hub's log and `docker logs` of the participant's container.") from err
        msg_id = uuid.uuid4().hex
        conn.write_message(json.dumps({
            "header": {"msg_id": msg_id, "username": "room", "session": uuid.uuid4().hex,
                       "msg_type": "execute_request", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell",
            "content": {"code": code, "silent": False, "store_history": True,
                        "user_expressions": {}, "allow_stdin": False, "stop_on_error": True},
        }))
        outputs, status, idle, replied = [], "ok", False, False
        end = time.monotonic() + timeout
        try:
            while not (idle and replied):
                if time.monotonic() > end:
                    raise RoomError(f"{name}'s kernel did not finish the cell in {timeout:.0f} s.",
                                    "Run the cell by hand in the participant's notebook to see where it hangs.")
                try:
                    raw = await asyncio_wait(conn.read_message(), end - time.monotonic())
                except TimeoutError:
                    raise RoomError(f"{name}'s kernel did not finish the cell in {timeout:.0f} s.",
                                    "Run the cell by hand in the participant's notebook to see where it hangs.") from None
                if raw is None:
                    raise RoomError(f"{name}'s kernel closed its connection.", "Restart the participant's server.")
                msg = json.loads(raw)
                if msg.get("parent_header", {}).get("msg_id") != msg_id:
                    continue
                kind, content = msg["msg_type"], msg["content"]
                if kind == "stream":
                    outputs.append({"output_type": "stream", "name": content["name"], "text": content["text"]})
                elif kind in ("execute_result", "display_data"):
                    outputs.append({"output_type": kind, "data": content["data"]})
                elif kind == "error":
                    status = "error"
                    outputs.append({"output_type": "error", "ename": content["ename"],
                                    "evalue": content["evalue"]})
                elif kind == "status" and content["execution_state"] == "idle":
                    idle = True
                elif kind == "execute_reply":
                    replied = True
                    status = content.get("status", status)
        finally:
            conn.close()
        return {"outputs": outputs, "status": status}

    def run_notebook(self, name: str, notebook: Path, sanitize: Path | None = None,
                     extra_rules: list[tuple[str, str]] = (), cell_timeout: float = 300,
                     stop_on_error: bool = True) -> list[str]:
        """Run a notebook's code cells in one kernel of a participant and compare with its stored outputs.

        The comparison is nbval's: text outputs (streams, ``text/plain``) after the
        sanitizer's substitutions on both sides; cells marked ``# NBVAL_IGNORE_OUTPUT`` are
        run but not compared, cells marked ``# NBVAL_RAISES_EXCEPTION`` may raise.

        Args:
            name: the participant.
            notebook: the ``.ipynb`` file (the repository's copy of the one in the image).
            sanitize: nbval's sanitizer file (``tests/nbval-sanitize.cfg``).
            extra_rules: (regex, replacement) pairs applied before the sanitizer's.
            cell_timeout: seconds a cell may take; a slower one ends the run as a problem.
            stop_on_error: stop at the first cell that raises, as nbval does; False runs the
                rest too (the benchmark measures a whole notebook where one cell cannot work,
                such as notebook 04's stats on a cgroup v1 host). A cell that times out or a
                kernel that dies always ends the run.

        Returns:
            One line per difference or error (empty when the notebook holds).
        """
        import nbformat

        nb = nbformat.read(notebook, as_version=4)
        rules = list(extra_rules) + (_sanitizers(sanitize) if sanitize else [])
        problems = []
        kernel = self.start_kernel(name)
        try:
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                try:
                    got = self.run(name, cell.source, kernel=kernel, timeout=cell_timeout)
                except RoomError as err:
                    problems.append(f"cell {index}: {err.what}")
                    break
                raises = "NBVAL_RAISES_EXCEPTION" in cell.source  # nbval's: an error is the lesson
                if got["status"] != "ok" and not raises:
                    problems.append(f"cell {index}: {got['outputs'][-1:]}")
                    if stop_on_error:
                        break
                    continue
                if "NBVAL_IGNORE_OUTPUT" in cell.source:
                    continue
                want, have = _texts(cell.outputs, rules), _texts(got["outputs"], rules)
                if want != have:
                    problems.append(f"cell {index}: stored {want!r} != got {have!r}")
        finally:
            self.server_api(name, "DELETE", f"/kernels/{kernel}")
        return problems

    def progress(self, name: str) -> list[str]:
        """The exercises a participant's checkers passed (their progress file, via the proxy).

        Args:
            name: the participant.

        Returns:
            The tasks passed, sorted; empty when there is no progress file yet.
        """
        response = self.server_api(name, "GET", "/contents/.lab-progress.json", params={"content": 1})
        if response.status_code != 200:
            return []
        try:
            progress = json.loads(response.json()["content"])
        except (ValueError, KeyError, TypeError):
            return []
        return sorted(task for task, entry in progress.items() if entry.get("passed"))

    def status(self) -> list[Participant]:
        """The instructor's view: every participant, their server, the exercises they passed."""
        rows = []
        for user in sorted(self.users(), key=lambda u: u["name"]):
            if user.get("admin"):
                continue
            server = (user.get("servers") or {}).get("")
            if not server:
                state = "stopped"
            elif server.get("ready"):
                state = "ready"
            else:
                state = f"pending {server.get('pending') or ''}".strip()
            passed = self.progress(user["name"]) if state == "ready" else []
            rows.append(Participant(user["name"], state, user.get("last_activity") or "", passed))
        return rows


async def asyncio_wait(awaitable, timeout: float):
    """``asyncio.wait_for`` with at least a tenth of a second.

    Args:
        awaitable: what to wait for.
        timeout: seconds (at least 0.1 is used).

    Returns:
        What ``awaitable`` returns.

    >>> import asyncio
    >>> asyncio.run(asyncio_wait(asyncio.sleep(0, result="done"), 0))
    'done'
    """
    import asyncio

    return await asyncio.wait_for(awaitable, max(timeout, 0.1))


def _sanitizers(path: Path) -> list[tuple[str, str]]:
    import configparser

    parser = configparser.ConfigParser(interpolation=None)
    parser.read(path)
    return [(parser[s]["regex"], parser[s]["replace"]) for s in parser.sections()]


def _texts(outputs, rules) -> list[str]:
    import re

    raw, previous = [], None
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            text = out.get("text", "")
        elif kind in ("execute_result", "display_data"):
            text = out.get("data", {}).get("text/plain", "")
        else:
            continue
        text = "".join(text) if isinstance(text, list) else text
        name = out.get("name") if kind == "stream" else None
        if name and name == previous:  # nbval's coalesce_streams: one text per run of a stream
            raw[-1] += text
        else:
            raw.append(text)
        previous = name
    texts = []
    for text in raw:
        for regex, replace in rules:
            text = re.sub(regex, replace, text)
        texts.append(text.strip())
    return texts


@dataclass
class Hub:
    """A JupyterHub with the project's configuration, run as a child process.

    Attributes:
        url: its public URL.
        state: its state folder (database, certificates, accounts, tokens).
        process: the ``jupyterhub`` process.
        log: its log file.
        env: its environment (the ``LAB_*`` settings of the configuration).
    """

    url: str
    state: Path
    process: subprocess.Popen | None = None
    log: Path | None = None
    env: dict = field(default_factory=dict)

    @classmethod
    def start(cls, state: Path = DEFAULT_STATE, port: int = 8000, env: dict | None = None,
              timeout: float = 60) -> "Hub":
        """Start the hub and wait until its API answers.

        Args:
            state: its state folder.
            port: its public port, on 127.0.0.1 (unless ``LAB_HUB_URL`` says otherwise).
            env: extra environment (``LAB_IMAGE``, ``LAB_HUB_NETWORK``, ``LAB_HUB_SUBNET``...).
            timeout: seconds to wait.

        Returns:
            The running hub.

        Raises:
            RoomError: JupyterHub or configurable-http-proxy is missing, or the hub did not start.
        """
        import requests

        state = Path(state).resolve()
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        if not hub_installed():
            raise RoomError("JupyterHub or configurable-http-proxy is not installed.",
                            "Run `make hub-deps` (JupyterHub and DockerSpawner from PyPI, the proxy from npm).")
        exe = Path(sys.executable).with_name("jupyterhub")
        # LAB_HUB_URL (an https:// address with LAB_HUB_SSL_CERT/KEY) serves the room beyond
        # this machine; by default the hub listens on loopback only.
        public = settings.hub_url(port)
        env = {**os.environ, "LAB_HUB_STATE": str(state), "LAB_HUB_URL": public, **(env or {})}
        ensure_network(env.get("LAB_HUB_NETWORK", "lab-hub"), env.get("LAB_HUB_SUBNET", DEFAULT_SUBNET))
        log = state.parent / f"hub-{port}.log"
        process = subprocess.Popen([str(exe), "-f", str(CONFIG)], cwd=state, env=env,
                                   stdout=log.open("w"), stderr=subprocess.STDOUT)
        local = public.replace("://0.0.0.0", "://127.0.0.1").replace("://[::]", "://127.0.0.1")
        hub = cls(local, state, process, log, env)
        def answers():
            if process.poll() is not None:
                raise RoomError(f"The hub exited: {log.read_text()[-1500:]}", f"Read {log}.")
            # its own certificate may name the room's host, not 127.0.0.1: not checked here
            return requests.get(f"{hub.url}/hub/api", timeout=2, verify=False).status_code == 200

        if wait_until(answers, timeout, interval=0.5, error=None, ignore=(requests.RequestException,)):
            return hub
        hub.stop()
        raise RoomError(f"The hub did not answer in {timeout:.0f} s.", f"Read {log}.")

    def client(self) -> HubClient:
        """A client with the instructor's token."""
        return HubClient(self.url, tools_token(self.state))

    def stop(self) -> None:
        """Stop the hub (and its proxy); participants' servers are stopped first."""
        if self.process and self.process.poll() is None:
            try:
                client = self.client()
                for user in client.users():
                    if user.get("servers"):
                        client.stop(user["name"])
            except Exception:  # the hub may be half-started: stop it anyway
                pass
            self.process.terminate()
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
