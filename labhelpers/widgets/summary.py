"""Widgets that leave a readable text behind where widgets are not live.

A widget's output in a saved notebook holds the widget's view and a ``text/plain``
alternative: ``repr()`` at the moment it was displayed ("BuildProgress(not started)",
"0 step [00:00, ?]"). GitHub, nbviewer without widget state, and Binder before the
kernel runs show only that text. :class:`TextSummary` displays a widget with a display
id, so that :meth:`~TextSummary.show_summary` can replace that text with a summary of
the final state ("built nb04-demo:1: 7/7 steps"): the live widget does not change, and
a notebook executed with ``nbconvert --execute`` stores the summary.

nbval does not apply display updates: it compares a fresh run's first text with the
stored summary, so ``tests/nbval-sanitize.cfg`` has a section per widget class.

>>> from labhelpers.widgets.summary import TextSummary
>>> class Demo(TextSummary):
...     def summary(self):
...         return "Demo: 3 things done"
>>> Demo().show_summary()    # displayed nowhere yet: nothing to update
0

Introduced in ``04-docker-py`` (the build progress, event log and dashboard widgets).
"""

from __future__ import annotations


class TextSummary:
    """Mixin for an ipywidget: its stored ``text/plain`` is :meth:`summary`, kept current.

    Put it first among the bases (``class BuildProgress(TextSummary, widgets.VBox)``)
    and call :meth:`show_summary` when the state worth keeping changed (a build ended,
    a stream stopped). Call it from the notebook's thread: a background thread's
    updates reach the live notebook but not a stored one.
    """

    def summary(self) -> str:
        """The text shown where the widget is not live; default: ``repr()``."""
        return repr(self)

    def _summary_bundle(self, text: str) -> dict:
        if getattr(self, "comm", None) is None:  # closed: no view left to show
            return {"text/plain": text}
        bundle = dict(self._repr_mimebundle_() or {})  # ipywidgets' view, and text/plain
        bundle["text/plain"] = text
        return bundle

    def _ipython_display_(self) -> None:
        """Display with a display id, so that :meth:`show_summary` can update the text."""
        from IPython.display import display

        handle = display(self._repr_mimebundle_(), raw=True, display_id=True)  # as ipywidgets would
        if handle is not None:
            self.__dict__.setdefault("_summary_handles", []).append(handle)

    def show_summary(self) -> int:
        """Write :meth:`summary` into every output where this widget is displayed.

        Returns:
            How many outputs were updated (0 when it was never displayed).
        """
        handles = self.__dict__.get("_summary_handles", [])
        if handles:
            bundle = self._summary_bundle(self.summary())
            for handle in handles:
                handle.update(bundle, raw=True)
        return len(handles)
