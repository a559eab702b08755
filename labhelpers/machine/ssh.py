"""SSH to a docker machine: keys made by the kit, the host key pinned, never a password.

docker-py and the ``docker`` CLI reach an engine over ``ssh://USER@HOST``: they open an
SSH session and run ``docker system dial-stdio`` there, which relays the API to the
machine's own socket. No port but SSH's, no certificates: the SSH keys do the trusting.
A dind machine made with ``create(name, ssh=True)`` runs ``sshd`` too. The kit makes,
in the machine's folder of the store:

    id_ed25519  id_ed25519.pub          your key (its public half is the machine's
                                        only ``authorized_keys``)
    ssh_host_ed25519_key(.pub)          the machine's host key, made here too, so it
                                        is known before the first connection
    known_hosts                         that host key, for the machine's address: the
                                        kit's own file, not ``~/.ssh/known_hosts``
    ssh_config                          ``Host nbNN-NAME``: address, port, user, key,
                                        that known_hosts, ``StrictHostKeyChecking yes``

The ``ssh`` command finds those blocks through one line the kit puts at the top of
``~/.ssh/config`` (``Include "STORE/*/ssh_config"``, removed with the store's last SSH
machine). Host keys are checked as always: nothing is disabled, nothing prompts.
docker-py's built-in paramiko transport reads ``~/.ssh/known_hosts`` alone; :func:`client`
gives it the kit's file instead.

>>> import tempfile
>>> paths = write_keys(tempfile.mkdtemp())
>>> sorted(paths)
['host_key', 'host_pub', 'key', 'pub']
>>> print(config_block("nb03-ssh", 32801, "/store/nb03-ssh").splitlines()[1])
Host nb03-ssh

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import os
import statistics
import threading
import time

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from ..errors import MachineError

#: The user the kit logs in as (the machine's engine is root's).
USER = "root"
#: Where the machine keeps its host key and authorized_keys.
SSH_DIR = "/etc/docker/ssh"
#: sshd's port inside the machine.
PORT = 22
#: The file names in the machine's folder.
FILES = {"key": "id_ed25519", "pub": "id_ed25519.pub",
         "host_key": "ssh_host_ed25519_key", "host_pub": "ssh_host_ed25519_key.pub",
         "known_hosts": "known_hosts", "config": "ssh_config"}

#: Starts sshd (before the engine) when the kit put the SSH files in: key login only,
#: as root, its log in /var/log/sshd.log. A machine image without sshd stops with a message.
BOOT = (
    f"if [ -s {SSH_DIR}/authorized_keys ]; then "
    "mkdir -p /run/sshd && chmod 0755 /run/sshd && "
    f"/usr/sbin/sshd -E /var/log/sshd.log -h {SSH_DIR}/{FILES['host_key']} "
    f"-o AuthorizedKeysFile={SSH_DIR}/authorized_keys -o PasswordAuthentication=no "
    "-o KbdInteractiveAuthentication=no -o PermitRootLogin=prohibit-password -o UsePAM=no "
    "|| { echo 'labhelpers: this machine image has no working sshd' >&2; exit 78; }; fi; "
)

_CONFIG_LOCK = threading.Lock()


def path(folder: str, key: str) -> str:
    """The path of one of :data:`FILES` in a machine's folder.

    Args:
        folder: the machine's folder in the store.
        key: a key of :data:`FILES` (``key``, ``pub``, ``known_hosts``...).

    Returns:
        The file's path.

    >>> path("/store/nb03-ssh", "key")
    '/store/nb03-ssh/id_ed25519'
    """
    return os.path.join(folder, FILES[key])


def _write(file: str, data: bytes, secret: bool) -> None:
    fd = os.open(file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if secret else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)


def _keypair(folder: str, private: str, public: str, comment: str) -> None:
    key = ed25519.Ed25519PrivateKey.generate()
    _write(path(folder, private), key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()), True)
    pub = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    _write(path(folder, public), pub + f" {comment}\n".encode(), False)


def write_keys(folder: str, machine: str = "machine") -> dict[str, str]:
    """Make the client key pair and the machine's host key pair (Ed25519, no passphrase).

    Args:
        folder: the machine's folder in the store (created if needed).
        machine: its name, in the keys' comments.

    Returns:
        The paths, keyed ``key``, ``pub``, ``host_key``, ``host_pub``; private keys are
        readable by their owner only.

    >>> import tempfile
    >>> sorted(write_keys(tempfile.mkdtemp(), "nb03-ssh"))
    ['host_key', 'host_pub', 'key', 'pub']
    """
    os.makedirs(folder, mode=0o700, exist_ok=True)
    _keypair(folder, "key", "pub", f"labhelpers@{machine}")
    _keypair(folder, "host_key", "host_pub", f"host@{machine}")
    return {k: path(folder, k) for k in ("key", "pub", "host_key", "host_pub")}


def machine_files(folder: str) -> list[tuple[str, bytes, int]]:
    """What goes into the machine under :data:`SSH_DIR`: ``(name, content, mode)`` each.

    Args:
        folder: the machine's folder, holding the keys of :func:`write_keys`.

    Returns:
        The files: the client's public key as ``authorized_keys``, the host key pair.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp(); _ = write_keys(folder)
    >>> len(machine_files(folder)) >= 2
    True
    """
    with open(path(folder, "host_key"), "rb") as f:
        host_key = f.read()
    with open(path(folder, "pub"), "rb") as f:
        authorized = f.read()
    return [(FILES["host_key"], host_key, 0o600), ("authorized_keys", authorized, 0o600)]


def config_block(alias: str, port: int, folder: str) -> str:
    """The ``Host`` block of one machine for ``ssh_config``.

    Args:
        alias: the ``Host`` name (the machine's name).
        port: the machine's sshd port, published on 127.0.0.1.
        folder: the machine's folder (its key and known_hosts).

    Returns:
        The block's text.

    >>> print(config_block("nb03-ssh", 32801, "/s/nb03-ssh"))     # doctest: +ELLIPSIS
    # labhelpers docker machine nb03-ssh: written by the kit, removed with the machine
    Host nb03-ssh
      HostName 127.0.0.1
      Port 32801
      User root
      IdentityFile "/s/nb03-ssh/id_ed25519"
      IdentitiesOnly yes
      UserKnownHostsFile "/s/nb03-ssh/known_hosts"
      StrictHostKeyChecking yes
      ...
    """
    return "\n".join([
        f"# labhelpers docker machine {alias}: written by the kit, removed with the machine",
        f"Host {alias}",
        "  HostName 127.0.0.1",
        f"  Port {port}",
        f"  User {USER}",
        f'  IdentityFile "{path(folder, "key")}"',
        "  IdentitiesOnly yes",
        f'  UserKnownHostsFile "{path(folder, "known_hosts")}"',
        "  StrictHostKeyChecking yes",
        "  UpdateHostKeys no",
        "  BatchMode yes",
        "  PasswordAuthentication no",
        "",
    ])


def pin(folder: str, alias: str, port: int) -> None:
    """Write the machine's ``known_hosts`` and ``ssh_config`` for its published port.

    Called when the machine starts (a restarted machine may get another port).

    Args:
        folder: the machine's folder.
        alias: the ``Host`` name.
        port: the published port now.

    >>> pin(m.store + "/nb03-ssh", "nb03-ssh", 32801)   # doctest: +SKIP

    (skipped: it reads the machine's host key, written when the machine was made.)
    """
    with open(path(folder, "host_pub"), "rb") as f:
        keytype, key = f.read().split()[:2]
    entry = f"[127.0.0.1]:{port} {keytype.decode()} {key.decode()}\n"
    _write(path(folder, "known_hosts"), entry.encode(), False)
    _write(path(folder, "config"), config_block(alias, port, folder).encode(), False)


# -- one line in ~/.ssh/config ------------------------------------------------------------
def user_config() -> str:
    """``~/.ssh/config``, in the home the ``ssh`` command reads (the account's, not ``$HOME``)."""
    try:
        import pwd

        home = pwd.getpwuid(os.getuid()).pw_dir
    except (ImportError, KeyError):
        home = os.path.expanduser("~")
    return os.path.join(home, ".ssh", "config")


def _include_line(store: str) -> str:
    return f'Include "{os.path.join(store, "*", FILES["config"])}"'


def _marker(store: str) -> str:
    return f"# labhelpers: the SSH docker machines of {store} (removed with the last one)"


def include(store: str) -> None:
    """Put ``Include "STORE/*/ssh_config"`` at the top of ``~/.ssh/config`` (once).

    At the top, so that it applies to every host (an ``Include`` after a ``Host`` line
    would belong to that host). The comment above it says whether the kit made the
    file (and the folder), so that :func:`exclude` leaves things as they were.

    Args:
        store: the machines' store folder.

    >>> include(m.store)                             # doctest: +SKIP

    (skipped: it edits this user's ~/.ssh/config.)
    """
    config = user_config()
    with _CONFIG_LOCK:
        made = []
        if not os.path.isdir(os.path.dirname(config)):
            os.makedirs(os.path.dirname(config), mode=0o700)
            made.append("folder")
        text = ""
        if os.path.exists(config):
            with open(config) as f:
                text = f.read()
        else:
            made.append("file")
        if _include_line(store) in text.splitlines():
            return
        marker = _marker(store) + (f" [made: {' '.join(made)}]" if made else "")
        _write(config, f"{marker}\n{_include_line(store)}\n{text}".encode(), True)


def exclude(store: str) -> None:
    """Take the store's ``Include`` out of ``~/.ssh/config`` when it has no SSH machine left.

    A file left empty is removed, and the folder too when the kit made it.

    Args:
        store: the machines' store folder.

    >>> exclude(m.store)                             # doctest: +SKIP

    (skipped: it edits this user's ~/.ssh/config.)
    """
    import glob

    config = user_config()
    with _CONFIG_LOCK:
        if glob.glob(os.path.join(glob.escape(store), "*", FILES["config"])) or not os.path.exists(config):
            return
        with open(config) as f:
            lines = f.read().splitlines(keepends=True)
        kept, made = [], ""
        for line in lines:
            if line.startswith(_marker(store)):
                made = line
            elif line.strip() != _include_line(store):
                kept.append(line)
        if len(kept) == len(lines):
            return
        if "".join(kept).strip():
            _write(config, "".join(kept).encode(), True)
            return
        os.remove(config)  # nothing but the kit's lines was in it
        if "folder" in made and not os.listdir(os.path.dirname(config)):
            os.rmdir(os.path.dirname(config))


# -- docker-py over SSH ---------------------------------------------------------------------
def client(url: str, folder: str, use_ssh_client: bool = False, **kwargs):
    """A ``docker.DockerClient`` for ``url`` (``ssh://...``) that trusts the kit's known_hosts.

    With ``use_ssh_client=True`` it is plain docker-py: the ``ssh`` command reads the
    machine's ``Host`` block through ``~/.ssh/config``. With paramiko (the default),
    docker-py would check the host key against ``~/.ssh/known_hosts`` only; here its
    transport is given the machine's ``known_hosts`` and key instead (host keys are still
    checked: an unknown or changed key is refused).

    Args:
        url: the machine's ``ssh://USER@ALIAS:PORT``.
        folder: the machine's folder (its key and known_hosts).
        use_ssh_client: run the ``ssh`` command instead of paramiko.
        **kwargs: more ``DockerClient`` arguments (``timeout``).

    Raises:
        MachineError: paramiko is not installed (``pip install paramiko``).

    Returns:
        The ``docker.DockerClient``, its API version negotiated.

    >>> client("ssh://root@nb03-ssh:32801", "/store/nb03-ssh").ping()   # doctest: +SKIP
    True
    """
    import docker

    if use_ssh_client:
        return docker.DockerClient(base_url=url, use_ssh_client=True, **kwargs)
    try:
        from docker.transport.sshconn import SSHHTTPAdapter
    except ImportError:
        raise MachineError("docker-py reaches ssh:// engines with paramiko, which is not installed.",
                           "pip install paramiko (or use_ssh_client=True: the ssh command)") from None

    class KitKnownHosts(SSHHTTPAdapter):
        """docker-py's paramiko transport, with the machine's known_hosts and key."""

        def _create_paramiko_client(self, base_url):
            super()._create_paramiko_client(base_url)
            self.ssh_client.load_host_keys(path(folder, "known_hosts"))
            self.ssh_params.update(hostname="127.0.0.1", key_filename=path(folder, "key"),
                                   look_for_keys=False, allow_agent=False)

    # Made with the ssh command's transport, which connects lazily, then given the
    # paramiko one before the first request; the API version is negotiated after.
    timeout = kwargs.get("timeout", 60)
    made = docker.DockerClient(base_url=url, use_ssh_client=True, version="1.24", **kwargs)
    adapter = KitKnownHosts(url, timeout=timeout, shell_out=False)
    made.api._custom_adapter = adapter
    made.api.mount("http+docker://ssh", adapter)
    made.api._version = made.api.version(api_version=False)["ApiVersion"]
    return made


def timings(clients: dict, pings: int = 20):
    """How long each way takes to connect, then to answer: a table.

    Args:
        clients: ``{label: a function that returns a new DockerClient}``.
        pings: requests timed on the connection once made.

    Returns:
        A pandas DataFrame, one row per label: ``connect + version (ms)`` (a new client
        and its first answer: the handshake) and ``ping (median ms)``.

    >>> timings({"TLS": lambda: m.client("nb03-ssh")})          # doctest: +SKIP
    """
    import pandas as pd

    rows = []
    for label, make in clients.items():
        start = time.perf_counter()
        made = make()
        made.version()
        connect = time.perf_counter() - start
        seconds = []
        for _ in range(pings):
            t0 = time.perf_counter()
            made.ping()
            seconds.append(time.perf_counter() - t0)
        made.close()
        rows.append({"transport": label, "connect + version (ms)": round(connect * 1000),
                     "ping (median ms)": round(statistics.median(seconds) * 1000, 1)})
    return pd.DataFrame(rows).set_index("transport")
