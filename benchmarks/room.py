"""A workshop room measured: spawn time, memory and disk per participant, the hub at idle.

    python benchmarks/room.py --participants 3
    python benchmarks/room.py --participants 3 --image docker-python-lab-room:latest
    python benchmarks/room.py --participants 1 --run 01,02,03,04,05,06   # which run in a room

Starts the project's hub (labhelpers.room.Hub, the configuration in jupyterhub/) on the
machine's engine, creates the participants through its REST API, and measures:

- spawn time per participant, cold (fresh inner-engine volume: the rootless engine starts
  and loads python:3.13-slim-trixie) and warm (the same participants started again);
- memory (the container's cgroup, inactive page cache excluded, as ``docker stats``) at its
  peak during each notebook (sampled every 2 s) and after it, and disk (inner-engine volume +
  container layer), per participant, after notebook 00 and after notebook 04 (``--run``: other
  notebooks, in turn), each run whole in the participant's kernel through the hub's proxy
  (a cell that raises is reported and the rest still run);
- CPU of the hub, its proxy and culler, and of the idle servers, over 30 s of idle;

then extrapolates to 30 participants (``--room``). It measures; it never fails on a time.
Everything it creates is prefixed ``benchroom-`` (``--prefix``) and removed at the end;
``--subnet`` and ``--port`` keep it apart from another room on the same engine.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from labhelpers import room  # noqa: E402

MB = 1024 * 1024


def memory_mb(client, name: str) -> float:
    """A container's memory use without page cache, as `docker stats` counts it."""
    stats = client.api.stats(name, stream=False)
    mem = stats.get("memory_stats") or {}
    cache = (mem.get("stats") or {}).get("total_inactive_file", (mem.get("stats") or {}).get("cache", 0))
    return (mem.get("usage", 0) - cache) / MB


class PeakMemory:
    """The highest :func:`memory_mb` of some containers, sampled in a thread while a notebook runs."""

    def __init__(self, client, names: list[str], every: float = 2.0):
        import threading

        self.client, self.names, self.every = client, names, every
        self.peak = dict.fromkeys(names, 0.0)
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self.done.is_set():
            for name in self.names:
                try:
                    self.peak[name] = max(self.peak[name], memory_mb(self.client, name))
                except Exception:  # a container between states: the next sample
                    pass
            self.done.wait(self.every)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.done.set()
        self.thread.join()


def disk_mb(client, prefix: str, name: str) -> float:
    """The participant's disk: their inner engine's volume and their container's own layer."""
    volume = client.volumes.get(f"{prefix}docker-{name}").attrs["Mountpoint"]
    used = int(subprocess.run(["du", "-sxb", volume], capture_output=True, text=True).stdout.split()[0])
    found = client.api.containers(all=True, filters={"name": f"^/{prefix}{name}$"}, size=True)
    layer = (found[0].get("SizeRw") or 0) if found else 0
    return (used + layer) / MB


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU seconds of processes so far (from /proc)."""
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError):
            pass
    return total


def hub_pids(hub) -> list[int]:
    """The hub and its children (proxy, culler)."""
    out = subprocess.run(["pgrep", "-P", str(hub.process.pid)], capture_output=True, text=True).stdout
    return [hub.process.pid] + [int(p) for p in out.split()]


def container_cpu(client, prefix: str, names: list[str], seconds: float) -> float:
    """Mean CPU (in cores) of the containers over `seconds`, from their cgroup counters."""
    def usage():
        return sum(client.api.stats(f"{prefix}{n}", stream=False)["cpu_stats"]["cpu_usage"]["total_usage"]
                   for n in names)
    before = usage()
    time.sleep(seconds)
    return (usage() - before) / 1e9 / seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=3)
    parser.add_argument("--image", default=os.environ.get("LAB_IMAGE", room.DEFAULT_IMAGE))
    parser.add_argument("--room", type=int, default=30, help="extrapolate to this many participants")
    parser.add_argument("--idle", type=float, default=30, help="seconds of idle to measure CPU")
    parser.add_argument("--run", default="00,04",
                        help="the notebooks to run in turn, measuring after each (default: 00,04)")
    parser.add_argument("--prefix", default="benchroom-", help="names of the containers and volumes")
    parser.add_argument("--subnet", default="172.29.92.0/24", help="the benchmark room's network")
    parser.add_argument("--port", type=int, default=18500,
                        help="the hub's public port; its API and the proxy's API take the next two")
    parser.add_argument("--notebooks", type=Path, default=ROOT / "notebooks",
                        help="where notebooks 00 and 04 are read from (default: this checkout's)")
    args = parser.parse_args()
    import docker

    client = docker.from_env(version="auto")
    names = [f"b{i:02d}" for i in range(1, args.participants + 1)]
    state = Path(tempfile.mkdtemp(prefix="benchroom-"))
    prefix, network = args.prefix, f"{args.prefix}net"
    notebooks = [n.strip() for n in args.run.split(",") if n.strip()]
    env = {"LAB_IMAGE": args.image, "LAB_HUB_NETWORK": network, "LAB_HUB_SUBNET": args.subnet,
           "LAB_HUB_PREFIX": prefix, "LAB_HUB_API_PORT": str(args.port + 1),
           "LAB_HUB_PROXY_API_PORT": str(args.port + 2)}
    print(f"room benchmark: {args.participants} participants, image {args.image}, "
          f"{os.cpu_count()} cores, the machine's engine {client.version()['Version']}", flush=True)
    hub = room.Hub.start(state, port=args.port, env=env)
    rows = {n: {} for n in names}
    try:
        api = hub.client()
        api.create_accounts(names, state / "accounts.json")
        for phase in ("cold", "warm"):
            with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
                for name, seconds in zip(names, pool.map(api.spawn, names)):
                    rows[name][f"spawn {phase} (s)"] = seconds
            if phase == "cold":
                with concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
                    list(pool.map(api.stop, names))
        print("spawn (s): " + ", ".join(f"{n} cold {r['spawn cold (s)']:.0f} warm {r['spawn warm (s)']:.0f}"
                                        for n, r in rows.items()), flush=True)
        print(f"hub CPU at idle over {args.idle:.0f} s ...", flush=True)
        pids = hub_pids(hub)
        before = cpu_seconds(pids)
        servers_cpu = container_cpu(client, prefix, names, args.idle)
        hub_cpu = (cpu_seconds(pids) - before) / args.idle
        for notebook in notebooks:
            path = next(args.notebooks.glob(f"{notebook}-*.ipynb"))
            start = time.monotonic()
            # the whole notebook, past a cell that cannot work here (04's stats on cgroup v1)
            def run(n, path=path):
                return api.run_notebook(n, path, cell_timeout=300, stop_on_error=False)
            with PeakMemory(client, [f"{prefix}{n}" for n in names]) as peak, \
                    concurrent.futures.ThreadPoolExecutor(len(names)) as pool:
                problems = dict(zip(names, pool.map(run, names)))
            took = time.monotonic() - start
            for name in names:
                rows[name][f"memory during {notebook}, peak (MB)"] = peak.peak[f"{prefix}{name}"]
                rows[name][f"memory after {notebook} (MB)"] = memory_mb(client, f"{prefix}{name}")
                rows[name][f"disk after {notebook} (MB)"] = disk_mb(client, prefix, name)
                # errors, not differences from the stored outputs ("cell N: stored ... != got ...")
                errors = [p for p in problems[name] if not p.split(": ", 1)[-1].startswith("stored ")]
                rows[name][f"nb{notebook} errors"] = len(errors)
                for error in errors:
                    print(f"  {name}, notebook {notebook}: {error[:300]}", flush=True)
            print(f"notebook {notebook} in every participant at once: {took:.0f} s", flush=True)
    finally:
        hub.stop()
        room.remove_room(client, prefix, network)

    columns = list(next(iter(rows.values())))
    width = max(len(c) for c in columns)
    print()
    print(f"{'':<{width}}  " + "  ".join(f"{n:>8}" for n in names) + f"  {'mean':>8}")
    means = {}
    for column in columns:
        values = [rows[n][column] for n in names]
        means[column] = sum(values) / len(values)
        print(f"{column:<{width}}  " + "  ".join(f"{v:>8.1f}" for v in values) + f"  {means[column]:>8.1f}")
    print(f"\nhub + proxy + culler CPU at idle: {hub_cpu * 100:.1f} % of one core; "
          f"{args.participants} idle servers: {servers_cpu * 100:.1f} % of one core")
    image_mb = client.images.get(args.image).attrs["Size"] / MB
    n = args.room
    print(f"\nextrapolated to {n} participants on one machine:")
    first, last = notebooks[0], notebooks[-1]
    busiest = max(means[f"memory during {nb}, peak (MB)"] for nb in notebooks)
    print(f"  memory  {means[f'memory after {last} (MB)'] * n / 1024:.1f} GB after notebook {last} "
          f"({means[f'memory after {first} (MB)'] * n / 1024:.1f} GB after {first}), "
          f"{busiest * n / 1024:.1f} GB if all run their busiest notebook at once, plus the hub")
    print(f"  disk    {means[f'disk after {last} (MB)'] * n / 1024:.1f} GB of inner engines after notebook {last}, "
          f"plus the room image once ({image_mb / 1024:.1f} GB, shared read-only)")
    print(f"  CPU     idle servers {servers_cpu / args.participants * n * 100:.0f} % of a core, hub "
          f"{hub_cpu * 100:.1f} %; spawns: {means['spawn warm (s)']:.0f} s each warm, "
          f"{means['spawn cold (s)']:.0f} s cold, measured {args.participants} at once on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
