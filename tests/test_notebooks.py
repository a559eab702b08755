"""Every notebook: well-formed for the lab, re-runnable twice in a row, leaves nothing behind.

nbval (`make test` runs it over notebooks/) executes each notebook and checks the stored
outputs; these tests check the house rules and run each notebook once more with nbclient
against the real engine: two runs in a row in all, each of which must leave nothing behind.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import labhelpers as lab

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("[0-9][0-9]-*.ipynb"))
MACHINE_PATHS = re.compile(r"/(root|home/\w+|tmp/tmp\w+)/")


def _number(path: Path) -> str:
    return path.name[:2]


def _code(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_house_rules(path):
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    code = _code(nb)
    assert "lab.doctor(" in code[0].source, "the first code cell checks the engine"
    assert f'lab.doctor("{_number(path)}")' in code[0].source
    assert "lab.clean(" in code[-1].source, "the last code cell cleans up"
    for cell in nb.cells:
        assert "slideshow" in cell.metadata, "every cell has slide metadata"
    for cell in code:
        assert len(cell.source.splitlines()) <= 15, f"cell too long:\n{cell.source}"
        assert cell.execution_count is not None, "outputs are stored"
        for out in cell.outputs:
            if out.output_type == "error":
                assert "NBVAL_RAISES_EXCEPTION" in cell.source, f"stored error in:\n{cell.source}"
    assert not MACHINE_PATHS.search(nbformat.writes(nb)), "stored output shows a path of this machine"


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_runs_again_and_leaves_nothing(path, client):
    """The second run of the two in a row (nbval's is the other), then nothing is left."""
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=900, kernel_name="python3", allow_errors=False,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    assert lab.cleanup.managed(client, notebook=_number(path)) == []
