"""Messages go out on a thread of their own: a hung broker holds no caller, and is bounded."""

from __future__ import annotations

import threading
import time

from simdock_adapters.dispatch.sending import BackgroundSender


def test_a_hung_send_holds_no_caller_and_what_waits_behind_it_is_given_up_with_it() -> None:
    release, in_hand = threading.Event(), threading.Event()
    sent: list[int] = []
    given_up: list[int] = []

    def send(message: int) -> bool:
        if message == 0:
            in_hand.set()
            release.wait(10)  # the broker hangs, then its client times out
            return False
        sent.append(message)
        return True

    sender: BackgroundSender[int] = BackgroundSender(send, given_up.extend, capacity=5)
    started = time.monotonic()
    assert sender.offer(0) and in_hand.wait(5)
    offered = [sender.offer(i) for i in range(1, 20)]
    assert time.monotonic() - started < 0.5  # nobody waited for the broker
    assert offered == [True] * 5 + [False] * 14  # one in hand, five waiting: the bound
    release.set()
    assert sender.flush(5)
    assert sent == [] and given_up == [0, 1, 2, 3, 4, 5]  # the broker was away: left to
    assert sender.offer(21) and sender.flush(5)  # the resender; the next one is tried
    assert sent == [21]
    sender.close(1)


def test_closing_sends_what_waits_and_gives_up_the_rest() -> None:
    gate = threading.Event()
    sent: list[int] = []
    given_up: list[int] = []

    def send(message: int) -> bool:
        gate.wait(10)
        sent.append(message)
        return True

    sender: BackgroundSender[int] = BackgroundSender(send, given_up.extend)
    for i in range(3):
        assert sender.offer(i)
    sender.close(0.2)  # the broker is slow: not everything goes out in time
    gate.set()
    assert not sender.offer(9)
    time.sleep(0.2)
    assert sent == [0] and given_up == [1, 2]
