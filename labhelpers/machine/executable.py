"""The ``docker-machine`` driver: run the real executable, and never hang on it.

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

import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass

from ..errors import MachineError

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
