"""Dispatch through Dramatiq, on Redis or RabbitMQ: workers on any number of hosts.

The database stays the queue. A message on the ``simulations`` queue names no
run: it wakes one worker thread, which claims queued runs fairly
(``Work.execute_next``), executes them, and, when it found work, sends the
next message before it ends. So the broker holds at most a window of
messages whatever the size of a sweep, a lost or redelivered message loses or
repeats nothing (the claim in the database decides who executes what), and
another user's run is claimed in its turn instead of waiting behind a
sweep's messages. Reports go by message on the ``reports`` queue, one per
report.

A process that consumes (``simdock worker``) also beats: it renews its
leases, takes back lost runs, and, when some of its threads are idle while
runs are queued in the store, sends a wake-up message for each idle thread
(the broker was down when they were submitted, messages were lost with a
killed worker or a restarted broker, or this worker just started); reports
that have waited ten beats while it generates none are sent again. So nothing
queued depends on a message's fate.

Messages are sent by a thread of the dispatcher's own
(:mod:`simdock_adapters.dispatch.sending`), never by the caller: a broker that
is down or hangs costs a submission nothing, and its runs wait for the beat.
A broker that cannot be reached is logged once when it starts, summed up
while it lasts and once when it ends (:class:`simdock.faults.FaultLog`).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq.brokers.rabbitmq import RabbitmqBroker
from dramatiq.brokers.redis import RedisBroker

from simdock.errors import ServiceUnavailable
from simdock.faults import FaultLog
from simdock.ports import Work
from simdock_adapters.dispatch.heartbeat import HEARTBEAT_SECONDS, Heartbeat
from simdock_adapters.dispatch.sending import BackgroundSender

log = logging.getLogger(__name__)

#: The most wake-up messages one dispatch sends: about the threads that can take them.
WINDOW = 32
#: Redis: a killed worker's unacknowledged messages come back after this (ms); the
#: default (60 s, checked once per thousand messages) left them stuck for minutes.
REDIS_HEARTBEAT_MS = 5000
REDIS_MAINTENANCE_CHANCE = 1_000_000
#: Beats a report waits, with a consumer of reports idle, before it is sent again.
REPORT_RESEND_BEATS = 10
#: How long a message waits before it is tried again while the store is away.
RETRY_SECONDS = 0.5
#: How long one command to Redis may wait for its answer (sending, consuming), seconds.
REDIS_TIMEOUT_SECONDS = 5.0
#: How long ``check`` waits for the broker's answer, seconds.
CHECK_SECONDS = 2.0
#: How long closing waits for messages still to be sent, seconds.
CLOSE_SEND_SECONDS = 2.0
#: Fault kinds, as the logs name them.
UNREACHABLE = "the broker cannot be reached"
STORE_AWAY = "messages wait for the store"


@dataclass(frozen=True)
class Message:
    """One message to send: to ``actor``, with its one argument, after ``delay_ms``."""

    actor: dramatiq.Actor[Any, Any]
    argument: str
    delay_ms: int | None = None


def make_broker(url: str, namespace: str = "simdock") -> dramatiq.Broker:
    """A Redis (``redis://``) or RabbitMQ (``amqp://``) broker, with Dramatiq's default
    middleware but neither retries (attempts are counted in the database, not by
    messages) nor its time limit (the platform enforces each run's own, where it can be
    stopped; Dramatiq's would cut any run past 10 minutes)."""
    middleware = [m() for m in dramatiq.middleware.default_middleware
                  if m not in (dramatiq.middleware.Retries, dramatiq.middleware.TimeLimit)]
    if url.startswith(("redis://", "rediss://", "unix://")):
        import redis as redis_client

        client = redis_client.Redis(connection_pool=redis_client.ConnectionPool.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS))
        redis = RedisBroker(  # type: ignore[no-untyped-call]
            client=client, namespace=namespace, middleware=middleware,
            heartbeat_timeout=REDIS_HEARTBEAT_MS,
            maintenance_chance=REDIS_MAINTENANCE_CHANCE)
        return redis
    if url.startswith(("amqp://", "amqps://")):
        return RabbitmqBroker(url=url, middleware=middleware, confirm_delivery=True)
    raise ValueError(f"a broker URL starts with redis:// or amqp://, not {url.split(':')[0]!r}")


class BrokerDispatcher:
    """Sends work to Dramatiq workers; with ``consume``, is one (``simdock worker``).

    ``queue_prefix`` keeps deployments (and tests) sharing one broker apart.
    """

    def __init__(self, url: str, *, consume: bool = False, threads: int = 2,
                 queue_prefix: str = "", heartbeat_seconds: float = HEARTBEAT_SECONDS,
                 broker: dramatiq.Broker | None = None,
                 consumed: Sequence[str] = ("simulations", "reports")) -> None:
        """``consumed``: which of the queues (``simulations``, ``reports``) a consuming
        process takes messages from."""
        self.url = url
        self.broker = broker or make_broker(url)
        self.queues = (f"{queue_prefix}simulations", f"{queue_prefix}reports")
        self.consumed = {f"{queue_prefix}{name}" for name in consumed}
        if not self.consumed <= set(self.queues):
            raise ValueError(f"the queues are simulations and reports, not {consumed}")
        self._runs = dramatiq.Actor(self._on_runs, broker=self.broker,
                                    actor_name=f"{queue_prefix}simdock_runs",
                                    queue_name=self.queues[0], priority=0,
                                    options={"max_retries": 0})
        self._reports = dramatiq.Actor(self._on_report, broker=self.broker,
                                       actor_name=f"{queue_prefix}simdock_report",
                                       queue_name=self.queues[1], priority=0,
                                       options={"max_retries": 0})
        self.consume = consume
        self.threads = threads
        self.heartbeat = Heartbeat(heartbeat_seconds)
        self._work: Work | None = None
        self._worker: dramatiq.Worker | None = None
        self._outstanding = 0  # messages this process sent and has not finished itself
        self._in_hand = 0  # wake-up messages this process's threads are handling now
        self._reports_in_hand = 0
        self._resent: dict[str, float] = {}  # report id -> when it was last sent again
        #: A report queued this long while this consumer has none in hand is sent again.
        self.report_resend_seconds = REPORT_RESEND_BEATS * heartbeat_seconds
        self._changed = threading.Condition()
        self._closed = False
        self.faults = FaultLog(log)
        self._sender: BackgroundSender[Message] = BackgroundSender(
            self._deliver, self._given_up, name="simdock-broker-sender")
        self._probe: Any = None  # the Redis client ``check`` asks, with a short timeout

    # -- the sending side -------------------------------------------------------
    def dispatch_runs(self, run_ids: Sequence[str]) -> None:
        self._send_runs(min(len(run_ids), WINDOW))

    def dispatch_report(self, report_id: str) -> None:
        self._send(self._reports, report_id)

    def _send_runs(self, count: int) -> None:
        for _ in range(count):
            if not self._send(self._runs, uuid.uuid4().hex):
                return

    def _send(self, actor: dramatiq.Actor[Any, Any], argument: str,
              delay_ms: int | None = None) -> bool:
        """Hand one message to the sending thread; False when it is refused (its backlog
        is full while the broker is away): the work stays queued in the store."""
        with self._changed:
            self._outstanding += self.consume
        if self._sender.offer(Message(actor, argument, delay_ms)):
            return True
        self._given_up([Message(actor, argument, delay_ms)])
        return False

    def _deliver(self, message: Message) -> bool:
        """Send one message (on the sending thread); a broker that is away is logged, not
        raised: what was committed stays queued and a consumer's beat sends for it later."""
        try:
            message.actor.send_with_options(args=(message.argument,), delay=message.delay_ms)
        except Exception as exc:  # the broker's own errors vary with the broker
            self.faults.failed(UNREACHABLE, "cannot reach the broker; the work stays queued "
                               "in the database and is sent later: %s", exc)
            return False
        self.faults.recovered(UNREACHABLE, "the broker can be reached again")
        return True

    def _given_up(self, messages: list[Message]) -> None:
        """Messages not sent (the broker is away): this process waits for none of them."""
        with self._changed:
            self._outstanding = max(0, self._outstanding - self.consume * len(messages))
            self._changed.notify_all()

    # -- the consuming side -----------------------------------------------------
    def bind(self, work: Work) -> None:
        self._work = work
        if not self.consume:
            return
        self._worker = dramatiq.Worker(self.broker, queues=self.consumed,
                                       worker_threads=self.threads, worker_timeout=100)
        self._worker.start()
        self.heartbeat.start(self._beat)
        if self.queues[0] in self.consumed:
            self._send_runs(1)  # work queued before this worker started

    def _beat(self) -> None:
        self._bound().heartbeat()
        self.wake_if_idle()
        self.resend_waiting_reports()

    def resend_waiting_reports(self) -> None:
        """Send again the reports that have waited a while when this consumer generates
        none: their messages were lost (a broker restarted, or down when they were asked
        for). A report generated twice is generated once: the store decides who takes it."""
        with self._changed:
            busy = self._reports_in_hand > 0
        if busy or self._closed or self.queues[1] not in self.consumed:
            return
        now = time.monotonic()
        waiting = self._bound().waiting_reports(self.report_resend_seconds)
        self._resent = {r: t for r, t in self._resent.items() if r in waiting}
        for report_id in waiting:
            if now - self._resent.get(report_id, -1e9) >= self.report_resend_seconds:
                self._resent[report_id] = now
                self.dispatch_report(report_id)

    def _on_runs(self, wake: str) -> None:
        with self._changed:
            self._in_hand += 1
        try:
            done = self._bound().execute_next()
            self.faults.recovered(STORE_AWAY, "messages reach the store again")
            if done:
                self._send_runs(1)  # more may be queued: keep this chain going
        except ServiceUnavailable as exc:
            self._later(self._runs, wake, exc)
        finally:
            with self._changed:
                self._in_hand -= 1
            self._finished()

    def _on_report(self, report_id: str) -> None:
        with self._changed:
            self._reports_in_hand += 1
        try:
            self._bound().generate_report(report_id)
            self.faults.recovered(STORE_AWAY, "messages reach the store again")
        except ServiceUnavailable as exc:
            self._later(self._reports, report_id, exc)
        finally:
            with self._changed:
                self._reports_in_hand -= 1
            self._finished()

    def _later(self, actor: dramatiq.Actor[Any, Any], argument: str,
               exc: ServiceUnavailable) -> None:
        """The store is away: the same message again in a while (nothing was taken)."""
        self.faults.failed(STORE_AWAY, "%s message %s: the store is away, trying again in "
                           "%s s: %s", actor.queue_name, argument, RETRY_SECONDS, exc)
        self._send(actor, argument, delay_ms=int(RETRY_SECONDS * 1000))

    def _finished(self) -> None:
        with self._changed:
            self._outstanding = max(0, self._outstanding - 1)
            self._changed.notify_all()

    def _bound(self) -> Work:
        if self._work is None:
            raise RuntimeError("dispatcher is not bound to a platform")
        return self._work

    def wake_if_idle(self) -> None:
        """A wake-up message for each of this consumer's idle threads while runs are queued:
        runs whose messages never came (or were lost) are claimed within a beat.

        Idleness is what this process's threads are doing now, not a count of messages
        sent: another consumer may have handled (or a restarted broker lost) those.
        """
        with self._changed:
            idle = self.threads - self._in_hand
        if idle <= 0 or self._closed or self.queues[0] not in self.consumed:
            return
        queued = self._bound().queued_runs()
        if queued:
            self._send_runs(min(idle, queued))

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the messages this process sent have been handled here (a process that
        does not consume has nothing to wait for)."""
        if not self.consume:
            return True
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while self._outstanding:
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    return False
                self._changed.wait(remaining)
        return True

    def check(self) -> None:
        """Raise ServiceUnavailable unless the broker answers a round trip within
        ``CHECK_SECONDS``: a new connection's handshake for RabbitMQ, a PING for Redis,
        neither on a connection that may have gone stale."""
        try:
            if isinstance(self.broker, RedisBroker):
                self._redis_probe().ping()
            else:
                import pika  # type: ignore[import-untyped]

                parameters = pika.URLParameters(self.url)
                parameters.socket_timeout = CHECK_SECONDS
                parameters.stack_timeout = CHECK_SECONDS
                parameters.blocked_connection_timeout = CHECK_SECONDS
                parameters.connection_attempts = 1
                pika.BlockingConnection(parameters).close()
        except Exception as exc:  # each broker's client has errors of its own
            raise ServiceUnavailable(
                f"the broker cannot be reached: {exc or type(exc).__name__}") from exc

    def _redis_probe(self) -> Any:
        if self._probe is None:
            import redis

            self._probe = redis.Redis.from_url(self.url, socket_timeout=CHECK_SECONDS,
                                               socket_connect_timeout=CHECK_SECONDS)
        return self._probe

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._worker is not None:
            self._worker.stop()  # waits for the runs in hand: their leases are renewed till then
        self.heartbeat.close()
        self._sender.close(CLOSE_SEND_SECONDS)
        if self._probe is not None:
            self._probe.close()
        self.broker.close()

