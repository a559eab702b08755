"""Notebook 04's widgets, driven in Python against the real engine (``button.click()``)."""

from __future__ import annotations

import io
import uuid

import docker.errors
import pytest

import labhelpers as lab
from labhelpers.widgets.build import BuildError, BuildProgress
from labhelpers.widgets.dashboard import Dashboard
from labhelpers.widgets.events import EventLog
from labhelpers.waiting import wait_until

PY = "python:3.13-slim-trixie"
#: The widget tests label their containers for a notebook number no notebook uses,
#: so a dashboard filtered on it sees only the test's own containers.
NB = "99"


@pytest.fixture
def uid():
    return f"h04-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def made(client):
    """Containers and images a test creates; all removed afterwards."""
    things = {"containers": [], "images": []}
    yield things
    for c in things["containers"]:
        try:
            client.api.remove_container(c, force=True)
        except docker.errors.NotFound:
            pass
    for i in things["images"]:
        try:
            client.images.remove(i, force=True)
        except docker.errors.ImageNotFound:
            pass


def _sleeper(client, made, name, labels=None):
    c = client.containers.run(PY, ["sleep", "300"], detach=True, name=name,
                              labels=lab.labels_for(NB) if labels is None else labels)
    made["containers"].append(c.id)
    return c


def test_click_on_stop_stops_the_container(client, python_image, made, uid):
    c = _sleeper(client, made, f"{uid}-web")
    dash = Dashboard(client, notebook=NB, refresh=0)
    try:
        assert "lab-dashboard" in dash._dom_classes
        row = dash.row(c.name)
        stop = row.buttons["stop"]
        assert "lab-dashboard-stop" in stop._dom_classes
        assert c.name in stop.tooltip
        assert row.state == "running"
        stop.click()
        c.reload()
        assert c.status == "exited"
        assert row.state == "exited" and "exited" in row.cells["state"].value
        row.buttons["start"].click()
        c.reload()
        assert c.status == "running"
        row.buttons["remove"].click()  # a lab container: removed without asking
        with pytest.raises(docker.errors.NotFound):
            client.containers.get(c.id)
        assert c.name not in dash.rows
        assert row.comm is None and row.buttons["stop"].comm is None  # its widgets are closed
    finally:
        dash.close()


def test_rows_are_updated_in_place_and_show_stats(client, python_image, made, uid):
    c = _sleeper(client, made, f"{uid}-a")
    dash = Dashboard(client, notebook=NB, refresh=0)
    try:
        row = dash.row(c.name)
        cells = dict(row.cells)
        dash.refresh(wait_stats=True)  # the first stats sample: memory
        dash.refresh(wait_stats=True)  # the second: CPU % between the two
        assert dash.row(c.name) is row and row.cells == cells
        assert row.cells["memory"].value.endswith("MiB")
        assert row.cells["cpu"].value.endswith("%")
        b = _sleeper(client, made, f"{uid}-b")
        dash.refresh()
        assert list(dash.rows) == sorted([c.name, b.name])
        assert dash.row(c.name) is row
        assert repr(dash) == f"Dashboard(notebook='{NB}', 2 containers)"
    finally:
        dash.close()


def test_logs_button_shows_the_logs(client, python_image, made, uid):
    c = client.containers.run(PY, ["python", "-c", "print('hello from the logs')"], detach=True,
                              name=f"{uid}-talk", labels=lab.labels_for(NB))
    made["containers"].append(c.id)
    c.wait()
    dash = Dashboard(client, notebook=NB, refresh=0)
    try:
        dash.row(c.name).buttons["logs"].click()
        assert "hello from the logs" in dash._logs.value
    finally:
        dash.close()


def test_removing_a_container_that_is_not_the_labs_asks_first(client, python_image, made, uid):
    c = _sleeper(client, made, f"{uid}-mine", labels={"h04.test": uid})
    dash = Dashboard(client, all=True, refresh=0)
    try:
        dash.row(c.name).buttons["remove"].click()
        assert client.containers.get(c.id).status == "running", "removed without asking"
        yes, no = dash.confirmation
        assert c.name in dash._confirm.children[0].value
        no.click()
        assert client.containers.get(c.id)
        dash.row(c.name).buttons["remove"].click()
        dash.confirmation[0].click()
        with pytest.raises(docker.errors.NotFound):
            client.containers.get(c.id)
    finally:
        dash.close()


def test_the_timer_refreshes_and_stops(client, python_image, made, uid):
    dash = Dashboard(client, notebook=NB, refresh=0.2)
    try:
        c = _sleeper(client, made, f"{uid}-late")
        wait_until(lambda: c.name in dash.rows, 10, interval=0.1, what=f"{c.name} in the dashboard")
    finally:
        dash.stop()
    assert dash._thread is None
    dash.close()


def test_build_widget_reaches_100_percent(client, python_image, made, uid):
    dockerfile = f"FROM {PY}\nRUN echo built > /built.txt\nCMD [\"cat\", \"/built.txt\"]\n"
    progress = BuildProgress(client)
    tag = f"{uid}-ok:1"
    made["images"].append(tag)
    image = progress.build(tag, fileobj=io.BytesIO(dockerfile.encode()), labels=lab.labels_for(NB))
    assert "lab-build" in progress._dom_classes
    assert progress.percent == 100 and progress.bar.bar_style == "success"
    assert progress.step == progress.total >= 3
    assert tag in image.tags
    assert any(line.startswith("Step 2/") for line in progress.lines)
    assert progress.error is None and progress.failure.value == ""


def test_build_widget_shows_the_error_of_a_failing_build(client, python_image, uid):
    dockerfile = f"FROM {PY}\nRUN python -c 'import flask'\n"
    progress = BuildProgress(client)
    with pytest.raises(BuildError) as err:
        progress.build(f"{uid}-broken:1", fileobj=io.BytesIO(dockerfile.encode()))
    assert "returned a non-zero code" in str(err.value)
    assert "ModuleNotFoundError" in "\n".join(progress.lines)
    assert progress.percent < 100 and progress.bar.bar_style == "danger"
    assert "returned a non-zero code" in progress.failure.value
    assert progress.fold.selected_index == 0  # the log unfolds on failure
    again = BuildProgress(client)
    assert again.build(f"{uid}-broken:1", raise_error=False,
                       fileobj=io.BytesIO(dockerfile.encode())) is None
    assert again.error


def test_event_log_follows_and_stops_cleanly(client, python_image, uid):
    events = EventLog(client, notebook=NB, types=("container",))
    assert events.running
    client.containers.run(PY, ["true"], remove=True, name=f"{uid}-evt", labels=lab.labels_for(NB))
    assert events.wait_for("destroy", name=f"{uid}-evt")
    events.stop()
    assert not events.running
    actions = [e["Action"] for e in events.events if e["Actor"]["Attributes"].get("name") == f"{uid}-evt"]
    assert actions[0] == "create" and actions[-1] == "destroy" and "start" in actions
    assert f"container destroy {uid}-evt ({PY})" in events.lines()


def test_event_log_says_when_its_stream_breaks(client):
    """The stream dies without stop() (the engine went away): the widget stops saying "following"."""
    events = EventLog(client, notebook=NB, types=("container",))
    events._stream.close()  # what a restarted engine does to the connection
    events._thread.join(timeout=10)
    assert not events.running
    assert "stream broke" in events.status.value and "following" not in events.status.value
    assert events.stopped_because and events.stopped_because in repr(events)
    assert events.summary().startswith("EventLog(stopped")


def test_widgets_summarise_their_final_state(client, uid, made):
    progress = BuildProgress(client)
    assert progress.summary() == "BuildProgress(not started)"
    dockerfile = f"FROM {PY}\nRUN exit 3\n"
    progress.build(f"{uid}-sum:1", raise_error=False, fileobj=io.BytesIO(dockerfile.encode()),
                   labels=lab.labels_for(NB))
    assert progress.summary().splitlines()[1].startswith(f"build of {uid}-sum:1 failed at step 2/")
    dash = Dashboard(client, notebook=NB, refresh=0)
    try:
        assert dash.summary().startswith("Dashboard(notebook='99'")
        assert dash.show_summary() == 0  # never displayed here: nothing to update
    finally:
        dash.close()
