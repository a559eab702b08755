"""Exercise checkers: each inspects the engine and answers pass, or what is missing.

One module per notebook (``checks.nb01``, ``checks.nb04``...). A checker returns a
:class:`Result`, which a notebook shows as one line: a pass, or a hint.

>>> Result.of("a web app on port 8081", [])
✅ pass: a web app on port 8081
>>> Result.of("two instances", ["nothing answers on port 8082"])
❌ not yet: two instances
   - nothing answers on port 8082

Introduced in ``01-python-apps-in-docker``.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field


@dataclass
class Result:
    """The answer of a checker.

    Attributes:
        passed: True when the engine shows the exercise done.
        task: the exercise, in a few words.
        missing: what is not there yet, one hint per line (empty on a pass).
    """

    passed: bool
    task: str
    missing: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, task: str, missing: list[str]) -> "Result":
        """A pass when nothing is missing (in a workshop room, noted for the instructor's view)."""
        result = cls(not missing, task, list(missing))
        from ..room import record_check

        record_check(task, result.passed)
        return result

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        if self.passed:
            return f"✅ pass: {self.task}"
        return "\n".join([f"❌ not yet: {self.task}"] + [f"   - {m}" for m in self.missing])

    def _repr_html_(self) -> str:
        if self.passed:
            return f"<p>✅ <b>pass</b>: {html.escape(self.task)}</p>"
        items = "".join(f"<li>{html.escape(m)}</li>" for m in self.missing)
        return f"<p>❌ <b>not yet</b>: {html.escape(self.task)}</p><ul>{items}</ul>"


def __getattr__(name: str):
    """``lab.checks.nb04`` and its siblings, imported on first use."""
    import importlib
    import re

    if re.fullmatch(r"nb\d\d", name):
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
