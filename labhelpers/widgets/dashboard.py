"""The container dashboard: a live table of containers with a button per action.

One row per container: name, state, image, ports, uptime, CPU and memory, and
start / stop / restart / remove / logs buttons. A timer thread refreshes it; rows
are updated in place (only the values that changed are sent to the browser), so
it does not flicker. It lists the lab's containers unless asked for ``all``, and
removing a container that is not the lab's asks for confirmation first.

Listing uses the low-level ``client.api.containers()``: one request for every
container, where the high-level ``client.containers.list()`` inspects each one
afterwards. CPU and memory come from one-shot stats, fetched by a small pool of
threads so that a refresh never waits for them (the engine answers them once a
second: with many containers, CPU and memory lag a few seconds behind the state).

CSS classes (for browser tests and styling): the root ``lab-dashboard``, each
row ``lab-dashboard-row``, each action button ``lab-dashboard-<action>``
(``lab-dashboard-stop``...), the confirmation's yes button
``lab-dashboard-confirm``. Each button's tooltip names its container
(``"stop nb04-web"``).

>>> from labhelpers.widgets.dashboard import Dashboard
>>> dash = Dashboard(notebook="04")               # doctest: +SKIP
>>> dash                                          # doctest: +SKIP
Dashboard(notebook='04', 2 containers)
>>> dash.row("nb04-web").buttons["stop"].click()  # doctest: +SKIP
>>> dash.stop()                                   # doctest: +SKIP

Introduced in ``04-docker-py``.
"""

from __future__ import annotations

import html
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

import docker.errors
import ipywidgets as widgets

from .. import stats as labstats
from ..labels import is_lab
from ..labels import filters as lab_filters
from .summary import TextSummary

ACTIONS = ("start", "stop", "restart", "remove", "logs")
ICONS = {"start": "play", "stop": "stop", "restart": "refresh", "remove": "trash", "logs": "file-text"}
COLUMNS = (("name", "12em"), ("state", "5em"), ("image", "12em"), ("ports", "8em"),
           ("uptime", "8em"), ("cpu", "4em"), ("memory", "6em"))
STATE_COLOURS = {"running": "green", "exited": "grey", "created": "steelblue",
                 "paused": "orange", "restarting": "orange", "dead": "red"}


def _cell(width: str, value: str = "") -> widgets.HTML:
    # flex 0 0: a column keeps its width even when empty, so the rows stay aligned
    return widgets.HTML(value, layout=widgets.Layout(width=width, flex="0 0 auto", overflow="hidden"))


def ports_text(ports: list[dict]) -> str:
    """The ports of a container list entry, as ``docker ps`` shows them.

    Args:
        ports: the entry's ``Ports`` (``client.api.containers()``).

    Returns:
        ``PUBLIC→PRIVATE/PROTO`` for published ports, ``PRIVATE/PROTO`` for the others.

    >>> ports_text([{"PrivatePort": 8000, "PublicPort": 8080, "Type": "tcp", "IP": "0.0.0.0"},
    ...             {"PrivatePort": 9000, "Type": "tcp"}])
    '8080→8000/tcp 9000/tcp'
    """
    seen, out = set(), []
    for p in ports or []:
        text = (f"{p['PublicPort']}→" if p.get("PublicPort") else "") + f"{p['PrivatePort']}/{p.get('Type', 'tcp')}"
        if text not in seen:  # IPv4 and IPv6 bindings of the same port
            seen.add(text)
            out.append(text)
    return " ".join(out)


class Row(widgets.HBox):
    """One container's row; :meth:`update` changes only the cells whose value changed.

    Args:
        dashboard: the :class:`Dashboard` its buttons act through.
        entry: the container's list entry (``client.api.containers()``).

    >>> Dashboard(notebook="04").row("nb04-web").state      # doctest: +SKIP
    'running'

    (skipped: it asks the engine.) Introduced in ``04-docker-py``.
    """

    def __init__(self, dashboard: "Dashboard", entry: dict):
        self.id = entry["Id"]
        self.name = entry["Names"][0].lstrip("/") if entry.get("Names") else self.id[:12]
        self.lab = is_lab(entry.get("Labels"))
        self.cells = {key: _cell(width) for key, width in COLUMNS}
        self.buttons = {}
        for action in ACTIONS:
            button = widgets.Button(
                # icons only, so a row fits a notebook's width; the tooltip says what and whom
                description="", icon=ICONS[action], tooltip=f"{action} {self.name}",
                layout=widgets.Layout(width="2.6em", flex="0 0 auto"),
                button_style="danger" if action == "remove" else "",
            )
            button.add_class(f"lab-dashboard-{action}")
            button.on_click(lambda _b, a=action: dashboard.act(self, a))
            self.buttons[action] = button
        super().__init__(list(self.cells.values()) + list(self.buttons.values()))
        self.add_class("lab-dashboard-row")
        self.state = ""
        self.update(entry)

    def _set(self, key: str, value: str) -> None:
        if self.cells[key].value != value:
            self.cells[key].value = value

    def update(self, entry: dict) -> None:
        """Show a fresh container list entry (from ``client.api.containers()``).

        Args:
            entry: the container's list entry.
        """
        self.state = entry.get("State", "")
        colour = STATE_COLOURS.get(self.state, "black")
        tag = "b" if self.lab else "i"
        self._set("name", f"<{tag} title='{html.escape(self.id[:12])}'>{html.escape(self.name)}</{tag}>")
        self._set("state", f"<span style='color:{colour}'>{html.escape(self.state)}</span>")
        self._set("image", html.escape(entry.get("Image", "")))
        self._set("ports", html.escape(ports_text(entry.get("Ports"))))
        self._set("uptime", html.escape(entry.get("Status", "")))
        running = self.state == "running"
        for action, disabled in (("start", running), ("stop", not running), ("restart", not running)):
            if self.buttons[action].disabled != disabled:
                self.buttons[action].disabled = disabled
        if not running:
            self.show_stats(None)

    def discard(self) -> None:
        """Close this row's widgets (the container is gone)."""
        for child in list(self.cells.values()) + list(self.buttons.values()):
            child.close()
        self.close()

    def show_stats(self, sample: dict | None) -> None:
        """Show CPU % and memory from a :func:`labhelpers.stats.row`, or blanks.

        Args:
            sample: a stats row (``cpu %``, ``memory (MiB)``...), or None for blanks.
        """
        cpu = (sample or {}).get("cpu %")
        mem = (sample or {}).get("memory (MiB)")
        self._set("cpu", "" if cpu is None else f"{cpu:.1f}%")
        self._set("memory", "" if mem is None else f"{mem:.1f} MiB")


class Dashboard(TextSummary, widgets.VBox):
    """A live table of containers with start / stop / restart / remove / logs buttons.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's, ``lab.client()``).
        notebook: only this notebook's containers (``"04"``); default: every
            lab container.
        all: every container of the engine, the lab's or not.
        refresh: seconds between refreshes; 0 or None: refresh only when
            :meth:`refresh` is called.

    >>> Dashboard(notebook="04", refresh=0).rows          # doctest: +SKIP
    {'nb04-web': Row(...)}
    """

    def __init__(self, client=None, notebook=None, all=False, refresh=2.0):
        if client is None:
            from ..engine import client as get_client

            client = get_client()
        self.client = client
        self.notebook = notebook
        self.all = all
        self.interval = refresh
        self.rows: dict[str, Row] = {}
        self.last_refresh_s = 0.0
        self._lock = threading.RLock()
        self._stats_prev: dict[str, dict] = {}
        self._pending: dict = {}  # container id -> its stats sample in flight
        # The engine answers one-shot stats on its collector's 1 s tick, so samples are
        # taken in parallel: 8 threads, within docker-py's pool of 10 connections.
        self._pool = ThreadPoolExecutor(max_workers=8, thread_name_prefix="lab-dashboard-stats")
        self._stop = threading.Event()
        self._thread = None
        self._header = widgets.HTML()
        heading = widgets.HBox([_cell(width, f"<b>{key}</b>") for key, width in COLUMNS]
                               + [widgets.HTML("<b>actions</b>")])
        self._body = widgets.VBox()
        self._message = widgets.HTML()
        self._confirm = widgets.HBox(layout=widgets.Layout(display="none"))
        self._logs = widgets.Textarea(layout=widgets.Layout(width="100%", height="12em", display="none"),
                                      disabled=True)
        super().__init__([self._header, heading, self._body, self._confirm, self._message, self._logs])
        self.add_class("lab-dashboard")
        self.refresh(wait_stats=False)
        if refresh:
            self.start()

    def __repr__(self) -> str:
        scope = "all" if self.all else (f"notebook={self.notebook!r}" if self.notebook else "lab")
        return f"Dashboard({scope}, {len(self.rows)} containers)"

    def summary(self) -> str:
        """What a saved notebook shows instead of the widget: one line per container."""
        with self._lock:
            rows = [f"{name}: {row.state}" for name, row in self.rows.items()]
        return "\n".join([repr(self), *rows])

    # -- listing -------------------------------------------------------------
    def _list(self) -> list[dict]:
        filters = None if self.all else lab_filters(self.notebook)
        return self.client.api.containers(all=True, filters=filters)

    def row(self, name: str) -> Row:
        """The row of the container called ``name``.

        Args:
            name: the container's name.

        Returns:
            Its :class:`Row` (a ``KeyError`` when the dashboard has none).
        """
        return self.rows[name]

    def refresh(self, wait_stats: bool = False) -> float:
        """List the containers and update the rows in place.

        Args:
            wait_stats: also wait for this round of CPU/memory samples (tests,
                benchmarks); by default they arrive in the background.

        Returns:
            The seconds the refresh took (without the stats, unless waited for).
        """
        start = time.perf_counter()
        with self._lock:
            try:
                entries = self._list()
            except docker.errors.DockerException as err:
                self._message.value = f"<span style='color:red'>cannot list containers: {html.escape(str(err))}</span>"
                return time.perf_counter() - start
            seen = {}
            for entry in entries:
                name = entry["Names"][0].lstrip("/") if entry.get("Names") else entry["Id"][:12]
                row = self.rows.get(name)
                if row is None or row.id != entry["Id"]:
                    row = Row(self, entry)
                else:
                    row.update(entry)
                seen[name] = row
            changed = list(seen) != list(self.rows)
            dropped = [r for n, r in self.rows.items() if seen.get(n) is not r]
            self.rows = dict(sorted(seen.items()))
            if changed or dropped or len(self._body.children) != len(self.rows):
                self._body.children = tuple(self.rows.values())
            for row in dropped:  # gone from the engine: free its widgets in the browser too
                row.discard()
            running = sum(1 for r in self.rows.values() if r.state == "running")
            scope = "all containers" if self.all else (
                f"notebook {self.notebook}'s containers" if self.notebook else "the lab's containers")
            header = f"<b>{len(self.rows)}</b> of {scope}, {running} running"
            if self._header.value != header:
                self._header.value = header
            live = {r.id for r in self.rows.values()}
            for gone in [i for i in self._pending if i not in live]:
                self._pending.pop(gone, None)
                self._stats_prev.pop(gone, None)
        futures = self._sample([r for r in self.rows.values() if r.state == "running"])
        if wait_stats and futures:
            wait(futures, timeout=30)
        self.last_refresh_s = time.perf_counter() - start
        return self.last_refresh_s

    # -- stats ---------------------------------------------------------------
    def _sample(self, rows: list[Row]):
        futures = []
        for row in rows:
            pending = self._pending.get(row.id)
            if pending is not None and not pending.done():
                futures.append(pending)  # the previous sample is not back yet: no second one
                continue
            try:
                self._pending[row.id] = future = self._pool.submit(self._sample_one, row)
            except RuntimeError:  # pool shut down
                continue
            futures.append(future)
        return futures

    def _sample_one(self, row: Row) -> None:
        try:
            doc = self.client.api.stats(row.id, stream=False, one_shot=True)
            sample = labstats.row(doc, self._stats_prev.get(row.id))
            self._stats_prev[row.id] = doc
            if row.state == "running":
                row.show_stats(sample)
        except docker.errors.DockerException:
            pass  # gone or stopped meanwhile: the next refresh shows it

    # -- actions -------------------------------------------------------------
    def act(self, row: Row, action: str) -> None:
        """Do ``action`` on the container of ``row`` (what its buttons call).

        Args:
            row: the container's :class:`Row`.
            action: one of :data:`ACTIONS` (``start``, ``stop``, ``restart``, ``logs``, ``remove``).
        """
        if action == "remove" and not row.lab:
            return self._ask_remove(row)
        try:
            if action == "logs":
                return self._show_logs(row)
            container = self.client.containers.get(row.id)
            if action == "remove":
                container.remove(force=True)
            elif action == "stop":
                container.stop(timeout=3)
            else:
                getattr(container, action)()
            self._say(f"{action}: {row.name}")
        except docker.errors.DockerException as err:
            self._say(f"{action} {row.name} failed: {getattr(err, 'explanation', None) or err}", error=True)
        self.refresh()

    def _say(self, text: str, error: bool = False) -> None:
        colour = "red" if error else "black"
        self._message.value = f"<span style='color:{colour}'>{html.escape(text)}</span>"

    def _show_logs(self, row: Row) -> None:
        text = self.client.api.logs(row.id, tail=200, timestamps=False).decode(errors="replace")
        self._logs.description = ""
        self._logs.value = f"--- last lines of {row.name} ---\n{text}"
        self._logs.layout.display = None

    def _ask_remove(self, row: Row) -> None:
        question = widgets.HTML(
            f"<b>{html.escape(row.name)}</b> is not one of the lab's containers. Remove it anyway?")
        yes = widgets.Button(description="remove it", button_style="danger", tooltip=f"remove {row.name}")
        yes.add_class("lab-dashboard-confirm")
        no = widgets.Button(description="cancel", tooltip="keep it")
        no.add_class("lab-dashboard-cancel")

        def confirmed(_b):
            self._confirm.layout.display = "none"
            try:
                self.client.api.remove_container(row.id, force=True)
                self._say(f"remove: {row.name}")
            except docker.errors.DockerException as err:
                self._say(f"remove {row.name} failed: {getattr(err, 'explanation', None) or err}", error=True)
            self.refresh()

        def cancelled(_b):
            self._confirm.layout.display = "none"
            self._say(f"kept {row.name}")

        yes.on_click(confirmed)
        no.on_click(cancelled)
        self._confirm.children = (question, yes, no)
        self._confirm.layout.display = None
        self.confirmation = yes, no

    # -- timer ---------------------------------------------------------------
    def start(self) -> None:
        """Refresh every ``refresh`` seconds in a background thread."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="lab-dashboard", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.interval or 2.0):
            try:
                self.refresh()
            except Exception as err:  # keep the timer alive; say what happened
                self._say(f"refresh failed: {err}", error=True)

    def stop(self) -> None:
        """Stop the timer (the widget stays, showing its last refresh)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None
        self.show_summary()

    def close(self) -> None:
        """Stop the timer and the stats threads, and close the widget."""
        self.stop()
        self._pool.shutdown(wait=True, cancel_futures=True)
        super().close()
