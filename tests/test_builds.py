"""labhelpers.builds and checks.nb06: scaffold, playbooks against the real engine, the checker."""

from __future__ import annotations

import uuid

import pytest

import labhelpers as lab
from labhelpers import builds, dockerfiles
from labhelpers.checks import nb06
from labhelpers.images import spec


@pytest.fixture
def base():
    """A unique name base for this test's objects (the h06- helper prefix)."""
    return f"h06-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def project(tmp_path, base):
    return builds.scaffold(tmp_path / "project", base=base, log=None)


def _remove_images(client, *refs):
    for ref in refs:
        try:
            client.images.remove(ref, force=True)
        except Exception:
            pass


def _dangling(client) -> set[str]:
    """Untagged images labelled for notebook 06."""
    return {i.id for i in client.images.list(
        filters={"dangling": True, "label": "org.labhelpers.notebook=06"})}


def test_scaffold_is_idempotent_and_keeps_your_changes(tmp_path, base):
    lines: list[str] = []
    first = builds.scaffold(tmp_path / "p", base=base, log=lines.append)
    assert all(line.startswith("created") for line in lines) and len(lines) >= 8
    before = {p: p.read_text() for p in first.rglob("*") if p.is_file()}
    lines.clear()
    builds.scaffold(tmp_path / "p", base=base, log=lines.append)
    assert all(line.startswith("unchanged") for line in lines)
    assert {p: p.read_text() for p in first.rglob("*") if p.is_file()} == before
    app = first / "app" / "app.py"
    app.write_text("# mine\n")
    lines.clear()
    builds.scaffold(tmp_path / "p", base=base, log=lines.append)
    assert any(line.startswith("kept") and line.endswith("app/app.py") for line in lines)
    assert app.read_text() == "# mine\n"
    builds.scaffold(tmp_path / "p", base=base, force=True, log=None)
    assert app.read_text() == before[app]
    inventory = (first / "inventory.yml").read_text()
    assert f"image: {base}-app" in inventory and '"org.labhelpers.notebook": "06"' in inventory


def test_event_reader_reports_changed_failed_and_recap():
    reader = builds.EventReader("x.yml")
    reader.feed({"_event": "v2_playbook_on_play_start", "play": {"name": "p"}})
    start = reader.feed({"_event": "v2_playbook_on_task_start", "task": {"name": "T"}})
    assert start.task == "T"
    [ok] = reader.feed({"_event": "v2_runner_on_ok", "task": {"name": "T"},
                        "hosts": {"h": {"changed": False}}})
    [bad] = reader.feed({"_event": "v2_runner_on_failed", "task": {"name": "U"},
                         "hosts": {"h": {"msg": "No such image:\n  nope"}}})
    reader.feed({"_event": "v2_playbook_on_stats",
                 "stats": {"h": {"ok": 1, "changed": 0, "failures": 1, "unreachable": 0}}})
    assert (ok.status, bad.status, bad.message) == ("ok", "failed", "No such image: nope")
    assert str(bad).startswith("p | U ....") and str(bad).endswith("failed: No such image: nope")
    assert reader.result.failed == 1 and reader.result.changed == 0


@pytest.mark.slow
def test_build_playbook_twice_second_run_changes_nothing(client, python_image, project, base):
    builds.wheelhouse(project, log=None)
    try:
        first = builds.playbook(project, "build.yml", log=None)
        second = builds.playbook(project, "build.yml", log=None)
        assert first.changed == 1 and first.failed == 0
        assert second.changed == 0 and second.failed == 0
        image = client.images.get(f"{base}-app:1.0")
        assert image.labels["org.labhelpers.notebook"] == "06"
    finally:
        _remove_images(client, f"{base}-app:1.0")


def test_failing_task_shows_its_name_and_the_engines_message(client, tmp_path, base):
    (tmp_path / "inventory.yml").write_text(
        "all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
        '      ansible_python_interpreter: "{{ ansible_playbook_python }}"\n')
    (tmp_path / "broken.yml").write_text(f"""
- name: broken
  hosts: localhost
  gather_facts: false
  tasks:
    - name: Run an image that is nowhere
      community.docker.docker_container:
        name: {base}-ghost
        image: {base}-no-such-image:never
        pull: never
""")
    lines: list[str] = []
    with pytest.raises(builds.BuildError) as caught:
        builds.playbook(tmp_path, "broken.yml", log=lines.append)
    assert "Run an image that is nowhere" in caught.value.what
    assert f"{base}-no-such-image" in caught.value.what  # the engine's own words
    assert any(line.startswith("broken | Run an image that is nowhere") and "failed" in line
               for line in lines)
    assert not client.containers.list(all=True, filters={"name": f"{base}-ghost"})


def test_playbook_that_does_not_exist_says_what_to_do(tmp_path):
    with pytest.raises(builds.BuildError, match="no playbook"):
        builds.playbook(tmp_path, "nope.yml", log=None)


@pytest.mark.slow
def test_fast_rebuild_checker_fails_then_passes(client, python_image, project, base):
    builds.wheelhouse(project, log=None)
    tag = f"{base}-exercise:latest"
    before = _dangling(client)
    try:
        # As in notebook 06: build.yml built the naive Dockerfile first and shipit gave it a
        # second name, so it stays, and the naive and the fixed chains share their WORKDIR
        # step. Dropping the naive exercise image must not delete that step's image: the
        # containerd store's own pruning does, and the fixed rebuild then re-runs everything.
        app = dockerfiles.build(project / "app", f"{base}-app:1.0", client=client, log=None)
        client.images.get(app.image_id).tag(f"{base}-app", "shipped")
        naive = nb06.fast_rebuild(project, tag=tag, client=client)
        assert not naive and any("RUN" in hint for hint in naive.missing)
        dockerfile = project / "app" / "Dockerfile"
        dockerfile.write_text(dockerfiles.variant("deps-first").replace(
            spec("python-full").ref, spec("python").ref))
        fixed = nb06.fast_rebuild(project, tag=tag, client=client)
        assert fixed, fixed.missing
        dockerfile.write_text(f"FROM {spec('python').ref}\nCOPY app.py ./\n")
        lazy = nb06.fast_rebuild(project, tag=tag, client=client)  # fast, but installs nothing
        assert not lazy and "pip install" in lazy.missing[0]
        assert _dangling(client) <= before, "the images the rebuilds replaced are removed"
        assert "changed at" not in (project / "app" / "app.py").read_text()  # code put back
    finally:
        _remove_images(client, tag, f"{base}-app:shipped", f"{base}-app:1.0")
    assert not [m for m in lab.cleanup.managed(client, notebook="06") if m.name.startswith(base)]


def test_checker_without_a_project_gives_a_hint(tmp_path):
    result = nb06.fast_rebuild(tmp_path / "none")
    assert not result and "scaffold" in result.missing[0]


def test_variants_lint_and_parse():
    assert dockerfiles.stages(dockerfiles.variant("non-root")) == ["builder"]
    assert dockerfiles.stages(dockerfiles.variant("naive")) == []
    with pytest.raises(builds.BuildError):
        dockerfiles.variant("fancy")


def test_lint_finds_a_known_problem(tmp_path):
    dockerfile = tmp_path / "Dockerfile"
    dockerfile.write_text("FROM python:latest\nRUN apt-get update && apt-get install -y curl\n")
    codes = {f["code"] for f in dockerfiles.lint(dockerfile)}
    assert "DL3007" in codes  # the :latest tag
    assert dockerfiles.lint(dockerfiles.add_variants(builds.scaffold(tmp_path / "p", log=None))["naive"]) == []


@pytest.mark.slow
def test_measure_multi_stage_reruns_only_the_code_copy(client, python_image, project, base):
    builds.wheelhouse(project, log=None)
    code = (project / "app" / "app.py").read_text()
    before = _dangling(client)
    try:
        m = dockerfiles.measure(project, "multi-stage", tag_base=f"{base}-variant", client=client, log=None)
        assert [s for s in m.rerun if not s.startswith("LABEL")] == ["COPY app.py ./"]
        assert m.layers >= 2 and m.size_mb > 0 and m.cold_s > m.rebuild_s
        assert (project / "app" / "app.py").read_text() == code
        builder = client.images.get(f"{base}-variant:multi-stage-builder")  # the stage, findable
        assert builder.labels["org.labhelpers.notebook"] == "06"
        assert _dangling(client) <= before, "the cold build's image, replaced, is removed"
    finally:
        _remove_images(client, f"{base}-variant:multi-stage", f"{base}-variant:multi-stage-builder")
