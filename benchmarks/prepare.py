"""How long `python -m labhelpers prepare` takes, cold and warm, and how big the stand-ins are.

    python benchmarks/prepare.py            # warm only: every image already present
    python benchmarks/prepare.py --cold     # first removes the catalogue's stand-ins

--cold never removes an official image (one you pulled): only the kit's stand-ins.
Prints a table; it measures, it never fails on a time.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import labhelpers as lab
from labhelpers import images


def timed_prepare() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "labhelpers", "prepare"], check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cold", action="store_true", help="remove the stand-ins first")
    parser.add_argument("--repeat", type=int, default=5, help="warm runs (default 5)")
    args = parser.parse_args()
    client = lab.client()
    rows = []
    if args.cold:
        for entry in images.CATALOGUE.values():
            image = images.present(client, entry.ref)
            if image is not None and images.is_standin(image):
                client.images.remove(entry.ref)
        rows.append(("prepare, cold (stand-ins built)", f"{timed_prepare():.1f} s"))
    warm = [timed_prepare() for _ in range(args.repeat)]
    rows.append((f"prepare, warm (median of {args.repeat})", f"{statistics.median(warm):.2f} s"))
    for entry in images.CATALOGUE.values():
        image = images.present(client, entry.ref)
        kind = "stand-in" if images.is_standin(image) else "official"
        rows.append((f"{entry.ref} ({kind})", f"{image.attrs['Size'] / 1e6:.0f} MB "
                     f"(official image: about {entry.official_mb} MB)"))
    width = max(len(k) for k, _ in rows)
    print(f"{'measure':<{width}}  value")
    print(f"{'-' * width}  {'-' * 30}")
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    main()
