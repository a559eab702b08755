"""JupyterHub for a workshop: one server, one kit container per participant.

The next step after 40 laptops: the instructor runs one machine with Docker and
this hub; each participant logs in and gets their own container of the kit image
(the root ``Dockerfile``), with its own inner Docker engine, so nobody sees or
stops anybody else's containers.

    make test-image                       # builds docker-python-lab:latest (and tests it)
    docker network create lab-hub
    pip install jupyterhub dockerspawner  # on the hub machine (or the jupyterhub image)
    LAB_HUB_PASSWORD=... jupyterhub -f jupyterhub/jupyterhub_config.py

Participants open http://HUB:8000, pick any user name and type the workshop's
password. Sizing: the kit image holds ~1.2 GB, each participant's engine a volume
of ~0.5 GB after the notebooks; plan 1 CPU and 2 GB of memory per active learner.

Kubernetes (KubeSpawner) takes the same image: ``c.KubeSpawner.image``, the same
``cmd``, ``privileged: True`` (or the capabilities below) in the container's
``securityContext`` through ``c.KubeSpawner.extra_container_config``, and an
``emptyDir`` volume at ``/var/lib/docker`` (``c.KubeSpawner.volumes`` / ``volume_mounts``).
"""

import os

c = get_config()  # noqa: F821  (JupyterHub provides it when it loads this file)

# --- The hub ---------------------------------------------------------------------------
c.JupyterHub.bind_url = os.environ.get("LAB_HUB_URL", "http://0.0.0.0:8000")
# The spawned containers reach the hub on the Docker network below.
c.JupyterHub.hub_ip = "0.0.0.0"
c.JupyterHub.hub_connect_ip = os.environ.get("LAB_HUB_CONNECT_IP") or None

# A workshop account model: any name, one shared password given in the room.
c.JupyterHub.authenticator_class = "dummy"
c.DummyAuthenticator.password = os.environ.get("LAB_HUB_PASSWORD", "")
c.Authenticator.allow_all = True
c.Authenticator.admin_users = {os.environ.get("LAB_HUB_ADMIN", "instructor")}

# --- One kit container per participant (DockerSpawner) --------------------------------
c.JupyterHub.spawner_class = "dockerspawner.DockerSpawner"
c.DockerSpawner.image = os.environ.get("LAB_IMAGE", "docker-python-lab:latest")
c.DockerSpawner.network_name = os.environ.get("LAB_HUB_NETWORK", "lab-hub")
c.DockerSpawner.name_template = "lab-{username}"
# The image's entrypoint starts the inner engine and loads the lab's images, then runs
# this command: the single-user server instead of plain JupyterLab.
c.DockerSpawner.cmd = ["jupyterhub-singleuser"]
c.DockerSpawner.args = ["--allow-root"]
c.DockerSpawner.notebook_dir = "/home/lab/notebooks"
c.DockerSpawner.default_url = "/lab"
# The inner engine's storage, kept per participant across restarts of their server.
c.DockerSpawner.volumes = {
    "lab-docker-{username}": "/var/lib/docker",
    "/sys/fs/cgroup": "/sys/fs/cgroup",
}
# Docker-in-Docker needs these capabilities. Where the host allows it, the short form
# is {"privileged": True}; where --privileged is refused ("unable to apply caps"):
c.DockerSpawner.extra_host_config = {
    "cap_add": ["ALL"],
    "cap_drop": ["SYS_RESOURCE"],
    "security_opt": ["seccomp=unconfined", "apparmor=unconfined"],
}
c.DockerSpawner.environment = {"LABHELPERS_OFFLINE": "1"}
c.DockerSpawner.mem_limit = os.environ.get("LAB_MEM_LIMIT", "2G")
c.DockerSpawner.cpu_limit = float(os.environ.get("LAB_CPU_LIMIT", "1"))
c.DockerSpawner.remove = True            # the container goes when the server stops...
c.Spawner.start_timeout = 180            # ...and its first start loads the lab's images
c.Spawner.http_timeout = 120
