"""Every ``>>>`` example in labhelpers runs, without an engine.

Examples that need an engine (or the network) are marked ``# doctest: +SKIP`` in the
docstring, with the reason beside them; everything else runs here, on every module.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import labhelpers

MODULES = ["labhelpers"] + sorted(m.name for m in pkgutil.walk_packages(labhelpers.__path__, "labhelpers.")
                                  if not m.name.endswith("__main__"))  # __main__ runs the CLI
#: Extras whose absence skips a module's examples (``pip install 'labhelpers[...]'``).
OPTIONAL = {"ansible_runner", "hadolint", "python_on_whales", "aiodocker", "testcontainers",
            "jupyterhub", "dockerspawner", "segno", "playwright"}


@pytest.mark.parametrize("name", MODULES)
def test_examples_run(name, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    monkeypatch.delenv("LABHELPERS_RUN_SOLUTIONS", raising=False)  # examples show as a learner sees
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as err:
        if err.name in OPTIONAL:
            pytest.skip(f"{name} needs {err.name} (an extra): {err}")
        raise
    finder = doctest.DocTestFinder(exclude_empty=True)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    for test in finder.find(module, name):  # each example sees its module's names
        runner.run(test)
    result = runner.summarize(verbose=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (output above)"
