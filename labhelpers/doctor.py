"""``lab.doctor()``: is the engine there, what is it, is the lab ready?

The first code cell of every notebook runs it. With an engine it shows a small
table; without one it stops the notebook with one clear message (on Binder,
where there is never an engine, it explains that the notebooks are read-only).

>>> import labhelpers as lab
>>> report = lab.doctor()                        # doctest: +SKIP
>>> report.ok                                    # doctest: +SKIP
True

On Podman's Docker-compatible socket the "engine version" row says Podman, and a
test run checks that containers start (where Podman's rlimits exceed the host's, the
report says what to set in ``containers.conf``).

Introduced in ``00-start-here``; ``python -m labhelpers doctor`` prints it.
"""

from __future__ import annotations

import html
import os
import shutil
from dataclasses import dataclass, field

from . import engine, extras, images, podman, warmup
from .errors import EngineError, EngineRefusesClient

BINDER_NOTE = (
    "This looks like Binder, which has no Docker engine: the notebooks here are "
    "read-only, showing the outputs stored when they last ran. To run them for real, "
    "clone the repository on a machine with Docker and run `make lab` (see README.md)."
)


def on_binder() -> bool:
    """True inside a Binder session (repo2docker sets these variables)."""
    return any(key in os.environ for key in ("BINDER_SERVICE_HOST", "BINDER_LAUNCH_HOST", "BINDER_REQUEST"))


@dataclass
class Report:
    """The doctor's findings: rows of (check, value), and the error if any."""

    rows: list[tuple[str, str]] = field(default_factory=list)
    error: EngineError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def __getitem__(self, key: str) -> str:
        return dict(self.rows)[key]

    def __str__(self) -> str:
        width = max((len(k) for k, _ in self.rows), default=0)
        lines = [f"{k:<{width}}  {v}" for k, v in self.rows]
        if self.error is not None:
            lines.append("")
            lines.append(str(self.error))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(k)}</th>"
            f"<td style='text-align:left'>{html.escape(v)}</td></tr>"
            for k, v in self.rows
        )
        out = f"<table>{cells}</table>"
        if self.error is not None:
            out += f"<pre>{html.escape(str(self.error))}</pre>"
        return out


def _free_disk(root: str | None, endpoint: engine.Endpoint) -> str:
    if not root or endpoint.scheme != "unix" or not os.path.isdir(root):
        return "unknown (the engine's disk is not on this machine)"
    usage = shutil.disk_usage(root)
    return f"{usage.free / 1e9:.1f} GB free of {usage.total / 1e9:.0f} GB ({root})"


def _podman_note(client, endpoint: engine.Endpoint) -> str:
    """Whose Podman service this is, and whether it starts containers (a 1 s test run).

    Raises:
        PodmanStartError: it cannot, for a reason the kit knows (rlimits, crun).
    """
    whose = ("the kit's service" if endpoint.socket_path == podman.ROOTFUL_SOCKET and podman._pid()
             else "a service the kit did not start")
    ref = images.CATALOGUE["python"].ref
    if images.present(client, ref) is None:
        return f", {whose}"
    seconds = podman.smoke_test(client, ref)
    return f", {whose}; a container starts in {seconds:.1f} s"


def check() -> Report:
    """Run every check and return the :class:`Report`; never raises for the engine.

    >>> check()["engine"]                            # doctest: +SKIP
    'found'
    """
    report = Report()
    try:
        endpoint = engine.find_endpoint()
        report.rows.append(("endpoint", f"{endpoint.url} (from {endpoint.source})"))
        client = engine.client()
    except EngineError as err:
        found = isinstance(err, EngineRefusesClient)  # it answered, but not in any version we speak
        report.rows.insert(0, ("engine", "found, but it refuses the kit's client" if found else "NOT FOUND"))
        report.error = err
        return report
    version = client.version()
    info = client.info()
    report.rows.insert(0, ("engine", "found"))
    product = podman.describe(version)
    if podman.is_podman(version):
        try:
            product += _podman_note(client, endpoint)
        except EngineError as err:  # it answers, but cannot start containers here
            report.rows.insert(0, ("engine", "found, but it cannot start containers"))
            del report.rows[1]
            report.rows.append(("engine version", product))
            report.error = err
            return report
    report.rows += [
        ("engine version", product),
        ("API version", f"{version.get('ApiVersion')} (client speaks {client.api.api_version})"),
        ("OS/arch", f"{info.get('OperatingSystem')}, {version.get('Os')}/{version.get('Arch')}"),
    ]
    missing, standins = [], []
    for name, entry in images.CATALOGUE.items():
        image = images.present(client, entry.ref)
        if image is None:
            missing.append(entry.ref)
        elif images.is_standin(image):
            standins.append(entry.ref)
    total = len(images.CATALOGUE)
    state = f"{total - len(missing)}/{total} present"
    if standins:
        state += f"; stand-ins built offline: {', '.join(standins)}"
    background = warmup.summary()
    if background:
        state += f"; being prepared in the background: {background}"
    elif missing:
        state += f"; missing: {', '.join(missing)} (run `python -m labhelpers prepare`)"
    report.rows += [
        ("lab images", state),
        ("free disk", _free_disk(info.get("DockerRootDir"), endpoint)),
        ("round trip", f"{engine.round_trip_ms(client.api):.2f} ms (median GET /_ping)"),
    ]
    from .room import isolation_in_force

    if isolation_in_force():  # in a workshop room's container only (labhelpers.room)
        report.rows.append(("isolation", isolation_in_force()))
    return report


def doctor(notebook: str | None = None, strict: bool = True) -> Report:
    """Check the engine and the lab, and show the report.

    Args:
        notebook: the two digits of the calling notebook: it waits for the images
            that notebook needs (being prepared in the background by ``make lab``,
            or prepared here), and its leftovers from an interrupted earlier run
            are removed, so it starts clean.
        strict: raise when no engine is reachable (stops "Run all" with one
            clear message). On Binder it never raises: it explains that the
            notebooks are read-only there.

    Returns:
        The :class:`Report` (a table in a notebook).

    Raises:
        EngineError: no usable engine, ``strict`` and not on Binder.
        ExtraMissing: the notebook needs an extra of the kit that is not
            installed (:mod:`labhelpers.extras`); it names the ``pip install``.

    >>> import labhelpers as lab
    >>> lab.doctor("00")                             # doctest: +SKIP
    engine          found
    endpoint        unix:///var/run/docker.sock (from default socket)
    ...
    """
    if notebook is not None:
        extras.require(notebook)
    report = check()
    if report.ok:
        if notebook is not None:
            from .cleanup import clean

            if warmup.wait_for(notebook):
                report = check()

            gone = clean(notebook)
            report.rows.append((f"notebook {notebook}", f"ready ({len(gone)} leftovers of an earlier run removed)"))
        return report
    if on_binder():
        report.rows.append(("read-only", BINDER_NOTE))
        return report
    if strict:
        raise report.error
    return report
