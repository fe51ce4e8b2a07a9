"""The baseline of bench_dramatiq: a raw Dramatiq no-op actor that counts what it did.

Loaded by the ``dramatiq`` command (``dramatiq benchmarks.dramatiq_noop``); the
broker is ``BENCH_REDIS_URL``'s, the queue ``BENCH_QUEUE``, and each message
increments the Redis counter ``BENCH_COUNTER``.
"""

from __future__ import annotations

import os

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker

URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
QUEUE = os.environ.get("BENCH_QUEUE", "bench_noop")
COUNTER = os.environ.get("BENCH_COUNTER", "bench_noop_done")

broker = RedisBroker(url=URL, namespace="simdock_bench")  # type: ignore[no-untyped-call]
dramatiq.set_broker(broker)
_counter = redis.Redis.from_url(URL)


@dramatiq.actor(queue_name=QUEUE, max_retries=0)
def noop(i: int) -> None:
    _counter.incr(COUNTER)
