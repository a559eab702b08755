"""A workshop room run for real: a hub, three participants, and a curious one trying to get out.

`make test-room` (after `make test-image`, which builds the kit image the room image
derives from). Everything goes through the hub: participants are created with its REST
API, their servers spawned by DockerSpawner on the machine's engine, notebook 00 and the
escape attempts run in their kernels through the hub's proxy (not `docker exec`).
"""

from __future__ import annotations

import concurrent.futures
import html
import json
import os
import time
from pathlib import Path

import pytest

from labhelpers import room
from labhelpers.ports import free_port

ROOT = Path(__file__).resolve().parent.parent
IMAGE = os.environ.get("LABHELPERS_ROOM_IMAGE", room.DEFAULT_IMAGE)
PARTICIPANTS = ["ada", "bob", "cyd"]
#: The test room's names and network; LABHELPERS_ROOM_TEST_PREFIX / _SUBNET move them, so a
#: second run of this file (another checkout) can share the engine with CI's.
PREFIX = os.environ.get("LABHELPERS_ROOM_TEST_PREFIX", "labtest-")
NETWORK = f"{PREFIX}room"
SUBNET = os.environ.get("LABHELPERS_ROOM_TEST_SUBNET", "172.29.91.0/24")
#: Each test participant's engine disk: notebook 00 needs ~0.5 GB of it (its image, kept
#: twice by the containerd store); small, so that filling it up in a test is quick.
DISK_LIMIT = os.environ.get("LABHELPERS_ROOM_TEST_DISK", "1G")
#: What differs in a room, and only there, from notebook 00's stored outputs:
ROOM_RULES = [
    # the room loads images per notebook: notebook 00's table lists as "missing" the
    # catalogue images only later notebooks use; those rows are left out...
    (r"(?m)^\d+\s+(registry:2|redis:8|docker:28-dind|python:3.13-trixie)\s.*\n?", ""),
    # ...and with them missing, pandas shows the size column as floats (235.0)
    (r"(stand-in\s+\d+)\.0\b", r"\1"),
    # the doctor's table has one more row in a room: the isolation in force (checked below)
    (r"(?m)^isolation\s+rootless: .*\n?", ""),
]


def test_config_serves_the_room_image_isolated(monkeypatch, tmp_path):
    """The hub's configuration, read as JupyterHub reads it: the isolation it promises."""
    pytest.importorskip("dockerspawner")
    from traitlets.config import Config

    monkeypatch.setenv("LAB_HUB_STATE", str(tmp_path))
    monkeypatch.delenv("LAB_DISK_LIMIT", raising=False)
    c = Config()
    source = (ROOT / "jupyterhub" / "jupyterhub_config.py").read_text()
    exec(compile(source, "jupyterhub_config.py", "exec"), {"get_config": lambda: c, "__file__": str(
        ROOT / "jupyterhub" / "jupyterhub_config.py")})
    spawner = c.DockerSpawner
    assert c.JupyterHub.spawner_class.__name__ == "RoomSpawner"
    assert spawner.image == room.DEFAULT_IMAGE
    assert spawner.cmd == ["jupyterhub-singleuser"]
    assert c.JupyterHub.internal_ssl is True
    assert c.JupyterHub.bind_url.startswith("http://127.0.0.1:")
    assert c.JupyterHub.hub_bind_url.startswith("https://172.29.14.1:")
    host = spawner.extra_host_config
    assert host["cap_add"] == [] and "privileged" not in host
    assert list(spawner.volumes.values()) == ["/home/lab/.local/share/docker"]
    assert not any(src.startswith("/") for src in spawner.volumes)  # no host path
    # each inner engine's volume a disk of its own size, its file in the hub's state
    assert c.RoomSpawner.disk_limit == "10G" and c.RoomSpawner.disk_folder == str(tmp_path / "disks")
    # The notebooks folder the hub opens is where the kit's Dockerfile puts them.
    assert f"COPY notebooks {spawner.notebook_dir}" in (ROOT / "Dockerfile").read_text()
    with pytest.raises(room.RoomError, match="clear text"):
        room.check_public_url("http://0.0.0.0:8000", None)


def test_accounts_sheet_has_one_card_each_with_a_qr_code(tmp_path):
    pytest.importorskip("segno", reason="segno (the [hub] extra) is installed by make hub-deps "
                        "and make test-room")
    pairs = [(f"p{i:02d}", room.new_password()) for i in range(1, 4)]
    page = room.sheet(pairs, "https://hub.example")
    assert page.count('class="card"') == 3 and page.count("<svg") == 3
    for name, password in pairs:
        room.add_account(tmp_path / "accounts.json", name, password)
        assert name in page and password in page
    stored = (tmp_path / "accounts.json").read_text()
    assert pairs[0][1] not in stored  # hashes only
    assert oct((tmp_path / "accounts.json").stat().st_mode & 0o777) == "0o600"


CHART = ROOT / "jupyterhub" / "chart" / "jupyterhub-4.4.0.tgz"
Z2JH_VALUES = ROOT / "jupyterhub" / "z2jh-values.yaml"


def _chart_file(name: str) -> bytes:
    import tarfile

    with tarfile.open(CHART) as chart:
        return chart.extractfile(f"jupyterhub/{name}").read()


def test_z2jh_values_hold_against_the_charts_values_schema():
    """Without Helm: the values against the chart's own values.schema.json (what Helm checks)."""
    import jsonschema
    import yaml

    def merged(base, over):  # as Helm merges the given values over the chart's own
        if not (isinstance(base, dict) and isinstance(over, dict)):
            return over
        return {**base, **{k: merged(base.get(k), v) for k, v in over.items()}}

    schema = json.loads(_chart_file("values.schema.json"))
    defaults = yaml.safe_load(_chart_file("values.yaml"))
    jsonschema.validate(merged(defaults, yaml.safe_load(Z2JH_VALUES.read_text())), schema)
    with pytest.raises(jsonschema.ValidationError):  # the schema refuses a key it does not know
        jsonschema.validate(merged(defaults, {"singleuser": {"hostUsers": False}}), schema)


def test_z2jh_values_render_with_helm_and_keep_the_rooms_isolation(tmp_path):
    """Helm itself renders the chart with the values (make test-room installs Helm)."""
    import base64
    import subprocess

    import yaml

    helm = os.environ.get("LABHELPERS_HELM") or str(ROOT / "build" / "helm" / "helm")
    if not Path(helm).exists():
        if "LABHELPERS_HELM" in os.environ:
            pytest.fail(f"Helm is missing at {helm}: run `make hub-helm`.")
        pytest.skip("Helm (make hub-helm) is installed by `make test-room`, which runs this")

    def template(*extra):
        return subprocess.run([helm, "template", "room", str(CHART), "--kube-version", "1.33.0",
                               "--values", str(Z2JH_VALUES), *extra], capture_output=True, text=True)

    rendered = template()
    assert rendered.returncode == 0, rendered.stderr
    docs = [d for d in yaml.safe_load_all(rendered.stdout) if d]
    policies = {d["metadata"]["name"]: d for d in docs if d["kind"] == "NetworkPolicy"}
    assert "singleuser" in policies
    hub_secret = next(d for d in docs if d["kind"] == "Secret" and d["metadata"]["name"] == "hub")
    values = yaml.safe_load(base64.b64decode(hub_secret["data"]["values.yaml"]))
    single = values["singleuser"]
    assert single["image"]["name"] == "docker-python-lab-room"
    assert single["extraPodConfig"] == {"hostUsers": False}
    assert single["storage"]["extraVolumes"][0]["emptyDir"]["sizeLimit"]
    assert single["networkPolicy"]["egressAllowRules"]["privateIPs"] is False
    context = values["hub"]["config"]["KubeSpawner"]["container_security_context"]
    assert context["procMount"] == "Unmasked" and "privileged" not in context
    # Helm checks the values against the chart's schema while rendering: a wrong key fails.
    (tmp_path / "bad.yaml").write_text("singleuser:\n  hostUsers: false\n")
    refused = template("--values", str(tmp_path / "bad.yaml"))
    assert refused.returncode != 0 and "hostUsers" in refused.stderr, refused.stderr


@pytest.fixture(scope="module")
def hub(docker_client_or_skip, tmp_path_factory):
    client = docker_client_or_skip
    if "LABHELPERS_ROOM_IMAGE" not in os.environ:
        # A room image left from an earlier build may lag behind this checkout's code:
        # only `make test-room`, which builds it from this checkout, runs a room.
        pytest.skip("a room runs in `make test-room`, which builds its image from this checkout")
    try:
        client.images.get(IMAGE)
    except Exception:
        pytest.fail(f"The room image {IMAGE} is missing: run `make test-room` (it builds it).")
    if not room.hub_installed():
        pytest.fail("JupyterHub or configurable-http-proxy is missing: run `make hub-deps`.")
    state = tmp_path_factory.mktemp("hub-state")
    port = free_port()
    env = {"LAB_IMAGE": IMAGE, "LAB_HUB_NETWORK": NETWORK, "LAB_HUB_SUBNET": SUBNET,
           "LAB_HUB_PREFIX": PREFIX, "LAB_HUB_API_PORT": str(free_port()),
           "LAB_HUB_PROXY_API_PORT": str(free_port()), "LAB_DISK_LIMIT": DISK_LIMIT}
    started = room.Hub.start(state, port=port, env=env)
    try:
        api = started.client()
        api.create_accounts(PARTICIPANTS, state / "accounts.json")
        with concurrent.futures.ThreadPoolExecutor(len(PARTICIPANTS)) as pool:
            times = dict(zip(PARTICIPANTS, pool.map(api.spawn, PARTICIPANTS)))
        print(f"\nroom: servers ready in {', '.join(f'{n} {t:.0f} s' for n, t in times.items())}")
        yield started
    finally:
        started.stop()
        room.remove_room(client, PREFIX, NETWORK)
        # the room's cleanup took the participants' disks with their volumes
        assert list((state / "disks").glob("*")) == [], "disk files left after remove_room"


@pytest.fixture(scope="module")
def docker_client_or_skip():
    import docker

    try:
        client = docker.from_env(version="auto")
        client.ping()
    except Exception as err:
        if os.environ.get("LABHELPERS_REQUIRE_ENGINE") == "1":
            raise
        pytest.skip(f"no engine: {err}")
    return client


@pytest.mark.engine
@pytest.mark.slow
def test_notebook_00_holds_in_each_participant_through_the_proxy(hub):
    api = hub.client()
    rules = ROOM_RULES
    for name in PARTICIPANTS:
        problems = api.run_notebook(name, ROOT / "notebooks" / "00-start-here.ipynb",
                                    ROOT / "tests" / "nbval-sanitize.cfg", extra_rules=rules)
        assert problems == [], f"{name}: " + "\n".join(problems)


#: A curious participant's attempts, run in their kernel. Each prints whether it was blocked.
PROBE = r'''
import ctypes, json, os, socket, ssl, subprocess
res = {}
def attempt(name, blocked, detail):
    res[name] = {"blocked": bool(blocked), "detail": str(detail)[:300]}
def sh(cmd, timeout=120):
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True, timeout=timeout)
    return p.returncode, (p.stdout + p.stderr).strip()
def connect(host, port, timeout=3):
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return "connected"
    except OSError as err:
        return f"{type(err).__name__}: {err}"
status = open("/proc/self/status").read()
uid, capeff = os.getuid(), int(status.split("CapEff:")[1].split()[0], 16)
attempt("be root or hold a capability", uid != 0 and capeff == 0, f"uid {uid}, CapEff {capeff:#x}")
code, out = sh("docker info --format '{{.ID}} {{.SecurityOptions}}'")
attempt("reach the host's engine through the default socket", HOST_ENGINE_ID not in out and "rootless" in out, out)
attempt("reach a host engine on TCP 2375/2376",
        all(connect(GATEWAY, p) != "connected" for p in (2375, 2376)), [connect(GATEWAY, p) for p in (2375, 2376)])
code, out = sh("docker ps -a --format '{{.Names}}'")
attempt("list B's containers", code == 0 and B_MARKER not in out, out or "(none)")
attempt("reach B's server", connect(B_IP, 8888) != "connected", connect(B_IP, 8888))
attempt("read the hub's database", not os.path.exists(HUB_DB), f"{HUB_DB} exists: {os.path.exists(HUB_DB)}")
ctx = ssl.create_default_context(); ctx.check_hostname = False; ctx.verify_mode = ssl.CERT_NONE
try:
    with socket.create_connection((GATEWAY, HUB_API_PORT), timeout=5) as raw:
        with ctx.wrap_socket(raw) as tls:
            tls.sendall(b"GET /hub/api/users HTTP/1.0\r\n\r\n"); answer = tls.recv(200)
    attempt("talk to the hub's API without the room's client certificate", b" 200 " not in answer, answer[:80])
except (OSError, ssl.SSLError) as err:
    attempt("talk to the hub's API without the room's client certificate", True, f"{type(err).__name__}: {err}")
attempt("read the host's files", not os.path.exists(HOST_SECRET), f"{HOST_SECRET} exists: {os.path.exists(HOST_SECRET)}")
code, out = sh(f"docker run --rm -v /:/host python:3.13-slim-trixie cat /host{HOST_SECRET}")
attempt("read the host's files through the engine (-v /:/host)", code != 0, out)
code, out = sh(f"mknod /tmp/disk b {DISK_MAJOR} {DISK_MINOR} && head -c 512 /tmp/disk | wc -c")
attempt("mount the host's disk: mknod in the container", code != 0, out)
code, out = sh(f"mkdir -p /tmp/m && mount /dev/{DISK_NAME} /tmp/m")
attempt("mount the host's disk: mount", code != 0, out)
INNER = """
import ctypes, json, os, subprocess
out = {}
def run(cmd):
    p = subprocess.run(cmd, shell=True, capture_output=True, text=True)
    return p.returncode, (p.stdout + p.stderr).strip()[:150]
out["caps"] = open("/proc/self/status").read().split("CapEff:")[1].split()[0]
out["mknod"] = run(f"mknod /d b {DISK_MAJOR} {DISK_MINOR} && head -c 512 /d | wc -c")
out["cgwrite"] = run("echo a > /sys/fs/cgroup/devices/devices.allow")
out["cgmount"] = run("mkdir -p /c && mount -t cgroup -o devices cgroup /c")
out["sysctl"] = run("echo '|/tmp/x' > /proc/sys/kernel/core_pattern")
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(313, os.open("/dev/null", os.O_RDONLY), b"", 0)
out["module"] = (r, os.strerror(ctypes.get_errno()))
print(json.dumps(out))
""".replace("DISK_MAJOR", str(DISK_MAJOR)).replace("DISK_MINOR", str(DISK_MINOR))
open("/tmp/inner.py", "w").write(INNER)
# The most an inner container can be given short of --privileged (which does not even start
# in a rootless engine here: the outer /sys is read-only): every capability, no seccomp,
# unmasked /proc. Each attempt inside must still fail.
code, out = sh("docker run --rm --cap-add ALL --security-opt seccomp=unconfined --security-opt apparmor=unconfined "
               "--security-opt systempaths=unconfined -v /tmp/inner.py:/inner.py python:3.13-slim-trixie "
               "python3 /inner.py", timeout=180)
try:
    inner = json.loads(out.splitlines()[-1])
except (ValueError, IndexError):
    inner = {"error": out}
attempt("inner container with every capability: mknod the host's disk", inner.get("mknod", [0])[0] != 0, inner)
attempt("inner container with every capability: write the host's cgroup tree", inner.get("cgwrite", [0])[0] != 0, inner.get("cgwrite"))
attempt("inner container with every capability: mount a cgroup hierarchy", inner.get("cgmount", [0])[0] != 0, inner.get("cgmount"))
attempt("inner container with every capability: write a host sysctl (core_pattern)", inner.get("sysctl", [0])[0] != 0, inner.get("sysctl"))
attempt("inner container with every capability: load a kernel module", inner.get("module", [0])[0] != 0, inner.get("module"))
try:
    with open("/sys/fs/cgroup/devices/devices.allow", "w") as f:
        f.write("a")
    attempt("write the host's cgroup tree", False, "written")
except OSError as err:
    attempt("write the host's cgroup tree", True, f"{type(err).__name__}: {err}")
libc = ctypes.CDLL(None, use_errno=True)
r = libc.syscall(313, os.open("/dev/null", os.O_RDONLY), b"", 0)  # finit_module
attempt("load a kernel module", r != 0, f"finit_module: {r} {os.strerror(ctypes.get_errno())}")
print(json.dumps(res))
'''


@pytest.mark.engine
@pytest.mark.slow
def test_a_curious_participant_cannot_get_out(hub, docker_client_or_skip, tmp_path):
    client = docker_client_or_skip
    api = hub.client()
    marker = "b-marker-container"
    made = api.run("bob", f"import subprocess; subprocess.run(['docker', 'create', '--name', '{marker}', "
                          f"'python:3.13-slim-trixie', 'true'], check=True, capture_output=True)")
    assert made["status"] == "ok", made
    secret = hub.state / "host-secret.txt"
    secret.write_text("only the host may read this")
    root_dev = os.stat("/").st_dev
    disk = Path(f"/sys/dev/block/{os.major(root_dev)}:{os.minor(root_dev)}").resolve().name
    b_ip = client.containers.get(f"{PREFIX}bob").attrs["NetworkSettings"]["Networks"][NETWORK]["IPAddress"]
    params = {
        "HOST_ENGINE_ID": client.info()["ID"], "GATEWAY": room.gateway_of(SUBNET),
        "B_MARKER": marker, "B_IP": b_ip,
        "HUB_DB": str(hub.state / "jupyterhub.sqlite"), "HUB_API_PORT": int(hub.env["LAB_HUB_API_PORT"]),
        "HOST_SECRET": str(secret), "DISK_MAJOR": os.major(root_dev), "DISK_MINOR": os.minor(root_dev),
        "DISK_NAME": disk,
    }
    assert Path(params["HUB_DB"]).exists()
    code = "".join(f"{k} = {v!r}\n" for k, v in params.items()) + PROBE
    got = api.run("ada", code, timeout=400)
    assert got["status"] == "ok", got
    results = json.loads(got["outputs"][-1]["text"])
    for name, entry in results.items():
        print(f"  {'blocked' if entry['blocked'] else 'GOT THROUGH'}: {name}: {entry['detail'][:150]!r}")
    assert len(results) >= 18
    assert [n for n, e in results.items() if not e["blocked"]] == []


@pytest.mark.engine
@pytest.mark.slow
def test_instructor_view_lists_servers_and_exercises_passed(hub):
    api = hub.client()
    done = api.run("cyd", "from labhelpers.checks import Result\nResult.of('a room test exercise', [])")
    assert done["status"] == "ok", done
    rows = {r.name: r for r in api.status()}
    assert set(rows) == set(PARTICIPANTS)
    assert all(r.server == "ready" for r in rows.values())
    assert rows["cyd"].passed == ["a room test exercise"]
    assert rows["ada"].passed == []
    page = api.session.get(f"{hub.url}/hub/login").text
    assert "Isolation in force: rootless" in page
    disk = room.disk_sentence(DISK_LIMIT, room.disk_unsupported(DISK_LIMIT))  # the hub's host is this one
    assert disk in html.unescape(page)
    doctor = api.run("ada", "import labhelpers as lab\nprint(lab.doctor())")
    assert "isolation       rootless: rootless inner engine" in doctor["outputs"][0]["text"], doctor
    said = api.run("ada", "from labhelpers import room\nprint(room.isolation_in_force())")
    assert disk in said["outputs"][0]["text"], said


@pytest.mark.engine
@pytest.mark.slow
def test_notebook_03_says_in_one_message_why_its_machine_cannot_boot_in_a_room(hub):
    """A nested engine does not boot inside a rootless one here: one sentence, not a dockerd log."""
    api = hub.client()
    got = api.run("cyd", "from labhelpers.machine import Machine\nm = Machine()\n"
                         "try:\n    m.create('nb03-roomtest')\nfinally:\n"
                         "    m.rm(machine='nb03-roomtest') if 'nb03-roomtest' in [h['Name'] for h in m.ls()] else None",
                  timeout=400)
    if got["status"] == "ok":
        pytest.skip("machines boot inside a participant's engine on this host")
    error = got["outputs"][-1]
    assert error["ename"] == "MachineError", error
    assert error["evalue"].startswith("Machine 'nb03-roomtest' cannot boot in this room"), error
    assert "make lab" in error["evalue"] and error["evalue"].count("\n") <= 2, error


#: In a participant's kernel: the size df gives their engine's data root, then a write of
#: more than that into it. Prints JSON.
FILL = r'''
import json, os, subprocess
root = "/home/lab/.local/share/docker"
df = subprocess.run(["df", "-B1", "--output=size,target", root], capture_output=True, text=True).stdout
size = int(df.splitlines()[1].split()[0])
fill = subprocess.run(["dd", "if=/dev/zero", f"of={root}/disk-limit-fill", "bs=1M", f"count={MIB + 64}"],
                      capture_output=True, text=True)
os.remove(f"{root}/disk-limit-fill")
print(json.dumps({"df": df, "size": size, "code": fill.returncode, "said": fill.stderr[-300:]}))
'''


@pytest.mark.engine
@pytest.mark.slow
def test_each_participants_engine_has_a_disk_of_its_own_size(hub, docker_client_or_skip):
    """Filling the engine's disk stops at LAB_DISK_LIMIT: "No space left" there, not on the host."""
    import shutil
    import subprocess

    why = room.disk_unsupported(DISK_LIMIT)
    if why:
        pytest.skip(f"no disk limit in this room: {why}")
    limit = int(subprocess.run(["numfmt", "--from=iec", DISK_LIMIT], capture_output=True, text=True,
                               check=True).stdout)
    volume = docker_client_or_skip.volumes.get(f"{PREFIX}docker-ada")
    image = Path(volume.attrs["Labels"][room.DISK_LABEL])
    assert image.parent == hub.state / "disks" and volume.attrs["Options"]["type"] == "ext4"
    got = hub.client().run("ada", f"MIB = {limit >> 20}\n" + FILL, timeout=300)
    assert got["status"] == "ok", got
    result = json.loads(got["outputs"][-1]["text"])
    print(f"\n  ada's engine disk: {result['size'] / 2**30:.2f} GiB (limit {DISK_LIMIT}); the write "
          f"past it: {result['said'].strip().splitlines()[0]!r}")
    assert 0.85 * limit <= result["size"] <= limit, result["df"]  # ext4's own tables take the rest
    assert result["code"] != 0 and "No space left on device" in result["said"], result
    # The host's disk lent the file what was written, never more than the limit (other
    # jobs write to the host's disk meanwhile: its free space would not say this alone).
    assert image.stat().st_blocks * 512 <= limit
    assert shutil.disk_usage(hub.state).free > 0
