"""Exercises that teach: a check, hints step by step, a solution shown, progress remembered.

Every exercise has a name (``"02-hello"``: its notebook, then a word), listed in the
``EXERCISES`` of its checker module (:mod:`labhelpers.checks`). In a notebook:

- ``lab.check("02-hello")`` inspects the engine: a pass, or what is missing and which
  hint would help;
- ``lab.hint("02-hello")`` shows one more hint each time it runs, from a nudge to nearly
  the answer (``lab.hint("02-hello", 2)``: that one);
- ``lab.solution("02-hello")`` shows an answer's code, not run; ``run=True`` runs it in the
  notebook. With ``LABHELPERS_RUN_SOLUTIONS=1`` every solution runs (a speaker's demo,
  CI: nbval proves each solution works, and the stored outputs show them run);
- ``lab.reset("02-hello")`` removes what the exercise asked for (the names it gave, the
  notebook's labelled containers on its ports) and nothing else;
- ``lab.progress()`` is a table of every exercise: not tried, failing, or passed (when).
  Progress is a JSON file in the user's data folder (``LABHELPERS_DATA_DIR``, else
  ``$XDG_DATA_HOME/labhelpers``, else ``~/.local/share/labhelpers``).

Where there is no engine (Binder), a check or a run that needs one says so in one line.

>>> import labhelpers as lab
>>> lab.hint("02-hello")                         # doctest: +SKIP
💡 02-hello, hint 1 of 3: A container is made in two requests...

Introduced in ``00-start-here`` (the progress table) and ``01-python-apps-in-docker``.
"""

from __future__ import annotations

import ast
import datetime as dt
import html
import importlib
import json
import os
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from . import settings
from .checks import Exercise, Result
from .errors import EngineError, LabError

#: Set to 1 to run every solution (a speaker's demo, CI, nbval).
RUN_SOLUTIONS = "LABHELPERS_RUN_SOLUTIONS"
#: The folder of the progress file (default: the user's data folder).
DATA_DIR = "LABHELPERS_DATA_DIR"
#: The checker modules that list exercises, in the notebooks' order.
MODULES = ("nb01", "nb02", "nb03", "nb04", "nb05", "nb06")

_hints_shown: dict[str, int] = {}  # this kernel's hint counter: a fresh run starts at hint 1


def run_solutions() -> bool:
    """Whether every solution runs (``LABHELPERS_RUN_SOLUTIONS`` is 1, yes or true).

    >>> run_solutions() in (True, False)
    True
    """
    return settings.run_solutions()


def all_exercises() -> dict[str, Exercise]:
    """Every exercise of the notebooks, by name, in the notebooks' order.

    >>> "02-hello" in all_exercises()
    True
    """
    found: dict[str, Exercise] = {}
    for module in MODULES:
        for exercise in getattr(importlib.import_module(f"labhelpers.checks.{module}"), "EXERCISES", []):
            found[exercise.name] = exercise
    return found


def get(name: str) -> Exercise:
    """The exercise called ``name``.

    Raises:
        LabError: there is no such exercise (the message lists them).

    >>> get("02-hello").notebook
    '02'
    """
    found = all_exercises()
    if name not in found:
        raise LabError(f"There is no exercise {name!r}.",
                            "use one of these names: " + ", ".join(found))
    return found[name]


# --- progress, per user, on disk ------------------------------------------------------

def progress_file() -> Path:
    """Where this user's progress is kept.

    >>> progress_file().name
    'progress.json'
    """
    return Path(settings.data_dir()) / "progress.json"


def _load() -> dict:
    try:
        data = json.loads(progress_file().read_text())
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _save(data: dict) -> None:
    path = progress_file()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}")
        tmp.write_text(json.dumps(data, indent=1, sort_keys=True))
        os.replace(tmp, path)
    except OSError:
        pass  # a read-only or full disk must not break the exercise


def _now() -> str:
    return dt.datetime.now().strftime("%Y-%m-%d %H:%M")


def record(name: str, passed: bool | None = None, hints: int | None = None) -> dict:
    """Note a check's answer (or the hints seen) for exercise ``name``; a pass stays a pass.

    Args:
        name: the exercise.
        passed: the check's answer (None: no check, only hints).
        hints: how many hints were shown.

    Returns:
        The exercise's entry: ``status`` (failing, passed), ``passed_at``, ``tries``, ``hints``.

    >>> record("02-hello", passed=False)["status"]  # doctest: +SKIP
    'failing'
    """
    data = _load()
    entry = data.setdefault(name, {"status": "not tried", "tries": 0, "hints": 0})
    if passed is not None:
        entry["tries"] = entry.get("tries", 0) + 1
        if passed and entry.get("status") != "passed":
            entry.update(status="passed", passed_at=_now())
        elif not passed and entry.get("status") != "passed":
            entry["status"] = "failing"
    if hints is not None:
        entry["hints"] = max(entry.get("hints", 0), hints)
    _save(data)
    return entry


def progress():
    """A table of every exercise: not tried, failing, or passed (with when).

    Returns:
        A pandas ``DataFrame``, one row per exercise.

    >>> list(progress().columns)
    ['task', 'status', 'when', 'tries', 'hints seen']
    """
    import pandas as pd

    data = _load()
    rows = []
    for name, exercise in all_exercises().items():
        entry = data.get(name, {})
        rows.append({"exercise": name, "task": exercise.task, "status": entry.get("status", "not tried"),
                     "when": entry.get("passed_at", ""), "tries": entry.get("tries", 0),
                     "hints seen": f"{entry.get('hints', 0)} of {len(exercise.hints)}"})
    return pd.DataFrame(rows).set_index("exercise")


# --- what a cell shows ----------------------------------------------------------------

@dataclass
class Note:
    """One line a cell shows instead of an error or a result (e.g. "needs an engine")."""

    icon: str
    text: str

    def __repr__(self) -> str:
        return f"{self.icon} {self.text}"

    def _repr_html_(self) -> str:
        return f"<p>{self.icon} {html.escape(self.text)}</p>"


@dataclass
class Hint:
    """A hint as a cell shows it: which one of how many, and the hint."""

    name: str
    number: int
    of: int
    text: str

    def __repr__(self) -> str:
        more = (f'\n   (next: lab.hint("{self.name}") again)' if self.number < self.of
                else f'\n   (that was the last one: lab.solution("{self.name}") shows an answer)')
        return f"💡 {self.name}, hint {self.number} of {self.of}: {self.text}{more}"

    def _repr_html_(self) -> str:
        head, _, more = repr(self).partition("\n")
        head = re.sub(r"`([^`]+)`", r"<code>\1</code>", html.escape(head))
        return f"<p>{head}<br><small>{html.escape(more.strip())}</small></p>"


@dataclass
class Code:
    """A solution's code with a title: highlighted in a notebook, plain text elsewhere."""

    title: str
    code: str

    def __repr__(self) -> str:
        return f"{self.title}\n" + "\n".join(f"    {line}" for line in self.code.splitlines())

    def _repr_html_(self) -> str:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        body = highlight(self.code, PythonLexer(), HtmlFormatter(noclasses=True, nowrap=False))
        return f"<p>{html.escape(self.title)}</p>{body}"


def _engine_missing(exercise: Exercise) -> Note | None:
    """One line when the exercise needs an engine and none answers (Binder: never one)."""
    if not exercise.needs_engine:
        return None
    from .doctor import on_binder

    if on_binder():
        return Note("⏸", f"{exercise.name} needs an engine: Binder has none, so this cell shows "
                         "what it stored (run the kit at home or in a room to try it)")
    from .engine import client

    try:
        client()
    except EngineError as err:
        return Note("⏸", f"{exercise.name} needs an engine: {err.what} {err.todo}".strip())
    return None


# --- the learner's calls --------------------------------------------------------------

def check(name: str, *args, **kwargs):
    """Run exercise ``name``'s check (with the arguments given) and remember the answer.

    Args:
        name: the exercise, e.g. ``"02-hello"``.
        *args: passed to the checker (e.g. notebook 05's answer).
        **kwargs: passed to the checker (e.g. ``timeout=0``).

    Returns:
        The :class:`~labhelpers.checks.Result` (a pass, or what is missing and which hint
        would help), or a one-line note where the check needs an engine and there is none.

    Raises:
        LabError: no exercise has that name.

    >>> import labhelpers as lab
    >>> lab.check("02-hello")                        # doctest: +SKIP
    ✅ pass: create and start a container named nb02-hello using only the raw API
    """
    exercise = get(name)
    missing = _engine_missing(exercise)
    if missing is not None:
        return missing
    result: Result = exercise.check(*args, **kwargs)
    record(name, passed=result.passed)
    return result


def hint(name: str, number: int | None = None) -> Hint:
    """One more hint for exercise ``name`` each call (this kernel counts), or hint ``number``.

    Args:
        name: the exercise.
        number: which hint (1 is the nudge, the last is nearly the answer).

    Returns:
        The :class:`Hint`, shown as one paragraph.

    Raises:
        LabError: no such exercise, or no such hint.

    >>> hint("02-hello", 1).number                  # doctest: +SKIP
    1
    """
    exercise = get(name)
    count = len(exercise.hints)
    if number is None:
        number = min(_hints_shown.get(name, 0) + 1, count)
    if not 1 <= number <= count:
        raise LabError(f"{name} has hints 1 to {count}, not {number}.",
                            f'ask for one of those, or lab.hint("{name}") for the next')
    _hints_shown[name] = max(_hints_shown.get(name, 0), number)
    record(name, hints=number)
    return Hint(name, number, count, exercise.hints[number - 1])


def _namespace() -> dict:
    """The notebook's variables (IPython's user namespace), else the caller's globals."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
    except ImportError:
        shell = None
    if shell is not None:
        return shell.user_ns
    frame = sys._getframe(1)
    while frame.f_globals.get("__name__", "").startswith("labhelpers"):
        frame = frame.f_back
    return frame.f_globals


def _run(exercise: Exercise, namespace: dict):
    """Run the solution's code in ``namespace``; the value of its last line, if an expression."""
    tree = ast.parse(exercise.solution, filename=f"<solution of {exercise.name}>")
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    filename = f"<solution of {exercise.name}>"
    try:
        exec(compile(tree, filename, "exec"), namespace)
        if last is not None:
            return eval(compile(ast.Expression(last.value), filename, "eval"), namespace)
    except NameError as err:
        raise LabError(
            f"The solution of {exercise.name} uses {err.name!r}, which the notebook defines above.",
            "run the cells above this one first (Run > Run All Above Selected Cell)") from None
    return None


def solution(name: str, run: bool = False, namespace: dict | None = None):
    """Show an answer to exercise ``name``; run it too when asked or when the setting says so.

    Args:
        name: the exercise.
        run: run the code in the notebook (as if typed in this cell).
        namespace: where to run it (default: the notebook's variables).

    Returns:
        Not run: the code, highlighted. Run: the value of its last line (as a cell's would
        be), after the code is shown; or one line where it needs an engine and there is none.

    Raises:
        LabError: no such exercise, or the code needs a variable not defined yet.

    >>> solution("02-hello")                        # doctest: +ELLIPSIS
    solution of 02-hello (shown, not run: lab.solution("02-hello", run=True) runs it)
    ...
    """
    exercise = get(name)
    if not (run or run_solutions()):
        return Code(f'solution of {name} (shown, not run: lab.solution("{name}", run=True) runs it)',
                    exercise.solution)
    missing = _engine_missing(exercise)
    if missing is not None:
        return missing
    why = "run=True" if run else f"{RUN_SOLUTIONS}=1"
    _show(Code(f"solution of {name} (run: {why})", exercise.solution))
    return _run(exercise, namespace if namespace is not None else _namespace())


def _show(obj) -> None:
    try:
        from IPython.display import display

        display(obj)
    except ImportError:
        print(repr(obj))


def made_for(name: str, client=None) -> list:
    """What exercise ``name`` asked the learner to make: its names, and its ports' lab containers.

    Only objects named as the exercise says (``nb02-hello``), and containers carrying the
    notebook's labels that publish one of the exercise's ports: never anything else.

    Args:
        name: the exercise.
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        :class:`~labhelpers.labels.Managed` entries (kind, name, id).

    >>> made_for("02-hello")                         # doctest: +SKIP
    [Managed(kind='container', name='nb02-hello', ...)]
    """
    import docker.errors

    from .cleanup import Managed
    from .labels import MANAGED, NOTEBOOK

    exercise = get(name)
    if client is None:
        from .engine import client as get_client

        client = get_client()
    found = {}
    for wanted in exercise.names():
        try:
            c = client.containers.get(wanted)
            found[c.id] = Managed("container", c.name, c.id, c.labels.get(NOTEBOOK, "?"))
        except docker.errors.NotFound:
            pass
        if ":" in wanted:
            try:
                i = client.images.get(wanted)
                found[i.id] = Managed("image", wanted, i.id, (i.labels or {}).get(NOTEBOOK, "?"))
            except docker.errors.ImageNotFound:
                pass
    if exercise.ports:
        mine = {"label": [f"{MANAGED}=true", f"{NOTEBOOK}={exercise.notebook}"]}
        for c in client.containers.list(all=True, filters=mine):
            ports = (c.attrs.get("HostConfig") or {}).get("PortBindings") or {}
            if any(str(b.get("HostPort")) in map(str, exercise.ports) for bs in ports.values() for b in bs or []):
                found[c.id] = Managed("container", c.name, c.id, exercise.notebook)
    return list(found.values())


def reset(name: str, client=None) -> list[str]:
    """Remove what the learner made for exercise ``name`` (see :func:`made_for`), to start again.

    Progress keeps what was passed; the hints start again at the first.

    Args:
        name: the exercise.
        client: a ``docker.DockerClient`` (default: the kit's).

    Returns:
        One line per object removed.

    Raises:
        LabError: no such exercise.
        LabError: an object could not be removed (the message says which, and why).

    >>> lab.reset("04-small")                        # doctest: +SKIP
    ['removed container nb04-small']
    """
    import docker.errors

    if client is None:
        from .engine import client as get_client

        client = get_client()
    done = []
    for obj in sorted(made_for(name, client), key=lambda o: o.kind != "container"):
        try:
            if obj.kind == "container":
                client.api.remove_container(obj.id, force=True, v=True)
            else:
                client.api.remove_image(obj.name, force=True)
            done.append(f"removed {obj.kind} {obj.name}")
        except docker.errors.NotFound:
            done.append(f"already gone {obj.kind} {obj.name}")
        except docker.errors.APIError as err:
            raise LabError(f"{obj.kind} {obj.name} could not be removed: {err.explanation or err}",
                           f"stop what uses it, then lab.reset({name!r}) again") from None
    undo = get(name).undo
    if undo is not None:
        done += undo()
    _hints_shown.pop(name, None)
    return done
