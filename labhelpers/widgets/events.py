"""The engine's event stream, followed in a background thread into a live widget.

``client.events(decode=True)`` blocks until the engine sends an event; a thread
reads it and appends one line per event to the widget, while the notebook goes
on. :meth:`EventLog.stop` closes the stream (which wakes the blocked read) and
joins the thread: nothing is left running.

CSS class of the root: ``lab-events``.

>>> from labhelpers.widgets.events import describe
>>> describe({"Type": "container", "Action": "start",
...           "Actor": {"Attributes": {"name": "nb04-web", "image": "python:3.13-slim-trixie"}}})
'container start nb04-web (python:3.13-slim-trixie)'
>>> log = EventLog(notebook="04")                 # doctest: +SKIP
>>> log.stop()                                    # doctest: +SKIP

Introduced in ``04-docker-py``.
"""

from __future__ import annotations

import html
import threading


import ipywidgets as widgets

from ..labels import filters as lab_filters
from .summary import TextSummary


def describe(event: dict) -> str:
    """One line for an engine event: type, action, name (and image, for containers).

    Args:
        event: one event, as the engine's ``/events`` stream sends it.

    Returns:
        The line.

    >>> describe({"Type": "container", "Action": "start",
    ...           "Actor": {"ID": "abc", "Attributes": {"name": "nb04-web", "image": "redis:8"}}})
    'container start nb04-web (redis:8)'
    """
    attrs = (event.get("Actor") or {}).get("Attributes") or {}
    who = attrs.get("name") or (event.get("Actor") or {}).get("ID", "")[:12]
    line = f"{event.get('Type', '?')} {event.get('Action', '?')} {who}"
    if event.get("Type") == "container" and attrs.get("image"):
        line += f" ({attrs['image']})"
    return line


class EventLog(TextSummary, widgets.VBox):
    """Follow the engine's events in a background thread, one line per event.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
        notebook: only events of objects labelled for this notebook; None: the
            lab's objects; ``all_events=True``: everything.
        types: event types to keep (``("container", "network", "volume")``).
        max_lines: how many recent lines the widget shows.

    Attributes:
        events: every event received, as the engine's dicts.
        stopped_because: why the stream stopped when :meth:`stop` did not stop it
            (the engine went away, the connection broke), else None.

    >>> log = EventLog(notebook="04")                # doctest: +SKIP
    >>> log.wait_for("start", name="nb04-web")       # doctest: +SKIP
    True

    (skipped: it follows the engine's events.) Introduced in ``04-docker-py``.
    """

    def __init__(self, client=None, notebook=None, types=("container", "network", "volume", "image"),
                 all_events=False, max_lines=15):
        if client is None:
            from ..engine import client as get_client

            client = get_client()
        self.client = client
        self.events: list[dict] = []
        self.max_lines = max_lines
        filters = {} if all_events else dict(lab_filters(notebook))
        if types:
            filters["type"] = list(types)
        self._arrived = threading.Condition()
        self._stopping = False
        self.stopped_because: str | None = None
        self.view = widgets.HTML("<i>waiting for events…</i>")
        self.status = widgets.HTML("● following")
        super().__init__([self.status, self.view])
        self.add_class("lab-events")
        # Open the stream here, so that no event between this call and the thread's start is missed.
        self._stream = client.events(decode=True, filters=filters)
        self._thread = threading.Thread(target=self._follow, name="lab-events", daemon=True)
        self._thread.start()

    def __repr__(self) -> str:
        state = "following" if self.running else "stopped"
        if self.stopped_because:
            state += f": {self.stopped_because}"
        return f"EventLog({state})"

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _follow(self) -> None:
        reason = "the engine ended the event stream"
        try:
            for event in self._stream:
                with self._arrived:
                    self.events.append(event)
                    self._arrived.notify_all()
                lines = [describe(e) for e in self.events[-self.max_lines:]]
                self.view.value = "<pre style='margin:0'>" + html.escape("\n".join(lines)) + "</pre>"
        except Exception as err:  # noqa: BLE001 - closed by stop(), or the engine went away: said below
            reason = f"{type(err).__name__}: {str(err)[:200]}"
        if not self._stopping:  # not our stop(): say so, instead of "following" forever
            self.stopped_because = reason
            self.status.value = (f"■ stopped after {len(self.events)} events: the stream broke "
                                 f"({html.escape(reason)}). Check the engine (<code>lab.doctor()</code>), "
                                 f"then make a new EventLog to follow again.")

    def summary(self) -> str:
        """What a saved notebook shows instead of the widget: its state and last events."""
        shown = self.lines()[-self.max_lines:]
        more = f" (the last {len(shown)})" if len(shown) < len(self.events) else ""
        return "\n".join([f"{self!r}: {len(self.events)} events{more}", *shown])

    def lines(self) -> list[str]:
        """Every event so far, one line each."""
        return [describe(e) for e in list(self.events)]

    def wait_for(self, action: str | tuple[str, ...], name: str | None = None,
                 timeout: float = 10.0) -> bool:
        """Wait until an event with ``action`` (for ``name``, if given) has arrived.

        Args:
            action: one action, or several: any of them will do (a container's removal
                is ``destroy`` on Docker Engine, ``remove`` on Podman).
            name: the object's name.
            timeout: seconds to wait at most.

        Returns:
            True if it arrived within ``timeout`` seconds.

        Args:
            action: an action (``"start"``) or several.
            name: the object's name; None: any object.
            timeout: the most seconds to wait.

        Returns:
            True once such an event arrived, False on timeout.
        """
        actions = (action,) if isinstance(action, str) else tuple(action)

        def seen():
            return any(e.get("Action") in actions and (
                name is None or ((e.get("Actor") or {}).get("Attributes") or {}).get("name") == name)
                for e in self.events)

        with self._arrived:
            return self._arrived.wait_for(seen, timeout=timeout)

    def stop(self) -> None:
        """Close the event stream and join the thread."""
        self._stopping = True
        self._stream.close()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.status.value = f"■ stopped after {len(self.events)} events"
        self.show_summary()
