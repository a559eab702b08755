"""The API explorer: pick an endpoint, fill its parameters, send, read the answer.

Each click sends one raw HTTP request to the engine and shows the status line,
the time it took, and the body as pretty JSON (a ``/logs`` body is decoded from
its stream frames first). An error shows the engine's own message.

>>> from labhelpers.widgets.explorer import Explorer
>>> ex = Explorer()                              # doctest: +SKIP
>>> ex.choose("GET /containers/{id}/json", id="nope")   # doctest: +SKIP
>>> ex.send_button.click(); ex.last.status       # doctest: +SKIP
404

Introduced in ``02-docker-engine-api``.
"""

from __future__ import annotations

import html
import json
import re
import time
from urllib.parse import quote, unquote
from dataclasses import dataclass

import ipywidgets as widgets

from ..rawapi import frames
from ..rawapi.http import RawClient, Response, query_string


@dataclass(frozen=True)
class Endpoint:
    """One endpoint: method, path template, query parameters with their defaults."""

    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    help: str = ""

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def path_params(self) -> list[str]:
        """``["id"]`` for ``/containers/{id}/json``.

        >>> Endpoint("GET", "/containers/{id}/top").path_params
        ['id']
        """
        return re.findall(r"{(\w+)}", self.path)


#: GET endpoints the engine offers, and POSTs that neither create nor destroy.
ENDPOINTS = [
    Endpoint("GET", "/_ping", help="is the engine there? (answers OK)"),
    Endpoint("GET", "/version", help="versions of the engine and its API"),
    Endpoint("GET", "/info", help="the engine's configuration and counts"),
    Endpoint("GET", "/containers/json", (("all", "1"), ("limit", ""), ("filters", '{"label": ["org.labhelpers.managed=true"]}')),
             "list containers; filters is JSON"),
    Endpoint("GET", "/containers/{id}/json", help="inspect one container (id or name)"),
    Endpoint("GET", "/containers/{id}/top", (("ps_args", "-ef"),), "its processes (running containers)"),
    Endpoint("GET", "/containers/{id}/logs", (("stdout", "1"), ("stderr", "1"), ("tail", "20"), ("timestamps", "0")),
             "its output, decoded from the stream frames"),
    Endpoint("GET", "/containers/{id}/changes", help="files changed in its filesystem"),
    Endpoint("GET", "/containers/{id}/stats", (("stream", "0"),), "one sample of its resource usage"),
    Endpoint("GET", "/images/json", (("filters", ""),), "list images"),
    Endpoint("GET", "/images/{name}/json", help="inspect one image"),
    Endpoint("GET", "/images/{name}/history", help="its layers"),
    Endpoint("GET", "/networks", (("filters", ""),), "list networks"),
    Endpoint("GET", "/networks/{id}", help="inspect one network"),
    Endpoint("GET", "/volumes", (("filters", ""),), "list volumes"),
    Endpoint("GET", "/volumes/{name}", help="inspect one volume"),
    Endpoint("GET", "/system/df", help="disk usage (slow on a busy engine)"),
    Endpoint("POST", "/containers/{id}/start", help="start a created or stopped container"),
    Endpoint("POST", "/containers/{id}/stop", (("t", "2"),), "stop it (SIGTERM, then SIGKILL after t s)"),
    Endpoint("POST", "/containers/{id}/restart", (("t", "2"),), "restart it"),
    Endpoint("POST", "/containers/{id}/pause", help="freeze its processes"),
    Endpoint("POST", "/containers/{id}/unpause", help="thaw them"),
]

#: The most characters of a body shown (the rest is cut, and says so).
SHOW_LIMIT = 20000


def _sender(client):
    """A function (method, target) -> Response for a RawClient or a docker-py client."""
    if client is None:
        client = RawClient()
        client.negotiate()
    if isinstance(client, RawClient):
        return lambda method, target: client.request(method, target)
    api = getattr(client, "api", client)  # a DockerClient, or an APIClient (a requests.Session)
    base = f"{api.base_url}/v{api._version}"

    def send(method, target):
        start = time.perf_counter()
        resp = api.request(method, base + target, timeout=30)
        return Response(method, f"/v{api._version}{target}", resp.status_code, resp.reason,
                        dict(resp.headers), resp.content, time.perf_counter() - start)

    return send


def pretty(endpoint: Endpoint, resp: Response) -> str:
    """The body as text: JSON indented, a log decoded, anything else as is.

    Args:
        endpoint: the :class:`Endpoint` that was asked (a log's answer is framed).
        resp: the :class:`~labhelpers.rawapi.Response`.

    Returns:
        The text, cut at :data:`SHOW_LIMIT` characters.

    >>> r = Response("GET", "/_ping", 200, "OK", {}, b"OK", 0.001)
    >>> pretty(ENDPOINTS[0], r)
    'OK'
    """
    body = resp.body
    if endpoint.path.endswith("/logs") and resp.ok:
        try:
            out, err = frames.split([body])
            body = out + (b"\n--- stderr ---\n" + err if err else b"")
        except frames.FramingError:
            pass  # a TTY container: no frames, the bytes as they are
    try:
        text = json.dumps(json.loads(body), indent=2, ensure_ascii=False)
    except ValueError:
        text = body.decode(errors="replace")
    return text if len(text) <= SHOW_LIMIT else text[:SHOW_LIMIT] + f"\n… ({len(text) - SHOW_LIMIT} more characters)"


class Explorer(widgets.VBox):
    """The API explorer widget.

    Args:
        client: a :class:`~labhelpers.rawapi.RawClient`, a docker-py ``DockerClient`` or
            ``APIClient``; default: a ``RawClient`` on the kit's engine.

    Attributes:
        endpoint: the endpoint dropdown (its value is like ``"GET /containers/{id}/json"``).
        fields: ``{parameter: Text widget}`` for the chosen endpoint.
        send_button: the Send button (CSS class ``lab-explorer-send``).
        status: the status line (HTML). body: the answer (HTML, a ``<pre>``).
        last: the last :class:`~labhelpers.rawapi.Response`, or None.

    Args:
        **kwargs: more ``ipywidgets.VBox`` arguments.

    >>> ex = Explorer()                              # doctest: +SKIP
    >>> ex.choose("GET /containers/json", all="1"); ex.send()   # doctest: +SKIP

    (skipped: it asks the engine.) Introduced in ``02-docker-engine-api``.
    """

    def __init__(self, client=None, **kwargs):
        self._request = _sender(client)
        self._by_key = {e.key: e for e in ENDPOINTS}
        self.endpoint = widgets.Dropdown(options=list(self._by_key), description="endpoint",
                                         layout=widgets.Layout(width="34em"))
        self.help = widgets.HTML()
        self.params = widgets.VBox()
        self.fields: dict[str, widgets.Text] = {}
        self.send_button = widgets.Button(description="Send", button_style="primary", icon="paper-plane")
        self.send_button.add_class("lab-explorer-send")
        self.status = widgets.HTML()
        self.body = widgets.HTML()
        self.last: Response | None = None
        self.endpoint.observe(lambda change: self._show_params(), names="value")
        self.send_button.on_click(lambda button: self.send())
        super().__init__([widgets.HBox([self.endpoint, self.send_button]), self.help, self.params,
                          self.status, self.body], **kwargs)
        self.add_class("lab-explorer")
        self._show_params()

    @property
    def chosen(self) -> Endpoint:
        return self._by_key[self.endpoint.value]

    def _show_params(self) -> None:
        ep = self.chosen
        self.help.value = f"<i>{html.escape(ep.help)}</i>"
        self.fields = {}
        for name in ep.path_params:
            self.fields[name] = widgets.Text(description=name, placeholder=f"{{{name}}} in the path")
        for name, default in ep.query:
            self.fields[name] = widgets.Text(value=default, description=name, placeholder="(not sent when empty)")
        for name, field in self.fields.items():
            field.add_class(f"lab-explorer-param-{name}")
        self.params.children = list(self.fields.values())

    def choose(self, key: str, **values: str) -> None:
        """Pick an endpoint and fill its fields, as a learner would.

        Args:
            key: the endpoint, as the dropdown shows it (``"GET /containers/{id}/json"``).
            **values: the parameters' values, by name (``id="nb02-hello"``).
        """
        self.endpoint.value = key
        for name, value in values.items():
            self.fields[name].value = str(value)

    def target(self) -> str:
        """The request target built from the fields (path parameters quoted)."""
        ep = self.chosen
        path = ep.path
        for name in ep.path_params:
            path = path.replace(f"{{{name}}}", quote(self.fields[name].value.strip(), safe=""))
        query = {name: self.fields[name].value.strip() for name, _ in ep.query}
        return path + query_string({k: v for k, v in query.items() if v})

    def send(self) -> Response | None:
        """Send the request (what the button does); show and return the answer."""
        ep = self.chosen
        empty = [name for name in ep.path_params if not self.fields[name].value.strip()]
        if empty:
            self.status.value = f"<b style='color:#b00'>fill in {', '.join(empty)} first</b>"
            return None
        self.status.value = "<i>sending…</i>"
        try:
            resp = self._request(ep.method, self.target())
        except Exception as err:  # the engine went away: say so in the widget
            self.status.value = f"<b style='color:#b00'>no answer: {html.escape(str(err))}</b>"
            return None
        self.last = resp
        colour = "#070" if resp.ok else "#b00"
        line = (f"<b style='color:{colour}'>{resp.status} {html.escape(resp.reason)}</b> · "
                f"{resp.elapsed * 1000:.1f} ms · <code>{html.escape(resp.method)} {html.escape(unquote(resp.path))}</code>")
        if resp.message:
            line += f"<br><b style='color:#b00'>engine says: {html.escape(resp.message)}</b>"
        self.status.value = line
        self.body.value = f"<pre style='max-height:24em;overflow:auto'>{html.escape(pretty(ep, resp))}</pre>"
        return resp
