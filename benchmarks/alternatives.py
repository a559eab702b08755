"""Five Docker clients on one task (run a container, read its output, remove it), timed.

    python benchmarks/alternatives.py             # 1 and 10 containers
    python benchmarks/alternatives.py --n 1 5 20 --repeat 5

Prints the comparison table of notebook 05 (lines of code, dependencies, wall time).
Every container is labelled for notebook 05 and removes itself. It measures, it never
fails on a time.
"""

from __future__ import annotations

import argparse
import os

os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")  # Ryuk's image cannot be pulled offline

import labhelpers as lab  # noqa: E402
from labhelpers import alternatives  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, nargs="+", default=[1, 10], help="containers per run")
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the fastest is kept")
    args = parser.parse_args()
    lab.ensure("python", log=lambda line: None)
    table = alternatives.compare(lambda slug: lab.name("05", f"bench-{slug}"), ns=tuple(args.n),
                                 repeat=args.repeat)
    print(f"(fastest of {args.repeat}; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    print(table.to_string())


if __name__ == "__main__":
    main()
