"""labhelpers.machine: certificates, capabilities, the docker-machine executable
(a small fake: the real one is archived and not installable), and real dind machines."""

from __future__ import annotations

import os
import ssl
import stat
import time
import urllib.error
import urllib.request
import uuid

import docker
import pytest
from cryptography import x509

import labhelpers as lab
from labhelpers.errors import MachineError
from labhelpers.machine import LS_FIELDS, MACHINE_LABEL, Driver, Machine, caps, certs, executable, ssh, swarm

#: The lab's python image: the one each new machine gets.
PYTHON = lab.images.CATALOGUE["python"].ref


# -- pure logic ----------------------------------------------------------------------------
def test_missing_caps_from_bounding_set():
    assert caps.missing_from(0x1fffeffffff, last_cap=40) == ["SYS_RESOURCE"]
    assert caps.missing_from(0x1fffeffffff & ~(1 << 21), last_cap=40) == ["SYS_ADMIN", "SYS_RESOURCE"]
    assert caps.missing_from((1 << 38) - 1, last_cap=37) == []
    assert set(caps.missing_here()) <= set(caps.NAMES)


def test_certificates_chain_and_names(tmp_path):
    paths = certs.write_machine_certs(str(tmp_path / "m"), "node1", ips=["127.0.0.1", "172.30.0.5"])
    load = lambda key: x509.load_pem_x509_certificate(open(paths[key], "rb").read())  # noqa: E731
    ca, server, client = load("ca"), load("server_cert"), load("client_cert")
    server.verify_directly_issued_by(ca)
    client.verify_directly_issued_by(ca)
    assert certs.subject_alt_names(paths["server_cert"]) == ["node1", "localhost", "127.0.0.1", "172.30.0.5"]
    usage = lambda c: c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value  # noqa: E731
    assert x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in usage(server)
    assert x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH in usage(client)
    assert stat.S_IMODE(os.stat(paths["client_key"]).st_mode) == 0o600
    # A second machine's CA does not vouch for the first one's server.
    other = certs.write_machine_certs(str(tmp_path / "o"), "node2")
    other_ca = x509.load_pem_x509_certificate(open(other["ca"], "rb").read())
    with pytest.raises(Exception):
        server.verify_directly_issued_by(other_ca)


def test_prompt_detection():
    assert executable.looks_like_prompt("Do you want to continue? [y/N]: ")
    assert executable.looks_like_prompt("Enter passphrase for key 'x': ")
    assert not executable.looks_like_prompt("Running pre-create checks...\n")
    assert not executable.looks_like_prompt("Waiting for SSH to be available...")


def test_unknown_driver_and_missing_executable(monkeypatch):
    with pytest.raises(MachineError, match="Unknown machine driver"):
        Machine(driver="hyperv")
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(MachineError, match="not on this machine"):
        Machine(driver="docker-machine")


def test_machine_picks_its_driver_once_and_delegates(fake_dm, tmp_path):
    """No Machine method asks which driver it has: each is one call of the driver."""
    import inspect

    import labhelpers.machine as package

    source = inspect.getsource(package.Machine)
    assert source.count("driver ==") == 2  # the constructor's choice, and nowhere else
    assert "_dind" not in source
    assert isinstance(fake_dm._driver, executable.Executable) and isinstance(fake_dm._driver, Driver)
    dind = Machine(store=str(tmp_path / "s"))
    assert isinstance(dind._driver, Driver) and dind._driver.name == "dind"
    assert dind.store == str(tmp_path / "s") and fake_dm.store is None
    with pytest.raises(MachineError, match="no equivalent with the driver 'dind'"):
        dind.scp("a:/x", "b:/y")


def test_ssh_keys_and_config_block(tmp_path):
    paths = ssh.write_keys(str(tmp_path / "m"), "node1")
    assert open(paths["pub"]).read().startswith("ssh-ed25519 ")
    assert open(paths["key"]).read().startswith("-----BEGIN OPENSSH PRIVATE KEY-----")
    assert stat.S_IMODE(os.stat(paths["key"]).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(paths["host_key"]).st_mode) == 0o600
    ssh.pin(str(tmp_path / "m"), "nb03-node1", 32801)
    known = open(ssh.path(str(tmp_path / "m"), "known_hosts")).read()
    assert known.startswith("[127.0.0.1]:32801 ssh-ed25519 ")
    assert known.split()[2] == open(paths["host_pub"]).read().split()[1]
    block = open(ssh.path(str(tmp_path / "m"), "config")).read()
    assert "StrictHostKeyChecking yes" in block and "PasswordAuthentication no" in block
    assert "StrictHostKeyChecking no" not in block and "/dev/null" not in block
    files = dict((name, mode) for name, _, mode in ssh.machine_files(str(tmp_path / "m")))
    assert files == {"ssh_host_ed25519_key": 0o600, "authorized_keys": 0o600}


def test_ssh_include_line_comes_and_goes(tmp_path, monkeypatch):
    config = tmp_path / "home" / ".ssh" / "config"
    monkeypatch.setattr(ssh, "user_config", lambda: str(config))
    store = tmp_path / "store"
    (store / "n1").mkdir(parents=True)
    (store / "n1" / "ssh_config").write_text("Host n1\n")
    ssh.include(str(store))
    ssh.include(str(store))  # once only
    text = config.read_text()
    assert text.count("Include") == 1 and text.splitlines()[1] == f'Include "{store}/*/ssh_config"'
    ssh.exclude(str(store))  # a machine is left: the line stays
    assert "Include" in config.read_text()
    (store / "n1" / "ssh_config").unlink()
    ssh.exclude(str(store))
    assert not config.exists() and not config.parent.exists()  # the kit made both
    config.parent.mkdir(parents=True)
    config.write_text("Host mine\n  User me\n")
    (store / "n1" / "ssh_config").write_text("Host n1\n")
    ssh.include(str(store))
    assert config.read_text().index("Include") < config.read_text().index("Host mine")
    (store / "n1" / "ssh_config").unlink()
    ssh.exclude(str(store))
    assert config.read_text() == "Host mine\n  User me\n"


class _WgetRecorder:
    """Stands in for a Machine's ``ssh``: records the commands, refuses the first few."""

    def __init__(self, refusals: int):
        self.commands, self.refusals = [], refusals

    def ssh(self, machine: str, cmd: str) -> list[str]:
        self.commands.append(cmd)
        if len(self.commands) <= self.refusals:
            raise MachineError(f"`{cmd}` failed on {machine!r} (exit 1): Connection refused", "retry")
        return []


def test_checker_asks_with_busybox_wget_options_and_retries_in_python(monkeypatch):
    from labhelpers.checks import nb03

    monkeypatch.setattr(nb03.time, "sleep", lambda seconds: None)
    late = _WgetRecorder(refusals=2)
    assert nb03._answers_http(late, "w", 8080) is True and len(late.commands) == 3
    # busybox's wget (official docker:dind) knows -q and -O; Debian's has no -T and
    # crashes on it; -t, --waitretry and --retry-connrefused are GNU wget's alone.
    assert late.commands[0] == "timeout 5 wget -q -O- http://127.0.0.1:8080/ >/dev/null"
    never = _WgetRecorder(refusals=99)
    assert nb03._answers_http(never, "w", 8080) is False and len(never.commands) == nb03.TRIES


# -- the docker-machine driver, with a fake executable -------------------------------------
FAKE = r'''#!/usr/bin/env python3
import os, sys, time
d = os.environ["FAKE_CERTS"]
args = sys.argv[1:]
cmd = args[0]
if cmd == "version":
    print("docker-machine version 0.16.2, build bd45ab13")
elif cmd == "ls" and "-f" in args:
    print("node1\t-\tfalse\tfalse\tvirtualbox\tRunning\ttcp://192.168.99.100:2376\t\t\tv19.03.5\t12ms")
    print("node2\t*\ttrue\tfalse\tvirtualbox\tStopped\t\t\t\tUnknown\t")
elif cmd == "config":
    print(f'--tlsverify\n--tlscacert="{d}/ca.pem"\n--tlscert="{d}/cert.pem"\n--tlskey="{d}/key.pem"\n-H=tcp://192.168.99.100:2376')
elif cmd == "env":
    print('export DOCKER_TLS_VERIFY="1"\nexport DOCKER_HOST="tcp://192.168.99.100:2376"\n'
          'export DOCKER_CERT_PATH="/m"\nexport DOCKER_MACHINE_NAME="node1"\n# Run this command...')
elif cmd == "status":
    # stdin must be closed: reading it returns at once.
    print("Running" if sys.stdin.read() == "" else "Stdin-was-open")
elif cmd == "create":
    print("Running pre-create checks...", flush=True)
    sys.stdout.write("This machine already exists. Overwrite? [y/N]: ")
    sys.stdout.flush()
    time.sleep(60)
elif cmd == "stop":
    time.sleep(60)
elif cmd == "rm":
    sys.stderr.write("Error removing host \"node9\": Host does not exist\n")
    sys.exit(1)
'''


@pytest.fixture
def fake_dm(tmp_path, monkeypatch):
    path = tmp_path / "bin" / "docker-machine"
    path.parent.mkdir()
    path.write_text(FAKE)
    path.chmod(0o755)
    monkeypatch.setenv("PATH", f"{path.parent}:{os.environ['PATH']}")
    certs.write_machine_certs(str(tmp_path / "m"), "node1")
    monkeypatch.setenv("FAKE_CERTS", str(tmp_path / "m"))
    return Machine(driver="docker-machine", timeout=4)


def test_executable_parses_like_the_original(fake_dm):
    assert fake_dm.version() == "0.16.2"
    rows = fake_dm.ls()
    assert [r["Name"] for r in rows] == ["node1", "node2"]
    assert rows[0]["URL"] == "tcp://192.168.99.100:2376" and rows[1]["State"] == "Stopped"
    assert set(rows[0]) == set(LS_FIELDS)
    config = fake_dm.config("node1")
    assert config["base_url"] == "https://192.168.99.100:2376"
    assert config["tls"].cert[0].endswith("/m/cert.pem") and config["tls"].ca_cert.endswith("/m/ca.pem")
    assert fake_dm.env("node1")["DOCKER_HOST"] == "tcp://192.168.99.100:2376"
    assert fake_dm.status("node1") is True  # stdin closed: the fake saw EOF


def test_executable_prompt_is_an_error_not_a_hang(fake_dm):
    start = time.monotonic()
    with pytest.raises(MachineError, match=r"asked a question.*Overwrite\? \[y/N\]"):
        fake_dm.create("node1", driver="virtualbox")
    assert time.monotonic() - start < 3.9


def test_executable_timeout_and_failure(fake_dm):
    start = time.monotonic()
    with pytest.raises(MachineError, match="did not finish within 4 s"):
        fake_dm.stop("node1")
    assert time.monotonic() - start < 8
    with pytest.raises(MachineError, match="Host does not exist"):
        fake_dm.rm("node9")


# -- real dind machines ----------------------------------------------------------------------
@pytest.fixture
def machines(client, tmp_path, monkeypatch):
    """A Machine with its own store and name prefix; removes what it made."""
    monkeypatch.setenv("LABHELPERS_PREFIX", f"h03-{uuid.uuid4().hex[:6]}-")
    m = Machine(store=str(tmp_path / "store"), client=client)
    yield m
    for row in m.ls():
        m.rm(row["Name"], force=True)
    left = client.containers.list(all=True, filters={"label": f"org.labhelpers.machine-store={m.store}"})
    assert left == []
    assert client.volumes.list(filters={"name": os.environ["LABHELPERS_PREFIX"]}) == []


def _insecure_get(url: str) -> None:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    urllib.request.urlopen(url, context=ctx, timeout=5)


@pytest.mark.slow
def test_machine_life_cycle_with_mutual_tls(machines, client):
    m = machines
    assert m.create("life", driver="virtualbox") == 0  # the talk's call, made a dind machine
    (row,) = m.ls()
    assert row["Name"] == "life" and row["State"] == "Running" and row["DriverName"] == "dind"
    assert row["DockerVersion"].startswith("v") and row["URL"].startswith("tcp://127.0.0.1:")
    remote = docker.DockerClient(**m.config(machine="life"))
    assert remote.ping()
    assert remote.info()["Name"] == "life"
    assert [i.tags for i in remote.images.list()] == [[PYTHON]]
    # Only TLS on loopback: one published port, on 127.0.0.1.
    ports = m._driver.host("life").container.attrs["NetworkSettings"]["Ports"]
    assert ports == {"2376/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(m._driver.host("life").port)}]}
    with pytest.raises(MachineError, match="runs no SSH server"):
        m.ssh_url("life")
    url = m.config("life")["base_url"]
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(url.replace("https://", "http://") + "/_ping", timeout=5)
    with pytest.raises((urllib.error.URLError, ssl.SSLError, ConnectionError)):
        _insecure_get(url + "/_ping")  # TLS, but no client certificate: refused
    env = m.env("life")
    assert env["DOCKER_TLS_VERIFY"] == "1" and os.path.exists(os.path.join(env["DOCKER_CERT_PATH"], "key.pem"))
    assert m.inspect("life")["Driver"]["IPAddress"] == m.ip("life")
    assert m.ssh("life", "hostname") == ["life"]
    m.stop("life")
    assert m.status("life") is False and m.ls()[0]["State"] == "Stopped"
    with pytest.raises(MachineError, match="not running"):
        m.config("life")
    m.start("life")
    assert m.client("life").ping()
    with pytest.raises(MachineError, match="already exists"):
        m.create("life")
    folder = env["DOCKER_CERT_PATH"]
    assert m.rm(machine="life") is True
    assert not os.path.exists(folder) and m.ls() == [] and not m.exists("life")


@pytest.mark.slow
def test_checker_and_panel_on_a_real_machine(machines, client):
    from labhelpers.checks import nb03
    from labhelpers.widgets.machines import MachinePanel

    m = machines
    worker = lab.name("03", "worker")
    result = nb03.web_on_machine(m, client=client)
    assert not result and "there is no machine" in result.missing[-1]
    panel = MachinePanel(m)
    assert "lab-machines" in panel._dom_classes and panel.rows == []
    panel.name_field.value = worker
    panel.create_button.click()
    assert panel.row(worker).buttons["stop"].disabled is False
    result = nb03.web_on_machine(m, client=client)
    assert not result and "answers HTTP" in result.missing[-1]
    web = m.client(worker).containers.run(
        PYTHON, ["python", "-m", "http.server", "8000"], detach=True,
        ports={"8000/tcp": 8080})
    deadline = time.monotonic() + 15
    while not (result := nb03.web_on_machine(m, client=client)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert result, result
    web.remove(force=True)
    panel.row(worker).buttons["stop"].click()
    assert m.status(worker) is False and "✅ stop" in panel.status.value
    panel.row(worker).buttons["remove"].click()
    assert panel.rows == [] and not m.exists(worker)
    assert MACHINE_LABEL == "org.labhelpers.machine"


@pytest.mark.slow
def test_swarm_of_three_spreads_a_service(machines, client):
    from concurrent.futures import ThreadPoolExecutor

    from docker.types import ServiceMode

    m = machines
    names = ["sw1", "sw2", "sw3"]
    with ThreadPoolExecutor() as pool:
        list(pool.map(m.create, names))
    clients = swarm.form(m, names, log=lambda line: None)
    nodes = swarm.nodes(clients[0])
    assert sorted(nodes["node"]) == names and set(nodes["state"]) == {"ready"}
    assert list(nodes["role"]) == ["manager", "worker", "worker"]
    clients[0].services.create(PYTHON, ["python", "-m", "http.server"],
                               name="web", init=True, mode=ServiceMode("replicated", replicas=6))
    table = swarm.settle(clients[0], "web", 6, log=lambda line: None)
    assert set(table["node"]) == set(names)
    node = next(n for n in clients[0].nodes.list() if n.attrs["Description"]["Hostname"] == "sw2")
    spec = node.attrs["Spec"]
    spec["Availability"] = "drain"
    node.update(spec)
    table = swarm.settle(clients[0], "web", 6, avoid={"sw2"}, log=lambda line: None)
    assert set(table["node"]) == {"sw1", "sw3"}
    assert [r["Swarm"] for r in m.ls()] == ["manager", "worker", "worker"]


@pytest.mark.slow
def test_ssh_machine_reached_both_ways_with_pinned_host_key(machines, client):
    import paramiko

    m = machines
    m.create("sshd", ssh=True)
    url = m.ssh_url("sshd")
    assert url.startswith(f"ssh://root@{os.environ['LABHELPERS_PREFIX']}nb03-sshd:")
    folder = m.inspect("sshd")["HostOptions"]["AuthOptions"]["CertDir"]
    assert m.inspect("sshd")["Driver"]["SSHPort"] == int(url.rsplit(":", 1)[1])
    for use_ssh_client in (False, True):
        remote = m.ssh_client("sshd", use_ssh_client=use_ssh_client, timeout=30)
        assert remote.info()["Name"] == "sshd"
        remote.close()
    # Another host key for that address: both ways refuse (nothing accepts a new key).
    known = ssh.path(folder, "known_hosts")
    good = open(known).read()
    other = paramiko.Ed25519Key.from_private_key_file(ssh.path(folder, "key"))  # not the host's
    with open(known, "w") as f:
        f.write(f"{good.split()[0]} ssh-ed25519 {other.get_base64()}\n")
    with pytest.raises(Exception, match="(?i)host key|known_hosts|BadHostKey|verification"):
        m.ssh_client("sshd", timeout=30)
    with pytest.raises(Exception):
        m.ssh_client("sshd", use_ssh_client=True, timeout=15).ping()
    with open(known, "w") as f:
        f.write(good)
    # Passwords are refused by the server itself, not only unused by the kit.
    sshd = m.ssh("sshd", "cat /proc/$(pgrep -o sshd)/cmdline | tr '\\0' ' '")
    assert "PasswordAuthentication=no" in sshd and "KbdInteractiveAuthentication=no" in sshd
    m.rm("sshd")
    assert f'Include "{m.store}' not in (open(ssh.user_config()).read() if os.path.exists(ssh.user_config()) else "")
