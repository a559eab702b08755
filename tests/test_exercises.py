"""labhelpers.exercises: hints in order, solutions shown or run, progress on disk, reset."""

from __future__ import annotations

import ast
import re
import uuid

import docker.errors
import pandas as pd
import pytest

import labhelpers as lab
from labhelpers import exercises
from labhelpers.checks import Exercise, Result
from labhelpers.errors import LabError

from .conftest import free_port, own_image


@pytest.fixture(autouse=True)
def own_progress(monkeypatch, tmp_path):
    """Each test with its own progress file, its own hint counter, solutions not run."""
    monkeypatch.setenv(exercises.DATA_DIR, str(tmp_path / "data"))
    monkeypatch.delenv(exercises.RUN_SOLUTIONS, raising=False)
    for key in ("BINDER_SERVICE_HOST", "BINDER_LAUNCH_HOST", "BINDER_REQUEST"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setattr(exercises, "_hints_shown", {})


def _survey():
    df = pd.DataFrame({"category": ["monitoring", "monitoring", "build tools"],
                       "released": pd.to_datetime(["2026-03-01", "2025-01-01", "2026-02-01"])})
    return {"df": df, "meta": {"taken": "2026-11-30"}}


def test_every_exercise_has_a_name_hints_and_a_solution_that_parses():
    found = exercises.all_exercises()
    assert {"01-two-apps", "02-hello", "04-small", "04-app", "05-monitoring", "06-fast-rebuild"} <= set(found)
    for name, exercise in found.items():
        assert re.fullmatch(r"\d\d-[a-z0-9-]+", name) and exercise.notebook == name[:2]
        assert 2 <= len(exercise.hints) <= 3, name
        ast.parse(exercise.solution)
        assert len(exercise.solution.splitlines()) <= 15, name


def test_hints_come_one_more_each_call_then_stay_at_the_last():
    shown = [lab.hint("02-hello") for _ in range(4)]
    assert [h.number for h in shown] == [1, 2, 3, 3]
    assert "next" in repr(shown[0]) and 'lab.solution("02-hello")' in repr(shown[-1])
    assert lab.hint("02-hello", 1).text == exercises.get("02-hello").hints[0]
    with pytest.raises(LabError, match="hints 1 to 3"):
        lab.hint("02-hello", 4)
    assert lab.progress().loc["02-hello", "hints seen"] == "3 of 3"


def test_an_unknown_exercise_lists_the_names():
    with pytest.raises(LabError, match="02-hello"):
        lab.hint("02-nope")


def test_a_failing_check_says_which_hint_would_help():
    result = lab.check("05-monitoring", 99, records=[], year=2026)
    assert not result and result.exercise == "05-monitoring"
    assert 'hint 2 would help: lab.hint("05-monitoring", 2)' in repr(result)
    assert "lab.hint(&quot;05-monitoring&quot;, 2)" in result._repr_html_()
    plain = Result.of("a task", ["nothing"])  # a checker without an exercise: no hint line
    assert "hint" not in repr(plain)


def test_progress_is_kept_on_disk_and_a_pass_stays_a_pass():
    table = lab.progress()
    assert set(table["status"]) == {"not tried"} and "02-hello" in table.index
    records = [{"name": "docker-mon", "summary": "monitor containers", "released": "2026-03-01"}]
    lab.check("05-monitoring", 0, records=records, year=2026)
    assert lab.progress().loc["05-monitoring", "status"] == "failing"
    lab.check("05-monitoring", 1, records=records, year=2026)
    lab.check("05-monitoring", 0, records=records, year=2026)
    row = lab.progress().loc["05-monitoring"]
    assert row["status"] == "passed" and re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", row["when"])
    assert row["tries"] == 3
    assert exercises.progress_file().exists()


def test_a_solution_is_shown_not_run_unless_asked():
    ns = _survey()
    shown = lab.solution("05-monitoring", namespace=ns)
    assert "answer" not in ns and "not run" in repr(shown)
    assert "<span" in shown._repr_html_()  # highlighted
    lab.solution("05-monitoring", run=True, namespace=ns)
    assert ns["answer"] == 1 and lab.check("05-monitoring", ns["answer"], records=[
        {"name": "docker-mon", "summary": "monitor containers", "released": "2026-03-01"}], year=2026)


def test_the_setting_runs_every_solution(monkeypatch):
    monkeypatch.setenv(exercises.RUN_SOLUTIONS, "1")
    ns = _survey()
    lab.solution("05-monitoring", namespace=ns)
    assert ns["answer"] == 1


def test_a_solution_run_before_the_notebook_defines_its_names_says_what_to_do():
    with pytest.raises(LabError, match="uses 'meta'.*\n.*Run All Above"):
        lab.solution("05-monitoring", run=True, namespace={})


def test_the_last_expression_of_a_solution_is_its_value():
    ex = Exercise("09-demo", "a demo", lambda: Result.of("a demo", []), ["a", "b"], "x = 2\nx * 21\n")
    assert exercises._run(ex, {}) == 42


def test_on_binder_checks_and_runs_say_they_need_an_engine(monkeypatch):
    monkeypatch.setenv("BINDER_SERVICE_HOST", "10.0.0.1")
    note = lab.check("02-hello")
    assert repr(note).startswith("⏸ 02-hello needs an engine") and "\n" not in repr(note)
    assert repr(lab.solution("04-small", run=True)).startswith("⏸ 04-small needs an engine")
    assert lab.hint("02-hello").number == 1  # text: no engine needed
    assert "not run" in repr(lab.solution("02-hello"))
    assert lab.check("05-monitoring", 0, records=[], year=2026)  # data only: runs anyway


@pytest.fixture
def own_exercise(monkeypatch):
    """An exercise of notebook 09 with a unique name and port, beside the real ones."""
    base = f"exercises-{uuid.uuid4().hex[:6]}"
    port = free_port()
    ex = Exercise("09-test", "a test", lambda: Result.of("a test", []), ["a", "b"], "pass\n",
                  names=lambda: [f"{base}-made", f"{base}-image:1"], ports=(port,),
                  undo=lambda: ["undone 09-test"])
    real = exercises.all_exercises
    monkeypatch.setattr(exercises, "all_exercises", lambda: {**real(), "09-test": ex})
    return base, port


@pytest.mark.engine
def test_reset_removes_what_the_exercise_made_and_nothing_else(client, python_image, own_exercise):
    base, port = own_exercise
    ref = lab.images.spec("python").ref
    mine = lab.labels_for("09")
    made = [client.containers.create(ref, ["true"], name=f"{base}-made", labels=mine),
            client.containers.create(ref, ["true"], name=f"{base}-on-port", labels=mine,
                                     ports={"80/tcp": ("127.0.0.1", port)})]
    kept = [client.containers.create(ref, ["true"], name=f"{base}-other", labels=mine),
            client.containers.create(ref, ["true"], name=f"{base}-yours-on-port",
                                     ports={"80/tcp": ("127.0.0.1", port)}),
            client.containers.create(ref, ["true"], name=f"{base}-other-notebook-on-port",
                                     labels=lab.labels_for("08"), ports={"80/tcp": ("127.0.0.1", port)})]
    # The exercise's tag goes on an image that has another name too: the test's own image,
    # never the shared python image, whose tags notebook 05 shows while this runs.
    shared = own_image(client, f"{base}-base:1")
    shared.tag(f"{base}-image", "1")
    try:
        assert {m.name for m in exercises.made_for("09-test", client)} == {
            f"{base}-made", f"{base}-on-port", f"{base}-image:1"}
        lines = lab.reset("09-test", client=client)
        assert len(lines) == 4 and all(line.startswith("removed") for line in lines[:3])
        assert lines[3] == "undone 09-test"  # the exercise's own undo (notebook 03: a machine)
        for c in made:
            with pytest.raises(docker.errors.NotFound):
                client.containers.get(c.id)
        for c in kept:
            client.containers.get(c.id)  # still there
        client.images.get(f"{base}-base:1")  # untagging the exercise's name left the image itself
        assert lab.reset("09-test", client=client) == ["undone 09-test"]
    finally:
        for c in made + kept:
            try:
                c.remove(force=True)
            except docker.errors.NotFound:
                pass
        for tag in (f"{base}-image:1", f"{base}-base:1"):
            try:
                client.images.remove(tag)
            except docker.errors.ImageNotFound:
                pass
