"""Live demo mode: the dry run times every cell; `make slides` opens a notebook as slides."""

from __future__ import annotations

import subprocess
from pathlib import Path

import nbformat
import pytest

import labhelpers as lab
from labhelpers import demo

ROOT = Path(__file__).resolve().parent.parent


def _scratch(folder: Path, name: str, sources: list[str]) -> Path:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    path = folder / name
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_rehearse_reports_each_notebooks_worst_cell(client, tmp_path):
    _scratch(tmp_path, "01-quick.ipynb", ["import time", "time.sleep(0.1)"])
    _scratch(tmp_path, "02-slow.ipynb", ["import time", "time.sleep(1.2)", "time.sleep(0.2)"])
    _scratch(tmp_path, "notes.ipynb", ["raise SystemExit('not a lab notebook: never run')"])
    before = (tmp_path / "02-slow.ipynb").read_text()
    table = demo.rehearse(str(tmp_path), log=lambda line: None)
    lines = table.splitlines()
    assert "worst cell (s)" in lines[0] and len(lines) == 3, table
    slow = next(line for line in lines if line.startswith("02-slow"))
    worst = float(slow.split()[3])
    assert 1.1 <= worst < 5, table
    assert "time.sleep(1.2)" in slow
    assert float(lines[1].split()[3]) < worst
    assert (tmp_path / "02-slow.ipynb").read_text() == before, "the dry run writes nothing"


@pytest.mark.slow
def test_dry_run_of_a_failing_notebook_says_so(client, tmp_path):
    path = _scratch(tmp_path, "03-broken.ipynb", ["1 / 0"])
    timing = demo.dry_run(str(path))
    assert "ZeroDivisionError" in timing.error
    assert "FAILED" in timing.row()


@pytest.mark.slow
def test_dry_run_of_notebook_00_leaves_nothing(client):
    timing = demo.dry_run(str(ROOT / "notebooks" / "00-start-here.ipynb"))
    assert timing.error == "" and timing.cells > 3 and timing.worst > 0
    assert lab.cleanup.managed(client, notebook="00") == []


def test_make_slides_opens_the_rise_url():
    done = subprocess.run(["make", "-n", "slides", "NB=00"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "--LabApp.default_url=/rise/00-start-here.ipynb" in done.stdout


NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
SLIDE_TYPES = {"slide", "subslide", "fragment", "skip", "notes", "-"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_presents_as_a_slideshow(path):
    """A title slide first, a slide per section, fragments the talk reveals step by step."""
    nb = nbformat.read(path, as_version=4)
    kinds = [cell.metadata.get("slideshow", {}).get("slide_type") for cell in nb.cells]
    assert kinds[0] == "slide", "the notebook opens on a title slide"
    assert set(kinds) <= SLIDE_TYPES, set(kinds) - SLIDE_TYPES
    for cell, kind in zip(nb.cells, kinds):
        if cell.cell_type == "markdown" and cell.source.lstrip().startswith("## "):
            assert kind in ("slide", "subslide"), f"a section title is not a slide:\n{cell.source[:80]}"
    assert kinds.count("slide") >= 2 and "fragment" in kinds


@pytest.mark.slow
def test_warm_creates_a_machine_pings_it_over_tls_and_removes_it(client):
    lines = []
    seconds = demo.warm_machine(log=lines.append)
    assert seconds > 0 and "answered over mutual TLS" in lines[-1]
    # Only what the pre-flight made: other tools may hold objects of 09 meanwhile (the kit
    # image's test, a benchmark's engines), and the machines' network stays while any does.
    left = lab.cleanup.managed(client, notebook="09")
    assert [m for m in left if "preflight" in m.name] == [], "the pre-flight machine is gone"
    if not any(m.kind == "container" for m in left):
        assert left == [], "nothing of 09 is left when nothing else of 09 runs"
