"""A failed container's last lines hold its final error message, whichever pipe was read first.

Seen in CI: a program printed 20 lines to stdout, then its error to stderr; the engine
copied stderr ahead of the last stdout lines, and the run's error ("its last lines")
held ten stdout lines and not the error message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from simdock_adapters.executors.container_logs import LogPump


class Output:
    """What ``container.attach(..., demux=True)`` yields: (stdout, stderr) chunks in the
    order the engine read them."""

    def __init__(self, chunks: list[tuple[bytes | None, bytes | None]]) -> None:
        self.chunks = chunks

    def attach(self, **_options: Any) -> Iterator[tuple[bytes | None, bytes | None]]:
        return iter(self.chunks)


class Logged:
    run_id = "run-1"

    def __init__(self) -> None:
        self.lines: list[tuple[str, str]] = []

    def log(self, message: str, stream: str = "stdout") -> None:
        self.lines.append((stream, message))

    def progress(self, fraction: float) -> None:
        raise AssertionError("no progress line was printed")


def pumped(chunks: list[tuple[bytes | None, bytes | None]]) -> tuple[LogPump, Logged]:
    context = Logged()
    pump = LogPump(Output(chunks), context)  # type: ignore[arg-type]
    pump.start()
    pump.join(5)
    return pump, context


def test_the_error_read_before_the_last_output_is_still_among_the_last_lines() -> None:
    early = [(f"line {i}\n".encode(), None) for i in range(5)]
    late = [(f"line {i}\n".encode(), None) for i in range(5, 20)]
    pump, context = pumped([*early, (None, b"something went wrong\n"), *late])

    last = pump.last_lines(10)
    assert last == ["something went wrong", *(f"line {i}" for i in range(11, 20))]
    assert ("stderr", "something went wrong") in context.lines


def test_the_last_lines_are_in_the_order_read_when_the_error_is_among_them() -> None:
    lines = [(f"line {i}\n".encode(), None) for i in range(20)]
    pump, _ = pumped([*lines[:15], (None, b"oops\n"), *lines[15:]])

    assert pump.last_lines(10) == [*(f"line {i}" for i in range(11, 15)), "oops",
                                   *(f"line {i}" for i in range(15, 20))]
    assert pumped(lines)[0].last_lines(3) == ["line 17", "line 18", "line 19"]


class Broken(Output):
    def attach(self, **_options: Any) -> Iterator[tuple[bytes | None, bytes | None]]:
        yield (b"line 0\n", None)
        raise ConnectionError("the engine closed the stream")


def test_output_that_stops_reaching_the_run_is_logged_for_operators(
        caplog: pytest.LogCaptureFixture) -> None:
    context = Logged()
    pump = LogPump(Broken([]), context)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        pump.start()
        pump.join(5)

    assert context.lines == [("stdout", "line 0")]
    assert "run-1" in caplog.text and "the engine closed the stream" in caplog.text
