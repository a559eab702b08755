"""JupyterHub for a workshop room: one isolated kit container per participant.

Each participant logs in with the name and password of their card (``python -m labhelpers
room accounts N``) and gets a container of the room image (``jupyterhub/Dockerfile``: the
kit image plus a rootless inner engine). What keeps participants apart, in force on this
file's defaults (``LAB_ISOLATION=rootless``):

- everything in a participant's container runs as the unprivileged user ``lab`` (uid 1000),
  with no added capability; their inner Docker engine is rootless (rootlesskit, in a user
  namespace: its "root" is uid 100000 on the host), so ``docker run --privileged`` inside
  gives root over nothing of the host's;
- no host path is mounted: not ``/sys/fs/cgroup``, not the host's engine socket, not the
  hub's state (database, cookie secret, certificates);
- participants' containers share one Docker network whose inter-container traffic is
  switched off (``enable_icc=false``): a participant reaches the hub, not another's server;
- the hub's API and every single-user server speak mutual TLS (``internal_ssl``): only the
  hub's proxy and the hub, with certificates of the room's own authorities, get through;
- the public entry (the proxy) listens on loopback unless ``LAB_HUB_URL`` names another
  address, which then needs ``LAB_HUB_SSL_CERT`` and ``LAB_HUB_SSL_KEY``;
- what this costs in privilege, said honestly: Docker's default seccomp profile is
  replaced by the room's (``seccomp-room.json``: the inner engine's user namespace needs
  ``unshare``, ``mount``, ``setns``, which the default refuses without CAP_SYS_ADMIN; the
  room's refuses kernel modules, kexec, keyrings, BPF, perf...), AppArmor is off (its
  docker-default profile refuses those mounts; this host has none), ``/proc`` is unmasked
  (``systempaths=unconfined``: a user namespace may mount a fresh ``/proc`` only where none
  of it is hidden; the uid-1000 user still cannot write the host's sysctls), and the
  container gets ``/dev/net/tun`` (slirp4netns, the inner network). The entrypoint starts as
  root only to open that device for ``lab``, then drops to uid 1000 for good;
- each participant's engine has a disk of its own size (``LAB_DISK_LIMIT``, 10G: an ext4
  file on a loop device, made by the hub, which must then run as root); where loop
  devices are missing the hub's page and the doctor's row say there is no limit.

``LAB_ISOLATION=dind`` is the kit image's own way (a root engine with every capability but
one, for hosts where user namespaces are off): a participant is then root of the host in
all but name. ``labhelpers.room.ISOLATION`` says what each level means; the doctor's table
and the hub's page show the one in force.

    make hub             # builds the room image, starts the hub on http://127.0.0.1:8000
    python -m labhelpers room accounts 30 --sheet room-cards.html
    python -m labhelpers room status

Sizes per participant, measured: ``benchmarks/room.py``; the README's "Rooms" section.
Kubernetes: ``jupyterhub/z2jh-values.yaml`` (KubeSpawner, the same isolation).
"""

import ipaddress
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821  (JupyterHub provides it when it loads this file)

here = Path(__file__).resolve().parent
sys.path.insert(0, str(here.parent))  # labhelpers from this checkout
from labhelpers import room, settings  # noqa: E402

state = Path(os.environ.get("LAB_HUB_STATE", here.parent / "build" / "hub" / "state")).resolve()
state.mkdir(parents=True, exist_ok=True, mode=0o700)
isolation = os.environ.get("LAB_ISOLATION", "rootless")
network = os.environ.get("LAB_HUB_NETWORK", "lab-hub")
subnet = ipaddress.ip_network(os.environ.get("LAB_HUB_SUBNET", room.DEFAULT_SUBNET))
gateway = room.gateway_of(subnet)  # the network: room.ensure_network, run by `room hub`

# --- The hub ---------------------------------------------------------------------------
bind_url = os.environ.get("LAB_HUB_URL", "http://127.0.0.1:8000")
room.check_public_url(bind_url, os.environ.get("LAB_HUB_SSL_CERT"))
c.JupyterHub.bind_url = bind_url
if os.environ.get("LAB_HUB_SSL_CERT"):
    c.JupyterHub.ssl_cert = os.environ["LAB_HUB_SSL_CERT"]
    c.JupyterHub.ssl_key = os.environ["LAB_HUB_SSL_KEY"]
# The hub's API listens on the room network's gateway only (not on every address), over
# mutual TLS, for the single-user servers; the proxy's API on loopback (mutual TLS too).
c.JupyterHub.hub_bind_url = f"https://{gateway}:{os.environ.get('LAB_HUB_API_PORT', '8081')}"
c.JupyterHub.hub_connect_url = c.JupyterHub.hub_bind_url
c.ConfigurableHTTPProxy.api_url = f"https://127.0.0.1:{os.environ.get('LAB_HUB_PROXY_API_PORT', '8001')}"
c.JupyterHub.internal_ssl = True
c.JupyterHub.internal_certs_location = str(state / "internal-ssl")
c.JupyterHub.trusted_alt_names = [f"IP:{gateway}"]
c.JupyterHub.db_url = f"sqlite:///{state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(state / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(state / "jupyterhub.pid")
chp = here.parent / "build" / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
if chp.exists():
    c.ConfigurableHTTPProxy.command = [str(chp)]
c.ConfigurableHTTPProxy.pid_file = str(state / "jupyterhub-proxy.pid")
# Each inner engine's disk: an ext4 file system of LAB_DISK_LIMIT in a sparse file of the
# room's state (room.participant_disk, at each spawn); without root or loop devices, none.
disk_limit = settings.disk_limit()
disk_unsupported = room.disk_unsupported(disk_limit)
c.JupyterHub.template_vars = {
    "announcement": room.hub_announcement(isolation, room.disk_sentence(disk_limit, disk_unsupported))}

# --- Accounts: one card per participant (room accounts N), the instructor an admin -------
c.JupyterHub.authenticator_class = room.RoomAuthenticator
c.RoomAuthenticator.accounts_file = str(state / "accounts.json")
instructor = os.environ.get("LAB_HUB_ADMIN", "instructor")
c.Authenticator.admin_users = {instructor}
c.Authenticator.allow_all = True  # every account the file holds; nobody else can log in

# The instructor's tools (room accounts/status, the tests, the benchmark) use this token.
c.JupyterHub.services = [
    {"name": "room-tools", "api_token": room.tools_token(state)},
    {"name": "idle-culler",
     "command": [sys.executable, "-m", "jupyterhub_idle_culler",
                 f"--timeout={os.environ.get('LAB_IDLE_TIMEOUT', '3600')}", "--cull-every=300",
                 # through the public URL: the hub's own API wants the room's client certificates
                 f"--url={bind_url.rstrip('/')}/hub/api"]},
]
c.JupyterHub.load_roles = [
    {"name": "room-tools", "services": ["room-tools"],
     "scopes": ["admin:users", "admin:servers", "access:servers", "read:users", "tokens"]},
    {"name": "idle-culler", "services": ["idle-culler"],
     "scopes": ["list:users", "read:users:activity", "read:servers", "delete:servers"]},
]

# --- One room container per participant (DockerSpawner) ---------------------------------
c.JupyterHub.spawner_class = room.room_spawner_class()
c.DockerSpawner.image = os.environ.get(
    "LAB_IMAGE", room.DEFAULT_IMAGE if isolation == "rootless" else "docker-python-lab:latest")
c.DockerSpawner.pull_policy = "never"  # built here (make hub); no registry needed
c.DockerSpawner.network_name = network
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.use_internal_hostname = False  # the hub is not on the network: pinned IPs
c.RoomSpawner.subnet = str(subnet)
c.DockerSpawner.name_template = os.environ.get("LAB_HUB_PREFIX", "lab-") + "{username}"
c.DockerSpawner.prefix = os.environ.get("LAB_HUB_PREFIX", "lab-").rstrip("-")
# Certificates are staged through a container that exits at once: the catalogue's python.
c.DockerSpawner.move_certs_image = os.environ.get("LAB_HUB_CERTS_IMAGE", "python:3.13-slim-trixie")
c.DockerSpawner.certs_volume_name = "{prefix}-ssl-{username}"
c.DockerSpawner.cmd = ["jupyterhub-singleuser"]
c.DockerSpawner.args = ["--ContentsManager.allow_hidden=True"]
c.DockerSpawner.notebook_dir = "/home/lab/notebooks"
c.DockerSpawner.default_url = "/lab/tree/00-start-here.ipynb"
c.DockerSpawner.environment = {
    "LABHELPERS_OFFLINE": "1",
    "LABHELPERS_ISOLATION": isolation,
    "LAB_PROGRESS_FILE": "/home/lab/notebooks/.lab-progress.json",
}
c.DockerSpawner.extra_host_config = room.host_config(isolation)
c.DockerSpawner.volumes = room.volumes(isolation, c.DockerSpawner.prefix)
c.DockerSpawner.extra_create_kwargs = {"labels": {"org.labhelpers.room": "participant"}}
# Per-participant limits: memory and CPU here, pids in host_config, the inner engine's disk
# its own file system (Docker's local volumes have no quota on ext4): LAB_DISK_LIMIT (10G,
# sparse: the host's disk holds what is used), the files in the state's disks/ folder,
# removed with the volumes by the room's cleanup (room.remove_room).
c.RoomSpawner.disk_limit = disk_limit
c.RoomSpawner.disk_folder = str(state / "disks")
c.DockerSpawner.mem_limit = os.environ.get("LAB_MEM_LIMIT", "2G")
c.DockerSpawner.cpu_limit = float(os.environ.get("LAB_CPU_LIMIT", "1"))
c.DockerSpawner.remove = True            # the container goes when the server stops
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120
