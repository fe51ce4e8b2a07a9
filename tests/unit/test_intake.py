"""Where a request ends, as the server's event loop sees it arriving a few bytes at a time."""

from __future__ import annotations

import pytest

from simdock_adapters.http.intake import RequestIntake

LINE, HEAD, BODY = 4094, 100_000, 1000


def arrive(data: bytes, step: int) -> RequestIntake:
    intake = RequestIntake(LINE, HEAD, BODY)
    for start in range(0, len(data), step):
        intake.feed(data[start:start + step])
    return intake


def gathered(intake: RequestIntake) -> bytes:
    intake.request.seek(0)
    return intake.request.read()


STEPS = pytest.mark.parametrize("step", [1, 2, 7, 10_000])


@STEPS
def test_a_request_without_a_body_ends_at_its_blank_line(step: int) -> None:
    intake = arrive(b"GET /live?x=1 HTTP/1.1\r\nHost: x\r\n\r\nGET /next", step)
    assert intake.ready and intake.framed and intake.target == "/live?x=1"
    assert gathered(intake) == b"GET /live?x=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    assert intake.surplus == b"GET /next"


@STEPS
def test_a_body_of_known_length_ends_after_its_length(step: int) -> None:
    head = b"POST /x HTTP/1.1\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n"
    intake = arrive(head + b"hel", step)
    assert not intake.ready and not intake.in_head and intake.expects_continue
    intake.feed(b"loNEXT")
    assert intake.ready and gathered(intake) == head + b"hello"
    assert intake.surplus == b"NEXT"


@STEPS
def test_a_chunked_body_ends_after_its_last_chunk_and_trailers(step: int) -> None:
    request = (b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
               b"5;ext=\"a b\"\r\nhello\r\n3\r\nabc\r\n0\r\nX-Sum: 1\r\n\r\n")
    intake = arrive(request[:-1], step)
    assert not intake.ready
    intake.feed(request[-1:] + b"NEXT")
    assert intake.ready and intake.framed and gathered(intake) == request
    assert intake.surplus == b"NEXT"


@STEPS
def test_a_body_cut_short_is_never_ready(step: int) -> None:
    intake = arrive(b"POST /x HTTP/1.1\r\nContent-Length: 500\r\n\r\n" + b"x" * 52, step)
    assert intake.started and not intake.ready and intake.framed


@pytest.mark.parametrize("request_bytes", [
    b"POST /x HTTP/1.1\r\nContent-Length: 2000\r\n\r\nabc",          # over the body limit
    b"POST /x HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
    b"POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
    b"POST /x HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n",
    b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
    b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n",
    b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabXX0\r\n\r\n",
    b"POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n800\r\n" + b"a" * 10,
    b"GET /x HTTP/1.1\nHost: x\n\n",                                   # a bare LF
    b"GET /" + b"a" * 5000,                                            # a line over the limit
])
def test_what_it_cannot_frame_is_left_to_the_parser_whole(request_bytes: bytes) -> None:
    for step in (1, 10_000):
        intake = arrive(request_bytes, step)
        assert intake.ready and not intake.framed
        assert gathered(intake) == request_bytes and intake.surplus == b""
        assert intake.target is not None and intake.target.startswith("/")


def test_a_large_body_is_kept_in_a_file_not_in_memory() -> None:
    body = b"x" * 900
    intake = RequestIntake(LINE, HEAD, 10 << 20)
    intake.feed(b"PUT /files/t HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % (len(body) * 1000))
    for _ in range(1000):
        intake.feed(body)
    assert intake.ready and intake.request._rolled  # type: ignore[attr-defined]
