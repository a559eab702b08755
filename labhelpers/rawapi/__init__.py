"""The Engine API, raw: HTTP over the unix socket, stream frames, and the API tap.

- :mod:`~labhelpers.rawapi.http`: ``http.client`` over ``AF_UNIX``; a tiny client.
- :mod:`~labhelpers.rawapi.frames`: the 8-byte stdout/stderr frame header, decoded.
- :mod:`~labhelpers.rawapi.tap`: a recording proxy between a client and the engine;
- :mod:`~labhelpers.rawapi.exchanges`: the tap's HTTP parser, without a socket.
- :mod:`~labhelpers.rawapi.latency`: round trips of each way to call the API.
- :mod:`~labhelpers.rawapi.versions`: the API version a client and the engine agree on.

The exception to the house rule "no hand-written replacement for docker-py":
teaching the raw protocol is this package's purpose.

>>> from labhelpers import rawapi
>>> rawapi.query_string({"all": 1})
'?all=1'

Introduced in ``02-docker-engine-api``.
"""

from .frames import Frame, FrameDecoder, demux, split
from .http import RawClient, Response, UnixHTTPConnection, default_socket, hijack, query_string, raw_request
from .exchanges import Conversation, Exchange
from .tap import Tap
from .versions import negotiate, negotiated

__all__ = [
    "Conversation", "Exchange", "Frame", "FrameDecoder", "RawClient", "Response", "Tap", "UnixHTTPConnection",
    "default_socket", "demux", "hijack", "negotiate", "negotiated", "query_string", "raw_request",
    "split",
]
