"""Every notebook on each engine: cells run, cells failed, seconds.

    python benchmarks/engines.py                       # both engines, every notebook
    python benchmarks/engines.py --notebooks 00 02     # some notebooks
    python benchmarks/engines.py --engines machine     # only the machine's engine

"machine" is the engine the kit finds (DOCKER_HOST, the docker context, the default
socket); "current" is today's engine that `make current` starts (labhelpers.current):
the notebooks run there through scripts/in-current-engine.sh, as a learner's would.
Each notebook runs top to bottom with nbclient; nothing is written back. Prints a
table; it measures, it never fails on a time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def run_here(numbers: list[str]) -> list[dict]:
    """Run the notebooks on the engine this process finds; one row per notebook."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    import labhelpers as lab

    version = lab.client().version()
    rows = []
    for number in numbers:
        path = next(NOTEBOOKS.glob(f"{number}-*.ipynb"))
        nb = nbformat.read(path, as_version=4)
        start = time.perf_counter()
        error = ""
        try:
            NotebookClient(nb, timeout=900, kernel_name="python3",
                           resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
        except CellExecutionError as err:
            error = str(err).strip().splitlines()[-1][:80]
        code = [c for c in nb.cells if c.cell_type == "code"]
        rows.append({"notebook": path.stem, "engine": f"Docker {version['Version']}",
                     "cells": sum(c.get("execution_count") is not None for c in code),
                     "of": len(code), "seconds": time.perf_counter() - start, "error": error})
    return rows


def run_on_current(numbers: list[str]) -> list[dict]:
    """Run the notebooks on the current engine, in a child process entered into it."""
    from labhelpers import current

    print(current.start(log=lambda line: None), file=sys.stderr)
    done = subprocess.run(
        [str(ROOT / "scripts" / "in-current-engine.sh"), sys.executable, __file__,
         "--worker", "--notebooks", *numbers],
        capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"the run on the current engine failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notebooks", nargs="*", metavar="NN",
                        default=sorted(p.name[:2] for p in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")))
    parser.add_argument("--engines", nargs="*", choices=["machine", "current"],
                        default=["machine", "current"])
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(run_here(args.notebooks)))
        return
    rows = []
    if "machine" in args.engines:
        rows += run_here(args.notebooks)
    if "current" in args.engines:
        rows += run_on_current(args.notebooks)
    print(f"{'notebook':<28} {'engine':<24} {'cells run':>10} {'seconds':>8}  failed at")
    print(f"{'-' * 28} {'-' * 24} {'-' * 10} {'-' * 8}  {'-' * 20}")
    for row in sorted(rows, key=lambda r: (r["notebook"], r["engine"])):
        print(f"{row['notebook']:<28} {row['engine']:<24} {row['cells']:>4} of {row['of']:<3} "
              f"{row['seconds']:>8.1f}  {row['error'] or '-'}")


if __name__ == "__main__":
    main()
