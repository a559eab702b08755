"""A build's progress, live: steps done out of total, the current step, the log folded away.

:class:`BuildProgress` runs ``client.api.build(...)`` (the engine's legacy
builder, which reports ``Step 3/7 : RUN ...`` lines: docker-py has no BuildKit; for
BuildKit from Python see :func:`labhelpers.dockerfiles.buildkit`) and shows the stream as it
comes: a progress bar, the step being run, and the full log in a collapsed
accordion. On success the bar reaches 100 %; on failure it turns red and the
engine's error is shown, then :class:`BuildError` is raised (one message, no
traceback wall).

CSS classes: the root ``lab-build``, the bar ``lab-build-bar``, the current
step ``lab-build-step``, the error ``lab-build-error``, the log ``lab-build-log``.

The stream is read by :func:`labhelpers.streams.build_events`.

>>> from labhelpers.widgets.build import parse_step
>>> parse_step("Step 3/7 : RUN pip install flask")
(3, 7, 'RUN pip install flask')
>>> progress = BuildProgress()                                    # doctest: +SKIP
>>> image = progress.build(path="apps/nb04-demo", tag="nb04-demo:1")  # doctest: +SKIP

Introduced in ``04-docker-py``.
"""

from __future__ import annotations

import html

import docker.errors
import ipywidgets as widgets

from ..errors import BuildError
from ..streams import build_events, parse_step  # noqa: F401 (parse_step: widgets.build.parse_step)
from .summary import TextSummary

class BuildProgress(TextSummary, widgets.VBox):
    """Progress of one image build, as a widget.

    Args:
        client: a ``docker.DockerClient`` (default: the kit's).
        title: shown above the bar (default: the tag being built).

    Attributes:
        step, total: steps started and steps in the Dockerfile.
        percent: 0 to 100 (100 only once the build succeeded).
        lines: every line the engine sent.
        error: the engine's error message, or None.
        image_id: the built image's id, once done.
    """

    def __init__(self, client=None, title: str = ""):
        if client is None:
            from ..engine import client as get_client

            client = get_client()
        self.client = client
        self.title = title
        self.tag = None
        self.step = self.total = 0
        self.lines: list[str] = []
        self.error = None
        self.image_id = None
        self.bar = widgets.FloatProgress(value=0, min=0, max=100, description="build",
                                         bar_style="info", layout=widgets.Layout(width="60%"))
        self.bar.add_class("lab-build-bar")
        self.count = widgets.HTML("")
        self.current = widgets.HTML("waiting to start")
        self.current.add_class("lab-build-step")
        self.failure = widgets.HTML("")
        self.failure.add_class("lab-build-error")
        self.text = widgets.Textarea(disabled=True, layout=widgets.Layout(width="100%", height="16em"))
        self.fold = widgets.Accordion(children=[self.text], selected_index=None)
        self.fold.set_title(0, "build log (0 lines)")
        self.fold.add_class("lab-build-log")
        super().__init__([widgets.HTML(f"<b>{html.escape(title)}</b>"),
                          widgets.HBox([self.bar, self.count]), self.current, self.failure, self.fold])
        self.add_class("lab-build")

    @property
    def percent(self) -> float:
        return self.bar.value

    def __repr__(self) -> str:
        if self.tag is None:
            return "BuildProgress(not started)"
        state = "failed" if self.error else ("done" if self.image_id else "running")
        return f"BuildProgress({self.tag!r}, {self.step}/{self.total} steps, {state})"

    def summary(self) -> str:
        """What a saved notebook shows instead of the widget: the build's outcome."""
        if self.tag is None or (self.error is None and self.image_id is None):
            return repr(self)
        if self.error is not None:
            return f"{self!r}\nbuild of {self.tag} failed at step {self.step}/{self.total}: {self.error}"
        steps = [parse_step(line) for line in self.lines if parse_step(line)]
        # not the kit's labels (build's labels=): Docker writes them bare, buildah (Podman) quoted
        ours = [step for _, _, step in steps if not step.replace('"', "").startswith("LABEL org.labhelpers.")]
        return f"{self!r}\nbuilt {self.tag} in {self.total} steps; the Dockerfile's last: {(ours or [''])[-1]}"

    def _line(self, event) -> None:
        self.lines.append(event.text)
        self.text.value += event.text + "\n"
        self.fold.set_title(0, f"build log ({len(self.lines)} lines)")
        if event.kind == "step":
            self.step, self.total = event.step, event.total
            self.current.value = f"step {self.step}/{self.total}: <code>{html.escape(event.instruction)}</code>"
            self.count.value = f"{self.step - 1}/{self.total} steps done"
            self.bar.value = 100 * (self.step - 1) / self.total

    def _fail(self, message: str) -> None:
        self.error = message
        self.bar.bar_style = "danger"
        self.failure.value = (f"<pre style='color:#b00;white-space:pre-wrap'>"
                              f"build failed at step {self.step}/{self.total}: {html.escape(message)}</pre>")
        self.current.value = "failed"
        self.fold.selected_index = 0  # unfold the log: the reason is in its last lines

    def build(self, tag: str, raise_error: bool = True, **kwargs):
        """Build an image with ``client.api.build``, showing the progress in this widget.

        Args:
            tag: the image's name and tag (``"nb04-demo:1"``).
            raise_error: raise :class:`BuildError` on failure (else return None).
            **kwargs: passed to ``docker.APIClient.build``: ``path``, ``fileobj``,
                ``labels``, ``buildargs``, ``nocache``...

        Returns:
            The built ``docker.models.images.Image``, or None if it failed and
            ``raise_error`` is false.

        Raises:
            BuildError: the build failed; the message is the engine's.
        """
        self.tag = tag
        if not self.title:
            self.children[0].value = f"<b>building {html.escape(tag)}</b>"
        kwargs.setdefault("rm", True)
        kwargs.setdefault("forcerm", True)  # no container left behind by a failing step
        self.current.value = "sending the build context"
        try:
            for event in build_events(self.client.api.build(tag=tag, decode=True, **kwargs)):
                if event.kind == "image":
                    self.image_id = event.image_id
                    continue
                self._line(event)
                if event.kind == "error":
                    self._fail(event.text)
        except docker.errors.DockerException as err:
            self._fail(str(getattr(err, "explanation", None) or err))
        if self.error is None and self.image_id is None:
            self._fail("the engine ended the build without reporting an image")
        if self.error is not None:
            self.image_id = None
            self.show_summary()
            if raise_error:
                raise BuildError(f"Building {tag} failed at step {self.step}/{self.total}: {self.error}",
                                 "read the failing step in the log above, fix that line of the Dockerfile, "
                                 "and build again (the steps before it come from the cache)")
            return None
        self.step = self.total
        self.bar.value = 100
        self.bar.bar_style = "success"
        self.count.value = f"{self.total}/{self.total} steps done"
        self.current.value = f"built <code>{html.escape(tag)}</code>"
        self.show_summary()
        return self.client.images.get(self.image_id)
