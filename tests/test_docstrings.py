"""The `>>>` examples in labhelpers' docstrings run and show what they say.

(Instead of pytest's --doctest-modules, which would also import every sample app
under notebooks/apps when given that folder.)
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import labhelpers

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(labhelpers.__path__, "labhelpers.")
    if not info.name.endswith("__main__")
)


@pytest.mark.parametrize("name", ["labhelpers", *MODULES])
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE,
                             verbose=False, report=True)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed (see output)"
