"""pyproject.toml, environment.yml and binder/ name the same dependencies, same bounds."""

from __future__ import annotations

import os
import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
# conda-forge names that differ from the package index's.
CONDA_TO_PIP = {"docker-py": "docker", "jupyterlab_rise": "jupyterlab-rise"}


def _split(requirement: str) -> tuple[str, str]:
    name, bound = re.match(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", requirement).groups()
    return name.lower(), bound.replace(" ", "")


def _pyproject() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    # Every notebook's extra ([builds], [clients]) and [lab] (slides) are in the conda
    # environments too; [hub] only in the kit image.
    reqs = project["dependencies"] + [r for name, group in extras.items() if name != "hub" for r in group]
    return dict(_split(r) for r in reqs)


def _conda(path: Path) -> dict[str, str]:
    found = {}
    for dep in yaml.safe_load(path.read_text())["dependencies"]:
        if not isinstance(dep, str):  # the pip section: packages not on conda-forge
            for pip_dep in dep.get("pip", []):
                if not pip_dep.startswith("-"):  # `-e .`: the package itself
                    found.update([_split(pip_dep.split("#")[0])])
            continue
        name, bound = _split(dep)
        if name not in ("python", "pip"):
            found[CONDA_TO_PIP.get(name, name)] = bound
    return found


def test_environment_yml_matches_pyproject():
    assert _conda(ROOT / "environment.yml") == _pyproject()


def test_binder_matches_pyproject_and_installs_the_package():
    assert _conda(ROOT / "binder" / "environment.yml") == _pyproject()
    post = ROOT / "binder" / "postBuild"
    assert os.access(post, os.X_OK)
    assert "pip install --no-deps ." in post.read_text()


def test_environment_yml_installs_the_package_with_pip():
    deps = yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]
    pip = [d["pip"] for d in deps if isinstance(d, dict) and "pip" in d]
    assert pip and "-e ." in pip[0]


def test_python_bound_agrees():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.10"
    for path in (ROOT / "environment.yml", ROOT / "binder" / "environment.yml"):
        assert "  - python>=3.10" in path.read_text()


def test_extras_module_names_pyproject_extras():
    """labhelpers.extras (what lab.doctor checks) lists each notebook extra's packages."""
    from labhelpers import extras

    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for extra, names in extras.EXTRAS.items():
        assert sorted(names) == sorted(_split(r)[0] for r in groups[extra])
    assert set(n for needed in extras.NOTEBOOKS.values() for n in needed) == set(extras.EXTRAS)


def test_core_leaves_out_what_one_notebook_needs():
    core = [_split(r)[0] for r in tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]]
    for heavy in ("ansible", "python-on-whales", "aiodocker", "testcontainers", "playwright"):
        assert heavy not in core


def test_bundle_wheelhouse_carries_every_extra():
    from labhelpers import bundle

    groups = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert set(bundle.EXTRAS) == set(groups)


def test_missing_extra_is_one_clear_error(monkeypatch):
    from labhelpers import extras
    from labhelpers.errors import ExtraMissing

    monkeypatch.setitem(extras.EXTRAS, "builds", ("labhelpers-no-such-package",))
    try:
        extras.require("06")
    except ExtraMissing as err:
        assert "pip install 'labhelpers[builds]'" in err.todo
        assert "labhelpers-no-such-package" in err.what
    else:
        raise AssertionError("require('06') did not raise")
    extras.require("00")
