"""The same app's Dockerfile four ways, measured: size, cold build, rebuild, layers.

    python benchmarks/dockerfiles.py              # one round
    python benchmarks/dockerfiles.py --rounds 3   # the median of three rounds
    python benchmarks/dockerfiles.py --builders   # and the legacy builder beside BuildKit

Variants (labhelpers/data/dockerfiles/): naive (full base, `COPY . .` before installing),
deps-first, multi-stage (slim runtime), non-root (plus a health check). The cold build
uses no layer cache (base images present); the rebuild follows a one-line change of
app.py. Everything it builds is named `bench06-*` and removed at the end.
Sizes count what the engine's image store counts (printed with the table).
Prints a table; it measures, it never fails on a time.
"""

from __future__ import annotations

import argparse
import tempfile

import pandas as pd

import labhelpers as lab
from labhelpers import builds, dockerfiles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--builders", action="store_true",
                        help="also measure docker-py's legacy builder beside BuildKit (needs buildx)")
    args = parser.parse_args()
    client = lab.client()
    for name in ("python", "python-full"):
        lab.ensure(name, client=client)
    base = "bench06-variant"
    frames = []
    with tempfile.TemporaryDirectory(prefix="bench06-") as tmp:
        project = builds.scaffold(f"{tmp}/project", base="bench06", log=None)
        builds.wheelhouse(project, client=client)
        try:
            for _ in range(args.rounds):
                frames.append(dockerfiles.compare(project, tag_base=base, client=client, log=print))
        finally:
            for image in client.images.list(name=base):
                client.images.remove(image.id, force=True)
    table = pd.concat(frames).groupby(level=0, sort=False).median()
    table = table.astype({c: int for c in ("size (MB)", "layers", "steps re-run")})
    refs = [lab.images.spec(name).ref for name in ("python", "python-full")]
    print(f"\nengine {client.version()['Version']}, base images: "
          + ", ".join(f"{ref} ({'stand-in' if lab.images.is_standin(client.images.get(ref)) else 'official'})"
                      for ref in refs))
    print(lab.images.size_note(client))
    print(table.to_string())
    if args.builders:
        with tempfile.TemporaryDirectory(prefix="bench06-") as tmp:
            project = builds.scaffold(f"{tmp}/project", base="bench06", log=None)
            builds.wheelhouse(project, client=client, log=None)
            try:
                builders = dockerfiles.compare_builders(project, tag_base=base, client=client, log=print)
            finally:
                for image in client.images.list(name=base):
                    client.images.remove(image.id, force=True)
        print("\nlegacy builder (docker-py) beside BuildKit (python-on-whales buildx); "
              + lab.images.size_note(client))
        print(builders.to_string())


if __name__ == "__main__":
    main()
