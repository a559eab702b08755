"""The tap's HTTP parser, fed bytes by hand: no socket, no engine."""

from __future__ import annotations

import pytest

from labhelpers.rawapi.exchanges import Conversation

PING = b"GET /_ping HTTP/1.1\r\nHost: docker\r\n\r\n"
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK"


def fed(requests: bytes, responses: bytes, piece: int | None = None, **kwargs) -> Conversation:
    """A conversation fed both streams whole, or ``piece`` bytes at a time."""
    talk = Conversation(**kwargs)
    for data, read in ((requests, talk.feed_request), (responses, talk.feed_response)):
        step = piece or max(len(data), 1)
        for i in range(0, len(data), step):
            read(data[i:i + step])
    return talk


@pytest.mark.parametrize("piece", [None, 1, 7])
def test_length_and_chunked_bodies_in_pieces_of_any_size(piece):
    requests = PING + b"POST /containers/create?name=x HTTP/1.1\r\nContent-Length: 4\r\n\r\n{}{}"
    responses = OK + (b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n"
                      b"5;ext=1\r\nhello\r\n3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n")
    talk = fed(requests, responses, piece, record_bodies=True)
    ping, create = talk.exchanges
    assert (ping.method, ping.path, ping.status, ping.received, ping.note) == ("GET", "/_ping", 200, 2, "")
    assert (create.path, create.query, create.sent) == ("/containers/create", {"name": "x"}, 4)
    assert (create.status, create.reason, create.chunked) == (201, "Created", True)
    assert (create.request_body, create.response_body) == (b"{}{}", b"helloabc")
    assert all(ex.duration is not None for ex in talk.exchanges) and not talk.pending


def test_head_and_204_have_no_body_and_100_continue_is_skipped():
    requests = (b"HEAD /_ping HTTP/1.1\r\n\r\n"
                b"DELETE /containers/x HTTP/1.1\r\n\r\n"
                b"POST /build HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\nZ")
    responses = (b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n"  # HEAD: the length, no body
                 b"HTTP/1.1 204 No Content\r\n\r\n"
                 b"HTTP/1.1 100 Continue\r\n\r\n"
                 b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    talk = fed(requests, responses)
    assert [(ex.method, ex.status, ex.received) for ex in talk.exchanges] == [
        ("HEAD", 200, 0), ("DELETE", 204, 0), ("POST", 200, 0)]


def test_an_upgrade_hands_both_sides_to_a_raw_stream():
    requests = (b"POST /containers/abc/attach?stream=1 HTTP/1.1\r\nConnection: Upgrade\r\n"
                b"Upgrade: tcp\r\n\r\n" b"stdin bytes")
    responses = b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\n\r\nout"
    talk = fed(requests, responses)
    talk.feed_request(b"GET /not/parsed HTTP/1.1\r\n\r\n")  # raw stdin now, not a request
    (attach,) = talk.exchanges
    assert attach.upgraded and attach.note == "upgraded"
    assert attach.sent == len(b"stdin bytes") + len(b"GET /not/parsed HTTP/1.1\r\n\r\n")
    assert attach.received == 3 and attach.duration is None
    talk.closed()
    assert attach.duration is not None


def test_an_answer_without_length_runs_until_close():
    ticks = iter(range(100))
    talk = fed(b"GET /events HTTP/1.1\r\n\r\n", b"HTTP/1.1 200 OK\r\n\r\n{}\n{}\n",
               clock=lambda: float(next(ticks)))
    (events,) = talk.exchanges
    assert events.streamed and events.note == "until close" and events.received == 6
    assert events.duration is None
    talk.closed()
    assert events.duration is not None and events.duration > 0


def test_an_unpaired_answer_is_recorded_and_a_garbled_one_never_raises():
    talk = fed(b"", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
    assert [(ex.method, ex.status) for ex in talk.exchanges] == [("?", 200)]
    talk = fed(PING, b"HTTP/1.1 abc nonsense\r\n\r\n")
    assert talk.response_side.broken
    talk.feed_response(OK)  # ignored from here on, silently
    assert talk.exchanges[0].status is None


def test_bodies_are_kept_up_to_the_limit_and_only_when_asked():
    body = b"x" * 100
    request = b"POST /x HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + body
    kept = fed(request, b"", record_bodies=True, body_limit=10).exchanges[0]
    assert kept.request_body == b"x" * 10 and kept.sent == 100
    assert fed(request, b"").exchanges[0].request_body is None


def test_line_reads_as_in_the_notebook():
    talk = fed(b"GET /containers/json?filters=%7B%7D HTTP/1.1\r\n\r\n", OK,
               clock=iter([0.0, 0.0021]).__next__)
    assert talk.exchanges[0].line() == "GET    /containers/json?filters={}                    200  2.1 ms"
