"""The hello-flask image of notebook 01: its size, a cold build, and rebuilds.

    python benchmarks/app_image.py              # 3 rebuilds after a one-line change
    python benchmarks/app_image.py --repeat 5

Builds the app as the notebook does (wheelhouse on the host, offline install), as
``bench01-hello-flask:*`` images that it removes afterwards. Prints a table; it measures,
it never fails on a time. Sizes are the unpacked layers, the same measure on the
classic and the containerd image store; the table also says which store the engine
uses and what ``docker images`` shows there (see ``labhelpers.imagestore``). Run it on
the current engine with ``scripts/in-current-engine.sh python benchmarks/app_image.py``.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import uuid
from pathlib import Path

import labhelpers as lab
from labhelpers import apps, imagestore

LABELS = {"org.labhelpers.benchmark": "app_image"}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="rebuilds after a change (default 3)")
    args = parser.parse_args()
    client = lab.client()
    lab.ensure("python", client=client, log=lambda line: None)
    tag = f"bench01-hello-flask-{uuid.uuid4().hex[:6]}"
    work = Path(tempfile.mkdtemp(prefix="bench01-"))
    app = work / "hello-flask"
    shutil.copytree(apps.app_dir("hello-flask"), app)
    made = []

    def build(name: str, **kwargs):
        report = apps.build(str(app), f"{tag}:{name}", "01", client=client, progress=False,
                            labels=LABELS, **kwargs)
        made.append(report.tag)
        return report

    try:
        cold = build("cold", nocache=True)
        same = build("unchanged")
        source = (app / "app.py").read_text()
        changed = []
        for i in range(args.repeat):
            (app / "app.py").write_text(source.replace(
                'GREETING = "Hello from hello-flask"', f'GREETING = "Hello, change {i}"'))
            changed.append(build(f"changed-{i}"))
        store = imagestore.detect(client)
        base = imagestore.unpacked_bytes(client, lab.images.spec("python").ref) / 1e6
        listed = imagestore.listed_bytes(client, cold.tag) / 1e6
        layers = client.api.history(cold.image.id)
        pip_mb = sum(h["Size"] for h in layers if "pip install" in (h.get("CreatedBy") or "")) / 1e6
        # history is newest first: the COPY layers above the pip layer hold the code
        pip_at = next(i for i, h in enumerate(layers) if "pip install" in (h.get("CreatedBy") or ""))
        code_mb = sum(h["Size"] for h in layers[:pip_at] if "COPY" in (h.get("CreatedBy") or "")) / 1e6
        rebuild = statistics.median(r.seconds for r in changed)
        version = client.version()
        rows = [
            ("engine", f"{version['Version']} (API {version['ApiVersion']}), {store.kind} "
                       f"image store ({store.driver})"),
            ("app image size, unpacked layers", f"{cold.size_mb:.0f} MB"),
            (f"  docker images shows ({store.size_means})", f"{listed:.0f} MB"),
            ("  of which the base python image", f"{base:.0f} MB"),
            ("  of which the dependencies layer (pip install)", f"{pip_mb:.1f} MB"),
            ("  of which the code layer (COPY app.py)", f"{code_mb * 1000:.1f} kB"),
            ("cold build (no cache, wheels from the wheelhouse)", f"{cold.seconds:.1f} s"),
            ("rebuild, nothing changed", f"{same.seconds:.1f} s ({same.cached} steps cached)"),
            (f"rebuild after a one-line change to app.py (median of {args.repeat})",
             f"{rebuild:.1f} s ({changed[-1].cached} of {len(changed[-1].steps)} steps cached)"),
        ]
        width = max(len(k) for k, _ in rows)
        print(f"{'measure':<{width}}  value")
        print(f"{'-' * width}  -----")
        for key, value in rows:
            print(f"{key:<{width}}  {value}")
    finally:
        for name in reversed(made):
            try:
                client.images.remove(name, force=True)
            except Exception:
                pass
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
