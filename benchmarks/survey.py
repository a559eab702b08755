"""The live package-index survey's wall time, by number of requests in flight.

    python benchmarks/survey.py                  # 12 at once, no cache
    python benchmarks/survey.py --workers 4 12   # compare

Each run fetches every "docker" project's metadata afresh (an empty cache in a
temporary folder), politely: keep --workers small, the index is shared by everyone.
Prints a table; it never fails on a time, and writes no snapshot (for that:
`python -m labhelpers survey --save`).
"""

from __future__ import annotations

import argparse
import tempfile

from labhelpers import survey


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[12])
    parser.add_argument("--limit", type=int, help="only the first N projects")
    args = parser.parse_args()
    print(f"{'workers':>7} {'projects':>8} {'missing':>7} {'seconds':>8}  project list")
    for workers in args.workers:
        with tempfile.TemporaryDirectory() as tmp:
            _, meta = survey.survey(workers=workers, limit=args.limit, progress=False,
                                    cache=survey.Cache(folder=tmp))
        print(f"{workers:>7} {meta['projects']:>8} {meta['missing']:>7} {meta['seconds']:>8}  "
              f"{meta['list_format']}")


if __name__ == "__main__":
    main()
