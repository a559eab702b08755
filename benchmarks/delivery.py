"""Workshop delivery figures: the kit image and the offline bundle. Prints a table.

    python benchmarks/delivery.py [--image docker-python-lab:latest] [--bundle FILE] [--runs 2]

- kit image: its size, and the time from `docker run` to JupyterLab answering
  (inner engine started, the lab's images loaded into it, server up), over --runs runs;
- bundle: export time and size (every catalogue image + the wheelhouse), then import
  time (checksums verified, then loaded) into a scratch cache folder.

Measures only; never passes or fails on time. Objects it creates are named `nb09-bench-kit-*`
and labelled for notebook 09, and removed at the end.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
import time
import urllib.request
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import labhelpers as lab  # noqa: E402
from labhelpers import bundle  # noqa: E402
from labhelpers.machine.dind import run_dind  # noqa: E402



def image_store(client) -> str:
    """Which image store the engine uses: sizes mean different things on each.

    The classic store (a storage driver such as overlay2) reports the unpacked layers;
    the containerd image store counts the image's content (its compressed blobs) plus
    the unpacked snapshots.
    """
    info = client.info()
    if any("io.containerd.snapshotter" in str(v) for _, v in info.get("DriverStatus") or []):
        return "containerd image store"
    return f"{info.get('Driver', '?')} storage driver"


def time_to_answer(client, image: str) -> tuple[float, float]:
    """Seconds from `docker run` to /api/status answering, and to the images being loaded."""
    name = lab.name("09", f"bench-kit-{uuid.uuid4().hex[:6]}")
    volume = client.volumes.create(name, labels=lab.labels_for("09"))
    start = time.monotonic()
    # --privileged, else the Dockerfile's explicit form, systempaths=unconfined included
    # (the inner Engine 28 writes IPv6 sysctls in each container).
    container = run_dind(client, image, binds={volume.name: {"bind": "/var/lib/docker", "mode": "rw"}},
                         port_bindings={8888: ("127.0.0.1", None)}, name=name,
                         labels=lab.labels_for("09"), environment={"JUPYTER_TOKEN": "bench"})
    try:
        container.reload()
        port = container.ports["8888/tcp"][0]["HostPort"]
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token=bench", timeout=5).close()
                break
            except OSError:
                if time.monotonic() - start > 300:
                    raise SystemExit("JupyterLab did not answer in 300 s:\n" + container.logs().decode())
                time.sleep(0.25)
        answered = time.monotonic() - start
        logs = container.logs().decode(errors="replace")
        found = re.search(r"^prepared \d+ images in ([\d.]+) s", logs, re.M)
        loaded = float(found.group(1)) if found else float("nan")
        return answered, loaded
    finally:
        container.remove(force=True)
        volume.remove(force=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image", default="docker-python-lab:latest")
    parser.add_argument("--bundle", help="an exported bundle to time the import of (default: export one)")
    parser.add_argument("--runs", type=int, default=2)
    args = parser.parse_args()
    client = lab.client()
    rows = []
    image = client.images.get(args.image)
    rows.append(("kit image size", f"{image.attrs['Size'] / 1e6:.0f} MB",
                 f"{args.image}, as this engine's {image_store(client)} counts it"))
    for run in range(1, args.runs + 1):
        answered, loaded = time_to_answer(client, args.image)
        rows.append((f"docker run -> JupyterLab answers (run {run})", f"{answered:.1f} s",
                     f"of which loading the lab's images into the inner engine: {loaded:.1f} s"))
    with tempfile.TemporaryDirectory(prefix="bench-bundle-") as tmp:
        path = args.bundle
        if path is None:
            path = os.path.join(tmp, "lab-bundle.tar.gz")
            t0 = time.monotonic()
            bundle.export_bundle(path, client=client, log=lambda line: None)
            rows.append(("bundle export", f"{time.monotonic() - t0:.1f} s", "images saved + pip wheel + gzip"))
        manifest_size = os.path.getsize(path)
        os.environ["XDG_CACHE_HOME"] = os.path.join(tmp, "cache")
        t0 = time.monotonic()
        manifest = bundle.import_bundle(path, client=client, log=lambda line: None)
        rows.append(("bundle size", f"{manifest_size / 1e6:.0f} MB", manifest.summary()))
        rows.append(("bundle import", f"{time.monotonic() - t0:.1f} s",
                     "verify every sha256, then `docker load` (layers already on this engine)"))
    width = max(len(r[0]) for r in rows)
    print(f"{'measure':<{width}}  {'value':>9}  note")
    for what, value, note in rows:
        print(f"{what:<{width}}  {value:>9}  {note}")


if __name__ == "__main__":
    main()
