"""Exercise checkers: each inspects the engine and answers pass, or what is missing.

One module per notebook (``checks.nb01``, ``checks.nb04``...). A checker returns a
:class:`Result`, which a notebook shows as one line: a pass, or what is missing and which
hint would help. Each module lists its exercises in ``EXERCISES`` (:class:`Exercise`:
name, check, hints, solution, reset); :mod:`labhelpers.exercises` gathers them for
``lab.check``, ``lab.hint``, ``lab.solution``, ``lab.reset`` and ``lab.progress``.

>>> Result.of("a web app on port 8081", [])
✅ pass: a web app on port 8081
>>> Result.of("two instances", ["nothing answers on port 8082"])
❌ not yet: two instances
   - nothing answers on port 8082
>>> Result.of("two instances", [("nothing answers on port 8082", 2)], exercise="01-two-apps")
❌ not yet: two instances
   - nothing answers on port 8082
   hint 2 would help: lab.hint("01-two-apps", 2)

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Callable


@dataclass
class Result:
    """The answer of a checker.

    Attributes:
        passed: True when the engine shows the exercise done.
        task: the exercise, in a few words.
        missing: what is not there yet, one line each (empty on a pass).
        exercise: the exercise's name (``"02-hello"``), when the checker knows it.
        helps: per line of ``missing``, the number of the hint that helps with it (0: none).
    """

    passed: bool
    task: str
    missing: list[str] = field(default_factory=list)
    exercise: str | None = None
    helps: list[int] = field(default_factory=list)

    @classmethod
    def of(cls, task: str, missing: list, exercise: str | None = None) -> "Result":
        """A pass when nothing is missing (in a workshop room, noted for the instructor's view).

        Args:
            task: the exercise, in a few words.
            missing: one item per thing missing: a line, or ``(line, hint number)``.
            exercise: the exercise's name; the room's view lists it (else the task).

        Returns:
            The :class:`Result`.
        """
        lines = [m if isinstance(m, tuple) else (m, 0) for m in missing]
        result = cls(not lines, task, [text for text, _ in lines], exercise, [n for _, n in lines])
        from ..room import record_check

        record_check(exercise or task, result.passed)
        return result

    def hint_line(self) -> str:
        """Which hint helps with the first thing missing, as a call to paste ("" if none)."""
        numbers = sorted(n for n in self.helps if n)
        if self.passed or not self.exercise or not numbers:
            return ""
        return f'hint {numbers[0]} would help: lab.hint("{self.exercise}", {numbers[0]})'

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if self.passed:
            return f"✅ pass: {self.task}"
        more = [f"   {self.hint_line()}"] if self.hint_line() else []
        return "\n".join([f"❌ not yet: {self.task}"] + [f"   - {m}" for m in self.missing] + more)

    def _repr_html_(self) -> str:
        if self.passed:
            return f"<p>✅ <b>pass</b>: {html.escape(self.task)}</p>"
        items = "".join(f"<li>{html.escape(m)}</li>" for m in self.missing)
        more = f"<p>💡 {html.escape(self.hint_line())}</p>" if self.hint_line() else ""
        return f"<p>❌ <b>not yet</b>: {html.escape(self.task)}</p><ul>{items}</ul>{more}"


@dataclass
class Exercise:
    """One exercise of a notebook: its check, its hints, its solution and its reset.

    Attributes:
        name: ``"NN-word"``: the notebook's two digits, then a word (``"02-hello"``).
        task: the task, one sentence.
        check: the checker; called with what ``lab.check(name, ...)`` is given.
        hints: two or three, from a nudge to nearly the answer.
        solution: the code of an answer, as a learner would write it in the notebook.
        names: the names of the objects the exercise asks for (``lab.name`` applied):
            ``lab.reset`` removes those and nothing else.
        ports: host ports the exercise asks for: ``lab.reset`` also removes the
            notebook's labelled containers publishing them.
        needs_engine: False when the check reads data only (it then runs on Binder too).
        undo: removes what names and ports cannot say (notebook 03's machine: ``m.rm``);
            returns one line per thing removed.
    """

    name: str
    task: str
    check: Callable[..., Result]
    hints: list[str]
    solution: str
    names: Callable[[], list[str]] = list
    ports: tuple[int, ...] = ()
    needs_engine: bool = True
    undo: Callable[[], list[str]] | None = None

    @property
    def notebook(self) -> str:
        """The notebook's two digits."""
        return self.name[:2]


def __getattr__(name: str):
    """``lab.checks.nb04`` and its siblings, imported on first use."""
    import importlib
    import re

    if re.fullmatch(r"nb\d\d", name):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def engine_client(client=None):
    """The engine a checker inspects: ``client`` when given, else the kit's.

    Args:
        client: a ``docker.DockerClient``, or None.

    Returns:
        A ``docker.DockerClient``.

    >>> engine_client("a client")
    'a client'
    """
    if client is not None:
        return client
    from ..engine import client as get_client

    return get_client()


def lookup(get, ref: str, task: str, missing: str, hint: int, exercise: str):
    """The object a checker inspects, or the :class:`Result` that says it is not there yet.

    Args:
        get: how to fetch it (``client.containers.get``, ``client.api.inspect_container``...).
        ref: its name or tag.
        task: the exercise, in a few words.
        missing: the line that says it is not there, and what to do.
        hint: the number of the hint that helps.
        exercise: the exercise's name.

    Returns:
        ``(found, None)``, or ``(None, result)`` when it is not there.

    >>> def absent(ref):
    ...     import docker.errors
    ...     raise docker.errors.NotFound(ref)
    >>> lookup(absent, "nb04-small", "a small container", "no nb04-small yet", 2, "04-small")[1]
    ❌ not yet: a small container
       - no nb04-small yet
       hint 2 would help: lab.hint("04-small", 2)
    """
    import docker.errors

    try:
        return get(ref), None
    except docker.errors.NotFound:  # ImageNotFound too
        return None, Result.of(task, [(missing, hint)], exercise=exercise)
