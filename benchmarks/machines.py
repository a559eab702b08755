"""How long docker machines (driver dind) take to create and remove, what an idle one costs,
and how its engine answers over mutual TLS and over ssh:// (paramiko, the ssh command).

    python benchmarks/machines.py               # 1 machine, then 3 in parallel, 2 rounds
    python benchmarks/machines.py --rounds 3

Machines are made in a temporary store, with names prefixed ``bench-`` (behind
LABHELPERS_PREFIX), and removed at the end. "create" includes booting the
machine's engine, its TLS material and loading the lab's python image into it.
Memory is the machine container's usage (its dockerd, containerd and page cache
charged to it) after it has idled for ``--idle`` seconds. The transports: a new client and
its first answer, then the median ping (one machine made with ``ssh=True``). Prints tables;
it measures, it never fails on a time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

import labhelpers as lab
from labhelpers.machine import Machine, ssh


def timed(fn, *args) -> float:
    start = time.perf_counter()
    fn(*args)
    return time.perf_counter() - start


def memory_mb(container) -> tuple[float, float]:
    """(usage, usage without page cache) in MB, from one stats sample."""
    stats = container.stats(stream=False)["memory_stats"]
    usage = stats.get("usage", 0)
    cache = (stats.get("stats") or {}).get("cache", 0) or (stats.get("stats") or {}).get("inactive_file", 0)
    return usage / 1e6, (usage - cache) / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of each measure (default 2)")
    parser.add_argument("--idle", type=float, default=10, help="seconds to idle before memory (default 10)")
    parser.add_argument("--pings", type=int, default=20, help="pings timed per transport (default 20)")
    args = parser.parse_args()
    os.environ["LABHELPERS_PREFIX"] = os.environ.get("LABHELPERS_PREFIX", "") + "bench-"
    client = lab.client()
    lab.ensure("dind", client=client, log=lambda line: None)
    with tempfile.TemporaryDirectory(prefix="labhelpers-bench-") as store:
        m = Machine(store=store, client=client)
        one, three, rm_one, rm_three, mem = [], [], [], [], []
        try:
            for r in range(args.rounds):
                one.append(timed(m.create, f"one{r}"))
                rm_one.append(timed(m.rm, f"one{r}"))
                names = [f"three{r}-{i}" for i in range(3)]
                with ThreadPoolExecutor() as pool:
                    three.append(timed(lambda: list(pool.map(m.create, names))))
                time.sleep(args.idle)
                for name in names:
                    mem.append(memory_mb(m._driver.host(name).container))
                with ThreadPoolExecutor() as pool:
                    rm_three.append(timed(lambda: list(pool.map(m.rm, names))))
            m.create("ssh", ssh=True)
            transports = ssh.timings({
                "mutual TLS": lambda: m.client("ssh"),
                "ssh://, paramiko": lambda: m.ssh_client("ssh"),
                "ssh://, ssh command": lambda: m.ssh_client("ssh", use_ssh_client=True)}, pings=args.pings)
        finally:
            for row in m.ls():
                m.rm(row["Name"], force=True)

    def line(label, values, unit="s"):
        return (f"{label:<38} {statistics.median(values):8.1f} {unit:<3} "
                f"(min {min(values):.1f}, max {max(values):.1f}, n={len(values)})")

    print(f"docker machines, driver dind, image {lab.images.CATALOGUE['dind'].ref}, "
          f"{os.cpu_count()} CPUs\n")
    print(f"{'measure':<38} {'median':>8}")
    print(line("create 1 machine", one))
    print(line("create 3 machines in parallel", three))
    print(line("remove 1 machine", rm_one))
    print(line("remove 3 machines in parallel", rm_three))
    print(line(f"memory per idle machine ({args.idle:.0f} s idle)", [u for u, _ in mem], "MB"))
    print(line("  of which not page cache", [a for _, a in mem], "MB"))
    print(f"\none machine's engine, by transport (load {os.getloadavg()[0]:.1f})\n")
    print(transports.to_string())


if __name__ == "__main__":
    main()
