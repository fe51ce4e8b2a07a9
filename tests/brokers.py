"""The Redis and RabbitMQ servers tests use, and queues of their own on them."""

from __future__ import annotations

import os
import uuid

from tests.conftest import require_service

REDIS_URL = os.environ.get("SIMDOCK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
RABBITMQ_URL = os.environ.get("SIMDOCK_TEST_RABBITMQ_URL",
                              "amqp://guest:guest@127.0.0.1:5672/%2F")


def require_redis() -> str:
    require_service("Redis", "127.0.0.1", 6379)
    return REDIS_URL


def require_rabbitmq() -> str:
    require_service("RabbitMQ", "127.0.0.1", 5672)
    return RABBITMQ_URL


def queue_prefix() -> str:
    """A prefix no other test's queues have (RabbitMQ's queues are server-wide)."""
    return f"t{uuid.uuid4().hex[:10]}_"


def delete_queues(broker: object, queues: tuple[str, ...]) -> None:
    """Remove a test's queues (with Dramatiq's delay and dead-letter ones) from RabbitMQ."""
    from dramatiq.brokers.rabbitmq import RabbitmqBroker

    if not isinstance(broker, RabbitmqBroker):
        return
    import pika

    connection = pika.BlockingConnection(pika.URLParameters(RABBITMQ_URL))
    try:
        channel = connection.channel()
        for queue in queues:
            for name in (queue, f"{queue}.DQ", f"{queue}.XQ"):
                channel.queue_delete(name)
    finally:
        connection.close()
