"""How long the container dashboard takes to refresh with 50 containers.

Creates N tiny labelled containers (``sleep``, running), builds a ``Dashboard``
filtered on them, measures, and removes them. Prints a table; never fails on time.
The target of issue 6: a refresh of 50 containers under 0.3 s.

    python benchmarks/dashboard.py [--count 50] [--repeat 20] [--prefix nb04-bench-]

What is measured:

- first build: the constructor (list + one row widget per container);
- refresh: ``Dashboard.refresh()`` with nothing changed (one list request, rows
  updated in place; stats samples are sent to the background pool, not waited for);
- refresh after a stop: one container stopped between refreshes;
- stats round: one one-shot stats sample of every running container, through the
  dashboard's pool of 8 threads (this runs in the background of the timer, off the
  refresh path).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import labhelpers as lab
from labhelpers.widgets.dashboard import Dashboard

PY = "python:3.13-slim-trixie"


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f} ms"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--prefix", default=lab.name("04", "bench-"))
    args = parser.parse_args(argv)
    client = lab.client()
    lab.ensure("python", client=client, log=lambda line: None)
    labels = lab.labels_for("04", role="benchmark", run=args.prefix)

    def make(i):
        return client.containers.run(PY, ["sleep", "3600"], detach=True, labels=labels,
                                     name=f"{args.prefix}{i:02d}")

    start = time.perf_counter()
    with ThreadPoolExecutor(8) as pool:
        made = list(pool.map(make, range(args.count)))
    created = time.perf_counter() - start
    dash = None
    try:
        # Only this run's containers, whatever else the engine holds.
        class Bench(Dashboard):
            def _list(self):
                return self.client.api.containers(all=True, filters={"label": [f"org.labhelpers.run={args.prefix}"]})

        start = time.perf_counter()
        dash = Bench(client, refresh=0)
        first = time.perf_counter() - start
        assert len(dash.rows) == args.count, f"{len(dash.rows)} rows for {args.count} containers"
        start = time.perf_counter()
        dash.refresh(wait_stats=True)
        dash.refresh(wait_stats=True)
        stats_round = (time.perf_counter() - start) / 2
        times = [dash.refresh() for _ in range(args.repeat)]
        changed = []
        for c in made[:3]:
            c.stop(timeout=0)
            changed.append(dash.refresh())
        assert all(dash.row(c.name).state == "exited" for c in made[:3])
        cpu_shown = sum(1 for r in dash.rows.values() if r.cells["cpu"].value)
    finally:
        if dash is not None:
            dash.close()
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda c: c.remove(force=True), made))
    times.sort()
    p95 = times[min(len(times) - 1, int(0.95 * len(times)))]
    print(f"dashboard with {args.count} containers ({args.repeat} refreshes; engine API "
          f"{client.api.api_version})")
    print(f"  {'create the containers':<34}{_ms(created)}  (8 threads, not the dashboard)")
    print(f"  {'first build (constructor)':<34}{_ms(first)}")
    print(f"  {'refresh, nothing changed: median':<34}{_ms(statistics.median(times))}")
    print(f"  {'refresh, nothing changed: p95':<34}{_ms(p95)}")
    print(f"  {'refresh, nothing changed: max':<34}{_ms(times[-1])}")
    print(f"  {'refresh after a stop: median':<34}{_ms(statistics.median(changed))}")
    print(f"  {'stats round, 8 threads (bg)':<34}{_ms(stats_round)}  ({cpu_shown} rows with CPU %)")
    print(f"  {'target: refresh under':<34}{_ms(0.3)}  -> "
          f"{'met' if statistics.median(times) < 0.3 else 'NOT met'} (median)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
