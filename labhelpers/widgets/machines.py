"""The machine panel: the docker machines of a store, with buttons to manage them.

A table of ``Machine.ls()`` (name, driver, state, URL, engine version), a name
field with a **create** button, and per machine **stop**, **start** and
**remove** buttons. Each action runs the same ``Machine`` call a cell would,
then the table refreshes; a status line says what happened (or the
:class:`~labhelpers.errors.LabError`'s message).

CSS classes (for browser tests and styling): the root ``lab-machines``, each
row ``lab-machines-row``, each button ``lab-machines-<action>``
(``lab-machines-create``, ``lab-machines-stop``...), the status line
``lab-machines-status``. Each row button's tooltip names its machine.

>>> from labhelpers.machine import Machine
>>> from labhelpers.widgets.machines import MachinePanel
>>> panel = MachinePanel(Machine())                  # doctest: +SKIP
>>> panel.row("nb03-node1").buttons["stop"].click()  # doctest: +SKIP

Introduced in ``03-docker-machine``.
"""

from __future__ import annotations

import html

import ipywidgets as widgets

from ..errors import LabError

ACTIONS = ("stop", "start", "remove")
ICONS = {"stop": "stop", "start": "play", "remove": "trash", "create": "plus"}
COLUMNS = (("name", "10em"), ("driver", "5em"), ("state", "6em"), ("URL", "14em"),
           ("engine", "10em"), ("swarm", "6em"))
COLOURS = {"Running": "green", "Stopped": "grey", "Error": "red"}


class Row(widgets.HBox):
    """One machine: its ls values and its buttons.

    Args:
        panel: the :class:`MachinePanel` its buttons act through.
        entry: one machine's line of ``Machine.ls()``.

    >>> MachinePanel(Machine(notebook="03")).row("node1").name   # doctest: +SKIP
    'node1'

    (skipped: it needs an engine, and creates machines on it.) Introduced in ``03-docker-machine``.
    """

    def __init__(self, panel: "MachinePanel", entry: dict):
        self.name = entry["Name"]
        state = entry["State"]
        values = [self.name, entry["DriverName"],
                  f'<span style="color:{COLOURS.get(state, "orange")}">{html.escape(state)}</span>',
                  entry["URL"], entry["DockerVersion"], entry["Swarm"]]
        cells = [widgets.HTML(v if i == 2 else html.escape(str(v)),
                              layout=widgets.Layout(width=w))
                 for i, ((_, w), v) in enumerate(zip(COLUMNS, values))]
        self.buttons = {}
        for action in ACTIONS:
            button = widgets.Button(description=action, icon=ICONS[action],
                                    tooltip=f"{action} {self.name}",
                                    layout=widgets.Layout(width="7em"))
            button.add_class(f"lab-machines-{action}")
            button.disabled = (action == "stop" and state != "Running") or (
                action == "start" and state == "Running")
            button.on_click(lambda _b, a=action: panel.act(a, self.name))
            self.buttons[action] = button
        super().__init__(cells + list(self.buttons.values()))
        self.add_class("lab-machines-row")


class MachinePanel(widgets.VBox):
    """The panel for one :class:`~labhelpers.machine.Machine`.

    Args:
        machine: the ``Machine`` whose machines are shown and managed.

    Args:
        machine: the :class:`~labhelpers.machine.Machine` whose machines it lists.

    >>> panel = MachinePanel(Machine(notebook="03"))  # doctest: +SKIP
    >>> panel.act("create", "node1")                 # doctest: +SKIP

    (skipped: it needs an engine, and creates machines on it.) Introduced in ``03-docker-machine``.
    """

    def __init__(self, machine):
        self.machine = machine
        self.name_field = widgets.Text(placeholder="new machine name", layout=widgets.Layout(width="14em"))
        self.create_button = widgets.Button(description="create", icon=ICONS["create"],
                                            button_style="primary", tooltip="create a machine")
        self.create_button.add_class("lab-machines-create")
        self.create_button.on_click(lambda _b: self.act("create", self.name_field.value.strip()))
        self.status = widgets.HTML("")
        self.status.add_class("lab-machines-status")
        self.header = widgets.HBox([widgets.HTML(f"<b>{t}</b>", layout=widgets.Layout(width=w))
                                    for t, w in COLUMNS])
        self.rows_box = widgets.VBox()
        super().__init__([widgets.HBox([self.name_field, self.create_button]), self.header,
                          self.rows_box, self.status])
        self.add_class("lab-machines")
        self.refresh()

    def __repr__(self) -> str:
        return f"MachinePanel({len(self.rows)} machines)"

    @property
    def rows(self) -> list[Row]:
        return list(self.rows_box.children)

    def row(self, name: str) -> Row:
        """The row of machine ``name`` (KeyError if it is not listed).

        Args:
            name: the machine's name.

        Returns:
            Its :class:`Row`.

        Raises:
            KeyError: no machine of that name is listed.
        """
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def refresh(self) -> None:
        """Re-read ``ls()`` and rebuild the rows."""
        self.rows_box.children = [Row(self, entry) for entry in self.machine.ls()]

    def act(self, action: str, name: str) -> None:
        """Run ``create`` / ``stop`` / ``start`` / ``remove`` on a machine; show the outcome.

        Args:
            action: ``create``, ``stop``, ``start`` or ``remove``.
            name: the machine's name.
        """
        if not name:
            self.status.value = "type a name for the new machine first"
            return
        call = {"create": self.machine.create, "stop": self.machine.stop,
                "start": self.machine.start, "remove": self.machine.rm}[action]
        self.status.value = f"{action} {html.escape(name)} ..."
        for b in [self.create_button] + [b for r in self.rows for b in r.buttons.values()]:
            b.disabled = True
        try:
            call(name)
            self.status.value = f"✅ {action} {html.escape(name)}: done"
        except LabError as err:
            self.status.value = f"❌ {html.escape(err.what)}"
        finally:
            self.create_button.disabled = False
            self.refresh()
