"""The ``docker-machine`` driver: run the real executable, and never hang on it.

:class:`Executable` is the driver ``Machine(driver="docker-machine")`` delegates to;
:func:`run` runs one command of it.

The talk warned that python-docker-machine "is a bit too simple: if
docker-machine issues a prompt you will not be informed" — the Python call
just hangs. Here every call runs with:

- **stdin closed** (``/dev/null``) and **no controlling terminal** (a new
  session), so the executable cannot wait for an answer from the keyboard;
- **prompt detection**: output that ends, without a newline, in a question
  (``[y/N]:``, ``(yes/no)?``, ``Password:``...) and is then silent for
  ``prompt_grace`` seconds stops the call with a :class:`MachineError` that
  quotes the question;
- a **timeout**, after which the executable is stopped and the error says so.

>>> looks_like_prompt("Are you sure? (y/n): ")
True
>>> looks_like_prompt("Creating machine...\\n")
False
>>> run(["docker-machine", "ls", "-q"])           # doctest: +SKIP
Completed(stdout='node1\\n', stderr='', code=0)

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from ..errors import MachineError
from .dind import MachineTLS
from .driver import LS_FIELDS, Driver

#: Seconds a call may take (``create`` of a cloud VM takes minutes).
TIMEOUT = 600
#: Seconds of silence after a prompt-like line before the call is stopped.
PROMPT_GRACE = 2.0

_PROMPT = re.compile(
    r"(\[[yY]/[nN]\]|\([yY]/[nN]\)|\(yes/no[^)]*\)|\[yes/no\]|password|passphrase|"
    r"username|continue\?|\?\s*$|:\s*$)", re.IGNORECASE)


def looks_like_prompt(tail: str) -> bool:
    """True when output ends like a question waiting for an answer.

    >>> looks_like_prompt("Enter passphrase for key 'id_rsa': ")
    True
    >>> looks_like_prompt("Waiting for machine to be running, this may take a few minutes...")
    False
    """
    if not tail or tail.endswith("\n"):
        return False
    last = tail.splitlines()[-1]
    return bool(_PROMPT.search(last))


@dataclass
class Completed:
    """What a finished call printed, and its exit code."""

    stdout: str
    stderr: str
    code: int


def _reader(stream, chunks: list, touched: list) -> None:
    for data in iter(lambda: stream.read1(4096), b""):
        chunks.append(data.decode(errors="replace"))
        touched[0] = time.monotonic()
    stream.close()


def _stop(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=3)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


def run(cmd: list[str], timeout: float = TIMEOUT, prompt_grace: float = PROMPT_GRACE) -> Completed:
    """Run ``cmd`` without a stdin, watching for prompts and the timeout.

    Raises:
        MachineError: the command asked a question, or ran out of time, or
            could not be started.
    """
    try:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, start_new_session=True)
    except OSError as err:
        raise MachineError(f"Could not run {cmd[0]}: {err}",
                           "install docker-machine, or use the default driver 'dind'") from None
    out: list[str] = []
    err: list[str] = []
    touched = [time.monotonic()]
    threads = [threading.Thread(target=_reader, args=(proc.stdout, out, touched), daemon=True),
               threading.Thread(target=_reader, args=(proc.stderr, err, touched), daemon=True)]
    for t in threads:
        t.start()
    start = time.monotonic()
    shown = " ".join(cmd[1:])
    while proc.poll() is None:
        now = time.monotonic()
        if now - start > timeout:
            _stop(proc)
            raise MachineError(
                f"`docker-machine {shown}` did not finish within {timeout:.0f} s; it was stopped.",
                "run it in a terminal to see what it waits for, or pass a longer timeout")
        tail = "".join(out[-3:]) + "".join(err[-3:])
        if now - touched[0] > prompt_grace and (looks_like_prompt("".join(out[-3:]))
                                                or looks_like_prompt("".join(err[-3:]))):
            _stop(proc)
            question = tail.strip().splitlines()[-1]
            raise MachineError(
                f"`docker-machine {shown}` asked a question and waited for an answer: "
                f"{question!r}. It was stopped (a notebook cannot answer it).",
                "answer it ahead with the command's flags (e.g. `-y`, `--force`), or run the "
                "command once in a terminal")
        time.sleep(0.05)
    for t in threads:
        t.join(timeout=5)
    return Completed("".join(out), "".join(err), proc.returncode)


class Executable(Driver):
    """The ``docker-machine`` driver: every call runs the real executable (:func:`run`).

    Args:
        path: the executable's name or path; it must be found on ``PATH``.
        timeout: seconds one call may take.

    Raises:
        MachineError: the executable is not on this machine.

    >>> Executable("docker-machine").ls()              # doctest: +SKIP
    [{'Name': 'node1', 'Active': '-', 'DriverName': 'virtualbox', ...}]
    """

    name = "docker-machine"

    def __init__(self, path: str = "docker-machine", timeout: float = TIMEOUT):
        self.path = shutil.which(path)
        self.timeout = timeout
        if not self.path:
            raise MachineError(f"The docker-machine executable ({path}) is not on this machine.",
                               "use Machine() (driver 'dind'), or install docker-machine")

    def _run(self, cmd: list[str], raise_error: bool = True) -> Completed:
        done = run([self.path, *cmd], timeout=self.timeout)
        if raise_error and done.code:
            raise MachineError(f"`docker-machine {' '.join(cmd)}` failed (exit {done.code}): "
                               f"{done.stderr.strip()}", "read docker-machine's message above")
        return done

    def _out(self, *cmd: str) -> str:
        return self._run(list(cmd)).stdout.strip()

    def _match(self, cmd: list[str], regexp: str):
        stdout = self._run(cmd).stdout.strip()
        match = re.match(regexp, stdout)
        if not match:
            raise MachineError(f"Cannot parse the output of `docker-machine {' '.join(cmd)}`: "
                               f"{stdout!r}", "check the docker-machine version")
        return match

    def version(self) -> str:
        return self._match(["version"], "docker-machine version (.+), build (.+)").group(1)

    def create(self, name: str, driver: str | None = None, xarg=None, ssh: bool = False) -> None:
        # docker-machine's hosts always run an SSH server: `ssh` needs no flag here.
        self._run(["create", "--driver", driver or "virtualbox", *(xarg or []), name])

    def config(self, machine: str) -> dict:
        regexp = '(--tlsverify\n)?--tlscacert="(.+)"\n--tlscert="(.+)"\n--tlskey="(.+)"\n-H=(.+)'
        tlsverify, ca, cert, key, host = self._match(["config", machine], regexp).group(1, 2, 3, 4, 5)
        return {"base_url": host.replace("tcp://", "https://") if tlsverify else host,
                "tls": MachineTLS(client_cert=(cert, key), ca_cert=ca, verify=True)}

    def ls(self) -> list[dict]:
        fields = "\t".join("{{.%s}}" % f for f in LS_FIELDS)
        stdout = self._run(["ls", "-f", fields]).stdout
        return [dict(zip(LS_FIELDS, line.split("\t"))) for line in stdout.splitlines() if line]

    def exists(self, machine: str) -> bool:
        return machine in self._out("ls", "--filter", "NAME=" + machine, "--format", "{{.Name}}").split()

    def status(self, machine: str) -> bool:
        return self._out("status", machine) == "Running"

    def start(self, machine: str) -> None:
        self._run(["start", machine])

    def stop(self, machine: str) -> None:
        self._run(["stop", machine])

    def kill(self, machine: str) -> None:
        self._run(["kill", machine])

    def rm(self, machine: str, force: bool = False) -> None:
        self._run(["rm", "-y", *(["-f"] if force else []), machine])

    def env(self, machine: str) -> dict[str, str]:
        return dict(re.findall(r'export (\w+)="([^"]*)"', self._out("env", "--shell", "bash", machine)))

    def inspect(self, machine: str) -> dict:
        return json.loads(self._out("inspect", machine))

    def ip(self, machine: str) -> str:
        return self._out("ip", machine)

    def url(self, machine: str) -> str:
        return self._out("url", machine)

    def active(self):
        done = self._run(["active"], raise_error=False)
        if done.code == 1 and done.stderr.strip() == "No active host found":
            return None
        return done.stdout.strip()

    def ssh(self, machine: str, cmd: str) -> str:
        return self._run(["ssh", machine, cmd]).stdout

    def ssh_url(self, machine: str) -> str:
        """``ssh://USER@IP:PORT`` from the machine's ``inspect`` (its key must be in your agent)."""
        driver = self.inspect(machine)["Driver"]
        return f"ssh://{driver.get('SSHUser') or 'docker'}@{driver['IPAddress']}:{driver.get('SSHPort') or 22}"

    def scp(self, source: str, destination: str, recursive: bool = False) -> str:
        return self._run(["scp", *(["-r"] if recursive else []), source, destination]).stdout

    def provision(self, machine: str) -> None:
        self._run(["provision", machine])

    def regenerate_certs(self, machine: str) -> None:
        self._run(["regenerate-certs", "--force", machine])

    def upgrade(self, machine: str) -> None:
        self._run(["upgrade", machine])
