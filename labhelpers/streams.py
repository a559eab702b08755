"""The engine's build, pull and push streams, read in one place.

``client.api.build(..., decode=True)`` sends dicts: ``{"stream": "Step 3/7 : RUN ..."}``
lines (Docker's legacy builder; Podman's buildah says ``STEP 3/7: RUN ...``),
``{"aux": {"ID": "sha256:..."}}`` once the image exists, and ``{"error": ...}`` when a
step fails. :func:`build_events` turns them into :class:`BuildEvent` records, one per
line. BuildKit (the ``docker buildx`` CLI, ``--progress=plain``) prints ``#6 [2/5] RUN
...`` lines instead: :class:`BuildKitSteps` reads those. Pulls and pushes send one dict
per layer and state (``Downloading`` with ``progressDetail``, ``Pull complete``,
``Pushed``, a final ``digest: sha256:...``): :class:`Layers` keeps what they said. Every
reader turns ``{"error": ...}`` into a :class:`~labhelpers.errors.StreamError` (or the
caller's own :class:`LabError`) that says what to do.

Used by :mod:`labhelpers.apps`, :mod:`labhelpers.dockerfiles`, :mod:`labhelpers.images`
(pulls), :mod:`labhelpers.registry` (push, pull) and :mod:`labhelpers.widgets.build`.

>>> from labhelpers.streams import build_events
>>> chunks = [{"stream": "Step 1/2 : FROM python:3.13-slim-trixie\\n"},
...           {"stream": " ---> Using cache\\n"}, {"aux": {"ID": "sha256:ab12"}}]
>>> [(e.kind, e.step, e.total) for e in build_events(chunks)]
[('step', 1, 2), ('cached', 0, 0), ('image', 0, 0)]

Introduced in ``01-python-apps-in-docker`` (the build's progress bar).
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from typing import Iterable, Iterator

from .errors import LabError, StreamError

#: Docker's legacy builder says `Step 3/7 : RUN ...`, Podman's (buildah) `STEP 3/7: RUN ...`.
STEP = re.compile(r"^(?:Step|STEP) (\d+)/(\d+) ?: (.*)$")

#: A BuildKit step's first line in ``--progress=plain``: ``#6 [stage-0 2/5] WORKDIR /srv``.
VERTEX = re.compile(r"^#(\d+) \[([^\]]*\d+/\d+)\] (.*)$")
#: ... and how it ends.
VERTEX_END = re.compile(r"^#(\d+) (CACHED|DONE\b|ERROR\b)")

#: The states in which a pull or push has a layer complete.
LAYER_DONE = ("Pushed", "Layer already exists", "Pull complete", "Already exists")


def parse_step(line: str) -> tuple[int, int, str] | None:
    """``(step, total, instruction)`` for a legacy builder's (or buildah's) step line, else None.

    Args:
        line: one line of the build's output.

    Returns:
        The step's number, the steps in the Dockerfile, and the instruction; or None.

    >>> parse_step("Step 3/7 : RUN pip install flask")
    (3, 7, 'RUN pip install flask')
    >>> parse_step("STEP 3/7: RUN pip install flask")
    (3, 7, 'RUN pip install flask')
    >>> parse_step("Successfully built 1234") is None
    True
    """
    match = STEP.match(line.strip())
    if not match:
        return None
    return int(match.group(1)), int(match.group(2)), match.group(3).strip()


def error_text(chunk: dict) -> str:
    """The engine's message in a stream's error dict (``error``, else ``errorDetail``).

    Args:
        chunk: one decoded dict of a build, pull or push stream.

    Returns:
        The message, stripped; "" when the dict is no error.

    >>> error_text({"errorDetail": {"message": "manifest unknown"}, "error": "manifest unknown\\n"})
    'manifest unknown'
    """
    text = chunk.get("error") or (chunk.get("errorDetail") or {}).get("message") or ""
    return str(text).strip()


@dataclass
class BuildEvent:
    """One thing a legacy build said.

    Attributes:
        kind: ``"step"`` (a step starts), ``"cached"`` (the step came from the cache),
            ``"line"`` (any other output line), ``"image"`` (the image's id is known) or
            ``"error"`` (the build failed; ``text`` is the engine's message).
        text: the line (for ``"image"``: "").
        step, total: for ``"step"``: the step's number and the steps in the Dockerfile.
        instruction: for ``"step"``: the Dockerfile line (``"RUN pip install flask"``).
        image_id: for ``"image"``: the built image's id.
    """

    kind: str
    text: str = ""
    step: int = 0
    total: int = 0
    instruction: str = ""
    image_id: str = ""


def build_events(chunks: Iterable[dict]) -> Iterator[BuildEvent]:
    """Read a legacy build's decoded stream: one :class:`BuildEvent` per line, id, error.

    The reader does not raise on a build error: it yields an ``"error"`` event (the
    caller knows which step failed and what to say) and stops.

    Args:
        chunks: ``client.api.build(..., decode=True)``, or recorded dicts.

    Yields:
        The events, in the order the engine sent them.

    >>> events = list(build_events([{"stream": "Step 2/2 : RUN false\\n"},
    ...                             {"error": "The command '/bin/sh -c false' returned a non-zero code: 1"}]))
    >>> [(e.kind, e.text) for e in events][-1]
    ('error', "The command '/bin/sh -c false' returned a non-zero code: 1")
    """
    for chunk in chunks:
        for line in (chunk.get("stream") or "").splitlines():
            line = line.rstrip()
            if not line.strip():
                continue
            parsed = parse_step(line)
            if parsed:
                yield BuildEvent("step", line, parsed[0], parsed[1], parsed[2])
            elif "Using cache" in line:
                yield BuildEvent("cached", line)
            else:
                yield BuildEvent("line", line)
        if (chunk.get("aux") or {}).get("ID"):
            yield BuildEvent("image", image_id=chunk["aux"]["ID"])
        if "error" in chunk or "errorDetail" in chunk:
            yield BuildEvent("error", error_text(chunk) or "the build failed (the engine said no more)")
            return


class BuildKitSteps:
    """Read BuildKit's plain progress (``docker buildx build --progress=plain``), line by line.

    BuildKit runs independent steps in parallel, so their lines interleave; each step
    (a "vertex" ``#N``) starts with ``#N [stage k/n] INSTRUCTION`` and ends with ``#N
    CACHED``, ``#N DONE 0.3s`` or ``#N ERROR``.

    Attributes:
        tail: the last 12 lines (for an error message).

    >>> bk = BuildKitSteps()
    >>> for line in ["#5 [1/2] FROM docker.io/library/python:3.13-slim-trixie@sha256:0a1b",
    ...              "#6 [2/2] RUN pip install flask", "#5 DONE 0.1s", "#6 CACHED"]:
    ...     ended = bk.feed(line)
    >>> ended, bk.steps()
    (('RUN pip install flask', True), [('FROM docker.io/library/python:3.13-slim-trixie', True), ('RUN pip install flask', True)])
    """

    def __init__(self):
        self._steps: dict[str, list] = {}  # vertex -> [stage, number, instruction, cached]
        self._stages: list[str] = []  # in the order BuildKit first shows them
        self._shown: set[str] = set()
        self.tail: list[str] = []

    def feed(self, raw: str) -> tuple[str, bool] | None:
        """Read one line; return ``(instruction, cached)`` when it ends a step the first time.

        Args:
            raw: one line of BuildKit's plain output.

        Returns:
            The step just ended and whether it came from the cache; else None.
        """
        line = raw.rstrip()
        self.tail = (self.tail + [line])[-12:]
        started, ended = VERTEX.match(line), VERTEX_END.match(line)
        if started and started.group(1) not in self._steps:
            # FROM shows the base's digest on the containerd store: the name is enough
            instruction = re.sub(r"@sha256:[0-9a-f]+", "", started.group(3).strip())
            stage, _, number = started.group(2).rpartition(" ")  # "stage-0 2/5", "2/5"
            self._stages += [stage] if stage not in self._stages else []
            self._steps[started.group(1)] = [stage, int(number.split("/")[0]), instruction,
                                              instruction.upper().startswith("FROM ")]
        elif ended and ended.group(1) in self._steps and ended.group(1) not in self._shown:
            self._shown.add(ended.group(1))  # a step may end twice (FROM: resolve, then done)
            step = self._steps[ended.group(1)]
            step[3] = step[3] or ended.group(2) == "CACHED"
            return step[2], step[3]
        return None

    def steps(self) -> list[tuple[str, bool]]:
        """Every step as ``(instruction, cached)``, in Dockerfile order (stage by stage)."""
        return [(step, cached) for *_, step, cached in sorted(
            (self._stages.index(stage), number, step, cached)
            for stage, number, step, cached in self._steps.values())]


@dataclass
class Layers:
    """What a pull or push stream said about its layers; :meth:`feed` it event by event.

    Args:
        what: ``"pull"`` or ``"push"`` (for the error message).
        ref: the image reference.
        error: the :class:`LabError` subclass raised on an error event.
        todo: what to do then.

    Attributes:
        progress: bytes ``(current, total)`` per layer being downloaded (pulls).
        done: the layers complete (pulled, pushed, or there already).
        digest: the manifest's digest, once the engine says it.

    >>> layers = Layers("pull", "redis:8")
    >>> for event in [{"id": "a1", "status": "Downloading", "progressDetail": {"current": 5, "total": 10}},
    ...               {"id": "a1", "status": "Pull complete"},
    ...               {"status": "Digest: sha256:feed"}]:
    ...     _ = layers.feed(event)
    >>> layers.progress, sorted(layers.done), layers.digest
    ({'a1': (10, 10)}, ['a1'], 'sha256:feed')
    >>> layers.feed({"error": "manifest unknown"})
    Traceback (most recent call last):
    ...
    labhelpers.errors.StreamError: The pull of redis:8 failed: manifest unknown
    What to do: check the name and that the registry is reachable, then try again
    """

    what: str
    ref: str
    error: type[LabError] = StreamError
    todo: str = "check the name and that the registry is reachable, then try again"
    progress: dict[str, tuple[int, int]] = field(default_factory=dict)
    done: set[str] = field(default_factory=set)
    digest: str | None = None

    def feed(self, event: dict) -> str | None:
        """Read one event; return the layer whose byte progress changed, else None.

        Raises:
            StreamError: the event is the engine's error (or ``error``).
        """
        if "error" in event or "errorDetail" in event:
            raise self.error(f"The {self.what} of {self.ref} failed: {error_text(event)}", self.todo)
        layer, state = event.get("id"), event.get("status") or ""
        if "digest: sha256:" in state or state.startswith("Digest: "):
            self.digest = "sha256:" + state.split("sha256:")[1].split()[0]
        if layer and state in LAYER_DONE:
            self.done.add(layer)
        detail = event.get("progressDetail") or {}
        if layer and state == "Downloading" and detail.get("total"):
            self.progress[layer] = (detail.get("current", 0), detail["total"])
            return layer
        if layer in self.progress and state in ("Download complete", "Verifying Checksum", "Pull complete"):
            self.progress[layer] = (self.progress[layer][1], self.progress[layer][1])
            return layer
        return None


def progress(**kwargs):
    """A tqdm progress bar for a stream that leaves a readable line in a saved notebook.

    Outside Jupyter it is ``tqdm.auto.tqdm(**kwargs)``. In a notebook the bar is
    displayed with a display id, and closing it replaces the output's text with a
    summary of the final state (``build nb01-hello-flask:latest: 13 steps in 4.5 s``):
    GitHub and Binder show that instead of the first state (``0 step [00:00, ?]``).
    A bar with ``leave=False`` disappears in the live notebook as before, and the
    summary line stays.

    Args:
        **kwargs: tqdm's arguments (``total``, ``desc``, ``unit``, ``leave``...).

    Returns:
        The bar (use it as tqdm's, and close it).

    >>> import io
    >>> with progress(total=2, desc="demo", unit=" step", file=io.StringIO()) as bar:
    ...     bar.update(2)
    >>> bar.n
    2
    """
    from tqdm.auto import tqdm

    try:
        from tqdm.notebook import tqdm as notebook_tqdm
    except ImportError:  # no ipywidgets
        notebook_tqdm = None
    if notebook_tqdm is None or not issubclass(tqdm, notebook_tqdm) or kwargs.get("disable"):
        return tqdm(**kwargs)  # not in a notebook (tqdm.auto chose the terminal's bar)
    return _summarised_bar_class(tqdm)(**kwargs)


@functools.lru_cache(maxsize=None)
def _summarised_bar_class(base):
    class SummarisedBar(base):
        """tqdm's notebook bar, displayed with a display id; its text is a summary once closed."""

        def __init__(self, *args, **kwargs):
            from IPython.display import display

            kwargs["display"] = False
            super().__init__(*args, **kwargs)
            self._handle = None
            if not self.disable:
                self._handle = display(self.container, display_id=True)
                self.displayed = True

        def summary(self) -> str:
            n = self.format_sizeof(self.n) if self.unit_scale else str(self.n)
            unit = self.unit.strip() + ("s" if self.n != 1 and not self.unit_scale else "")
            done = "" if not self.total or self.n >= self.total else f" of {self.total}, stopped"
            return f"{self.desc}: {n} {unit}{done} in {self.format_dict['elapsed']:.1f} s"

        def close(self):
            if self.disable or self._handle is None:
                return super().close()
            text = self.summary()
            super().close()
            handle, self._handle = self._handle, None
            bundle = {"text/plain": text}
            if getattr(self.container, "comm", None) is not None:  # still shown: leave=True, or red
                bundle = {**self.container._repr_mimebundle_(), "text/plain": text}
            handle.update(bundle, raw=True)

    return SummarisedBar
