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
    # [lab] (slides) is in the conda environments too; [hub] only in the kit image.
    reqs = project["dependencies"] + extras["test"] + extras.get("lab", [])
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
