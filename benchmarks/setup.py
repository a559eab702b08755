"""Setup, measured as a new user meets it: `make lab` to JupyterLab and to a first container.

    python benchmarks/setup.py --cold [--extras builds,clients,lab,machines,test] [--no-pip-cache]
                               [--make-test-log FILE] [--ci-log FILE] [--prefix NAME-] [--keep]

--cold is the only mode: everything the kit would find already done is made fresh, without
touching what the machine's engine holds (it is shared):

- a fresh clone of this repository's committed HEAD, in a temporary folder;
- an empty kit cache (XDG_CACHE_HOME in that folder: no root filesystems, no packages);
- a fresh engine: a throwaway docker-in-docker engine (the catalogue's docker:28-dind, Engine
  28.5) with no images, on a socket in that folder; a second one for "from the cache";
- a new virtual environment: the core (`make venv-core`, what `make lab` needs before
  JupyterLab), then `make lab` installs --extras (default: all) in the background; the
  installer's caches (uv's, pip's) are in the empty cache folder too, so every wheel is
  downloaded again (--no-pip-cache says so to pip as well).

It cannot purge: the system packages (`make system` finds them installed), Debian's archive
being near, the machine's engine and its images (the dind engines run on it).

Then it prints, beside the issue's figures (issue 13): the core venv, `make lab` to JupyterLab
answering and to notebook 00's first container (doctor("00") then a container run, as its
first cells do, started when JupyterLab answers), `prepare` of all images cold (the background
prepare `make lab` started) and from the cache into a fresh engine, the venv's size, and
`make test` and `.ci/run` read from logs of earlier runs (given as arguments: they take too
long to run here again), each image's seconds in the background prepare, and the load average
at the start and the end (on a shared machine the figures move with it). It measures; it never
fails on a time. The dind engines are named --prefix (default labbench-) and removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import docker
import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labhelpers import images  # noqa: E402
from labhelpers.machine import dind  # noqa: E402
from labhelpers.ports import free_port  # noqa: E402
from labhelpers.waiting import wait_until  # noqa: E402

#: The issue's figures (before): seconds, or MB.
BEFORE = {
    "make venv-core (the core venv)": "about 120 s (with system packages)",
    "make lab -> JupyterLab answering": "349.7 s",
    "make lab -> notebook 00's first container": "349.7 s or more",
    "prepare, all images, cold": "241.6 s",
    "prepare from the cache, fresh engine": "327 s",
    "venv size": "1.4 GB",
    "make lab -> every extra installed (background)": "n/a",
    "make test (fresh clone)": "n/a",
    ".ci/run (with the engine matrix)": "n/a",
}
GOALS = {
    "make lab -> JupyterLab answering": "<= 60 s",
    "make lab -> notebook 00's first container": "<= 90 s",
    "prepare, all images, cold": "<= 90 s",
    "prepare from the cache, fresh engine": "<= 20 s",
    "make test (fresh clone)": "<= 15 min",
    ".ci/run (with the engine matrix)": "<= 40 min",
}


def fresh_engine(client, prefix: str, folder: Path):
    """A throwaway dind engine with no images; returns (container, DOCKER_HOST)."""
    folder.mkdir(parents=True, exist_ok=True)
    image = images.ensure("dind", client=client, log=lambda line: None)
    binds = {str(folder): {"bind": "/run/bench", "mode": "rw"}}
    box = dind.run_dind(client, image.id, binds, name=f"{prefix}{folder.name}",
                        command=["dockerd", "--host=unix:///run/bench/docker.sock"], volumes=["/run/bench"])
    host = f"unix://{folder}/docker.sock"
    def answers():
        other = docker.DockerClient(base_url=host, version="auto", timeout=10)
        other.ping()
        return other

    other = wait_until(answers, 90, interval=0.5, error=None, ignore=(docker.errors.DockerException, OSError))
    if other is None:
        raise SystemExit(f"{box.name} did not answer:\n{box.logs(tail=20).decode()}")
    assert not other.images.list(), "a fresh engine holds no images"
    other.close()
    return box, host


def from_log(path: str | None, step: str | None = None) -> str:
    """Seconds of a run from its log.

    Args:
        path: a log of `time make test` or `time bash .ci/run`.
        step: a step whose own line to read (`.ci/run` prints `make test: passed in N s`);
            without it, `time`'s real line, else pytest's summaries summed.

    Returns:
        The seconds and where they were read, as the table shows them.

    >>> from_log(None)
    'not measured (give its log)'
    """
    if not path:
        return "not measured (give its log)"
    text = Path(path).read_text(errors="replace")
    if step:
        own = re.findall(rf"^{re.escape(step)}: passed in (\d+) s$", text, re.M)
        return (f"{own[-1]} s (from {os.path.basename(path)})" if own
                else f"no '{step}: passed in' line in {os.path.basename(path)}")
    real = re.findall(r"^real\s+(\d+)m([\d.]+)s", text, re.M)
    if real:
        minutes, seconds = real[-1]
        return f"{int(minutes) * 60 + float(seconds):.0f} s (from {os.path.basename(path)})"
    runs = [float(s) for s in re.findall(r"^=+ .* in ([\d.]+)s", text, re.M)]
    if runs:
        return f"{sum(runs):.0f} s, pytest alone ({len(runs)} runs, from {os.path.basename(path)})"
    return f"no time found in {os.path.basename(path)}"


def du_mb(path: Path) -> int:
    out = subprocess.run(["du", "-sm", str(path)], capture_output=True, text=True).stdout
    return int(out.split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", required=True, help="fresh clone, cache, engine, venv")
    parser.add_argument("--extras", default="builds,clients,lab,machines,test",
                        help="LAB_EXTRAS for make lab's background install (default: all)")
    parser.add_argument("--no-pip-cache", action="store_true", help="pip downloads every wheel again")
    parser.add_argument("--make-test-log", metavar="FILE",
                        help="a log of `time make test` (default: its line in --ci-log)")
    parser.add_argument("--ci-log", metavar="FILE", help="a log of `time .ci/run`")
    parser.add_argument("--prefix", default="labbench-", help="name prefix of the dind engines")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    load_start = os.getloadavg()[0]

    client = docker.from_env(version="auto")
    work = Path(tempfile.mkdtemp(prefix=args.prefix))
    clone, cache = work / "clone", work / "cache"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    rows, engines, lab, failure, steps = {}, [], None, None, []
    try:
        box, host = fresh_engine(client, args.prefix, work / "engine1")
        engines.append(box)
        env = {**os.environ, "DOCKER_HOST": host, "XDG_CACHE_HOME": str(cache), "LAB_EXTRAS": args.extras}
        env.pop("PYTHONPATH", None)
        if args.no_pip_cache:
            env["PIP_NO_CACHE_DIR"] = "1"
        start = time.monotonic()
        subprocess.run(["make", "venv-core"], cwd=clone, env=env, check=True, stdout=subprocess.DEVNULL)
        venv_s = time.monotonic() - start
        rows["make venv-core (the core venv)"] = f"{venv_s:.1f} s"
        rows["venv size"] = f"{du_mb(clone / '.venv')} MB [core]"

        port = free_port()
        token = "bench"
        start = time.monotonic()
        lab = subprocess.Popen(["make", "lab", "NO_BROWSER=1", f"LAB_PORT={port}", f"LAB_TOKEN={token}"],
                               cwd=clone, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
        def lab_answers():
            if lab.poll() is not None:
                raise SystemExit(f"make lab ended (exit {lab.returncode}) before JupyterLab answered")
            return requests.get(f"http://127.0.0.1:{port}/api/status", timeout=2,
                                headers={"Authorization": f"token {token}"}).ok

        wait_until(lab_answers, 900, what="JupyterLab (make lab)", ignore=(requests.RequestException,))
        answered = time.monotonic() - start
        rows["make lab -> JupyterLab answering"] = f"{venv_s + answered:.1f} s (venv {venv_s:.1f} + {answered:.1f})"
        first = ("import labhelpers as lab; lab.doctor('00'); "
                 "lab.client().containers.run(lab.images.spec('python').ref, ['true'], remove=True)")
        subprocess.run([str(clone / ".venv/bin/python"), "-c", first], cwd=clone / "notebooks", env=env,
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        container = time.monotonic() - start
        rows["make lab -> notebook 00's first container"] = (
            f"{venv_s + container:.1f} s (venv {venv_s:.1f} + {container:.1f})")

        status_file = cache / "labhelpers" / "prepare-status.json"
        def finished():
            status = json.loads(status_file.read_text()) if status_file.exists() else {}
            return status if status.get("finished") else None

        status = wait_until(finished, 3600, interval=1, what="make lab's background prepare")
        states = {entry["state"] for entry in status["images"].values()}
        # Where the seconds went: each base and each root filesystem, from the prepare's log.
        steps = [line for line in (cache / "labhelpers" / "prepare.log").read_text().splitlines()
                 if " ready in " in line]
        took = json.loads((cache / "labhelpers" / "prepare-times.json").read_text())
        rows["prepare, all images, cold"] = (f"{status['finished'] - status['started']:.1f} s "
                                             f"(make lab's background prepare; {'/'.join(sorted(states))}; "
                                             + ", ".join(f"{ref} {s:.0f} s" for ref, s in took.items()) + ")")
        stamp = clone / ".venv" / f".installed-{args.extras or 'core'}"
        while not stamp.exists():
            if time.monotonic() - start > 1800:
                raise SystemExit(f"the extras were not installed:\n{(clone / '.venv/extras.log').read_text()}")
            time.sleep(1)
        rows["make lab -> every extra installed (background)"] = (
            f"{venv_s + stamp.stat().st_mtime - (time.time() - (time.monotonic() - start)):.1f} s "
            f"[{args.extras}], venv {du_mb(clone / '.venv')} MB")
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
        lab = None

        box, host = fresh_engine(client, args.prefix, work / "engine2")
        engines.append(box)
        start = time.monotonic()
        subprocess.run([str(clone / ".venv/bin/python"), "-m", "labhelpers", "prepare"], cwd=clone,
                       env={**env, "DOCKER_HOST": host}, check=True, stdout=subprocess.DEVNULL)
        rows["prepare from the cache, fresh engine"] = f"{time.monotonic() - start:.1f} s"
    except (subprocess.CalledProcessError, SystemExit, docker.errors.DockerException) as err:
        failure = err  # the figures measured so far are printed all the same
    finally:
        if lab is not None and lab.poll() is None:
            os.killpg(lab.pid, signal.SIGTERM)
        for box in engines:
            box.remove(force=True, v=True)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    rows["make test (fresh clone)"] = (from_log(args.make_test_log) if args.make_test_log
                                       else from_log(args.ci_log, "make test"))
    rows[".ci/run (with the engine matrix)"] = from_log(args.ci_log)

    head = ("measure", "goal", "before (issue 13)", "now")
    table = [head] + [(k, GOALS.get(k, ""), BEFORE.get(k, ""), rows.get(k, "")) for k in BEFORE]
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for line in steps:
        print(f"  background prepare: {line.strip()}")
    # Timings on a shared machine are noisy: say how busy it was.
    print(f"load average (1 min): {load_start:.1f} at the start, {os.getloadavg()[0]:.1f} at the end "
          f"({os.cpu_count()} CPUs)")
    if failure is not None:
        raise SystemExit(f"stopped early: {failure}")


if __name__ == "__main__":
    main()
